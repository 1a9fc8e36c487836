"""Query parameters shared by the routes: a date range (`from`, `to`) and paging (`limit`, `offset`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import Depends, Query, Request

from api.context import context
from api.errors import ApiError
from pendo_core.usage.queries import data_day

MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000
NEWEST_DAY = ("newest_day",)  # its key among the kept answers


@dataclass(frozen=True)
class DateRange:
    """Calendar days [first, last] in the subscription's timezone."""

    first: date
    last: date


@dataclass(frozen=True)
class Paging:
    """A page of a list."""

    limit: int
    offset: int


def _checked(name: str, value: date | None) -> date | None:
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ApiError(422, f"query.{name}: the date must be between {EARLIEST} and {LATEST}")
    return value


FromDay = Annotated[date | None, Query(alias="from", description="First day (YYYY-MM-DD), inclusive; default: "
                                      "30 days before `to` (90 for health history).")]
ToDay = Annotated[date | None, Query(alias="to", description="Last day (YYYY-MM-DD), inclusive; default: the "
                                    "newest day with synced metrics.")]


def date_range(default_days: int) -> Callable[..., DateRange]:
    """A dependency reading `from` and `to` (default: the `default_days` ending on the newest synced day)."""
    def dependency(request: Request, date_from: FromDay = None, date_to: ToDay = None) -> DateRange:
        first, last = _checked("from", date_from), _checked("to", date_to)
        if last is None:
            last = newest_day(request)
        if first is None:
            first = max(EARLIEST, last - timedelta(days=default_days - 1))
        if first > last:
            raise ApiError(422, f"query.from ({first}) is after query.to ({last}): pass from <= to")
        if (last - first).days + 1 > MAX_DAYS:
            raise ApiError(422, f"the range {first}..{last} is longer than {MAX_DAYS} days: ask for less")
        return DateRange(first, last)

    return dependency


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Items per page.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip.")]


def paging(limit: Limit = 50, offset: Offset = 0) -> Paging:
    """The page asked for."""
    return Paging(limit, offset)


PageParams = Annotated[Paging, Depends(paging)]
Span30 = Annotated[DateRange, Depends(date_range(30))]
Span90 = Annotated[DateRange, Depends(date_range(90))]


def one_day(request: Request, day: date | None) -> date:
    """A single day parameter (default: the newest synced day), checked like a range's ends."""
    checked = _checked("date", day)
    return checked if checked is not None else newest_day(request)


def newest_day(request: Request) -> date:
    """The newest day with synced metrics (else yesterday): the default end of every range. Kept with the
    answers (`--cache-seconds`), as it moves only when a sync commits."""
    ctx = context(request)
    day: date | None = ctx.answers.get_or_compute(NEWEST_DAY, lambda: data_day(ctx.engine))
    return day or ctx.today() - timedelta(days=1)
