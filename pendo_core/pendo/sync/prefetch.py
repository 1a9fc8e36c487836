"""Read the next window's answer while this one is written, in bounded memory.

A `Prefetch` runs one aggregation on a worker thread (download and JSON parsing) and hands its rows
to the writer in batches through a bounded queue, so parsing overlaps the store's work (SQLite and
the PostgreSQL driver release the GIL while the database works). Only reading runs early: every row
is still written inside its window's own transaction, so a killed run resumes exactly as before.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)
Row = dict[str, Any]
BATCH_ROWS = 2_000
DEPTH = 16  # batches held at most: about 32,000 parsed rows
_POLL_S = 0.05
CANCEL_WAIT_S = 2.0


@dataclass(frozen=True)
class _Failure:
    error: BaseException


_END = object()


class Prefetch:
    """One answer read on a worker thread; `rows()` yields it in order and raises the reader's error."""

    def __init__(self, open_rows: Callable[[], Iterator[Row]], *, batch_rows: int | None = None,
                 depth: int | None = None) -> None:
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth or DEPTH)
        self._batch_rows = batch_rows or BATCH_ROWS
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._read = False  # the reader has finished (all rows queued, or failed)
        self._failed = False
        self._when_read: Callable[[], None] | None = None
        self._taken = False
        self._thread = threading.Thread(target=self._produce, args=(open_rows,), name="pendo-prefetch", daemon=True)
        self._thread.start()

    def rows(self) -> Iterator[Row]:
        """The answer's rows in the order Pendo sent them; can be taken once."""
        if self._taken:
            raise RuntimeError("a prefetched answer can be read once")
        self._taken = True
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield from item  # type: ignore[misc]

    def when_read(self, callback: Callable[[], None]) -> None:
        """Call `callback` once the whole answer is read (now, if it already is); never after cancel."""
        with self._lock:
            if not self._read:
                self._when_read = callback
                return
            if self._failed:
                return
        self._call(callback)

    def cancel(self) -> None:
        """Stop reading: the worker closes the answer at its next row, and is waited for at most
        `CANCEL_WAIT_S` (a read blocked on a slow server then ends on its own, starting nothing)."""
        self._stop.set()
        deadline = time.monotonic() + CANCEL_WAIT_S
        while self._thread.is_alive() and time.monotonic() < deadline:
            self._drain()
            self._thread.join(_POLL_S)
        self._drain()

    def _produce(self, open_rows: Callable[[], Iterator[Row]]) -> None:
        try:
            finished = self._read_all(open_rows)
        except BaseException as exc:  # handed to the writer, which decides (retry, split, stop)
            self._finish_reading(read_ahead=False)  # a failed answer starts nothing: its retry reads next
            self._put(_Failure(exc))
            return
        if finished:
            self._finish_reading(read_ahead=True)
            self._put(_END)

    def _read_all(self, open_rows: Callable[[], Iterator[Row]]) -> bool:
        rows = open_rows()
        try:
            batch: list[Row] = []
            for row in rows:
                if self._stop.is_set():
                    return False
                batch.append(row)
                if len(batch) >= self._batch_rows:
                    if not self._put(batch):
                        return False
                    batch = []
            return self._put(batch) if batch else not self._stop.is_set()
        finally:
            close = getattr(rows, "close", None)
            if close is not None:
                close()  # releases the HTTP stream and its concurrency slot

    def _finish_reading(self, *, read_ahead: bool) -> None:
        with self._lock:
            self._read, self._failed = True, not read_ahead
            callback, self._when_read = self._when_read, None
        if callback is not None and read_ahead:
            self._call(callback)

    def _call(self, callback: Callable[[], None]) -> None:
        if self._stop.is_set():
            return
        try:
            callback()
        except Exception:  # the next read simply starts later; this answer must still reach its writer
            log.warning("could not start reading the next window ahead", exc_info=True)

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def _drain(self) -> None:
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return
