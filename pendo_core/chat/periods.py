"""The window of days a question names ("last 90 days", "since 1 March", "in November", "last week",
"yesterday"), as a pure parser over the cleaned question and a given today.

Conventions (one wording, quoted back in every answer that uses a window):
- "today" is never complete, so a window counting back ends yesterday: "last 90 days" is the 90
  days ending yesterday, "last 2 weeks" the 14, "last 3 months" from the same date 3 months back;
- "last week" / "previous week" is the calendar week before this one (Monday to Sunday), "past
  week" the 7 days ending yesterday; "last month" the calendar month before this one;
- "since 1 March" runs from that day (the latest 1 March not after today, unless a year is given)
  to yesterday; "in November" is that calendar month, the latest November not after this month.
A question naming no window gets None, and each answer then says its own default window.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

MONTHS = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
MONTHS |= {name.casefold(): i for i, name in enumerate(calendar.month_abbr) if name}
MONTHS["sept"] = 9
NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
           "ten": 10, "eleven": 11, "twelve": 12, "a": 1}
_MONTH = "(" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(\d{4}))?"
_COUNT = r"(\d{1,4}|" + "|".join(NUMBERS) + ")"

_COUNTED = re.compile(rf"\b(?:in\s+the\s+|over\s+the\s+|for\s+the\s+|the\s+)?(?:last|past|previous)\s+{_COUNT}\s+"
                      r"(day|week|month)s?\b")
_LAST_WEEK = re.compile(r"\b(?:last|previous)\s+week\b")
_PAST_WEEK = re.compile(r"\b(?:in\s+the\s+|over\s+the\s+)?past\s+week\b")
_LAST_MONTH = re.compile(r"\b(?:last|previous)\s+month\b")
_YESTERDAY = re.compile(r"\byesterday\b")
_SINCE_ISO = re.compile(r"\bsince\s+(\d{4})-(\d{2})-(\d{2})\b")
_SINCE_DAY_MONTH = re.compile(rf"\bsince\s+(?:the\s+)?{_DAY}\s+(?:of\s+)?{_MONTH}{_YEAR}\b")
_SINCE_MONTH_DAY = re.compile(rf"\bsince\s+{_MONTH}\s+{_DAY}{_YEAR}\b")
_IN_MONTH = re.compile(rf"\b(?:in|during|for)\s+{_MONTH}{_YEAR}\b")


@dataclass(frozen=True)
class Period:
    """A window of days [first, last] and the words the question named it with."""

    first: date
    last: date
    named: str

    @property
    def days(self) -> int:
        """How many days the window holds."""
        return (self.last - self.first).days + 1

    @property
    def text(self) -> str:
        """`last 90 days: 2026-08-28 → 2026-11-25 (90 days)`."""
        plural = "s" if self.days != 1 else ""
        return f"{self.named}: {self.first.isoformat()} → {self.last.isoformat()} ({self.days} day{plural})"

    def through(self, day: date) -> Period:
        """The window cut to end on `day` at the latest (the last synced day); a window starting after
        `day` comes back empty (0 days), which answers read as "not synced yet"."""
        return self if self.last <= day else Period(self.first, max(day, self.first - timedelta(days=1)), self.named)


def _months_back(today: date, months: int) -> date:
    month_index = today.year * 12 + today.month - 1 - months
    year, month = divmod(month_index, 12)
    return date(year, month + 1, min(today.day, calendar.monthrange(year, month + 1)[1]))


def _counted(match: re.Match[str], today: date) -> Period:
    raw, unit = match.group(1), match.group(2)
    n = NUMBERS.get(raw) or int(raw)
    last = today - timedelta(days=1)
    first = _months_back(today, n) if unit == "month" else today - timedelta(days=n * (7 if unit == "week" else 1))
    return Period(first, last, f"last {n} {unit}{'s' if n != 1 else ''}")


def _month(month: int, year: int) -> tuple[date, date]:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _latest(day: int, month: int, year: str | None, today: date) -> date | None:
    """The day/month in the given year, else the latest one not after today (None: no such date)."""
    try:
        if year:
            return date(int(year), month, day)
        found = date(today.year, month, day)
        return found if found <= today else date(today.year - 1, month, day)
    except ValueError:
        return None


def _since(start: date | None, today: date, said: str) -> Period | None:
    return None if start is None else Period(start, today - timedelta(days=1), said)


def _last_week(_: re.Match[str], today: date) -> Period:
    monday = today - timedelta(days=today.weekday() + 7)
    return Period(monday, monday + timedelta(days=6), "last week (Monday to Sunday)")


def _past_week(_: re.Match[str], today: date) -> Period:
    return Period(today - timedelta(days=7), today - timedelta(days=1), "past week")


def _last_month(_: re.Match[str], today: date) -> Period:
    first = _months_back(today.replace(day=1), 1)
    return Period(*_month(first.month, first.year), f"last month ({calendar.month_name[first.month]})")


def _yesterday(_: re.Match[str], today: date) -> Period:
    return Period(today - timedelta(days=1), today - timedelta(days=1), "yesterday")


def _since_iso(match: re.Match[str], today: date) -> Period | None:
    try:
        return _since(date(*(int(g) for g in match.groups())), today, match.group(0))
    except ValueError:
        return None


def _since_day_month(match: re.Match[str], today: date) -> Period | None:
    day, month, year = match.groups()
    return _since(_latest(int(day), MONTHS[month], year, today), today, match.group(0))


def _since_month_day(match: re.Match[str], today: date) -> Period | None:
    month, day, year = match.groups()
    return _since(_latest(int(day), MONTHS[month], year, today), today, match.group(0))


def _in_month(match: re.Match[str], today: date) -> Period:
    month, year = MONTHS[match.group(1)], match.group(2)
    in_year = int(year) if year else today.year if month <= today.month else today.year - 1
    return Period(*_month(month, in_year), f"{calendar.month_name[month]} {in_year}")


# Tried in order; the first phrase that matches and names real days is the window.
RULES: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], Period | None]], ...] = (
    (_COUNTED, _counted),
    (_SINCE_ISO, _since_iso),
    (_SINCE_DAY_MONTH, _since_day_month),
    (_SINCE_MONTH_DAY, _since_month_day),
    (_IN_MONTH, _in_month),
    (_LAST_WEEK, _last_week),
    (_PAST_WEEK, _past_week),
    (_LAST_MONTH, _last_month),
    (_YESTERDAY, _yesterday),
)


def find(text: str, today: date) -> tuple[Period | None, str]:
    """The window a cleaned question names (None: none) and the question with that phrase taken out."""
    text = text.casefold()
    for pattern, build in RULES:
        match = pattern.search(text)
        period = build(match, today) if match else None
        if match and period:
            return period, _without(text, match)
    return None, text


def _without(text: str, match: re.Match[str]) -> str:
    return " ".join(f"{text[:match.start()]} {text[match.end():]}".split())


def parse(text: str, today: date) -> Period | None:
    """The window a question names, or None."""
    return find(text, today)[0]
