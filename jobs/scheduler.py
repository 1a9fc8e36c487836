"""`python -m jobs schedule`: the long-running scheduler (built on dbader/schedule).

- One `schedule.Scheduler()` of our own: the daily sync at SCHEDULE_TIME in SCHEDULE_TIMEZONE
  (default: the subscription's timezone), started through the one sync pipeline
  (`pendo_core.pipeline.run_sync`, which checks operations after each run), and an operations check
  (failed run, stale data) every hour.
- On start it catches up: if no run has succeeded since the most recent scheduled time, it syncs
  at once (`schedule` itself never runs missed jobs; see its docs).
- A guard around each job logs a failure (or a skip, when another sync holds the lock) and keeps
  the loop alive.
- SIGTERM or SIGINT set a stop flag: the loop ends at its next turn, and a sync in progress stops
  after the window it is writing commits (the pipeline checks the flag between windows), so the store is
  left as after any interrupted run: the next run resumes.
- The clock is injected. `schedule` reads the time only through its module's `datetime` name, so
  while our loop calls into it that name is swapped for one whose `now()` is our clock; tests
  freeze the clock and never sleep.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import signal
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import schedule
from sqlalchemy import Engine

from pendo_core import pipeline
from pendo_core.common.config import Settings
from pendo_core.pendo.sync.lock import SyncAlreadyRunning
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import SyncRequest

log = logging.getLogger("jobs.scheduler")
MAX_NAP_S = 60.0  # the loop looks at the clock at least this often
Clock = Callable[[], datetime]  # an aware "now"
_patch_lock = threading.RLock()  # a job that schedules more jobs re-enters it


@dataclass(frozen=True)
class SchedulerHooks:
    """What the scheduler runs; `main` builds the real ones, tests pass fakes."""

    sync: Callable[[date], str]  # one daily sync for as_of; returns a summary line, raises on failure
    last_success: Callable[[], datetime | None]  # when the newest successful run started
    check: Callable[[], Any]  # the operations check (failed run, stale data) and its notifications


# --- the clock shim ---------------------------------------------------------------------------


def _clock_module(clock: Clock) -> types.ModuleType:
    """A stand-in for the `datetime` module whose `datetime.now()` reads `clock`."""

    class ClockDatetime(dt.datetime):
        @classmethod
        def now(cls, tz: dt.tzinfo | None = None) -> dt.datetime:  # type: ignore[override]
            moment = clock()
            # schedule works in naive local time unless given a zone, like the real now() does
            return moment.astimezone(tz) if tz is not None else moment.astimezone().replace(tzinfo=None)

    module = types.ModuleType("datetime")
    module.__dict__.update(vars(dt))
    module.datetime = ClockDatetime  # type: ignore[attr-defined]
    return module


@contextmanager
def schedule_clock(clock: Clock) -> Iterator[None]:
    """Let `schedule` read `clock` for the duration of the block."""
    with _patch_lock:
        real = schedule.datetime  # type: ignore[attr-defined]
        schedule.datetime = _clock_module(clock)  # type: ignore[attr-defined]
        try:
            yield
        finally:
            schedule.datetime = real  # type: ignore[attr-defined]


# --- when to run ----------------------------------------------------------------------------------


def last_due(now: datetime, at: str, tz: ZoneInfo) -> datetime:
    """The most recent scheduled moment at or before `now`."""
    hour, minute = (int(part) for part in at.split(":"))
    local = now.astimezone(tz)
    due = datetime.combine(local.date(), dt.time(hour, minute), tzinfo=tz)
    if due > now:
        due = datetime.combine(local.date() - timedelta(days=1), dt.time(hour, minute), tzinfo=tz)
    return due


def missed_run(last_success: datetime | None, now: datetime, settings: Settings) -> bool:
    """True when no run has succeeded since the most recent scheduled time."""
    return last_success is None or last_success < last_due(now, settings.schedule_time, ZoneInfo(settings.schedule_tz))


def guarded(name: str, job: Callable[[], Any], stop: threading.Event) -> Callable[[], None]:
    """`job` wrapped so that a failure is logged and never ends the loop."""

    def run() -> None:
        try:
            outcome = job()
        except SyncAlreadyRunning as exc:
            log.warning("%s skipped: %s", name, exc)
        except Exception as exc:  # the loop must outlive any one job
            if stop.is_set():
                log.info("%s stopped between windows: %s", name, _one_line(exc))
            else:
                log.error("%s failed: %s", name, _one_line(exc), exc_info=exc)
        else:
            if outcome:
                log.info("%s: %s", name, outcome)

    return run


def _one_line(exc: BaseException) -> str:
    return (str(exc).splitlines() or [type(exc).__name__])[0]


# --- the loop --------------------------------------------------------------------------------------


def run_scheduler(settings: Settings, *, clock: Clock, sleep: Callable[[float], Any], stop_event: threading.Event,
                  hooks: SchedulerHooks | None = None) -> int:
    """Run the daily sync and the hourly check until `stop_event` is set; returns the exit code."""
    hooks = hooks or default_hooks(settings, stop_event, clock)
    tz = ZoneInfo(settings.pendo_timezone)
    check = guarded("operations check", hooks.check, stop_event)

    def daily() -> None:  # the sync checks operations after itself (pendo_core.pipeline)
        guarded("daily sync", lambda: hooks.sync(clock().astimezone(tz).date()), stop_event)()

    scheduler = schedule.Scheduler()
    with schedule_clock(clock):
        scheduler.every().day.at(settings.schedule_time, settings.schedule_tz).do(daily)
        scheduler.every().hour.at(":00").do(check)
    log.info("scheduler started: daily sync at %s %s", settings.schedule_time, settings.schedule_tz)
    if missed_run(hooks.last_success(), clock(), settings):
        log.info("no successful run since the last scheduled time: catching up now")
        daily()
    while not stop_event.is_set():
        with schedule_clock(clock):
            scheduler.run_pending()
            idle = scheduler.idle_seconds
        if not stop_event.is_set():
            sleep(min(max(idle if idle is not None else MAX_NAP_S, 0.0), MAX_NAP_S))
    log.info("scheduler stopped")
    return 0


def default_hooks(settings: Settings, stop: threading.Event, clock: Clock) -> SchedulerHooks:
    """The real jobs: a daily run through the sync pipeline, and the operations check, on the configured store."""
    from pendo_core.alerts.operations import freshness
    from pendo_core.pipeline import open_store

    engine = open_store(settings)
    return SchedulerHooks(
        sync=lambda as_of: _sync(settings, engine, as_of, stop, clock),
        last_success=lambda: freshness(engine, clock()).last_success_at,
        check=lambda: _check(settings, engine, clock),
    )


def _sync(settings: Settings, engine: Engine, as_of: date, stop: threading.Event, clock: Clock) -> str:
    summary = pipeline.run_sync(settings, engine, SyncRequest(as_of), progress=LogProgress(), stop=stop, clock=clock)
    return pipeline.brief(summary)


def _check(settings: Settings, engine: Engine, clock: Clock) -> str:
    result = pipeline.check_operations(settings, engine, clock=clock)
    return ", ".join(f"{kind} alert opened" for kind in result.opened) or ""


# --- the process ----------------------------------------------------------------------------------


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) ask the loop to stop."""
    def handler(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping after the current window", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(settings: Settings) -> int:
    """Entry point of `python -m jobs schedule`: real clock, interruptible naps, signal handlers."""
    stop = threading.Event()
    install_stop_handlers(stop)

    def clock() -> datetime:
        return datetime.now(UTC)

    hooks = default_hooks(settings, stop, clock)
    return run_scheduler(settings, clock=clock, sleep=stop.wait, stop_event=stop, hooks=hooks)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `schedule` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "schedule", help="run the daily sync at SCHEDULE_TIME (and hourly operations checks) until stopped")
    return parser


def command(settings: Settings, _args: argparse.Namespace) -> int:
    """The CLI handler for `schedule`."""
    return main(settings)
