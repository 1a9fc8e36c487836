"""Work off the page: one background sync at a time with its outcome kept, and a background value."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from pendo_core.admin.background import BackgroundSync, BackgroundValue

NOW = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)


def test_background_sync_runs_one_at_a_time_and_reports() -> None:
    """A second start while one runs is refused; the result and its message are kept."""
    job = BackgroundSync(clock=lambda: NOW)
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "sync 3 ok"

    assert job.start(slow) is True
    assert (job.state.status, job.start(slow)) == ("running", False)
    release.set()
    assert (job.wait(5).status, job.state.message, job.state.runs) == ("success", "sync 3 ok", 1)


def test_background_sync_failure_keeps_the_reason() -> None:
    """A run that raises ends as failed with the first line of its error."""
    job = BackgroundSync(clock=lambda: NOW)

    def broken() -> str:
        raise RuntimeError("sync failed: wrong key\ntraceback lines")

    job.start(broken)
    state = job.wait(5)
    assert (state.status, state.message) == ("failed", "sync failed: wrong key")


@pytest.mark.parametrize(("compute", "value", "error"), [
    (lambda: 42, 42, None),
    (lambda: 1 / 0, None, "division by zero"),
], ids=["value", "error-kept"])
def test_background_value_hands_over_its_result(compute: Callable[[], int], value: int | None,
                                                error: str | None) -> None:
    """A value computed off the page is handed over once ready; a failure keeps its reason."""
    background = BackgroundValue(compute)
    assert (background.wait(5), background.ready, background.error) == (value, True, error)
