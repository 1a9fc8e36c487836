"""The customer snapshot (pendo_core/usage/snapshot.py) answers exactly as the live queries it stands for,
on SQLite and PostgreSQL: every reader, every customer, with gaps, customers gone quiet, customers only
seen weeks ago and a viewer's narrowed book, and the days of use per feature of a segment or of everyone;
and only for the day it was taken."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine, delete, func, select, update

from jobs.bench_store import StoreShape, build_store, csm_email
from pendo_core.access.rules import Viewer
from pendo_core.book import book
from pendo_core.common.config import Settings
from pendo_core.pendo.sync.runner import Alongside, RunSummary, SyncRequest
from pendo_core.pipeline.run import STEPS, made_steps
from pendo_core.store.models import Customer, CustomerSnapshot, FeatureUsage, UsageMetric
from pendo_core.usage import feature_queries, portfolio_queries, queries, read_models, snapshot
from pendo_core.usage.snapshot_job import refresh_snapshot, snapshot_step
from tests.support.store import running_run

LAST = date(2026, 3, 18)
SHAPE = StoreShape(customers=40, days=100, csms=4, features_per_customer=3)


def _customers(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(UsageMetric.customer_id).distinct()).scalars())


def _store(engine: Engine) -> list[str]:
    """The bench's synthetic store, small, with the cases a snapshot could get wrong."""
    build_store(engine, SHAPE, LAST)
    ids = _customers(engine)
    t = UsageMetric
    with engine.begin() as conn:
        # no row on the day itself (its DAU, WAU, MAU unknown), and gaps inside every window
        conn.execute(delete(t).where(t.customer_id == ids[0], t.metric_date == LAST))
        conn.execute(delete(t).where(t.customer_id == ids[1], t.metric_date.in_(
            [LAST - timedelta(days=k) for k in (2, 9, 30, 40, 77)])))
        # only seen long ago: on week ends 60+ days back, outside the trend windows
        conn.execute(delete(t).where(t.customer_id == ids[2], t.metric_date > LAST - timedelta(days=60)))
        # nobody active for 90 days: rows, but no last active day
        conn.execute(update(t).where(t.customer_id == ids[3]).values(dau=0))
        # rows only in the prior trend window
        conn.execute(delete(t).where(t.customer_id == ids[4], t.metric_date > LAST - timedelta(days=28)))
        # nothing at all in the windows
        conn.execute(delete(t).where(t.customer_id == ids[5]))
    return ids


def _book(viewer: Viewer | None) -> Callable[[Engine, date], pd.DataFrame]:
    return lambda engine, day: book(engine, viewer, day)


def _feature_days(segment: str | None) -> Callable[[Engine, date], pd.DataFrame]:
    return lambda engine, day: feature_queries.feature_days(engine, day, segment)


def _store_with_features(engine: Engine) -> list[str]:
    """`_store`, plus feature use the 30-day window must cut: a customer whose features were used only
    31 days ago, one with a gap on the window's first day, and a customer without a segment."""
    ids = _store(engine)
    f = FeatureUsage
    with engine.begin() as conn:
        conn.execute(delete(f).where(f.customer_id == ids[6], f.metric_date > LAST - timedelta(days=31)))
        conn.execute(delete(f).where(f.customer_id == ids[7], f.metric_date == LAST - timedelta(days=29)))
        conn.execute(update(Customer).where(Customer.customer_id == ids[8]).values(segment=None))
    return ids


READERS: dict[str, Callable[[Engine, date], pd.DataFrame]] = {
    "customer_measures": queries.customer_measures,
    "customer_trends": portfolio_queries.customer_trends,
    "customer_week": queries.customer_week,
    "weekly_wau": queries.weekly_wau,
    "last_active_days": queries.last_active_days,
    "book_all": _book(None),
    "book_of_a_csm": _book(Viewer(csm_email(1), "csm")),
    "feature_days_of_everyone": _feature_days(None),
    "feature_days_of_a_segment": _feature_days("Enterprise"),
    "feature_days_without_a_segment": _feature_days(queries.NO_SEGMENT),
}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values([c for c in ("customer_id", "feature_id") if c in frame.columns], ignore_index=True)


def _same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal frames; floats to 1e-12 relative (PostgreSQL's numeric avg rounds once more than a double)."""
    got, expected = _sorted(got), _sorted(expected)
    assert list(got.columns) == list(expected.columns)
    assert got["customer_id"].tolist() == expected["customer_id"].tolist()
    for column in got.columns:
        left, right = got[column].tolist(), expected[column].tolist()
        if pd.api.types.is_float_dtype(expected[column]):
            pd.testing.assert_series_equal(got[column], expected[column], check_exact=False, rtol=1e-12,
                                           check_dtype=False)
        else:
            assert left == right, column


@pytest.mark.parametrize("reader", list(READERS), ids=list(READERS))
def test_the_snapshot_answers_as_the_live_query(engine: Engine, reader: str) -> None:
    """Each reader gives the same frame from the snapshot of its day as from the daily rows."""
    ids = _store_with_features(engine)
    read = READERS[reader]
    live = read(engine, LAST)
    assert not live.empty
    assert not snapshot.holds(engine, LAST)
    written = refresh_snapshot(engine, LAST)
    assert snapshot.holds(engine, LAST)
    assert written == len(ids) - 1  # everyone but the customer without a row in 90 days
    _same(read(engine, LAST), live)


def test_the_feature_snapshot_holds_the_live_days_of_use(engine: Engine) -> None:
    """The feature rows are the live days of use of every customer and feature, for the snapshot's day
    only (the readers above would fall back to the live query on an empty table)."""
    _store_with_features(engine)
    live = feature_queries.feature_days_live(engine, LAST)
    refresh_snapshot(engine, LAST)
    f = snapshot.FEATURES
    with engine.connect() as conn:
        held = conn.execute(select(f.as_of, f.customer_id, f.feature_id, f.days_used)).all()
    assert {r.as_of for r in held} == {LAST}
    assert sorted((r.customer_id, r.feature_id, r.days_used) for r in held) == sorted(
        live.itertuples(index=False, name=None))


def test_the_snapshot_holds_its_edge_cases(engine: Engine) -> None:
    """The flags say which live query returns each customer (the cases of `_store`)."""
    ids = _store(engine)
    refresh_snapshot(engine, LAST)
    s = CustomerSnapshot
    with engine.connect() as conn:
        rows = {r.customer_id: r for r in conn.execute(select(s))}
    assert rows[ids[0]].mau is None
    assert rows[ids[0]].in_measures
    assert rows[ids[0]].week_n == 6
    assert rows[ids[2]].in_weeks
    assert not rows[ids[2]].in_measures
    assert rows[ids[2]].week_n == 0
    assert rows[ids[3]].last_active is None
    assert rows[ids[3]].in_week
    assert rows[ids[4]].in_measures
    assert rows[ids[4]].recent_n == 0
    assert rows[ids[4]].prior_n == 28
    assert ids[5] not in rows


def test_another_day_reads_the_daily_rows(engine: Engine) -> None:
    """A snapshot of one day leaves every other day to the live queries (a date range ending earlier)."""
    _store(engine)
    earlier = LAST - timedelta(days=20)
    live = {name: read(engine, earlier) for name, read in READERS.items()}
    refresh_snapshot(engine, LAST)
    assert not snapshot.holds(engine, earlier)
    for name, read in READERS.items():
        _same(read(engine, earlier), live[name])


def test_a_refresh_replaces_the_older_day(engine: Engine) -> None:
    """Only the newest snapshot is kept, and it follows the metrics it was taken from."""
    ids = _store(engine)
    refresh_snapshot(engine, LAST - timedelta(days=1))
    t = UsageMetric
    with engine.begin() as conn:
        conn.execute(update(t).where(t.customer_id == ids[6], t.metric_date == LAST).values(mau=999))
    refresh_snapshot(engine, LAST)
    with engine.connect() as conn:
        days = conn.execute(select(func.count(func.distinct(CustomerSnapshot.as_of)))).scalar_one()
    assert days == 1
    assert not snapshot.holds(engine, LAST - timedelta(days=1))
    measures = queries.customer_measures(engine, LAST).set_index("customer_id")
    assert measures.loc[ids[6], "mau"] == 999


def test_the_sync_takes_the_snapshot_after_the_metrics(engine: Engine) -> None:
    """The snapshot step is a sync step right after the metrics, beside the health scores (it reads only
    the metrics), taken for the run's last reported day."""
    steps = made_steps(Settings(database_url="sqlite://"), STEPS)
    metrics = next(i for i, step in enumerate(steps) if step.__module__ == "pendo_core.usage.job")
    group = steps[metrics + 1]
    assert isinstance(group, Alongside)
    assert group.parts[0] is snapshot_step
    assert group.parts[-1].__module__ == "pendo_core.health.job"
    _store(engine)
    summary: Any = RunSummary(run_id=running_run(engine), report_first=LAST - timedelta(days=9), report_last=LAST)
    snapshot_step(engine, SyncRequest(as_of=LAST + timedelta(days=1)), summary)
    assert snapshot.holds(engine, LAST)


def test_metrics_replaced_after_the_snapshot_are_read_live_until_the_next(engine: Engine) -> None:
    """A same-day run that replaces the metrics and stops before the snapshot step: the pages read the
    new numbers live, not the snapshot of the old ones; the next snapshot serves again."""
    ids = _store(engine)
    refresh_snapshot(engine, LAST)
    assert snapshot.holds(engine, LAST)
    t = UsageMetric
    with engine.begin() as conn:  # what the metrics' transaction does: new rows, the models marked
        conn.execute(update(t).where(t.customer_id == ids[3], t.metric_date == LAST).values(mau=777))
        read_models.mark_stale(conn, read_models.SNAPSHOT, read_models.PORTFOLIO)
    assert not snapshot.holds(engine, LAST)
    assert queries.customer_measures(engine, LAST).set_index("customer_id").loc[ids[3], "mau"] == 777
    refresh_snapshot(engine, LAST)
    assert snapshot.holds(engine, LAST)
    assert queries.customer_measures(engine, LAST).set_index("customer_id").loc[ids[3], "mau"] == 777


def test_a_snapshot_moved_on_between_the_check_and_the_read_is_read_live(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """When a sync moves the snapshot to the next day between a reader's `holds` and its read, the reader
    answers from the daily rows instead of with an empty list."""
    _store(engine)
    day = LAST - timedelta(days=1)

    def reads() -> list[pd.DataFrame]:
        return [queries.customer_measures(engine, day), queries.customer_week(engine, day),
                queries.weekly_wau(engine, day), queries.last_active_days(engine, day),
                feature_queries.feature_days(engine, day)]

    live = reads()
    refresh_snapshot(engine, LAST)
    monkeypatch.setattr(snapshot, "holds", lambda _engine, _day: True)  # it held `day` a moment ago
    for got, expected in zip(reads(), live, strict=True):
        assert not expected.empty
        pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True),
                                      check_dtype=False)
