"""Reading the next window ahead: same rows in the same order, errors where they happened, bounded, stoppable."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from pendo_core.pendo.client import PendoTimeoutError
from pendo_core.pendo.sync import prefetch
from pendo_core.pendo.sync.prefetch import Prefetch

Row = dict[str, Any]


class Answer:
    """A streamed answer of `n` rows that may fail after `fail_after` rows; records how far it was read."""

    def __init__(self, n: int, fail_after: int | None = None) -> None:
        self.n, self.fail_after = n, fail_after
        self.served = 0
        self.closed = threading.Event()

    def open(self) -> Iterator[Row]:
        try:
            for i in range(self.n):
                if i == self.fail_after:
                    raise PendoTimeoutError("read timed out", host="fake")
                self.served += 1
                yield {"i": i}
        finally:
            self.closed.set()


@pytest.mark.parametrize("n", [0, 1, 4, 5, 23], ids=["empty", "one", "under-a-batch", "a-batch", "batches"])
def test_rows_arrive_whole_and_in_order(n: int) -> None:
    """Every row of the answer, in Pendo's order, whatever the batch boundaries."""
    answer = Answer(n)
    read = Prefetch(answer.open, batch_rows=5, depth=2)
    assert [row["i"] for row in read.rows()] == list(range(n))
    assert answer.closed.wait(5)


def test_a_failed_read_raises_after_the_rows_before_it() -> None:
    """The writer sees the rows sent before the failure, then the reader's own error (to retry or split)."""
    read = Prefetch(Answer(12, fail_after=7).open, batch_rows=5, depth=2)
    seen: list[int] = []

    def write_all() -> None:
        seen.extend(row["i"] for row in read.rows())

    with pytest.raises(PendoTimeoutError, match="timed out"):
        write_all()
    assert seen == [0, 1, 2, 3, 4]  # the partial batch of 5..6 was never handed over


def test_an_error_opening_the_answer_reaches_the_writer() -> None:
    """A client that fails before its first row (no generator at all) fails the read the same way."""

    def refuse() -> Iterator[Row]:
        raise PendoTimeoutError("read timed out", host="fake")

    with pytest.raises(PendoTimeoutError):
        list(Prefetch(refuse).rows())


def test_memory_is_bounded_when_the_writer_is_slow() -> None:
    """With nobody writing, the reader stops after `depth` batches (plus the one it is filling)."""
    answer = Answer(10_000)
    read = Prefetch(answer.open, batch_rows=10, depth=3)
    done = threading.Event()
    read.when_read(done.set)
    assert not done.wait(0.3)
    assert answer.served <= 10 * (3 + 1)
    read.cancel()


def test_cancel_stops_the_reader_and_closes_the_answer() -> None:
    """A window that fails part-way stops its reader: the stream is closed, no thread is left."""
    answer = Answer(10_000)
    read = Prefetch(answer.open, batch_rows=10, depth=2)
    rows = read.rows()
    next(rows)
    read.cancel()
    assert answer.closed.is_set()
    assert not [t for t in threading.enumerate() if t.name == "pendo-prefetch"]


def test_when_read_fires_once_the_answer_is_read_and_never_after_cancel() -> None:
    """The next window's read starts once this one is fully read; a cancelled read starts nothing."""
    read = Prefetch(Answer(3).open, batch_rows=1, depth=8)
    fired = threading.Event()
    read.when_read(fired.set)
    assert fired.wait(5)
    late = threading.Event()
    read.when_read(late.set)  # already read: called at once
    assert late.is_set()

    stopped = Prefetch(Answer(10_000).open, batch_rows=10, depth=1)
    never = threading.Event()
    stopped.when_read(never.set)
    stopped.cancel()
    assert not never.wait(0.2)


def test_the_rows_can_be_taken_once() -> None:
    read = Prefetch(Answer(1).open)
    list(read.rows())
    with pytest.raises(RuntimeError, match="once"):
        list(read.rows())


def test_a_failing_next_read_does_not_stop_this_one() -> None:
    """If the read-ahead of the next window cannot start, this window's rows still all arrive (the
    next window is then read when its turn comes)."""

    def broken() -> None:
        raise RuntimeError("no thread left")

    read = Prefetch(Answer(7).open, batch_rows=2, depth=8)
    read.when_read(broken)
    assert [row["i"] for row in read.rows()] == list(range(7))


def test_a_failed_read_starts_no_read_ahead() -> None:
    """A window whose answer failed is retried or split next: reading the window after it now would only
    send one more request (during a 429 storm) and hold the stream its retry needs."""
    read = Prefetch(Answer(12, fail_after=3).open, batch_rows=2, depth=8)
    started = threading.Event()
    read.when_read(started.set)
    with pytest.raises(PendoTimeoutError):
        list(read.rows())
    read.when_read(started.set)  # asked again after the failure
    assert not started.wait(0.2)


def test_cancel_does_not_wait_for_a_stalled_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A read blocked on a server that does not answer is left to end on its own: a stop or a failure
    is not held up until the read timeout."""
    monkeypatch.setattr(prefetch, "CANCEL_WAIT_S", 0.2)
    release = threading.Event()

    def stalled() -> Iterator[Row]:
        release.wait(10)
        yield {"i": 0}

    read = Prefetch(stalled)
    started = time.monotonic()
    read.cancel()
    assert time.monotonic() - started < 2
    release.set()
