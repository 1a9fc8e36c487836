"""The function library of the expression language (if() and map() are compiled in expr.py).

Every function takes the EvalContext first. A function never raises on bad values at run time: it
returns null, so a row with an odd value cannot cut a streaming response short. Bad literal
arguments (an unknown unit, period or layout choice) are caught when the expression is parsed.
"""

from __future__ import annotations

import calendar
import json
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

from pendo_sim.context import EvalContext
from pendo_sim.expr_ops import is_number
from pendo_sim.golayout import format_go

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)


class AllApps:
    """The value of expandAppIds("*"): every app of the subscription."""

    def __repr__(self) -> str:
        return 'expandAppIds("*")'


ALL_APPS = AllApps()


@dataclass(frozen=True)
class Function:
    """A library function: its implementation, allowed argument counts and literal-argument choices."""

    impl: Callable[..., Any]
    arities: frozenset[int]
    choices: Mapping[int, frozenset[str]] = field(default_factory=dict)


def to_local(ms: int | float, ctx: EvalContext) -> datetime:
    """The instant `ms` as an aware datetime in the subscription timezone."""
    return (_EPOCH + timedelta(milliseconds=int(ms))).astimezone(ctx.tz)


def to_ms(dt: datetime) -> int:
    """Epoch ms of an aware datetime (wall-clock datetimes resolve through their tzinfo)."""
    return (dt - _EPOCH) // _MS


def _int_arg(value: Any) -> int | None:
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer():
        return int(value)
    return None


def _now(ctx: EvalContext) -> int:
    return ctx.now_ms


def _date(ctx: EvalContext, *args: Any) -> int | None:
    if len(args) == 1:
        return _date_text(ctx, args[0])
    parts = [_int_arg(a) for a in args]
    if any(p is None for p in parts):
        return None
    try:
        return to_ms(datetime(*parts, tzinfo=ctx.tz))  # type: ignore[arg-type, misc]
    except (ValueError, OverflowError):
        return None


def _date_text(ctx: EvalContext, text: Any) -> int | None:
    if is_number(text):
        return int(text)
    if type(text) is not str:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return to_ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=ctx.tz))


_UNITS = {"day": "days", "hour": "hours", "week": "weeks", "month": "months", "year": "years",
          "minute": "minutes", "second": "seconds"}
_UNIT_NAMES = frozenset(_UNITS) | frozenset(_UNITS.values())


def _date_add(ctx: EvalContext, t: Any, n: Any, unit: Any) -> int | None:
    count = _int_arg(n)
    if not is_number(t) or count is None or unit not in _UNIT_NAMES:
        return None
    unit = _UNITS.get(unit, unit)
    if unit in ("hours", "minutes", "seconds"):  # absolute time: a DST day still has 23/25 hours
        return int(t) + count * {"hours": 3_600_000, "minutes": 60_000, "seconds": 1000}[unit]
    local = to_local(t, ctx)
    if unit in ("days", "weeks"):  # calendar days: local midnight plus one day is the next midnight
        return to_ms(local + timedelta(days=count * (7 if unit == "weeks" else 1)))
    return to_ms(_add_months(local, count * (12 if unit == "years" else 1)))


def _add_months(local: datetime, months: int) -> datetime:
    index = local.year * 12 + local.month - 1 + months
    year, month = divmod(index, 12)
    day = min(local.day, calendar.monthrange(year, month + 1)[1])
    return local.replace(year=year, month=month + 1, day=day)


_PERIODS = frozenset({"hourly", "daily", "weekly", "monthly"})


def start_of_period(ctx: EvalContext, period: Any, t: Any) -> int | None:
    """Start of the hour/day/week (Sunday)/month containing t, in the subscription timezone."""
    if not is_number(t) or period not in _PERIODS:
        return None
    local = to_local(t, ctx)
    if period == "hourly":
        return int(t) - (local.minute * 60_000 + local.second * 1000 + local.microsecond // 1000)
    day = local.date()
    if period == "weekly":
        day -= timedelta(days=(day.weekday() + 1) % 7)
    elif period == "monthly":
        day = day.replace(day=1)
    return to_ms(datetime.combine(day, time(0), tzinfo=ctx.tz))


def _format_time(ctx: EvalContext, layout: Any, t: Any) -> str | None:
    if type(layout) is not str or not is_number(t):
        return None
    return format_go(layout, to_local(t, ctx))


def to_string(value: Any) -> str | None:
    """Text form of a value: ints plainly, integral floats without '.0', lists and maps as JSON."""
    if value is None or type(value) is str:
        return value
    if type(value) is bool:
        return "true" if value else "false"
    if type(value) is float and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), sort_keys=True, default=repr)
    return str(value)


def _contains(_ctx: EvalContext, haystack: Any, needle: Any) -> bool:
    if haystack is ALL_APPS:
        return True
    if type(haystack) is str:
        return type(needle) is str and needle in haystack
    if isinstance(haystack, list | dict):
        try:
            return needle in haystack
        except TypeError:  # an unhashable needle cannot be a map key
            return False
    return False


def _starts_with(_ctx: EvalContext, text: Any, prefix: Any) -> bool:
    return type(text) is str and type(prefix) is str and text.startswith(prefix)


def _ends_with(_ctx: EvalContext, text: Any, suffix: Any) -> bool:
    return type(text) is str and type(suffix) is str and text.endswith(suffix)


def _len(_ctx: EvalContext, value: Any) -> int | None:
    if value is None:
        return 0
    return len(value) if isinstance(value, str | list | dict) else None


def _hash(_ctx: EvalContext, value: Any) -> int:
    return zlib.crc32((to_string(value) or "").encode())


def _event_sub_type(_ctx: EvalContext, value: Any) -> str | None:
    return value.rsplit(":", 1)[-1] if type(value) is str else None


def _keys(_ctx: EvalContext, value: Any) -> list[str] | None:
    return sorted(value) if isinstance(value, dict) else None


def _split(_ctx: EvalContext, text: Any, sep: Any) -> list[str] | None:
    if type(text) is not str or type(sep) is not str:
        return None
    return list(text) if sep == "" else text.split(sep)


def _is_empty(_ctx: EvalContext, value: Any) -> bool:
    return value is None or (isinstance(value, str | list | dict) and not value)


def _expand_app_ids(_ctx: EvalContext, _pattern: Any) -> AllApps:
    return ALL_APPS


def _unary(fn: Callable[[Any], Any]) -> Function:
    return Function(lambda _ctx, value: fn(value), frozenset({1}))


def _binary(fn: Callable[..., Any]) -> Function:
    return Function(fn, frozenset({2}))


FUNCTIONS: dict[str, Function] = {
    "now": Function(_now, frozenset({0})),
    "date": Function(_date, frozenset({1, 3, 4, 5, 6})),
    "dateAdd": Function(_date_add, frozenset({3}), {2: _UNIT_NAMES}),
    "startOfPeriod": Function(start_of_period, frozenset({2}), {0: _PERIODS}),
    "formatTime": _binary(_format_time),
    "expandAppIds": Function(_expand_app_ids, frozenset({1}), {0: frozenset({"*"})}),
    "isNil": _unary(lambda v: v is None),
    "isNull": _unary(lambda v: v is None),
    "isEmpty": Function(_is_empty, frozenset({1})),
    "isString": _unary(lambda v: type(v) is str),
    "isNumber": _unary(is_number),
    "isBoolean": _unary(lambda v: type(v) is bool),
    "isList": _unary(lambda v: isinstance(v, list)),
    "contains": _binary(_contains),
    "startsWith": _binary(_starts_with),
    "endsWith": _binary(_ends_with),
    "len": Function(_len, frozenset({1})),
    "hash": Function(_hash, frozenset({1})),
    "eventSubType": Function(_event_sub_type, frozenset({1})),
    "keys": Function(_keys, frozenset({1})),
    "split": _binary(_split),
    "toLowerCase": _unary(lambda v: v.lower() if type(v) is str else None),
    "toUpperCase": _unary(lambda v: v.upper() if type(v) is str else None),
    "toString": _unary(to_string),
}
