"""Which days a run reads: missing or not-final days, and always the lookback window."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pendo_core.pendo.sync.plan import CoverageRow, Window, days_to_read, windows

AS_OF = date(2024, 3, 20)


def _cov(*days: date, as_of: date = AS_OF, anon: bool = False) -> dict[date, CoverageRow]:
    return {d: CoverageRow(as_of, anon) for d in days}


def test_empty_store_reads_everything() -> None:
    """Nothing covered: every day of the range is read."""
    days = days_to_read(date(2024, 3, 1), date(2024, 3, 19), {}, as_of=AS_OF, lookback_days=10,
                        include_anonymous=False)
    assert days == [date(2024, 3, 1) + timedelta(days=i) for i in range(19)]


def test_final_days_are_skipped_but_lookback_is_reread() -> None:
    """Days synced when they were older than the lookback are final; the last 10 days never are."""
    covered = _cov(*(date(2024, 3, 1) + timedelta(days=i) for i in range(19)))
    days = days_to_read(date(2024, 3, 1), date(2024, 3, 19), covered, as_of=AS_OF, lookback_days=10,
                        include_anonymous=False)
    assert days == [date(2024, 3, 10) + timedelta(days=i) for i in range(10)]


def test_day_synced_inside_its_lookback_is_read_again_later() -> None:
    """A day synced when only 3 days old may have been restated since: read it again."""
    covered = _cov(date(2024, 3, 1), as_of=date(2024, 3, 4))
    days = days_to_read(date(2024, 3, 1), date(2024, 3, 1), covered, as_of=AS_OF, lookback_days=10,
                        include_anonymous=False)
    assert days == [date(2024, 3, 1)]


def test_changing_the_anonymous_setting_rereads() -> None:
    """Days synced under the other include_anonymous setting are not final."""
    covered = _cov(date(2024, 3, 1), anon=True)
    days = days_to_read(date(2024, 3, 1), date(2024, 3, 1), covered, as_of=AS_OF, lookback_days=10,
                        include_anonymous=False)
    assert days == [date(2024, 3, 1)]


@pytest.mark.parametrize(
    ("days", "max_days", "expected"),
    [
        ([1, 2, 3, 4, 5], 2, [(1, 2), (3, 4), (5, 5)]),
        ([1, 2, 5, 6], 7, [(1, 2), (5, 6)]),
        ([3, 1, 2], 30, [(1, 3)]),
        ([], 7, []),
    ],
    ids=["split-by-size", "gap", "unsorted", "empty"],
)
def test_windows(days: list[int], max_days: int, expected: list[tuple[int, int]]) -> None:
    """Contiguous days become windows of at most max_days."""
    got = windows([date(2024, 1, d) for d in days], max_days)
    assert [(w.first.day, w.last.day) for w in got] == expected


@pytest.mark.parametrize(("first", "last"), [(1, 2), (1, 7), (1, 30)], ids=["2", "7", "30"])
def test_halves_cover_the_window(first: int, last: int) -> None:
    """A window split after a timeout still covers every day once."""
    a, b = Window(date(2024, 1, first), date(2024, 1, last)).halves()
    assert a.first == date(2024, 1, first)
    assert b.last == date(2024, 1, last)
    assert a.last + timedelta(days=1) == b.first
