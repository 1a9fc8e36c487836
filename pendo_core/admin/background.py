"""Work off the page: one sync at a time on a daemon thread (the app's "sync now", the API's
`POST /api/pendo/sync`, both running `pendo_core.pipeline.run_sync`), and a value computed in the
background so a page can draw first."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, TypeVar

__all__ = ["BackgroundSync", "BackgroundValue", "SyncJobState"]

T = TypeVar("T")


@dataclass
class SyncJobState:
    """Where the app's background sync is: idle, running, success or failed, with its message."""

    status: str = "idle"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    runs: int = 0


@dataclass
class BackgroundSync:
    """Runs one sync at a time on a daemon thread, so the page stays responsive; the app polls it."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _state: SyncJobState = field(default_factory=SyncJobState)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    @property
    def state(self) -> SyncJobState:
        """A copy of the current state."""
        with self._lock:
            return SyncJobState(**vars(self._state))

    def start(self, run: Callable[[], str]) -> bool:
        """Start `run` (returns a summary line; raises on failure) unless one is running; False if so."""
        with self._lock:
            if self._state.status == "running":
                return False
            self._state = SyncJobState("running", self.clock(), None, None, self._state.runs)
            self._thread = threading.Thread(target=self._work, args=(run,), name="app-sync", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> SyncJobState:
        """Block until the current run ends (for tests and scripts)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state

    def _work(self, run: Callable[[], str]) -> None:
        try:
            status, message = "success", run()
        except Exception as exc:  # the reason goes to the page; the thread must never die silently
            status, message = "failed", (str(exc).splitlines() or [type(exc).__name__])[0]
        with self._lock:
            self._state.status, self._state.message = status, message
            self._state.finished_at, self._state.runs = self.clock(), self._state.runs + 1


class BackgroundValue(Generic[T]):
    """Computes one value on a daemon thread, so a page can draw first and show the value when ready."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._value: T | None = None
        self.error: str | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(compute,), name="app-background-value", daemon=True).start()

    def _run(self, compute: Callable[[], T]) -> None:
        try:
            self._value = compute()
        except Exception as exc:  # the page shows the reason; the thread must never die silently
            self.error = (str(exc).splitlines() or [type(exc).__name__])[0]
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """True once the value (or an error) is there."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> T | None:
        """The value, waiting up to `timeout` seconds; None while not ready or after an error."""
        self._done.wait(timeout)
        return self._value
