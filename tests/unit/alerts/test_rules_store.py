"""feature_abandonment and guide_dismissal end to end on the store (SQLite and PostgreSQL): the counts the
rules read come from grouped queries, so each edge is checked through them, not only on hand-made windows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.alerts.inputs import load_alert_inputs
from pendo_core.alerts.job import evaluate_alerts
from pendo_core.alerts.repo import list_alerts
from pendo_core.alerts.settings import AlertSettings
from pendo_core.store.scope import IN_CHUNK
from tests.support.health_alerts import (
    AS_OF,
    LAST,
    add_customer,
    add_feature_use,
    add_features,
    add_guide_counts,
    add_usage,
    history,
)
from tests.support.store import each_statement

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)


def _uses(visitors: int, days: range) -> list[tuple[date, str]]:
    """One use a day on each of `days` (days before LAST), by the visitors in turn."""
    return [(LAST - timedelta(days=d), f"v{k % visitors}") for k, d in enumerate(days)]


def _open(engine: Engine, kind: str) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return sorted((a.customer_id, a.subject or "") for a in list_alerts(session) if a.kind == kind)


@pytest.mark.parametrize(("uses", "fires"), [
    pytest.param(_uses(4, range(15, 42, 2)), True, id="14-visitor-days-silent-15"),
    pytest.param(_uses(4, range(16, 24)), False, id="8-visitor-days-silent-16-could-be-chance"),
    pytest.param(_uses(3, range(36, 42)), True, id="6-visitor-days-silent-36"),
    pytest.param(_uses(2, range(15, 42)), False, id="two-users-only"),
    pytest.param(_uses(4, range(1, 42)), False, id="still-used"),
])
def test_abandonment_weighs_the_silence_against_prior_use(engine: Engine, uses: list[tuple[date, str]],
                                                          fires: bool) -> None:
    """A key feature's silence alerts when its own prior use makes it unlikely by chance (at most 1%)."""
    add_customer(engine, "acme", accounts=["a-acme"])
    add_usage(engine, "acme", history(60, 20, 4))
    add_features(engine, {"reports": True})
    add_feature_use(engine, "a-acme", "reports", uses)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    assert _open(engine, "feature_abandonment") == ([("acme", "reports")] if fires else [])


def test_abandonment_is_unknown_with_unsynced_recent_days(engine: Engine) -> None:
    """With a recent day not synced, an unused feature proves nothing: no alert."""
    add_customer(engine, "acme", accounts=["a-acme"])
    add_usage(engine, "acme", {d: n for d, n in history(60, 20, 4).items() if d != LAST - timedelta(days=3)})
    add_features(engine, {"reports": True})
    add_feature_use(engine, "a-acme", "reports", _uses(4, range(15, 42, 2)))
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    assert _open(engine, "feature_abandonment") == []


@pytest.mark.parametrize(("counts", "alerted"), [
    pytest.param({"acme": (9, 7), "b": (200, 50), "c": (212, 65)}, ["acme"], id="one-customer-rejects-it"),
    pytest.param({"acme": (9, 8), "b": (200, 170), "c": (212, 180)}, [], id="everyone-dismisses-it"),
    pytest.param({"acme": (4, 4), "b": (200, 50)}, [], id="too-few-viewers"),
    pytest.param({"acme": (8, 4), "b": (200, 50)}, [], id="within-chance"),
    pytest.param({"acme": (10, 10), "b": (3, 0)}, ["acme"], id="too-few-elsewhere-even-odds"),
    pytest.param({"acme": (12, 11), "b": (12, 11), "c": (400, 100)}, ["acme", "b"], id="two-of-three-reject-it"),
    pytest.param({"acme": (10, 8), "b": (40, 36), "d": (40, 36), "c": (60, 15)}, ["acme", "b", "d"],
                 id="judged-against-those-who-do-not-reject-it"),
])
def test_guide_dismissal_compares_with_other_customers(engine: Engine, counts: dict[str, tuple[int, int]],
                                                       alerted: list[str]) -> None:
    """A customer whose viewers dismiss a guide clearly more than other customers' is alerted; a guide
    everyone dismisses alerts nobody."""
    for k, (customer, (seen, dismissed)) in enumerate(counts.items()):
        add_customer(engine, customer)
        add_usage(engine, customer, history(10, 20, 4))
        add_guide_counts(engine, customer, "tour", LAST, seen=seen, dismissed=dismissed, catalogue=k == 0)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    assert _open(engine, "guide_dismissal") == [(c, "tour") for c in alerted]


def test_guide_dismissal_is_unknown_when_the_last_day_is_not_synced(engine: Engine) -> None:
    """The 30-day counts of a day that was not synced prove nothing: no alert."""
    for k, (customer, (seen, dismissed)) in enumerate({"acme": (9, 8), "b": (200, 50)}.items()):
        add_customer(engine, customer)
        add_usage(engine, customer, {d: n for d, n in history(10, 20, 4).items() if d != LAST})
        add_guide_counts(engine, customer, "tour", LAST, seen=seen, dismissed=dismissed, catalogue=k == 0)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    assert _open(engine, "guide_dismissal") == []


def test_abandonment_reads_the_raw_feature_rows_once_however_many_customers(engine: Engine) -> None:
    """A run over more customers than one IN list holds reads the raw rows in one query (a query per chunk
    of customers reread the whole window each time), with the verdicts of a run given the same customers."""
    customers = [f"c{k:04d}" for k in range(IN_CHUNK + 3)]
    for customer in customers:
        add_customer(engine, customer, accounts=[f"a-{customer}"])
    add_customer(engine, "not-evaluated", accounts=["a-quiet"])  # rows, but no usage row in the window
    for customer in customers:  # every one evaluated
        add_usage(engine, customer, history(60 if customer in (customers[0], customers[-1]) else 1, 20, 4))
    add_features(engine, {"reports": True})
    add_feature_use(engine, f"a-{customers[0]}", "reports", _uses(4, range(15, 42, 2)))
    add_feature_use(engine, f"a-{customers[-1]}", "reports", _uses(4, range(15, 42, 2)))
    add_feature_use(engine, "a-quiet", "reports", _uses(4, range(15, 42, 2)))
    reads: list[str] = []  # the statements that read the raw feature rows
    with each_statement(engine, lambda _cur, sql, _p: reads.append(sql) if "pendo_feature_visitor_days" in sql
                        else None):
        evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    assert len(reads) == 1
    assert _open(engine, "feature_abandonment") == [(customers[0], "reports"), (customers[-1], "reports")]
    everyone = load_alert_inputs(engine, LAST, AlertSettings(), key_features=["reports"]).customers
    some = load_alert_inputs(engine, LAST, AlertSettings(), key_features=["reports"],
                             customer_ids=[customers[-1], "not-evaluated"]).customers
    assert some.keys() == {customers[-1]}
    assert some[customers[-1]].features == everyone[customers[-1]].features != []
