"""One sync pipeline: the CLI, the scheduler, the app's "sync now" and the API all start a run here.

`run_sync(settings, engine, request)` does, in this order:

1. reads the stored secrets (a key saved in the app since start is used; the environment wins);
2. takes the run lock, so two runs never overlap (SyncBusy when another holds it);
3. opens the Pendo client (`pendo_core.pipeline.edges`: the configured host, or the demo simulator);
4. runs the SyncRunner: entities and usage windows, then `AFTER_WINDOWS` (mapping) and `STEPS` in order
   (metrics; the pages' snapshot and the alerts' reading beside the health scores; the Portfolio days, the
   alerts, then the retention of raw rows);
5. once the run has ended, successfully or not, the operations check (a failed run, stale data)
   with its notices to the admins; not after a run stopped on purpose or one that never started.

What it raises is a PipelineError (pendo_core.pipeline.errors) whose message is one line naming the cause.
Callers reach it as `pipeline.run_sync`, through the package `pendo_core.pipeline` (which re-exports it),
so a test can stand in for it there.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime

from sqlalchemy import Engine

from pendo_core.admin.secrets import SecretsError, with_stored_secrets
from pendo_core.alerts.job import channels_from_settings, make_alerts_step
from pendo_core.alerts.operations import OpsCheck, operations_step
from pendo_core.common.config import Settings
from pendo_core.common.timeutil import today_in
from pendo_core.customers.job import make_mapping_step
from pendo_core.health.job import make_health_step
from pendo_core.pendo.client import PendoClient
from pendo_core.pendo.sync.lock import SyncAlreadyRunning, run_lock
from pendo_core.pendo.sync.progress import LogProgress, Progress
from pendo_core.pendo.sync.retention import make_retention_step
from pendo_core.pendo.sync.runner import Alongside, PostStep, RunSummary, SyncError, SyncRequest, SyncRunner
from pendo_core.pipeline.edges import pendo_client
from pendo_core.pipeline.errors import PipelineError, SyncBusy
from pendo_core.usage.job import make_metrics_step
from pendo_core.usage.portfolio_days import make_portfolio_step
from pendo_core.usage.snapshot_job import make_snapshot_step

__all__ = ["AFTER_WINDOWS", "INGEST_STEPS", "STEPS", "StopAwareProgress", "StopRequested", "brief",
           "check_operations", "describe", "made_steps", "make_judgment_steps", "run_sync", "sync_runner"]

log = logging.getLogger("pendo_core.pipeline")
Clock = Callable[[], datetime]  # an aware "now"
StepFactory = Callable[[Settings], PostStep | list[PostStep]]  # one step, or steps made together
PendoConnector = Callable[[Settings, date], AbstractContextManager[PendoClient]]

# What every sync does once its windows are written, even when some were withheld as suspect.
AFTER_WINDOWS: tuple[StepFactory, ...] = (
    make_mapping_step,   # unmapped Pendo accounts matched to customers
)
# Then, only when no window was withheld, in this order, each behind the run's fence (a step that
# fails fails the run): the data steps (all a sync needs for exact metrics) ...
INGEST_STEPS: tuple[StepFactory, ...] = (
    make_metrics_step,   # usage, feature, guide and onboarding metrics of the days the windows moved
)


def make_judgment_steps(settings: Settings) -> list[PostStep]:
    """The judgments on the new metrics, three steps:
    1. at once (an `Alongside` group: the store works on all three, PostgreSQL's server or SQLite without the
       GIL), the pages' read model of the newest day (pendo_core/usage/snapshot.py, from the metrics only),
       the alerts' reading of all they judge but the health scores (`AlertsStep.read_ahead`), and the health
       scores;
    2. the Portfolio's per-day totals of metrics and scores (pendo_core/usage/portfolio_days.py);
    3. the alerts: the new scores added to their reading, every registered kind judged, then routing and
       delivery on the configured channels."""
    alerts = make_alerts_step(settings)
    return [Alongside(make_snapshot_step(settings), alerts.read_ahead, make_health_step(settings)),
            make_portfolio_step(settings), alerts]


# ... and the judgments on them.
STEPS: tuple[StepFactory, ...] = (
    *INGEST_STEPS,
    make_judgment_steps,  # the snapshot, the alerts' reading and health at once; Portfolio days; alerts
    make_retention_step,  # raw rows past RAW_RETENTION_DAYS purged (metrics stay)
)


def sync_runner(settings: Settings, engine: Engine, client: PendoClient, *, progress: Progress | None = None,
                steps: tuple[StepFactory, ...] = STEPS) -> SyncRunner:
    """A runner with the sync's steps (mapping, then `steps`: by default metrics, health and alerts)."""
    return SyncRunner(settings, engine, client, progress=progress,
                      after_windows=made_steps(settings, AFTER_WINDOWS), steps=made_steps(settings, steps))


def made_steps(settings: Settings, makes: tuple[StepFactory, ...]) -> list[PostStep]:
    """The steps the factories make, in order (a factory makes one step, or a list of steps in order)."""
    steps: list[PostStep] = []
    for make in makes:
        made = make(settings)
        steps.extend(made if isinstance(made, list) else [made])
    return steps


def _utc_now() -> datetime:
    return datetime.now(UTC)


class StopRequested(RuntimeError):
    """Raised between two windows of a sync once a stop was asked for (the runner records its name)."""


class StopAwareProgress:
    """A Progress that raises StopRequested after a committed window once `stop` is set.

    The runner calls `window_done` right after each window's transaction commits, so stopping
    there never leaves a half-written window.
    """

    def __init__(self, inner: Progress, stop: threading.Event) -> None:
        self.inner, self.stop_event = inner, stop

    def start(self, total_windows: int) -> None:
        """Refuse to start once a stop was asked for."""
        self._check()
        self.inner.start(total_windows)

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        """Report the committed window, then stop if asked to."""
        self.inner.window_done(stream, first, last, rows)
        self._check()

    def note(self, message: str) -> None:
        """Pass a note on."""
        self.inner.note(message)

    def stop(self) -> None:
        """Close the inner progress."""
        self.inner.stop()

    def _check(self) -> None:
        if self.stop_event.is_set():
            raise StopRequested("the sync was asked to stop; the next run resumes where this one ended")


def run_sync(settings: Settings, engine: Engine, request: SyncRequest | None = None, *,
             progress: Progress | None = None, stop: threading.Event | None = None, clock: Clock = _utc_now,
             pendo: PendoConnector = pendo_client) -> RunSummary:
    """One sync run, from the lock to the operations check (default: the daily run as of today)."""
    request = request or SyncRequest(today_in(settings.tz, clock()))
    current = _with_secrets(settings, engine)
    if stop is not None:
        progress = StopAwareProgress(progress or LogProgress(), stop)
    try:
        summary = _locked_run(current, engine, request, progress, pendo)
    except SyncBusy:
        raise  # nothing ran: the holder of the lock checks after its own run
    except PipelineError as exc:
        if not _stopped(exc):  # a run stopped on purpose is no news for the admins
            _check_after_run(current, engine, clock)
        raise
    _check_after_run(current, engine, clock)
    return summary


def _with_secrets(settings: Settings, engine: Engine) -> Settings:
    try:
        return with_stored_secrets(settings, engine)
    except SecretsError as exc:
        raise PipelineError(str(exc)) from exc


def _locked_run(settings: Settings, engine: Engine, request: SyncRequest, progress: Progress | None,
                pendo: PendoConnector) -> RunSummary:
    try:
        with run_lock(engine), pendo(settings, request.as_of) as client:
            return sync_runner(settings, engine, client, progress=progress).run(request)
    except SyncAlreadyRunning as exc:
        raise SyncBusy(str(exc)) from exc
    except SyncError as exc:
        raise PipelineError(f"sync failed: {exc}") from exc


def _stopped(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, StopRequested):
        cause = cause.__cause__
    return cause is not None


def check_operations(settings: Settings, engine: Engine, *, clock: Clock = _utc_now) -> OpsCheck:
    """Open or resolve the operations alerts (failed run, stale data) and notify the admins of new ones."""
    channels = channels_from_settings(with_stored_secrets(settings, engine))  # a webhook saved since start too
    return operations_step(engine, channels, clock=clock, max_age_hours=settings.freshness_max_hours)


def _check_after_run(settings: Settings, engine: Engine, clock: Clock) -> None:
    try:
        check_operations(settings, engine, clock=clock)
    except Exception as exc:  # the run's own outcome is what the caller needs; the next check tries again
        log.warning("operations check after the sync failed: %s", (str(exc).splitlines() or [repr(exc)])[0])


def describe(summary: RunSummary) -> str:
    """The run in one line with the rows per stream (what `python -m jobs sync` prints)."""
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    purged = sum(summary.purged.values())
    return (f"sync {summary.run_id} ok: days {summary.report_first}..{summary.report_last}; {rows}; "
            f"{summary.requests} requests, {summary.retries} retries, {summary.bad_rows} bad rows skipped"
            + (f"; {purged:,} raw rows past RAW_RETENTION_DAYS purged" if purged else ""))


def brief(summary: RunSummary) -> str:
    """The run in one short line (the scheduler's log, the app's notice, the API's status)."""
    return (f"sync {summary.run_id} ok: days {summary.report_first}..{summary.report_last}, "
            f"{summary.requests} requests, {summary.bad_rows} bad rows skipped")
