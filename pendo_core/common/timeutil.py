"""Calendar days in the subscription's timezone and Pendo's epoch-millisecond buckets."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

HOUR_MS = 3_600_000


def local_midnight_ms(day: date, tz: ZoneInfo) -> int:
    """Epoch ms of local midnight starting `day` (Pendo's `day` bucket value)."""
    return int(datetime.combine(day, time(0), tzinfo=tz).timestamp() * 1000)


def day_of_ms(ms: int, tz: ZoneInfo) -> date:
    """The local calendar day containing the instant `ms`."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(tz).date()


def day_length_hours(day: date, tz: ZoneInfo) -> int:
    """23, 24 or 25: DST days are not 24 hours long."""
    return (local_midnight_ms(day + timedelta(days=1), tz) - local_midnight_ms(day, tz)) // HOUR_MS


def hour_starts_ms(day: date, tz: ZoneInfo) -> list[int]:
    """Epoch ms of each hour bucket of a local day, in absolute time."""
    start = local_midnight_ms(day, tz)
    return [start + i * HOUR_MS for i in range(day_length_hours(day, tz))]


def days_between(first: date, last: date) -> list[date]:
    """Every day from `first` to `last` inclusive."""
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def today_in(tz: ZoneInfo, now: datetime | None = None) -> date:
    """Today's date in `tz` (the incomplete day)."""
    return (now or datetime.now(UTC)).astimezone(tz).date()


class DayRange(NamedTuple):
    """An inclusive range of calendar days, as stored in a range watermark ("first..last")."""

    first: date
    last: date


def format_day_range(first: date, last: date) -> str:
    """The stored form of [first, last]: "2024-03-01..2024-03-19"."""
    return f"{first.isoformat()}..{last.isoformat()}"


def parse_day_range(value: str | None) -> DayRange | None:
    """The range a watermark holds ("first..last"), or None when there is none (unset or empty).

    Raises ValueError naming the value when it is not two ISO days joined by "..". The order is not
    checked: a run whose reported range is empty (an `--as-of` before the stored start) stores one.
    """
    if not value:
        return None
    try:  # a wrong number of parts fails the unpacking with a ValueError too
        first, last = (date.fromisoformat(part) for part in value.split(".."))
    except ValueError:
        raise ValueError(f"day range {value!r} is not 'YYYY-MM-DD..YYYY-MM-DD'") from None
    return DayRange(first, last)
