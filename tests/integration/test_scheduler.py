"""The scheduler on a frozen clock (nothing sleeps): the daily run at the set local time across a
DST change, catch-up of a missed run, a guard that survives failures, and stopping cleanly."""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from jobs.scheduler import (
    MAX_NAP_S,
    SchedulerHooks,
    install_stop_handlers,
    last_due,
    missed_run,
    run_scheduler,
)
from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.lock import SyncAlreadyRunning
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import LANE_ORDER, SyncError, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.pipeline.run import StopAwareProgress, StopRequested
from pendo_core.store import models
from pendo_sim.data import generate
from pendo_sim.server import start_server

NY = ZoneInfo("America/New_York")


def _ny(day: int, hour: int, minute: int = 0, month: int = 3) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=NY)


@dataclass
class World:
    """A frozen clock that moves only when the scheduler naps, and a record of what ran when."""

    now: datetime
    until: datetime
    stop: threading.Event = field(default_factory=threading.Event)
    syncs: list[tuple[date, datetime]] = field(default_factory=list)
    checks: list[datetime] = field(default_factory=list)
    naps: list[float] = field(default_factory=list)
    last_success: datetime | None = None
    sync_effect: Callable[[int], None] = lambda _n: None

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.naps.append(seconds)
        self.now += timedelta(seconds=seconds)
        if self.now >= self.until:
            self.stop.set()

    def sync(self, as_of: date) -> str:
        self.syncs.append((as_of, self.now.astimezone(NY)))
        self.sync_effect(len(self.syncs))
        self.last_success = self.now
        return "ok"

    def hooks(self) -> SchedulerHooks:
        return SchedulerHooks(sync=self.sync, last_success=lambda: self.last_success,
                              check=lambda: self.checks.append(self.now))

    def run(self, settings: Settings) -> int:
        return run_scheduler(settings, clock=self.clock, sleep=self.sleep, stop_event=self.stop, hooks=self.hooks())


SETTINGS = Settings(pendo_timezone="America/New_York", schedule_time="06:30")


def test_the_daily_sync_runs_at_the_local_time_across_a_dst_change() -> None:
    """06:30 New York time every day, before and after the spring-forward night; as_of is that day."""
    world = World(now=_ny(8, 5), until=_ny(12, 7), last_success=_ny(7, 6, 30))
    assert world.run(SETTINGS) == 0
    assert world.syncs == [(date(2024, 3, d), _ny(d, 6, 30)) for d in (8, 9, 10, 11, 12)]
    assert {moment.utcoffset() for _, moment in world.syncs} == {timedelta(hours=-5), timedelta(hours=-4)}
    assert max(world.naps) <= MAX_NAP_S


def test_the_schedule_timezone_can_differ_from_the_subscriptions() -> None:
    """SCHEDULE_TIMEZONE sets when it runs; the as-of date stays the subscription's today."""
    settings = Settings(pendo_timezone="America/New_York", schedule_time="02:00", schedule_timezone="Europe/Paris")
    start = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
    world = World(now=start, until=start + timedelta(days=1), last_success=start)
    world.run(settings)
    assert [(as_of, moment.astimezone(ZoneInfo("Europe/Paris")).hour) for as_of, moment in world.syncs] == [
        (date(2024, 6, 3), 2)]  # 02:00 Paris on the 4th is still the 3rd in New York


@pytest.mark.parametrize(("start", "last_success", "catch_up"), [
    (_ny(5, 5), _ny(4, 6, 31), False),
    (_ny(5, 9), _ny(5, 6, 31), False),
    (_ny(5, 9), _ny(4, 6, 31), True),
    (_ny(5, 5), _ny(3, 6, 31), True),
    (_ny(5, 5), None, True),
], ids=["before-today-yesterday-ran", "after-today-today-ran", "after-today-today-missed",
        "before-today-yesterday-missed", "never-ran"])
def test_a_missed_run_is_caught_up_on_start(start: datetime, last_success: datetime | None, catch_up: bool) -> None:
    """On start, a sync runs at once only when none succeeded since the most recent scheduled time."""
    world = World(now=start, until=start + timedelta(minutes=10), last_success=last_success)
    world.run(SETTINGS)
    assert world.syncs == ([(start.date(), start)] if catch_up else [])
    assert missed_run(last_success, start, SETTINGS) is catch_up


@pytest.mark.parametrize(("now", "due"), [
    (_ny(5, 6, 30), _ny(5, 6, 30)),
    (_ny(5, 6, 29), _ny(4, 6, 30)),
    (_ny(10, 12), _ny(10, 6, 30)),
], ids=["exactly-on-time", "a-minute-early", "on-the-dst-day"])
def test_last_due_is_the_latest_scheduled_moment(now: datetime, due: datetime) -> None:
    """The scheduled moment at or before now, in the schedule's timezone."""
    assert last_due(now, "06:30", NY) == due


@pytest.mark.parametrize(("failure", "level", "text"), [
    (RuntimeError("Pendo unreachable"), logging.ERROR, "daily sync failed: Pendo unreachable"),
    (SyncError("Pendo refused the integration key"), logging.ERROR, "daily sync failed: Pendo refused"),
    (SyncAlreadyRunning("another sync is already running"), logging.WARNING, "daily sync skipped"),
], ids=["unexpected-error", "sync-error", "lock-taken"])
def test_a_failing_job_is_logged_and_the_loop_goes_on(caplog: pytest.LogCaptureFixture, failure: Exception,
                                                       level: int, text: str) -> None:
    """The first day's sync fails; it is logged once, and the next day's sync still runs."""
    def fail_first(n: int) -> None:
        if n == 1:
            raise failure

    world = World(now=_ny(5, 5), until=_ny(7, 5), last_success=_ny(4, 6, 30), sync_effect=fail_first)
    with caplog.at_level(logging.INFO, logger="jobs.scheduler"):
        assert world.run(SETTINGS) == 0
    assert [as_of for as_of, _ in world.syncs] == [date(2024, 3, 5), date(2024, 3, 6)]
    assert [r.levelno for r in caplog.records if text in r.getMessage()] == [level]


def test_the_operations_check_runs_hourly() -> None:
    """Every hour on the hour; the check right after each sync is the pipeline's (test_pipeline.py)."""
    world = World(now=_ny(5, 5, 10), until=_ny(5, 9, 10), last_success=_ny(4, 6, 30))
    world.run(SETTINGS)
    hours = [moment.astimezone(NY).strftime("%H:%M") for moment in world.checks]
    assert hours == ["06:00", "07:00", "08:00", "09:00"]
    assert [moment.strftime("%H:%M") for _, moment in world.syncs] == ["06:30"]


def test_a_stop_during_the_sync_ends_the_loop() -> None:
    """SIGTERM arriving mid-sync: nothing else runs and the scheduler returns 0."""
    world = World(now=_ny(5, 5), until=_ny(9, 5), last_success=_ny(4, 6, 30))
    world.sync_effect = lambda _n: world.stop.set()
    assert world.run(SETTINGS) == 0
    assert len(world.syncs) == 1
    assert world.now < _ny(5, 7)
    assert world.checks == [_ny(5, 6)]  # the hourly one before, and nothing after the stop


def test_sigterm_sets_the_stop_flag() -> None:
    """The installed handler turns SIGTERM into the cooperative stop flag."""
    stop = threading.Event()
    before = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
    try:
        install_stop_handlers(stop)
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.is_set()
    finally:
        signal.signal(signal.SIGTERM, before[0])
        signal.signal(signal.SIGINT, before[1])


class _Recorder(LogProgress):
    def __init__(self) -> None:
        super().__init__()
        self.done: list[str] = []

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        self.done.append(stream)


def test_stop_aware_progress_raises_only_after_a_committed_window() -> None:
    """The window being written is reported done first; the stop comes between windows."""
    stop = threading.Event()
    recorder = _Recorder()
    progress = StopAwareProgress(recorder, stop)
    progress.start(3)
    progress.window_done("visitor_days", "2024-03-01", "2024-03-07", 10)
    stop.set()
    with pytest.raises(StopRequested):
        progress.window_done("visitor_days", "2024-03-08", "2024-03-14", 10)
    assert recorder.done == ["visitor_days", "visitor_days"]


def test_a_stopped_sync_keeps_its_committed_windows_and_says_why(sqlite_engine: Engine) -> None:
    """A real run stopped after its second window: recorded as failed with the reason; two windows stay."""
    sub = generate(seed=3, accounts=3, days=30, as_of=date(2024, 3, 20), tz="UTC")
    server = start_server(sub)
    stop = threading.Event()

    class StopAfterTwo(_Recorder):
        def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
            super().window_done(stream, first, last, rows)
            if len(self.done) == 2:
                stop.set()

    settings = Settings(pendo_integration_key="demo-key", pendo_base_url=server.url, window_days=5)
    recorder: Any = StopAfterTwo()
    try:
        with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client, \
                pytest.raises(SyncError, match="asked to stop"):
            sync_runner(settings, sqlite_engine, client, steps=INGEST_STEPS,
                        progress=StopAwareProgress(recorder, stop)).run(
                SyncRequest(date(2024, 3, 20), 5))
    finally:
        server.stop()
    with sqlite_engine.connect() as conn:
        status, error = conn.execute(select(models.SyncRun.status, models.SyncRun.error)).one()
        covered = conn.execute(select(models.SyncCoverage.stream).distinct()).scalars().all()
    assert status == "failed"
    assert "next run resumes" in (error or "")
    assert len(recorder.done) == 2
    assert covered == [LANE_ORDER[0]]  # SQLite: one lane, taking the streams in LANE_ORDER
