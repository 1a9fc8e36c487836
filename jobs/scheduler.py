"""`python -m jobs schedule`: the long-running scheduler (built on dbader/schedule).

- One `schedule.Scheduler()` of our own: the daily sync at SCHEDULE_TIME in SCHEDULE_TIMEZONE
  (default: the subscription's timezone), and an operations check (failed run, stale data) every
  hour and after each sync.
- On start it catches up: if no run has succeeded since the most recent scheduled time, it syncs
  at once (`schedule` itself never runs missed jobs; see its docs).
- A guard around each job logs a failure (or a skip, when another sync holds the lock) and keeps
  the loop alive.
- SIGTERM or SIGINT set a stop flag: the loop ends at its next turn, and a sync in progress stops
  after the window it is writing commits (the flag is checked between windows), so the store is
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

from pendo_core.config import Settings
from pendo_core.pendo.sync.lock import SyncAlreadyRunning
from pendo_core.pendo.sync.progress import LogProgress, Progress

log = logging.getLogger("jobs.scheduler")
MAX_NAP_S = 60.0  # the loop looks at the clock at least this often
Clock = Callable[[], datetime]  # an aware "now"
_patch_lock = threading.RLock()  # a job that schedules more jobs re-enters it


class StopRequested(RuntimeError):
    """Raised between two windows of a sync once a stop was asked for."""


@dataclass(frozen=True)
class SchedulerHooks:
    """What the scheduler runs; `main` builds the real ones, tests pass fakes."""

    sync: Callable[[date], str]  # one daily sync for as_of; returns a summary line, raises on failure
    last_success: Callable[[], datetime | None]  # when the newest successful run started
    check: Callable[[], Any]  # the operations check (failed run, stale data) and its notifications


class StopAwareProgress:
    """A Progress that raises StopRequested after a committed window once `stop` is set.

    The runner calls `window_done` right after each window's transaction commits, so stopping
    there never leaves a half-written window.
    """

    def __init__(self, inner: Progress, stop: threading.Event) -> None:
        self.inner, self.stop_event = inner, stop

    def start(self, total_windows: int) -> None:
        self._check()
        self.inner.start(total_windows)

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        self.inner.window_done(stream, first, last, rows)
        self._check()

    def note(self, message: str) -> None:
        self.inner.note(message)

    def stop(self) -> None:
        self.inner.stop()

    def _check(self) -> None:
        if self.stop_event.is_set():
            raise StopRequested("the scheduler was asked to stop; the next run resumes where this one ended")


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

    def daily() -> None:
        guarded("daily sync", lambda: hooks.sync(clock().astimezone(tz).date()), stop_event)()
        if not stop_event.is_set():  # a run stopped on purpose is no news for the admins
            check()

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


def default_hooks(settings: Settings, stop: threading.Event, clock: Clock,
                  after_metrics: Callable[[Settings], list[Any]] | None = None) -> SchedulerHooks:
    """The real jobs: a locked sync into the configured store, and the operations check."""
    from jobs.commands import store
    from pendo_core.alerts.operations import freshness

    engine = store(settings)
    return SchedulerHooks(
        sync=lambda as_of: _sync(settings, engine, as_of, stop, after_metrics),
        last_success=lambda: freshness(engine, clock()).last_success_at,
        check=lambda: _check(settings, engine, clock),
    )


def _sync(settings: Settings, engine: Any, as_of: date, stop: threading.Event,
          after_metrics: Callable[[Settings], list[Any]] | None) -> str:
    from pendo_core.admin.secrets import with_stored_secrets
    from pendo_core.compose import make_client, pendo_endpoint
    from pendo_core.pendo.sync.lock import run_lock
    from pendo_core.pendo.sync.runner import SyncRequest, SyncRunner

    current = with_stored_secrets(settings, engine)  # a key saved in the app since start is used
    with run_lock(engine), pendo_endpoint(current, as_of) as (url, key), make_client(current, url, key) as client:
        runner = SyncRunner(current, engine, client, progress=StopAwareProgress(LogProgress(), stop),
                            after_metrics=after_metrics(current) if after_metrics else None)
        summary = runner.run(SyncRequest(as_of))
    return (f"sync {summary.run_id} ok: days {summary.report_first}..{summary.report_last}, "
            f"{summary.requests} requests, {summary.bad_rows} bad rows skipped")


def _check(settings: Settings, engine: Any, clock: Clock) -> str:
    from pendo_core.admin.secrets import with_stored_secrets
    from pendo_core.alerts.job import channels_from_settings
    from pendo_core.alerts.operations import operations_step

    channels = channels_from_settings(with_stored_secrets(settings, engine))
    result = operations_step(engine, channels, clock=clock, max_age_hours=settings.freshness_max_hours)
    return ", ".join(f"{kind} alert opened" for kind in result.opened) or ""


# --- the process ----------------------------------------------------------------------------------


def install_stop_handlers(stop: threading.Event) -> None:
    """SIGTERM (systemd, docker stop) and SIGINT (Ctrl-C) ask the loop to stop."""
    def handler(signum: int, _frame: Any) -> None:
        log.info("%s received: stopping after the current window", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def main(settings: Settings, *, after_metrics: Callable[[Settings], list[Any]] | None = None) -> int:
    """Entry point of `python -m jobs schedule`: real clock, interruptible naps, signal handlers."""
    stop = threading.Event()
    install_stop_handlers(stop)

    def clock() -> datetime:
        return datetime.now(UTC)

    hooks = default_hooks(settings, stop, clock, after_metrics)
    return run_scheduler(settings, clock=clock, sleep=stop.wait, stop_event=stop, hooks=hooks)


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `schedule` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "schedule", help="run the daily sync at SCHEDULE_TIME (and hourly operations checks) until stopped")
    return parser


def command(settings: Settings, _args: argparse.Namespace) -> int:
    """The CLI handler for `schedule`."""
    return main(settings)
