"""The windows of days an answer quotes (its recent and prior spans).

The measures over those windows (stickiness, trend, breadth) and their definitions in words are
`pendo_core.usage.measures`'; the chat reads them through `pendo_core.usage.queries.customer_measures`,
as the pages and the API do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Span:
    """A window of days [first, last], for quoting."""

    first: date
    last: date

    @property
    def text(self) -> str:
        """`2026-10-29 → 2026-11-25 (28 days)`."""
        return f"{self.first.isoformat()} → {self.last.isoformat()} ({(self.last - self.first).days + 1} days)"


def recent_span(day: date, days: int) -> Span:
    """The last `days` days ending on `day`."""
    return Span(day - timedelta(days=days - 1), day)


def prior_span(day: date, days: int) -> Span:
    """The `days` days before the recent window."""
    return Span(day - timedelta(days=2 * days - 1), day - timedelta(days=days))
