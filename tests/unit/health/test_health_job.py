"""The health job on both stores: one row per customer and synced day, idempotent, explained."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings, parse_settings, save_settings
from pendo_core.health import job
from pendo_core.health.inputs import load_inputs
from pendo_core.health.job import compute_health, health_step
from pendo_core.health.queries import explain_score
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.runner import SCORES_STALE_FROM
from pendo_core.store.models import HealthScore, UsageMetric
from tests.support.health_alerts import LAST, add_customer, add_feature_use, add_features, add_usage, history
from tests.support.store import running_run

FIRST = LAST - timedelta(days=9)


def _seed(engine: Engine) -> None:
    """steady: flat weekday/weekend use of both key features; declining: falling use of one;
    dormant: mapped but never active; partial: only 5 synced days."""
    add_features(engine, {"reports": True, "export": True, "help": False})
    for customer in ("steady", "declining", "dormant", "partial"):
        add_customer(engine, customer, accounts=[f"acct-{customer}"])
    add_usage(engine, "steady", history(70, 20, 4), mau=40, active=45)
    add_usage(engine, "declining", history(70, 20, 4, change=lambda i, d: 6 + i // 5), mau=40, active=45)
    add_usage(engine, "dormant", history(70, 0, 0), mau=0, active=0)
    add_usage(engine, "partial", history(5, 10, 2), mau=15, active=15)
    days = [LAST - timedelta(days=i) for i in range(40)]
    add_feature_use(engine, "acct-steady", "reports", [(d, "v1") for d in days])
    add_feature_use(engine, "acct-steady", "export", [(d, "v2") for d in days])
    add_feature_use(engine, "acct-declining", "reports", [(d, "v1") for d in days])


def _rows(engine: Engine) -> dict[tuple[str, date], dict[str, Any]]:
    table = HealthScore.__table__
    with engine.connect() as conn:
        return {(r.customer_id, r.score_date): dict(r._mapping) for r in conn.execute(select(table))}


def test_scores_follow_the_documented_mappings(engine: Engine) -> None:
    """A steady account's components match the hand computation; a falling one scores lower."""
    _seed(engine)
    result = compute_health(engine, FIRST, LAST)
    rows = _rows(engine)
    steady = rows[("steady", LAST)]
    engagement = 100 * (108 / 7 / 40) / 0.4  # 5 weekdays of 20 + 2 weekend days of 4, MAU 40
    assert steady["engagement"] == pytest.approx(engagement, abs=0.01)
    assert (steady["adoption"], steady["trajectory"], steady["coverage"]) == (100.0, 75.0, 0.77)  # no champion
    attrition = 100 * (0.35 - 5 / 45) / 0.30  # 5 of the 45 90-day actives not among the 40 monthly ones
    assert (steady["breadth_change"], steady["sustained_trend"]) == (100.0, 75.0)
    assert steady["attrition"] == pytest.approx(attrition, abs=0.01)
    # No contacts, so no champion value: the other weights renormalised over their 0.77.
    with_data = 0.22 * engagement + 0.14 * 100 + 0.26 * attrition + 0.15 * 75
    assert steady["champion"] is None
    assert steady["overall"] == pytest.approx(with_data / 0.77, abs=0.01)
    assert steady["band"] == "green"
    assert steady["weights"] == AppSettings().health.weights.as_dict()
    assert steady["inputs"]["key_features"] == 2
    declining = rows[("declining", LAST)]
    assert declining["overall"] < steady["overall"] - 25
    assert declining["trajectory"] < 40
    assert declining["adoption"] == 62.5  # one of two key features: 100 * 0.5 / 0.8
    assert result.rows == len(rows) == 10 + 10 + 10 + 5


def test_too_little_data_is_insufficient_not_zero(sqlite_engine: Engine) -> None:
    """Never-active accounts and a few synced days give "insufficient data" with no overall."""
    _seed(sqlite_engine)
    compute_health(sqlite_engine, FIRST, LAST)
    rows = _rows(sqlite_engine)
    for customer in ("dormant", "partial"):
        row = rows[(customer, LAST)]
        assert (row["overall"], row["band"]) == (None, "insufficient data")
        assert row["coverage"] < 0.5


def test_recomputing_gives_the_same_rows(engine: Engine) -> None:
    """Running a range twice with the same settings writes identical rows, and no duplicates."""
    _seed(engine)
    compute_health(engine, FIRST, LAST)
    before = _rows(engine)
    compute_health(engine, FIRST + timedelta(days=3), LAST)
    assert _rows(engine) == before


def test_rows_are_built_and_written_a_slice_of_customers_at_a_time(engine: Engine,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Scoring one customer at a time writes the rows scoring all at once writes, in as many inserts
    as slices (so memory holds one slice's rows, not the run's)."""
    _seed(engine)
    compute_health(engine, FIRST, LAST)
    whole = _rows(engine)
    inserts: list[int] = []
    insert = job._insert
    monkeypatch.setattr(job, "WRITE_CUSTOMERS", 1)
    monkeypatch.setattr(job, "_insert", lambda conn, columns: inserts.append(insert(conn, columns)) or inserts[-1])
    result = compute_health(engine, FIRST, LAST)
    assert _rows(engine) == whole
    assert inserts == [10, 10, 5, 10]  # one slice a customer: declining, dormant, partial (5 synced days), steady
    assert result.rows == len(whole)


def test_rows_record_the_settings_version(sqlite_engine: Engine) -> None:
    """Scores computed after a save carry that version and its weights."""
    _seed(sqlite_engine)
    custom = parse_settings({"health": {"weights": {"engagement": 1, "adoption": 0, "trajectory": 0,
                                                    "breadth_change": 0, "attrition": 0, "sustained_trend": 0}}})
    with Session(sqlite_engine) as session, session.begin():
        version = save_settings(session, custom, "admin@cscx.io", "engagement only")
    compute_health(sqlite_engine, LAST, LAST)
    row = _rows(sqlite_engine)[("steady", LAST)]
    assert row["settings_version"] == version
    assert row["overall"] == pytest.approx(row["engagement"])


def test_unsynced_days_get_no_score(sqlite_engine: Engine) -> None:
    """A day without a usage row (outside the synced range) has no score row."""
    _seed(sqlite_engine)
    compute_health(sqlite_engine, LAST - timedelta(days=20), LAST)
    days = {d for c, d in _rows(sqlite_engine) if c == "partial"}
    assert days == {LAST - timedelta(days=i) for i in range(5)}


def test_explanation_reads_back_changes(sqlite_engine: Engine) -> None:
    """The stored explanation adds up to the overall and reports the 7-day change."""
    _seed(sqlite_engine)
    compute_health(sqlite_engine, LAST - timedelta(days=7), LAST)
    got = explain_score(sqlite_engine, "declining", LAST)
    assert got is not None
    assert sum(c.contribution or 0 for c in got.components) == pytest.approx(got.overall, abs=0.05)
    assert got.change_7d is not None
    assert got.change_7d < 0
    assert got.change_28d is None
    assert explain_score(sqlite_engine, "declining", LAST + timedelta(days=1)) is None


def test_sync_step_scores_changed_and_unscored_days(sqlite_engine: Engine) -> None:
    """The post-metrics step fills days never scored, then rescores only from the first changed day."""
    _seed(sqlite_engine)
    request = SimpleNamespace(as_of=LAST + timedelta(days=1))
    summary = SimpleNamespace(run_id=running_run(sqlite_engine), report_first=FIRST, report_last=LAST,
                              metrics_first=LAST - timedelta(days=1), metrics_stale=[])
    health_step(sqlite_engine, request, summary)  # type: ignore[arg-type]
    assert {d for c, d in _rows(sqlite_engine) if c == "steady"} == {FIRST + timedelta(days=i) for i in range(10)}
    with sqlite_engine.begin() as conn:
        conn.execute(HealthScore.__table__.update().values(overall=1.0))
    health_step(sqlite_engine, request, summary)  # type: ignore[arg-type]
    overall = {d: r["overall"] for (c, d), r in _rows(sqlite_engine).items() if c == "steady"}
    assert overall[FIRST] == 1.0
    assert overall[LAST - timedelta(days=1)] > 50


def _move_metrics(engine: Engine, customer: str, since: date) -> None:
    """What a metrics run restating `customer` from `since` leaves: other numbers on those days."""
    table = UsageMetric.__table__
    with engine.begin() as conn:
        conn.execute(table.update().where(table.c.customer_id == customer, table.c.metric_date >= since)
                     .values(dau=table.c.dau + 3, mau=table.c.mau + 5, active_visitors=table.c.active_visitors + 9))


def test_sync_step_rescores_remapped_customers_whole_range_and_others_from_the_moved_day(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """A remapped customer's rows are rewritten over the whole range, everyone else's only from the moved
    day on; the stored scores then equal a full recompute, row for row."""
    _seed(engine)
    compute_health(engine, FIRST, LAST)
    moved = LAST - timedelta(days=2)
    _move_metrics(engine, "declining", FIRST)  # remapped: its metrics moved over the whole reported range
    _move_metrics(engine, "steady", moved)  # re-read days: moved from `moved` on
    written: list[tuple[str, date]] = []
    insert = job._insert

    def spy(conn: Any, columns: dict[str, list[Any]]) -> int:
        written.extend(zip(columns["customer_id"], columns["score_date"], strict=True))
        return insert(conn, columns)

    monkeypatch.setattr(job, "_insert", spy)
    summary = SimpleNamespace(run_id=running_run(engine), report_first=FIRST, report_last=LAST, metrics_first=moved,
                              metrics_stale=["declining"])
    health_step(engine, SimpleNamespace(as_of=LAST + timedelta(days=1)), summary)  # type: ignore[arg-type]
    partial = _rows(engine)
    assert sorted(written) == sorted(key for key in partial if key[1] >= moved or key[0] == "declining")
    assert len(written) == 4 * 3 + 7  # the last 3 days of all 4 customers, and the remapped one's 7 days before
    compute_health(engine, FIRST, LAST)
    full = _rows(engine)
    assert partial.keys() == full.keys()
    for key, row in full.items():
        assert partial[key] == row, key


def test_key_feature_breadth_counts_use_in_each_30_day_window(engine: Engine) -> None:
    """Breadth on every day equals a brute-force count of key features used in the 30 days ending it."""
    add_features(engine, {"reports": True, "export": True, "help": False})
    add_customer(engine, "gappy", accounts=["a1", "a2"])
    add_usage(engine, "gappy", history(150, 5, 1), mau=10, active=10)
    uses = {"reports": [90, 75, 40, 39, 5], "export": [60, 31, 2], "help": [3]}  # days before LAST
    for feature, days in uses.items():
        add_feature_use(engine, "a1" if feature != "export" else "a2", feature,
                        [(LAST - timedelta(days=i), "v1") for i in days])
    add_feature_use(engine, "a2", "reports", [(LAST - timedelta(days=40), "v2")])  # same day, other account
    first = LAST - timedelta(days=80)
    inputs = load_inputs(engine, first, LAST, keys=["export", "reports"])
    got = inputs.key_used[0, -81:].tolist()
    days = [first + timedelta(days=k) for k in range(81)]
    expected = [sum(any(0 <= (day - LAST).days + i <= 29 for i in uses[f]) for f in ("reports", "export"))
                for day in days]
    assert got == expected


@pytest.mark.parametrize(("window", "attribute"), [(30, "key_used"), (14, "key_recent")], ids=["30-day", "14-day"])
def test_key_feature_counts_match_brute_force(engine: Engine, window: int, attribute: str) -> None:
    """Both window counts (30 days for adoption, 14 for breadth change) equal a brute-force count."""
    add_features(engine, {"reports": True, "export": True})
    add_customer(engine, "uneven", accounts=["a1"])
    add_usage(engine, "uneven", history(150, 5, 1), mau=10, active=10)
    uses = {"reports": [95, 80, 66, 52, 40, 39, 20, 5], "export": [70, 57, 44, 31, 16, 2]}  # days before LAST
    for feature, days in uses.items():
        add_feature_use(engine, "a1", feature, [(LAST - timedelta(days=i), "v1") for i in days])
    first = LAST - timedelta(days=40)
    inputs = load_inputs(engine, first, LAST, keys=["export", "reports"])
    days = [first + timedelta(days=k) for k in range(41)]
    expected = [sum(any(0 <= (day - LAST).days + i <= window - 1 for i in uses[f]) for f in uses) for day in days]
    assert getattr(inputs, attribute)[0, -41:].tolist() == expected


def test_days_a_stopped_run_moved_are_scored_by_the_next_run(engine: Engine) -> None:
    """The metrics step keeps the first day it computed (SCORES_STALE_FROM) until the health step has scored.
    A run that stopped between the two left days whose metrics moved with their old scores; the next run's
    health step scores from that day, not only from its own moved day, so the scores equal a full recompute,
    and then clears it."""
    _seed(engine)
    compute_health(engine, FIRST, LAST)
    moved = LAST - timedelta(days=5)
    _move_metrics(engine, "steady", moved)  # the stopped run's restatement ...
    with Session(engine) as session, session.begin():
        store.lower_date_watermark(session, SCORES_STALE_FROM, moved)  # ... and what its metrics step kept
    summary = SimpleNamespace(run_id=running_run(engine), report_first=FIRST, report_last=LAST, metrics_first=LAST,
                              metrics_stale=[])
    health_step(engine, SimpleNamespace(as_of=LAST + timedelta(days=1)), summary)  # type: ignore[arg-type]
    partial = _rows(engine)
    with Session(engine) as session:
        assert store.get_watermark(session, SCORES_STALE_FROM) is None
    compute_health(engine, FIRST, LAST)
    assert partial == _rows(engine)


def test_remapped_customers_a_stopped_run_left_are_scored_over_the_whole_range(engine: Engine) -> None:
    """The metrics step keeps a remapped customer, whose metrics it restated over the whole range, until the
    health step has scored it. A run that stopped between the two left the customer's earlier days with their
    old scores; the next run's health step scores its whole range (its own summary names no remapped
    customer), so the scores equal a full recompute, and then forgets it."""
    _seed(engine)
    compute_health(engine, FIRST, LAST)
    before = _rows(engine)
    _move_metrics(engine, "declining", FIRST)  # the stopped run's restatement ...
    with Session(engine) as session, session.begin():
        store.keep_stale_score_customers(session, ["declining", "steady"])  # ... and what its metrics step kept
        store.mark_stale_metrics_written(session, {"declining": 1, "steady": 1})  # ... and wrote
    summary = SimpleNamespace(run_id=running_run(engine), report_first=FIRST, report_last=LAST,
                              metrics_first=LAST + timedelta(days=1), metrics_stale=[])
    health_step(engine, SimpleNamespace(as_of=LAST + timedelta(days=1)), summary)  # type: ignore[arg-type]
    partial = _rows(engine)
    with Session(engine) as session:
        assert store.stale_score_customers(session) == {}
    compute_health(engine, FIRST, LAST)
    assert partial == _rows(engine)
    assert partial[("declining", FIRST)] != before[("declining", FIRST)]  # the restatement moved its first day


def test_a_run_with_no_reported_days_forgets_no_kept_customer(engine: Engine) -> None:
    """Nothing to score (an empty reported range): the kept customers wait for a run that scores them."""
    _seed(engine)
    with Session(engine) as session, session.begin():
        store.keep_stale_score_customers(session, ["steady"])
    summary = SimpleNamespace(run_id=running_run(engine), report_first=LAST, report_last=LAST - timedelta(days=1),
                              metrics_first=LAST, metrics_stale=[])
    health_step(engine, SimpleNamespace(as_of=LAST), summary)  # type: ignore[arg-type]
    with Session(engine) as session:
        assert list(store.stale_score_customers(session)) == ["steady"]
    assert _rows(engine) == {}
