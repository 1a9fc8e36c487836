"""Which days each stream must (re)read, and how they split into request windows. Pure.

A day synced while it was still inside the lookback window may be restated by Pendo, so it is
read again; a day synced once it was older than that is final and never read again. That rule
makes a killed run resumable: the next run skips what already committed and is final.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from pendo_core.common.timeutil import days_between


@dataclass(frozen=True)
class Window:
    """An inclusive range of days read with one request and committed as a unit."""

    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def halves(self) -> tuple[Window, Window]:
        """Two smaller windows, for a request that timed out."""
        mid = self.first + timedelta(days=self.days // 2 - 1)
        return Window(self.first, mid), Window(mid + timedelta(days=1), self.last)


@dataclass(frozen=True)
class CoverageRow:
    synced_as_of: date
    include_anonymous: bool


def is_final(day: date, row: CoverageRow, lookback_days: int, include_anonymous: bool) -> bool:
    """A synced day need not be read again once it left the restatement window."""
    return row.include_anonymous == include_anonymous and (row.synced_as_of - day).days > lookback_days


def days_to_read(
    first: date,
    last: date,
    coverage: Mapping[date, CoverageRow],
    *,
    as_of: date,
    lookback_days: int,
    include_anonymous: bool,
) -> list[date]:
    """Days of [first, last] that are missing, not final, or inside the lookback window."""
    lookback_start = as_of - timedelta(days=lookback_days)
    return [
        day
        for day in days_between(first, last)
        if day >= lookback_start
        or day not in coverage
        or not is_final(day, coverage[day], lookback_days, include_anonymous)
    ]


def windows(days: Iterable[date], max_days: int) -> list[Window]:
    """Contiguous runs of days cut into windows of at most `max_days` days."""
    result: list[Window] = []
    for day in sorted(set(days)):
        if result and result[-1].last + timedelta(days=1) == day and result[-1].days < max_days:
            result[-1] = Window(result[-1].first, day)
        else:
            result.append(Window(day, day))
    return result
