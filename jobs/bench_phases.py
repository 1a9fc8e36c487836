"""`python -m jobs.bench_phases sync ...`: the sync command itself, with a stopwatch on each phase.

The same `python -m jobs` entry point, after wrapping the functions that make up a run so each
records its wall time and the process's peak resident memory while it ran (Linux resets the
high-water mark through /proc/self/clear_refs; elsewhere the peak so far). Nothing in the sync is
edited: a function this does not find (renamed since) is left alone and its time shows as "other".
The figures go to the JSON file named by BENCH_PHASES_FILE when the command ends.

Phases: entities (accounts, visitors, catalogue), windows (the usage streams), mapping, metrics,
read_models (the pages' snapshot and per-day Portfolio totals), health (scores), alerts (champion
alerts, the other alerts, delivery), retention.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import importlib
import json
import os
import resource
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

# (module, attribute, phase): module-level functions and SyncRunner methods the run calls by name.
TARGETS = (
    ("pendo_core.pendo.sync.runner", "SyncRunner._sync_entities", "entities"),
    ("pendo_core.pendo.sync.runner", "SyncRunner._sync_usage", "windows"),
    ("pendo_core.pendo.sync.entities", "add_accounts_seen_in_activity", "mapping"),
    ("pendo_core.customers.job", "refresh_mapping", "mapping"),
    ("pendo_core.usage.job", "compute_moved_metrics", "metrics"),
)
_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


class PhaseClock:
    """Seconds and peak resident MB per phase, plus what the run reported about itself."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.clock = clock
        self.seconds: dict[str, float] = {}
        self.cpu_s: dict[str, float] = {}
        self.peak_mb: dict[str, float] = {}
        self.run: dict[str, Any] = {}
        self.beside: dict[str, float] = {}  # "phase beside host": seconds of a step run inside host's seconds
        self._depth = 0
        self.last = "other"  # the phase the run's own thread was last timed in

    def timed(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` that adds its wall and CPU time to `phase` (nested calls count once, in the outer phase)."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if threading.current_thread() is not threading.main_thread():  # beside the run's own thread
                return self._beside(phase, fn, args, kwargs)
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            self.last = phase
            _reset_peak()
            started, cpu = self.clock(), time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self._depth -= 1
                self.seconds[phase] = self.seconds.get(phase, 0.0) + self.clock() - started
                self.cpu_s[phase] = self.cpu_s.get(phase, 0.0) + time.process_time() - cpu
                self.peak_mb[phase] = max(self.peak_mb.get(phase, 0.0), peak_rss_mb())

        return wrapper

    def timed_beside(self, phase: str, host: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn`, run inside `host`'s seconds (an `Alongside` group's part): its own wall seconds are noted as
        `phase` beside `host`, not added to a phase, so the phases still add up to the run."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return self._beside(phase, fn, args, kwargs, host)

        return wrapper

    def _beside(self, phase: str, fn: Callable[..., Any], args: Any, kwargs: Any, host: str | None = None) -> Any:
        """`fn(*args, **kwargs)` with its wall seconds noted beside `host` (by default the phase the run's own
        thread was last in when it ended: the windows, for the entities synced beside them)."""
        started = self.clock()
        try:
            return fn(*args, **kwargs)
        finally:
            key = f"{phase} beside {host or self.last}"
            self.beside[key] = self.beside.get(key, 0.0) + self.clock() - started

    def as_dict(self) -> dict[str, Any]:
        """The figures as JSON-ready values."""
        return {"seconds": self.seconds, "cpu_s": self.cpu_s, "peak_mb": self.peak_mb, "run": self.run,
                "beside": self.beside,
                "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _reset_peak() -> None:
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak then runs from the process start
        _CLEAR_REFS.write_text("5")


def peak_rss_mb() -> float:
    """The resident-memory high-water mark (since the last reset where the kernel allows one), MB."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step_phase(step: Callable[..., Any]) -> str:
    """The phase of a post-sync step, from the module that made it (mapping and metrics are timed inside;
    the usage package's other steps refresh the pages' read models)."""
    module = f"{getattr(step, '__module__', '') or ''}."
    for package, phase in ((".customers.", "mapping"), (".usage.job.", "metrics"), (".usage.", "read_models"),
                           (".health.", "health"), (".retention.", "retention")):
        if package in module:
            return phase
    return "alerts"


def install(clock: PhaseClock) -> list[str]:
    """Wrap every target found; returns the ones missing (their time counts as "other")."""
    missing = []
    for module_name, attribute, phase in TARGETS:
        owner: Any = importlib.import_module(module_name)
        *path, name = attribute.split(".")
        for part in path:
            owner = getattr(owner, part, None)
        if owner is None or not callable(getattr(owner, name, None)):
            missing.append(f"{module_name}.{attribute}")
            continue
        setattr(owner, name, clock.timed(phase, getattr(owner, name)))
    missing += _wrap_post_steps(clock)
    return missing


def _wrap_post_steps(clock: PhaseClock) -> list[str]:
    """Time each post-metrics step and keep the run's summary (wherever the steps come from)."""
    runner = importlib.import_module("pendo_core.pendo.sync.runner")
    cls = getattr(runner, "SyncRunner", None)
    if cls is None:
        return ["pendo_core.pendo.sync.runner.SyncRunner"]
    original_init, original_run = cls.__init__, cls.run

    def init(self: Any, *args: Any, steps: list[Any] | None = None, **kwargs: Any) -> None:
        original_init(self, *args, steps=[_timed_step(clock, step) for step in steps or []], **kwargs)

    def run(self: Any, request: Any) -> Any:
        summary = original_run(self, request)
        clock.run = {"run_id": summary.run_id, "report_first": str(summary.report_first),
                     "report_last": str(summary.report_last), "rows": dict(summary.rows),
                     "metrics_first": str(summary.metrics_first or summary.report_first),
                     "purged": dict(getattr(summary, "purged", {})),
                     "requests": summary.requests, "retries": summary.retries}
        return summary

    cls.__init__, cls.run = init, run
    return []


def _timed_step(clock: PhaseClock, step: Any) -> Any:
    """A post step timed in its phase (mapping and metrics are timed inside). An `Alongside` group (it has
    `parts`) counts in the phase of its last part, the one on the run's own thread; its other parts' own
    seconds are noted beside it."""
    parts = getattr(step, "parts", None)
    if parts:
        host = step_phase(parts[-1])
        step.parts = [*(clock.timed_beside(step_phase(part), host, part) for part in parts[:-1]), parts[-1]]
        return clock.timed(host, step)
    return step if step_phase(step) in ("mapping", "metrics") else clock.timed(step_phase(step), step)


def _stop(signum: int, _frame: Any) -> None:
    """SIGTERM (the bench's deadline) ends the run through SystemExit, so the phases so far are written."""
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    """Run `python -m jobs ARGS` with the phase stopwatch; writes BENCH_PHASES_FILE at exit."""
    clock = PhaseClock()
    missing = install(clock)
    target = os.environ.get("BENCH_PHASES_FILE")
    if target:
        atexit.register(lambda: Path(target).write_text(json.dumps({**clock.as_dict(), "missing": missing})))
    signal.signal(signal.SIGTERM, _stop)
    from jobs.cli import main as jobs_main

    return jobs_main(argv)


if __name__ == "__main__":
    sys.exit(main())
