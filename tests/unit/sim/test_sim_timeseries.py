"""timeSeries: which day/hour buckets a request covers, in the subscription timezone."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pendo_sim.expr import EvalContext, QueryError
from pendo_sim.timeseries import TimeRange, parse_time_series

NY = ZoneInfo("America/New_York")
HOUR = 3_600_000
DAY = 24 * HOUR
MAR_05 = 1709614800000  # 2024-03-05 00:00 EST
NOW = MAR_05 + 23 * HOUR + 40 * 60_000  # 2024-03-05 23:40 EST
MAR_10 = 1710046800000  # 2024-03-10 00:00 EST: spring forward, 23 hours
MAR_11 = 1710129600000
NOV_03 = 1730606400000  # 2024-11-03 00:00 EDT: fall back, 25 hours
NOV_04 = 1730696400000
CTX = EvalContext(now_ms=NOW, tz=NY)


def series(**spec: Any) -> TimeRange:
    return parse_time_series(spec, CTX)


@pytest.mark.parametrize(
    ("day_start", "next_start", "hours"),
    [
        pytest.param(MAR_10, MAR_11, 23, id="spring-forward"),
        pytest.param(NOV_03, NOV_04, 25, id="fall-back"),
        pytest.param(MAR_05, MAR_05 + DAY, 24, id="ordinary"),
    ],
)
def test_day_bucket_spans_the_local_day(day_start: int, next_start: int, hours: int) -> None:
    """A dayRange bucket runs local midnight to local midnight, so DST days are 23 or 25 hours."""
    result = series(period="dayRange", first=day_start + 5 * HOUR, count=1)
    assert result == TimeRange("day", (day_start,), day_start, next_start)
    assert (result.end_ms - result.start_ms) // HOUR == hours


@pytest.mark.parametrize(
    ("day_start", "hours"),
    [
        pytest.param(MAR_10, 23, id="spring-forward"),
        pytest.param(NOV_03, 25, id="fall-back"),
    ],
)
def test_hour_buckets_over_a_dst_day(day_start: int, hours: int) -> None:
    """hourRange buckets are absolute hours: a 23-hour day has 23 of them."""
    result = series(period="hourRange", first=day_start, last=day_start + hours * HOUR - 1)
    assert result.period == "hour"
    assert result.buckets == tuple(day_start + i * HOUR for i in range(hours))


@pytest.mark.parametrize(
    ("spec", "buckets"),
    [
        pytest.param({"first": "now()", "count": -1}, (MAR_05 - DAY,), id="now-count-minus-one-is-yesterday"),
        pytest.param(
            {"first": NOW, "count": -3}, tuple(MAR_05 - i * DAY for i in (3, 2, 1)), id="count-minus-three"
        ),
        pytest.param(
            {"first": MAR_05 + 13 * HOUR, "count": 2}, (MAR_05, MAR_05 + DAY), id="first-snapped-down"
        ),
        pytest.param(
            {"first": MAR_05, "last": MAR_05 + 2 * DAY + 1},
            tuple(MAR_05 + i * DAY for i in range(3)),
            id="last-period-included",
        ),
        pytest.param({"first": MAR_05 + HOUR, "last": MAR_05 + HOUR}, (MAR_05,), id="first-equals-last"),
        pytest.param({"first": MAR_05 + 2 * DAY, "last": MAR_05}, (), id="last-before-first-empty"),
        pytest.param({"first": MAR_05, "count": 0}, (), id="count-zero-empty"),
        pytest.param({"first": str(MAR_05), "count": "1"}, (MAR_05,), id="numeric-strings"),
        pytest.param({"first": float(MAR_05), "count": 1}, (MAR_05,), id="float-first"),
        pytest.param(
            {"first": "now() - 30 * 1000 * 60 *60 * 24", "count": 1},
            (MAR_05 - 30 * DAY,),
            id="now-arithmetic",
        ),
        pytest.param(
            {"first": "date(2024, 3, 10)", "last": 'dateAdd(date(2024, 3, 10), 1, "days")'},
            (MAR_10, MAR_11),
            id="date-functions",
        ),
        pytest.param(
            {"first": "dateAdd(now(), -1, `days`)", "count": "-1 + 2"}, (MAR_05 - DAY,), id="count-expression"
        ),
    ],
)
def test_day_range_forms(spec: dict[str, Any], buckets: tuple[int, ...]) -> None:
    """first snaps down, last's day is included, count counts days from (or before) first's day."""
    assert series(period="dayRange", **spec).buckets == buckets


@pytest.mark.parametrize(
    ("spec", "buckets"),
    [
        pytest.param({"first": NOW, "count": 1}, (NOW - 40 * 60_000,), id="snapped-to-hour"),
        pytest.param(
            {"first": NOW, "count": -2},
            (NOW - 40 * 60_000 - 2 * HOUR, NOW - 40 * 60_000 - HOUR),
            id="hours-before",
        ),
        pytest.param(
            {"first": MAR_05, "last": MAR_05 + 2 * HOUR},
            (MAR_05, MAR_05 + HOUR, MAR_05 + 2 * HOUR),
            id="last-hour-included",
        ),
    ],
)
def test_hour_range_forms(spec: dict[str, Any], buckets: tuple[int, ...]) -> None:
    """hourRange counts and snaps in whole hours."""
    assert series(period="hourRange", **spec).buckets == buckets


def test_empty_range_bounds() -> None:
    """An empty range starts and ends at first's period start."""
    result = series(period="dayRange", first=MAR_05 + 3 * HOUR, count=0)
    assert (result.start_ms, result.end_ms) == (MAR_05, MAR_05)


@pytest.mark.parametrize(
    ("tz", "first", "expected"),
    [
        pytest.param("UTC", 1673510127000, 1673481600000, id="utc-day-aws-glue-example"),
        pytest.param("Asia/Kolkata", 1709614800000, 1709577000000, id="kolkata-day"),
    ],
)
def test_day_snapping_in_other_timezones(tz: str, first: int, expected: int) -> None:
    """Days align to midnight in the subscription's own timezone."""
    result = parse_time_series(
        {"period": "dayRange", "first": first, "count": 1}, EvalContext(0, ZoneInfo(tz))
    )
    assert result.start_ms == expected


def test_hour_snapping_in_a_half_hour_zone() -> None:
    """In a +05:30 zone an hour bucket starts on the local hour, not the UTC hour."""
    ctx = EvalContext(0, ZoneInfo("Asia/Kolkata"))
    first = 1709614800000 + 45 * 60_000  # 11:15 IST
    assert (
        parse_time_series({"period": "hourRange", "first": first, "count": 1}, ctx).start_ms
        == first - 15 * 60_000
    )


@pytest.mark.parametrize(
    ("ms", "expected"),
    [
        pytest.param(MAR_10 - 1, None, id="before"),
        pytest.param(MAR_10, MAR_10, id="first-start"),
        pytest.param(MAR_11 + 5 * HOUR, MAR_11, id="inside-second"),
        pytest.param(MAR_11 + DAY, None, id="end-exclusive"),
    ],
)
def test_bucket_of(ms: int, expected: int | None) -> None:
    """bucket_of maps an instant to the start of its bucket, None outside the range."""
    result = series(period="dayRange", first=MAR_10, count=2)
    assert result.bucket_of(ms) == expected
    assert result.contains(ms) is (expected is not None)


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        pytest.param(
            {"period": "daily", "first": MAR_05, "count": 1}, "unsupported period 'daily'", id="daily"
        ),
        pytest.param(
            {"period": "weekRange", "first": MAR_05, "count": 1}, "unsupported period", id="weekRange"
        ),
        pytest.param({"first": MAR_05, "count": 1}, "period is required", id="no-period"),
        pytest.param({"period": "dayRange", "count": 1}, "first is required", id="no-first"),
        pytest.param({"period": "dayRange", "first": MAR_05}, "exactly one of last or count", id="neither"),
        pytest.param(
            {"period": "dayRange", "first": MAR_05, "last": NOW, "count": 1}, "exactly one of", id="both"
        ),
        pytest.param(
            {"period": "dayRange", "first": True, "count": 1}, "first must be a number", id="bool-first"
        ),
        pytest.param(
            {"period": "dayRange", "first": [1], "count": 1}, "first must be a number", id="list-first"
        ),
        pytest.param(
            {"period": "dayRange", "first": '"text"', "count": 1},
            "first must be a number",
            id="string-valued-expression",
        ),
        pytest.param(
            {"period": "dayRange", "first": "now(", "count": 1}, "unexpected end", id="bad-expression"
        ),
        pytest.param(
            {"period": "dayRange", "first": MAR_05, "count": 1.5}, "whole number", id="fractional-count"
        ),
        pytest.param(
            {"period": "hourRange", "first": 0, "count": 2_000_000}, "allows 1000000", id="too-long"
        ),
    ],
)
def test_invalid_time_series(spec: dict[str, Any], fragment: str) -> None:
    """A malformed timeSeries is a QueryError that says what is wrong."""
    with pytest.raises(QueryError) as info:
        parse_time_series(spec, CTX)
    assert fragment in str(info.value)


def test_time_series_must_be_an_object() -> None:
    """A timeSeries that is not an object is refused."""
    with pytest.raises(QueryError, match="must be an object"):
        parse_time_series("dayRange", CTX)  # type: ignore[arg-type]
