"""The run fence: once a newer run has started, an older one writes nothing more, even when the run lock
was lost; and two writers of one window never add their counts up (PostgreSQL shows the real race)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.customers.job import make_mapping_step
from pendo_core.health.job import make_health_step
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import (
    LANE_DIALECTS,
    LANES,
    METRICS_STALE_FROM,
    SCORES_STALE_FROM,
    PostStep,
    RunSummary,
    SyncError,
    SyncRequest,
    SyncRunner,
)
from pendo_core.pendo.sync.streams import VISITOR_DAYS
from pendo_core.store import models
from pendo_core.store.bulk import DuplicateKey
from pendo_core.store.engine import session_factory
from pendo_core.usage import portfolio_days, snapshot
from pendo_core.usage.job import make_metrics_step
from pendo_core.usage.portfolio_days import portfolio_step
from pendo_core.usage.snapshot_job import snapshot_step
from tests.support.faults import AS_OF, FakePendo, import_acme, run_fake

DAY = date(2031, 5, 6)


def _newer_run(engine: Engine) -> int:
    """What a second process does when it starts a run: record it (marking older running runs failed)."""
    with session_factory(engine).begin() as session:
        return store.start_run(session, mode="daily", as_of=DAY, backfill_days=None, host="other")


class NewRunAfter(LogProgress):
    """After the Nth committed window, another run starts (the first one's lock having been lost)."""

    def __init__(self, engine: Engine, after: int) -> None:
        super().__init__()
        self.engine, self.after, self.done = engine, after, 0

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        super().window_done(stream, first, last, rows)
        self.done += 1
        if self.done == self.after:
            _newer_run(self.engine)


@pytest.mark.parametrize("after", [1, 5], ids=["after-1-window", "after-5-windows"])
def test_an_overtaken_run_stops_before_its_next_window(engine: Engine, after: int) -> None:
    """The window after the newer run started is never written, and the run fails saying why. On
    PostgreSQL the newer run waits for the window the other lane is writing (runner.LANES), which
    commits; no lane starts another."""
    progress = NewRunAfter(engine, after)
    with pytest.raises(SyncError, match="a newer run started"):
        run_fake(engine, FakePendo(), backfill_days=7, progress=progress)
    lanes = LANES if engine.dialect.name in LANE_DIALECTS else 1
    assert after <= progress.done <= after + lanes - 1
    with engine.connect() as conn:
        runs = conn.execute(select(models.SyncRun.id, models.SyncRun.status).order_by(models.SyncRun.id)).all()
        writers = set(conn.execute(select(models.SyncCoverage.run_id).distinct()).scalars())
    assert [status for _id, status in runs] == ["failed", "running"]
    assert writers == {runs[0].id}


def test_an_overtaken_run_never_reports_success(engine: Engine) -> None:
    """Overtaken during its last step (health, alerts), a run still ends failed, not success."""
    def overtaken(engine_: Engine, request: SyncRequest, summary: RunSummary) -> None:
        _newer_run(engine_)

    with pytest.raises(SyncError, match="a newer run started"):
        run_fake(engine, FakePendo(), backfill_days=7, steps=[overtaken])
    with engine.connect() as conn:
        assert conn.execute(select(models.SyncRun.status).order_by(models.SyncRun.id)).scalars().all() == [
            "failed", "running"]


# --- PostgreSQL: the real concurrency ----------------------------------------------------------------


def _rows(events: int) -> list[dict[str, Any]]:
    day_ms = local_midnight_ms(DAY, ZoneInfo("UTC"))
    return [{"accountId": "acme", "visitorId": f"v{i}", "day": day_ms, "numEvents": events, "numMinutes": 1}
            for i in range(20)]


# the sync's (days holding no rows copied straight in, or always staged), and an accepting run's
WRITERS = {"guarded": store.write_guarded, "guarded-staged": partial(store.write_guarded, straight=False),
           "as-sent": store.write_window}


def _write(session: Session, writer: str) -> None:
    WRITERS[writer](session, VISITOR_DAYS, Window(DAY, DAY), _rows(3), tz=ZoneInfo("UTC"), as_of=DAY,
                    include_anonymous=False, run_id=1)


def _in_thread(fn: Callable[[], None]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def target() -> None:
        try:
            fn()
        except BaseException as exc:  # handed to the test, which re-raises it
            errors.append(exc)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    return thread, errors


@pytest.mark.postgres
@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_two_writers_of_one_window_never_double_a_count(pg_engine: Engine, writer: str) -> None:
    """The second writer waits for the first, then overwrites with the same values: 3 events, not 6."""
    from tests.support.store import wait_until_blocked, wipe

    wipe(pg_engine)
    sessions = session_factory(pg_engine)
    with sessions.begin() as first:
        _write(first, writer)
        second, errors = _in_thread(lambda: _write_and_commit(sessions, writer))
        wait_until_blocked(pg_engine, second)
    second.join(timeout=60)
    assert not errors, errors
    with pg_engine.connect() as conn:
        counts = conn.execute(select(models.VisitorDay.num_events).where(models.VisitorDay.day == DAY)).scalars()
        assert set(counts) == {3}
    wipe(pg_engine)


def _write_and_commit(sessions: Any, writer: str) -> None:
    try:
        with sessions.begin() as session:
            _write(session, writer)
    except DuplicateKey:  # its straight COPY met the first writer's rows: as the runner does, read again, staged
        with sessions.begin() as session:
            _write(session, "guarded-staged")


def _start_run_within(sessions: Any, lock_timeout: str) -> None:
    with sessions.begin() as starting:
        starting.execute(text(f"SET LOCAL lock_timeout = '{lock_timeout}'"))
        store.start_run(starting, mode="daily", as_of=DAY, backfill_days=None, host="other")


@pytest.mark.postgres
def test_a_newer_run_waits_for_the_window_being_written(pg_engine: Engine) -> None:
    """While a window's transaction holds the fence, a new run cannot start; once it commits, it can,
    and the old run's next window is refused."""
    from tests.support.store import wipe

    wipe(pg_engine)
    old = _newer_run(pg_engine)
    sessions = session_factory(pg_engine)
    with sessions.begin() as window:
        store.hold_fence(window, old)
        with pytest.raises(DBAPIError, match="lock timeout"):
            _start_run_within(sessions, "200ms")
    _newer_run(pg_engine)
    with pytest.raises(store.RunSuperseded), sessions.begin() as next_window:
        store.hold_fence(next_window, old)
    wipe(pg_engine)


# --- the steps after the windows ---------------------------------------------------------------------


def _overtaken(step: PostStep) -> PostStep:
    """The step, with a newer run starting just after the runner's check before it (this run's lock lost):
    the step reads, computes, and must not write."""
    def during(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        _newer_run(engine)
        step(engine, request, summary)

    return during


def _metrics(config: Settings) -> PostStep:
    return make_metrics_step(config)


# each step's table, and the steps that run before it
STEPS: dict[str, tuple[Any, list[Callable[[Settings], PostStep]], Callable[[Settings], PostStep]]] = {
    "metrics": (models.UsageMetric, [], _metrics),
    "health": (models.HealthScore, [_metrics], make_health_step),
    "snapshot": (snapshot.TABLE, [_metrics], lambda _config: snapshot_step),
    "portfolio": (portfolio_days.TABLE, [_metrics, make_health_step], lambda _config: portfolio_step),
}


def _sync_with(engine: Engine, steps: list[PostStep]) -> RunSummary:
    config = Settings(pendo_integration_key="k", window_days=7)
    runner = SyncRunner(config, engine, FakePendo(), after_windows=[make_mapping_step(config)],  # type: ignore[arg-type]
                        steps=steps)
    return runner.run(SyncRequest(AS_OF, 7))


def _count(engine: Engine, model: Any) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(models.table_of(model))) or 0


@pytest.mark.parametrize("name", sorted(STEPS))
def test_a_step_overtaken_while_it_computes_writes_nothing(engine: Engine, name: str) -> None:
    """A newer run starts while a step computes (the old run's lock lost after the runner's check): the step's
    writing transaction refuses, so its rows are not written over what the newer run writes; and the marks
    the next run computes from stay. The same steps without the newer run write rows."""
    from tests.support.store import wipe

    table, before, step = STEPS[name]
    config = Settings(pendo_integration_key="k", window_days=7)
    import_acme(engine)
    _sync_with(engine, [make(config) for make in before] + [step(config)])
    assert _count(engine, table) > 0
    wipe(engine)
    import_acme(engine)
    with pytest.raises(SyncError, match="a newer run started"):
        _sync_with(engine, [make(config) for make in before] + [_overtaken(step(config))])
    assert _count(engine, table) == 0
    with Session(engine) as session:
        if name == "metrics":  # the windows lowered it; the next run computes from there
            assert store.get_watermark(session, METRICS_STALE_FROM) is not None
        if name == "health":  # the metrics lowered it; the next run scores from there
            assert store.get_watermark(session, SCORES_STALE_FROM) is not None
