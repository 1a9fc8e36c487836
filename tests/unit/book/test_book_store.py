"""My customers' read model on a real store (SQLite and PostgreSQL): the risk order of a hand-built
book, one case per rule, the numbers each row carries, and who sees which rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from pendo_core.access.rules import Viewer
from pendo_core.book import book, view
from tests.support.health_alerts import table_insert

DAY = date(2026, 3, 18)  # the newest day of data; renewals count from the day after
AS_OF = DAY + timedelta(days=1)
ANA, BEN, LEE = "ana@cscx.io", "ben@cscx.io", "lee@cscx.io"
WEIGHTS = {"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45, "onboarding": 0.0}


@dataclass(frozen=True)
class Case:
    """One customer: its band and score now (and 28 days before), renewal in days from the as-of day,
    mean DAU of the 28 days before and of the last 28, alerts needing someone, ARR, CSM."""

    name: str
    band: str | None  # None: never scored
    score: float | None
    before: float | None = None  # None: as now
    renewal: int | None = None
    usage: tuple[int, int] | None = (10, 10)
    high: int = 0
    medium: int = 0
    arr: float | None = 100_000.0
    csm: str = ANA


# The expected risk order, top to bottom; each case shows one rule.
CASES = [
    Case("Red, renewing and falling", "red", 30.0, before=45.0, renewal=30),
    Case("Red, renewing", "red", 20.0, renewal=60),  # a lower score, but not falling
    Case("Red, usage falling", "red", 40.0, usage=(10, 7)),
    Case("Red, high alert", "red", 45.0, high=1),
    Case("Red", "red", 10.0),
    Case("Red, renewal passed", "red", 15.0, renewal=-10),  # a past date is no renewal ahead
    Case("Yellow, renewing", "yellow", 70.0, renewal=10, csm=BEN),
    Case("Yellow, medium alerts", "yellow", 55.0, medium=2),  # medium alerts do not move it
    Case("Insufficient data", "insufficient data", None),
    Case("Never scored", None, None, usage=None, arr=None),  # no score, no usage: after the larger ARR
    Case("Green, renewing and falling", "green", 90.0, before=99.0, renewal=20, csm=BEN),
    Case("green apple", "green", 80.0),  # a resolved high alert: not counted
    Case("Green Banana", "green", 80.0),  # a snoozed high alert: not counted; names compare ignoring case
]
IDS = {c.name: f"00000000-0000-4000-8000-{i:012d}" for i, c in enumerate(CASES)}


def _score(case: Case, day: date, overall: float | None) -> dict[str, Any]:
    return {"customer_id": IDS[case.name], "score_date": day, "engagement": overall, "adoption": overall,
            "trajectory": overall, "onboarding": None, "overall": overall, "band": case.band, "coverage": 1.0,
            "settings_version": 0, "weights": WEIGHTS, "inputs": {"breadth": 0.75, "trend": _trend(case)}}


def _trend(case: Case) -> float | None:
    """The 28-day trend the health job would store as an input."""
    return None if case.usage is None else case.usage[1] / case.usage[0] - 1


def _usage(case: Case) -> list[dict[str, Any]]:
    if case.usage is None:
        return []
    rows = []
    for back in range(56):
        dau = case.usage[1] if back < 28 else case.usage[0]
        rows.append({"customer_id": IDS[case.name], "metric_date": DAY - timedelta(days=back), "pendo_account_id": "a",
                     "dau": dau, "wau": dau + 5, "mau": 20, "active_visitors": 30, "session_count": dau,
                     "avg_session_minutes": 5.0, "page_views": 1, "feature_events": 1, "time_in_app_minutes": 5})
    return rows


def _alert(case: Case, n: int, severity: str, status: str, kind: str = "usage_drop") -> dict[str, Any]:
    return {"customer_id": IDS[case.name], "kind": kind, "subject": f"s{n}", "status": status, "severity": severity,
            "triggered_on": DAY, "last_evaluated_on": DAY, "assigned_csm_email": case.csm, "details": {}}


def _build(engine: Engine) -> None:
    table_insert(engine, "csms", [{"email": ANA, "name": "Ana Lima"}, {"email": BEN, "name": "Ben Ode"}])
    table_insert(engine, "customers", [{
        "customer_id": IDS[c.name], "name": c.name, "segment": "SMB", "arr": c.arr, "csm_email": c.csm,
        "renewal_date": None if c.renewal is None else AS_OF + timedelta(days=c.renewal)} for c in CASES])
    scored = [c for c in CASES if c.band is not None]
    table_insert(engine, "pendo_health_scores", [_score(c, DAY, c.score) for c in scored] + [
        _score(c, DAY - timedelta(days=28), c.score if c.before is None else c.before) for c in scored])
    table_insert(engine, "pendo_usage_metrics", [row for c in CASES for row in _usage(c)])
    alerts = [_alert(c, n, "high", "open") for c in CASES for n in range(c.high)]
    alerts += [_alert(c, n, "medium", "acknowledged" if n else "open", "no_login") for c in CASES
               for n in range(c.medium)]
    by_name = {c.name: c for c in CASES}
    alerts += [_alert(by_name["green apple"], 9, "high", "resolved"), _alert(by_name["Green Banana"], 9, "high",
                                                                             "snoozed")]
    table_insert(engine, "pendo_usage_alerts", alerts)


def test_the_book_is_in_the_risk_order(engine: Engine) -> None:
    """A leader's book: every customer, ranked 1 to 13 exactly as the cases are listed."""
    _build(engine)
    frame = book(engine, Viewer(LEE, "leader"), DAY)
    assert frame["name"].tolist() == [c.name for c in CASES]
    assert frame["risk_rank"].tolist() == list(range(1, len(CASES) + 1))
    assert frame.loc[frame["at_risk"], "name"].tolist() == [c.name for c in CASES[:7]]


@pytest.mark.parametrize(("viewer", "expected"), [
    (Viewer(ANA, "csm"), [c.name for c in CASES if c.csm == ANA]),
    (Viewer(" BEN@cscx.io ", "csm"), [c.name for c in CASES if c.csm == BEN]),
    (Viewer(BEN, "csm", show_all=True), [c.name for c in CASES]),
    (Viewer("nobody@cscx.io", "csm"), []),
], ids=["csm-own", "csm-email-spaced-and-cased", "csm-showing-all", "csm-without-customers"])
def test_each_viewer_gets_their_customers_in_the_same_order(engine: Engine, viewer: Viewer,
                                                            expected: list[str]) -> None:
    """The access rule picks the rows; the order among them is the leader's order."""
    _build(engine)
    assert book(engine, viewer, DAY)["name"].tolist() == expected


@pytest.mark.parametrize("viewer", [Viewer(ANA, "csm"), Viewer(BEN, "csm", show_all=True), Viewer(LEE, "leader")],
                         ids=["csm", "csm-showing-all", "leader"])
def test_the_whole_book_narrowed_to_a_viewer_is_their_book(engine: Engine, viewer: Viewer) -> None:
    """The page reads the whole book once and narrows it (view.visible); the chat asks the store for the
    viewer's rows (book): both give the same rows, order and ranks."""
    _build(engine)
    narrowed = view.visible(book(engine, None, DAY), viewer)
    pd.testing.assert_frame_equal(narrowed, book(engine, viewer, DAY))


ROW_FACTS = [
    ("Red, renewing and falling", {"score": 30.0, "band": "red", "health_change": -15.0, "days_to_renewal": 30,
                                   "usage_change": 0.0, "mau": 20.0, "breadth": 0.75, "csm_name": "Ana Lima",
                                   "risk_reasons": "renewal in 30 days; health −15 points in 28 days"}),
    ("Red, usage falling", {"usage_change": -0.3, "usage_weeks": [15.0] * 4 + [12.0] * 4, "last_active": DAY,
                            "risk_reasons": "usage −30% in 28 days"}),
    ("Red, high alert", {"alerts_high": 1, "alerts_open": 1, "alert_kinds": ("usage_drop",)}),
    ("Yellow, medium alerts", {"alerts_high": 0, "alerts_medium": 2, "alerts_open": 2, "alert_kinds": ("no_login",)}),
    ("Green Banana", {"alerts_high": 0, "alerts_open": 0, "alert_kinds": (), "risk_reasons": ""}),
    ("Never scored", {"band": "not scored", "usage_weeks": [], "last_active": None, "days_to_renewal": None}),
    ("Red, renewal passed", {"days_to_renewal": -10, "renewal_date": AS_OF - timedelta(days=10)}),
]


@pytest.mark.parametrize(("name", "facts"), ROW_FACTS, ids=[n for n, _ in ROW_FACTS])
def test_each_row_carries_its_numbers(engine: Engine, name: str, facts: dict[str, Any]) -> None:
    """Health now and its 28-day change, the score's breadth and usage trend, WAU at each week's end, alerts
    still needing someone (open or acknowledged; snoozed and resolved ones left out), renewal days from the
    as-of day."""
    _build(engine)
    row = book(engine, Viewer(LEE, "leader"), DAY).set_index("name").loc[name]
    got = {k: (None if not isinstance(row[k], list | tuple) and pd.isna(row[k]) else row[k]) for k in facts}
    assert got == {k: pytest.approx(v) if isinstance(v, float) else v for k, v in facts.items()}


def test_an_empty_store_has_an_empty_book(engine: Engine) -> None:
    """No customers: no rows, and the columns are still there."""
    frame = book(engine, Viewer(LEE, "leader"), DAY)
    assert frame.empty
    assert "risk_rank" in frame.columns
