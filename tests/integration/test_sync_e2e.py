"""The sync, end to end against the simulator over real HTTP: every metric cell matches the spec.

The expected values come from the simulator's raw, ungrouped source rows run through the plain
reference implementation (tests/support/reference_metrics.py), never from the sync's own code. The range
holds the 2024-03-10 spring-forward day in America/New_York.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from pandas.testing import assert_frame_equal
from sqlalchemy import Engine, func, select, text

from pendo_core.health import make_health_step
from pendo_core.pendo.client import FakeClock, RetryPolicy
from pendo_core.pendo.sync.runner import SyncError
from pendo_core.pipeline import INGEST_STEPS
from pendo_core.store import models
from pendo_core.store.bulk import STALE_GROWTH
from pendo_core.usage import portfolio_days
from pendo_core.usage.portfolio_days import make_portfolio_step
from pendo_sim.data import Subscription, generate
from pendo_sim.faults import Faults
from pendo_sim.server import SimServer, start_server
from tests.support.metrics import read_outputs
from tests.support.reference_metrics import reference_metrics
from tests.support.sync import (
    expected_activity,
    import_demo_customers,
    map_an_unmapped_account,
    run_sync,
    snapshot,
)

TZ = "America/New_York"
AS_OF = date(2024, 3, 20)
BACKFILL = 21
WITH_HEALTH = (*INGEST_STEPS, make_health_step)
WITH_PORTFOLIO = (*WITH_HEALTH, make_portfolio_step)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=11, accounts=24, days=150, as_of=AS_OF, tz=TZ)


@pytest.fixture
def server(subscription: Subscription) -> Iterator[SimServer]:
    sim = start_server(subscription)
    yield sim
    sim.stop()


def _assert_matches_reference(engine: Engine, sub: Subscription, first: date, last: date) -> None:
    expected = reference_metrics(expected_activity(engine, sub, first, last), first, last_day=last)
    stored = read_outputs(engine)
    for table, rows in expected.items():
        assert set(stored[table]) == set(rows), f"{table}: different keys"
        for key, values in rows.items():
            assert stored[table][key] == pytest.approx(values), f"{table} {key}"


def test_backfill_matches_the_spec_cell_by_cell(engine: Engine, subscription: Subscription,
                                                server: SimServer) -> None:
    """A 21-day backfill over a DST change: usage, feature, guide and onboarding rows all exact."""
    import_demo_customers(engine, subscription)
    summary = run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    assert (summary.report_first, summary.report_last) == (date(2024, 2, 28), date(2024, 3, 19))
    assert summary.bad_rows == 0
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    with engine.connect() as conn:
        customers = conn.scalar(select(func.count(func.distinct(models.UsageMetric.customer_id))))
    assert (customers or 0) >= 10


def test_rerun_changes_nothing(engine: Engine, subscription: Subscription, server: SimServer) -> None:
    """Re-running the same day's sync leaves every data row as it was."""
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    before = snapshot(engine)
    run_sync(engine, server.url, TZ, AS_OF, None)
    assert snapshot(engine) == before


def test_run_that_dies_then_reruns_ends_like_a_clean_run(
    engine: Engine, sqlite_engine: Engine, subscription: Subscription, server: SimServer
) -> None:
    """Half-way failure (every request 5xx from some point): the next run finishes it, same store."""
    import_demo_customers(sqlite_engine, subscription)
    run_sync(sqlite_engine, server.url, TZ, AS_OF, BACKFILL)
    clean = snapshot(sqlite_engine)

    import_demo_customers(engine, subscription)
    server.faults.error_every = 1
    requests_before = len(server.requests)
    with pytest.raises(SyncError, match="5"):
        run_sync(engine, server.url, TZ, AS_OF, BACKFILL, retry=RetryPolicy.for_tests(attempts=2))
    assert len(server.requests) > requests_before
    server.faults.error_every = None
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    assert snapshot(engine) == clean


@pytest.mark.parametrize(
    "faults",
    [Faults(error_every=3), Faults(cut_after_rows=5, cut_every=2), Faults(reset_every=4),
     Faults(rate_limit_per_second=3, retry_after=1)],
    ids=["5xx-every-3rd", "cut-off-bodies", "connection-resets", "429-storm"],
)
def test_faults_are_retried_to_the_same_store(sqlite_engine: Engine, subscription: Subscription,
                                              faults: Faults) -> None:
    """Retriable faults cost retries, never rows: the store equals a clean run's."""
    clock = FakeClock()
    faulty = start_server(subscription, faults=faults, clock=clock)
    try:
        import_demo_customers(sqlite_engine, subscription)
        policy = RetryPolicy.for_tests(sleep=clock.sleep, clock=clock, attempts=8)
        summary = run_sync(sqlite_engine, faulty.url, TZ, AS_OF, 7, retry=policy)
    finally:
        faulty.stop()
    assert summary.retries > 0
    _assert_matches_reference(sqlite_engine, subscription, summary.report_first, summary.report_last)


PLANNED_TABLES = ("pendo_feature_visitor_days", "pendo_visitors", "pendo_usage_metrics", "pendo_feature_usage",
                  "pendo_health_scores")


def _forget_statistics(engine: Engine, tables: tuple[str, ...]) -> None:
    """TRUNCATE the (already emptied) tables: the tests before this one in the worker emptied them by DELETE,
    which keeps their pages and statistics (no vacuum here). An ANALYZE of one with a live row among
    thousands of dead ones left pendo_health_scores planned as one row however many this run wrote on a
    few new pages, under the page growth `stale_tables` looks for. A store gets there only by deleting
    nearly every row of a table and never vacuuming it; this test is about the sync's own ANALYZE."""
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {', '.join(tables)}"))


def test_daily_run_after_backfill_matches_the_spec(engine: Engine) -> None:
    """Next day's incremental run (lookback re-read, one new day) leaves every cell exact."""

    next_day = AS_OF + timedelta(days=1)
    if engine.dialect.name == "postgresql":
        _forget_statistics(engine, PLANNED_TABLES)
    yesterday_view = generate(seed=11, accounts=24, days=150, as_of=next_day, tz=TZ, now=AS_OF)
    today_view = generate(seed=11, accounts=24, days=150, as_of=next_day, tz=TZ, now=next_day)
    import_demo_customers(engine, yesterday_view)
    first = start_server(yesterday_view)
    try:
        run_sync(engine, first.url, TZ, AS_OF, BACKFILL, steps=WITH_PORTFOLIO)
    finally:
        first.stop()
    second = start_server(today_view)
    try:
        summary = run_sync(engine, second.url, TZ, next_day, None, steps=WITH_PORTFOLIO)
    finally:
        second.stop()
    assert (summary.report_first, summary.report_last) == (date(2024, 2, 28), AS_OF)
    assert summary.rows["visitor_days"] > 0
    # only the changed days' metrics are restated, not the whole range (no customer was remapped), from the
    # first day the re-read changed, on both stores (the days before it came back with their digests)
    assert summary.refetched is not None
    assert summary.changed_from is not None
    assert summary.metrics_first == summary.changed_from > summary.refetched > summary.report_first
    if engine.dialect.name == "postgresql":  # tables filled in bulk were ANALYZEd before the next step read them
        with engine.connect() as conn:
            for table in PLANNED_TABLES:
                plan = conn.scalar(text(f"EXPLAIN (FORMAT JSON) SELECT * FROM {table}"))[0]["Plan"]
                stored = conn.scalar(text(f"SELECT count(*) FROM {table}"))
                assert stored > 0, table
                # a sampled count past 30,000 rows (a twentieth), scaled by the pages grown since (up to
                # STALE_GROWTH, past which the table is analysed again)
                assert abs(plan["Plan Rows"] - stored) <= stored * (STALE_GROWTH + 1 / 20), table
    _assert_matches_reference(engine, today_view, summary.report_first, summary.report_last)
    _assert_portfolio_as_the_live_rows(engine)  # its days from the re-read one on rewritten, the rest kept


def test_mapping_change_recomputes_that_customer_over_the_whole_range(
    engine: Engine, subscription: Subscription, server: SimServer
) -> None:
    """An account newly mapped to a customer: the next run restates all its days, exactly, metrics and
    health (the other customers only from the re-read days on)."""
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL, steps=WITH_PORTFOLIO)
    owner = map_an_unmapped_account(engine)
    summary = run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_PORTFOLIO)
    # the remapped customer is restated over the whole range, the others only from the re-read days
    assert summary.metrics_stale == [owner]
    assert summary.refetched is not None
    assert summary.metrics_first == (summary.changed_from or summary.report_last + timedelta(days=1))
    assert summary.metrics_first > summary.report_first
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    _assert_portfolio_as_the_live_rows(engine)
    _assert_health_as_a_full_recompute(engine, summary.report_first, summary.report_last)


def test_a_remap_whose_run_stopped_before_its_scores_is_scored_by_the_next_run(
    engine: Engine, subscription: Subscription, server: SimServer
) -> None:
    """A run that stopped after its metrics step (here: one without the health step) restated a remapped
    customer's metrics over the whole range. The next run finds them following the mapping, and still
    scores that customer's whole range again (the metrics step kept it, and wrote its metrics for that
    version), so its scores equal a full recompute; then nothing is kept."""
    import_demo_customers(engine, subscription)
    first = run_sync(engine, server.url, TZ, AS_OF, BACKFILL, steps=WITH_HEALTH).report_first
    owner = map_an_unmapped_account(engine, by_sql=True)  # found by the metrics step, which keeps it
    before = _health_rows(engine)[(owner, first)]
    assert run_sync(engine, server.url, TZ, AS_OF, None, steps=INGEST_STEPS).metrics_stale == [owner]
    summary = run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_HEALTH)
    assert summary.metrics_stale == []  # its metrics were written for the version kept: only its scores wait
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    _assert_health_as_a_full_recompute(engine, summary.report_first, summary.report_last)
    assert _health_rows(engine)[(owner, first)] != before  # the remap moved its first day's score
    _assert_nothing_kept(engine)


def test_a_remap_whose_run_stopped_in_its_metrics_is_computed_and_scored_by_the_next_run(
    engine: Engine, subscription: Subscription, server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run that stopped while its metrics step recomputed a remapped customer's whole range, after the
    recompute of every customer's moved days (which rewrote that customer's last day by the new mapping).
    The next run no longer sees the customer as remapped, but the metrics step kept it before writing: the
    next run computes its metrics and scores over the whole range again, exactly."""
    from sqlalchemy.orm import Session

    from pendo_core.pendo.sync import store
    from pendo_core.pendo.sync.runner import METRICS_STALE_FROM
    from pendo_core.usage import job

    import_demo_customers(engine, subscription)
    last = run_sync(engine, server.url, TZ, AS_OF, BACKFILL, steps=WITH_HEALTH).report_last
    owner = map_an_unmapped_account(engine, by_sql=True)  # found by the metrics step, which keeps it
    with Session(engine) as session, session.begin():  # raw days an earlier, stopped run wrote: every
        store.lower_date_watermark(session, METRICS_STALE_FROM, last - timedelta(days=3))  # customer's first
    compute = job.compute_metrics

    def stops_on_the_remapped(*args: object, **kwargs: object) -> object:
        if kwargs.get("customer_ids") is not None:
            raise RuntimeError("stopped")
        return compute(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(job, "compute_metrics", stops_on_the_remapped)
    with pytest.raises(SyncError, match="stopped"):
        run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_HEALTH)
    monkeypatch.undo()
    assert job.customers_with_changed_accounts(engine, last) == []  # its last day follows the mapping now ...
    with Session(engine) as session:
        assert list(store.stale_score_customers(session)) == [owner]  # ... but it is kept
    summary = run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_HEALTH)
    assert summary.metrics_stale == [owner]
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    _assert_health_as_a_full_recompute(engine, summary.report_first, summary.report_last)
    _assert_nothing_kept(engine)


def test_an_account_mapped_while_the_metrics_compute_is_computed_by_the_next_run(
    engine: Engine, subscription: Subscription, server: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An account mapped (in the app) while a run computes its metrics, after the run looked for remapped
    customers: that run writes the customer's moved days by the new mapping, and its earlier days stay on
    the old one. The change kept the customer at a version the run never read, so the run's health step
    does not forget it, and the next run computes and scores its whole range, exactly."""
    from sqlalchemy.orm import Session

    from pendo_core.pendo.sync import store
    from pendo_core.pendo.sync.runner import METRICS_STALE_FROM
    from pendo_core.usage import job

    import_demo_customers(engine, subscription)
    last = run_sync(engine, server.url, TZ, AS_OF, BACKFILL, steps=WITH_HEALTH).report_last
    with Session(engine) as session, session.begin():  # raw days an earlier, stopped run wrote: the next
        store.lower_date_watermark(session, METRICS_STALE_FROM, last - timedelta(days=3))  # run computes
    compute, owners = job.compute_metrics, []

    def maps_meanwhile(*args: object, **kwargs: object) -> object:
        if not owners:
            owners.append(map_an_unmapped_account(engine))
        return compute(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(job, "compute_metrics", maps_meanwhile)
    assert run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_HEALTH).metrics_stale == []
    monkeypatch.undo()
    assert job.customers_with_changed_accounts(engine, last) == []  # its last day follows the mapping
    summary = run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_HEALTH)
    assert summary.metrics_stale == owners
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    _assert_health_as_a_full_recompute(engine, summary.report_first, summary.report_last)
    _assert_nothing_kept(engine)


def _assert_nothing_kept(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.StaleScoreCustomer)) == 0


def _assert_portfolio_as_the_live_rows(engine: Engine) -> None:
    """The Portfolio's read model, rewritten by the sync only from the days that moved, holds what the live
    queries give on every day."""
    assert portfolio_days.filled(engine)
    first, last = date(2000, 1, 1), date(2100, 1, 1)
    assert_frame_equal(portfolio_days.stored_usage(engine, first, last), portfolio_days.usage_by_day(engine),
                       check_exact=False, rtol=1e-12, check_dtype=False)
    health = portfolio_days.health_by_day(engine)
    assert_frame_equal(portfolio_days.stored_health(engine, health["day"].tolist()), health,
                       check_exact=False, rtol=1e-12, check_dtype=False)


def _health_rows(engine: Engine) -> dict[tuple[str, date], dict[str, object]]:
    table = models.HealthScore.__table__
    with engine.connect() as conn:
        return {(r.customer_id, r.score_date): dict(r._mapping) for r in conn.execute(select(table))}


def _assert_health_as_a_full_recompute(engine: Engine, first: date, last: date) -> None:
    """The stored health scores equal scoring every customer over the whole range again, row for row."""
    from pendo_core.health import compute_health

    stored = _health_rows(engine)
    compute_health(engine, first, last)
    full = _health_rows(engine)
    assert stored.keys() == full.keys()
    for key, row in full.items():
        assert stored[key] == row, key


def test_a_customer_whose_accounts_were_all_unmapped_keeps_no_metrics(
    engine: Engine, subscription: Subscription, server: SimServer
) -> None:
    """Every account of a customer unmapped: the next run removes its metrics and scores over the whole
    range, not only from the re-read days (what it showed came from accounts it no longer owns)."""
    from pendo_core.customers.mapping_queue import unmap_account

    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL, steps=WITH_PORTFOLIO)
    with engine.connect() as conn:
        owner = conn.scalar(select(models.AccountMapping.customer_id))
        assert owner is not None
        accounts = conn.scalars(select(models.AccountMapping.pendo_account_id)
                                .where(models.AccountMapping.customer_id == owner)).all()
    assert all(unmap_account(engine, account, by="admin@test") for account in accounts)
    summary = run_sync(engine, server.url, TZ, AS_OF, None, steps=WITH_PORTFOLIO)
    assert summary.metrics_stale == [owner]
    with engine.connect() as conn:
        for model in (models.UsageMetric, models.FeatureUsage, models.GuideMetric, models.OnboardingProgress):
            left = conn.scalar(select(func.count()).select_from(model).where(model.customer_id == owner))
            assert left == 0, model.__tablename__
    _assert_matches_reference(engine, subscription, summary.report_first, summary.report_last)
    _assert_portfolio_as_the_live_rows(engine)
    _assert_health_as_a_full_recompute(engine, summary.report_first, summary.report_last)
