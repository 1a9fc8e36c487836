"""The `timeSeries` of an event source: which day or hour buckets a request covers.

Rules (pendo-api.md section 4): `first` snaps down to the start of its day (local midnight in the
subscription timezone) or hour; the period containing `last` is included; a positive `count` is that
many periods starting with first's; a negative `count` is that many periods just before first's.
Days follow the local calendar, so a DST day is 23 or 25 hours long; hours are absolute time, so
that day has 23 or 25 hour buckets.

Simulator choices: a `last` whose period is before first's gives an empty range (the request still
succeeds, with no rows), as does `count: 0`. A range of more than MAX_BUCKETS buckets is refused.
`first`, `last` and `count` take an int, a numeric string or an expression (`now()`, `date(...)`,
arithmetic), evaluated with an empty row.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pendo_core.common.timeutil import HOUR_MS, day_of_ms, local_midnight_ms
from pendo_sim.context import EvalContext, QueryError
from pendo_sim.expr import eval_text
from pendo_sim.expr_functions import to_local

MAX_BUCKETS = 1_000_000  # about 114 years of hours: generous, but bounds a runaway request
_PERIODS: dict[str, Literal["day", "hour"]] = {"dayRange": "day", "hourRange": "hour"}


@dataclass(frozen=True)
class TimeRange:
    """The buckets a request covers, as epoch-ms starts; `end_ms` is the end of the last one."""

    period: Literal["day", "hour"]  # from dayRange / hourRange
    buckets: tuple[int, ...]  # bucket start epoch ms, ascending
    start_ms: int  # first bucket start
    end_ms: int  # exclusive end of the last bucket

    def contains(self, ms: int) -> bool:
        """True when the instant falls inside one of the buckets."""
        return self.start_ms <= ms < self.end_ms

    def bucket_of(self, ms: int) -> int | None:
        """Start of the bucket holding the instant, or None outside the range."""
        if not self.contains(ms):
            return None
        return self.buckets[bisect.bisect_right(self.buckets, ms) - 1]


def parse_time_series(spec: Mapping[str, Any], ctx: EvalContext) -> TimeRange:
    """Read a timeSeries object into its buckets; QueryError when it is malformed."""
    if not isinstance(spec, Mapping):
        raise QueryError("timeSeries must be an object with period, first and last or count")
    period = _period(spec.get("period"))
    if "first" not in spec or spec["first"] is None:
        raise QueryError("timeSeries.first is required")
    has_last, has_count = spec.get("last") is not None, spec.get("count") is not None
    if has_last == has_count:
        raise QueryError("timeSeries needs exactly one of last or count")
    first = _time_value("first", spec["first"], ctx)
    if has_last:
        count = _periods_through(period, first, _time_value("last", spec["last"], ctx), ctx)
        return _build(period, first, count, ctx)
    count = _count_value(spec["count"], ctx)
    if count >= 0:
        return _build(period, first, count, ctx)
    return _build(period, first, count, ctx, before=True)


def _period(value: Any) -> Literal["day", "hour"]:
    if value is None:
        raise QueryError("timeSeries.period is required (dayRange or hourRange)")
    if value not in _PERIODS:
        raise QueryError(f"unsupported period {value!r}: use dayRange or hourRange")
    return _PERIODS[value]


def _number(name: str, value: Any, ctx: EvalContext) -> int | float:
    """An int, a float, or a string holding a number or an expression."""
    if type(value) is str:
        value = eval_text(value, {}, ctx)
    if type(value) not in (int, float):
        raise QueryError(f"timeSeries.{name} must be a number or an expression giving one, got {value!r}")
    return value  # type: ignore[no-any-return]


def _time_value(name: str, value: Any, ctx: EvalContext) -> int:
    return int(_number(name, value, ctx))


def _count_value(value: Any, ctx: EvalContext) -> int:
    count = _number("count", value, ctx)
    if count != int(count):
        raise QueryError(f"timeSeries.count must be a whole number, got {count!r}")
    return int(count)


def _periods_through(period: str, first: int, last: int, ctx: EvalContext) -> int:
    """How many periods run from first's period through last's (0 when last's comes first)."""
    if period == "hour":
        return max(0, (_hour_start(last, ctx) - _hour_start(first, ctx)) // HOUR_MS + 1)
    return max(0, (day_of_ms(last, ctx.tz) - day_of_ms(first, ctx.tz)).days + 1)


def _build(period: Literal["day", "hour"], first: int, count: int, ctx: EvalContext,
           before: bool = False) -> TimeRange:
    """`count` buckets from first's period on, or (before=True) -count buckets ending just before it."""
    if abs(count) > MAX_BUCKETS:
        raise QueryError(f"timeSeries covers {abs(count)} periods; the simulator allows {MAX_BUCKETS}")
    offset = count if before else 0
    size = abs(count)
    if period == "hour":
        start = _hour_start(first, ctx) + offset * HOUR_MS
        starts = [start + i * HOUR_MS for i in range(size + 1)]
    else:
        day = day_of_ms(first, ctx.tz) + timedelta(days=offset)
        starts = [_midnight(day + timedelta(days=i), ctx) for i in range(size + 1)]
    return TimeRange(period, tuple(starts[:-1]), starts[0], starts[-1])


def _hour_start(ms: int, ctx: EvalContext) -> int:
    """Start of the local clock hour holding ms (differs from UTC hours only in :30/:45 zones)."""
    local = to_local(ms, ctx)
    return ms - (local.minute * 60_000 + local.second * 1000 + local.microsecond // 1000)


def _midnight(day: date, ctx: EvalContext) -> int:
    return local_midnight_ms(day, ctx.tz)
