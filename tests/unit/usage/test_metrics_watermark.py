"""The metrics range watermark ("first..last"): one parser for the metrics step and the audit."""

from __future__ import annotations

from datetime import date

import pytest

from pendo_core.common.timeutil import DayRange, format_day_range, parse_day_range
from pendo_core.usage.job import _first_moved_day

FIRST, LAST = date(2024, 3, 1), date(2024, 3, 19)


@pytest.mark.parametrize(("value", "expected"), [
    ("2024-03-01..2024-03-19", DayRange(FIRST, LAST)),
    ("2024-03-19..2024-03-19", DayRange(LAST, LAST)),
    (None, None),
    ("", None),
], ids=["range", "one-day", "unset", "empty"])
def test_parse_day_range(value: str | None, expected: DayRange | None) -> None:
    """A stored range reads back as a typed (first, last) pair; no watermark reads as None."""
    assert parse_day_range(value) == expected


def test_format_and_parse_round_trip() -> None:
    """What the metrics step writes is what it reads back."""
    got = parse_day_range(format_day_range(FIRST, LAST))
    assert got == DayRange(FIRST, LAST)
    assert got is not None
    assert (got.first, got.last) == (FIRST, LAST)


@pytest.mark.parametrize("value", [
    "2024-03-01", "2024-03-01..", "..2024-03-19", "2024-03-01..2024-03-19..2024-03-20", "2024-03-01...2024-03-19",
    "2024-03-01/2024-03-19", "2024-02-30..2024-03-19", "yesterday..today",
], ids=["one-day", "no-last", "no-first", "three-parts", "three-dots", "slash", "no-such-day", "words"])
def test_malformed_range_names_the_value_and_the_form(value: str) -> None:
    """A malformed watermark fails with one line quoting it and the expected form, not a bare unpack error."""
    with pytest.raises(ValueError, match=r"day range '.*' is not 'YYYY-MM-DD\.\.YYYY-MM-DD'") as raised:
        parse_day_range(value)
    assert repr(value) in str(raised.value)


@pytest.mark.parametrize(("done", "moved", "stale_from", "expected"), [
    (None, None, None, FIRST),
    (DayRange(date(2024, 3, 5), LAST), None, None, FIRST),
    (DayRange(FIRST, date(2024, 3, 18)), date(2024, 3, 10), None, date(2024, 3, 10)),
    (DayRange(FIRST, date(2024, 3, 18)), None, None, LAST),
    (DayRange(FIRST, LAST), None, None, date(2024, 3, 20)),
    (DayRange(FIRST, LAST), None, "2024-03-12", date(2024, 3, 12)),
], ids=["first-run", "range-grew-back", "re-read", "new-day", "nothing-moved", "stopped-run"])
def test_first_moved_day(done: DayRange | None, moved: date | None, stale_from: str | None,
                         expected: date) -> None:
    """Metrics move from the earliest changed day, a day a stopped run left, or the first new day."""
    assert _first_moved_day(FIRST, LAST, moved, done, stale_from) == expected
