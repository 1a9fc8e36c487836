"""Progress on long runs: a live bar on a terminal, plain log lines otherwise."""

from __future__ import annotations

import logging
import sys
import time
from typing import Protocol

log = logging.getLogger("pendo_core.pendo.sync")


class Progress(Protocol):
    def start(self, total_windows: int) -> None: ...
    def window_done(self, stream: str, first: str, last: str, rows: int) -> None: ...
    def note(self, message: str) -> None: ...
    def stop(self) -> None: ...


class LogProgress:
    """One line per committed window with rows, windows done, rate and ETA."""

    def __init__(self) -> None:
        self._clock = time.monotonic
        self._total = 0
        self._done = 0
        self._rows = 0
        self._started = self._clock()

    def start(self, total_windows: int) -> None:
        self._total, self._done, self._rows, self._started = total_windows, 0, 0, self._clock()

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        self._done += 1
        self._rows += rows
        elapsed = max(self._clock() - self._started, 1e-6)
        rate = self._rows / elapsed
        eta = (self._total - self._done) * elapsed / self._done
        log.info("%s %s..%s: %d rows | windows %d/%d | %.0f rows/s | ETA %.0fs",
                 stream, first, last, rows, self._done, self._total, rate, eta)

    def note(self, message: str) -> None:
        log.info("%s", message)

    def stop(self) -> None:
        log.info("%d windows, %d rows in %.1fs", self._done, self._rows, self._clock() - self._started)


class RichProgress:
    """A live progress bar for an operator at a terminal."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[rows]:,} rows · {task.fields[rate]:,.0f} rows/s"), TimeRemainingColumn(),
        )
        self._task = self._progress.add_task("sync", total=0, rows=0, rate=0.0)
        self._rows = 0
        self._started = time.monotonic()

    def start(self, total_windows: int) -> None:
        self._progress.start()
        self._started = time.monotonic()
        self._progress.update(self._task, total=total_windows)

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        self._rows += rows
        rate = self._rows / max(time.monotonic() - self._started, 1e-6)
        self._progress.update(self._task, advance=1, rows=self._rows, rate=rate, description=f"{stream} {last}")

    def note(self, message: str) -> None:
        self._progress.console.print(message)

    def stop(self) -> None:
        self._progress.stop()


def default_progress() -> Progress:
    """Rich on a terminal, log lines when output goes to a file or a pipe."""
    return RichProgress() if sys.stderr.isatty() else LogProgress()
