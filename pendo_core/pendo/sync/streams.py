"""Each Pendo usage stream as a small declaration: its request, its table and its row shape.

One generic loop (runner.py) runs them all. The requests group server-side (pendo-api.md §5)
so a window returns one row per key, and only documented syntax is used.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import String, Table

from pendo_core.common.timeutil import HOUR_MS, day_of_ms, local_midnight_ms
from pendo_core.pendo.client import queries
from pendo_core.pendo.sync.rows import EARLIEST_MS, LATEST_MS, MAX_COUNT, BadRow, count, epoch_ms, text
from pendo_core.store import models

GUIDE_TYPES = frozenset({"guideSeen", "guideAdvanced", "guideDismissed"})
COMPLETION_TYPES = ("guideSeen", "guideAdvanced")  # the events that can complete a guide step

Builder = Callable[[int, int, bool], list[dict[str, Any]]]
Row = tuple[Any, ...]  # one value per column of the stream's `columns`, in that order
Converter = Callable[[Mapping[str, Any], ZoneInfo], "Row | None"]
AnswerRow = Any  # a row of Pendo's answer as the client hands it over: a dict, or the stream's TypedRows struct


@dataclass(frozen=True)
class TypedRows:
    """A stream's row as a msgspec Struct the answer's rows are decoded into where they fit (pendo/client
    `_body.py`: a batch with a row that does not fit is decoded as plain dicts and goes through `convert`),
    and the conversion of such a row. The Struct takes only what `convert` takes without a question (a
    non-empty text id, a whole number in range), so both give the same tuple, and no field it does not
    declare (msgspec skips such a field's value unchecked, where `json` refuses a number beyond the
    double range: the body must fail the same way; Pendo's grouped rows hold the grouped fields alone).
    Its ids are also no longer than their columns, and the client never decodes a NUL character into it
    (`_body.py`), so a row of it is one the store can hold (`rows.unstorable_values` is not asked).
    Decoding straight into it skips a dict per row and the checks in Python: about half of a row's
    conversion cost."""

    struct: type[msgspec.Struct]
    convert: Callable[[Any, ZoneInfo], Row]


@dataclass(frozen=True)
class EventStream:
    """A windowed usage stream.

    `convert` turns an answer's row into a tuple of `columns` (plain tuples: the writers hand them to
    the driver as they are, no dict per row); `reach_back` is how many days before the first reported
    day the metric windows need; `replace` streams delete the window's days before writing (Pendo may
    restate them), the raw guide events are only ever added (their day comes from the browser clock).
    """

    name: str
    table: Table
    period: Literal["dayRange", "hourRange"]
    build: Builder
    convert: Converter
    columns: tuple[str, ...]
    reach_back: int
    keys: tuple[str, ...]
    replace: bool = True
    typed: TypedRows | None = None

    @property
    def day_index(self) -> int:
        """Where `day` is in a converted row."""
        return self.columns.index("day")

    def time_bounds(self, first: date, last: date, tz: ZoneInfo) -> tuple[int, int]:
        """`first`/`last` integers for timeSeries: the period containing `last` is included."""
        start = local_midnight_ms(first, tz)
        if self.period == "dayRange":
            return start, local_midnight_ms(last, tz)
        return start, local_midnight_ms(last + timedelta(days=1), tz) - HOUR_MS

    def pipeline(self, first: date, last: date, tz: ZoneInfo, identified_only: bool) -> list[dict[str, Any]]:
        first_ms, last_ms = self.time_bounds(first, last, tz)
        return self.build(first_ms, last_ms, identified_only)


def _bucket_day(row: Mapping[str, Any], key: str, tz: ZoneInfo) -> date:
    return _local_day(epoch_ms(row, key), tz, "day" if key == "day" else None)


@lru_cache(maxsize=4096)
def _local_day(ms: int, tz: ZoneInfo, bucket: Literal["day", "hour"] | None) -> date:
    """The local day of an instant; a `day` or `hour` bucket must start its period (else BadRow).
    Cached: a window's rows share a few buckets, and the time-zone arithmetic cost more than the rest."""
    day = day_of_ms(ms, tz)
    if bucket == "day" and local_midnight_ms(day, tz) != ms:
        raise BadRow("day bucket not at local midnight (check PENDO_TIMEZONE)")
    if bucket == "hour" and (ms - local_midnight_ms(day, tz)) % HOUR_MS:
        raise BadRow("hour bucket not at an hour start")
    return day


def _visitor_day(row: Mapping[str, Any], tz: ZoneInfo) -> Row:
    return (text(row, "accountId"), text(row, "visitorId"), _bucket_day(row, "day", tz),
            count(row, "numEvents"), count(row, "numMinutes"))


def _visitor_hour(row: Mapping[str, Any], tz: ZoneInfo) -> Row:
    hour = epoch_ms(row, "hour")
    return (text(row, "accountId"), text(row, "visitorId"), hour, _local_day(hour, tz, "hour"),
            count(row, "numEvents"), count(row, "numMinutes"))


def _page_day(row: Mapping[str, Any], tz: ZoneInfo) -> Row:
    return (text(row, "accountId"), text(row, "pageId"), _bucket_day(row, "day", tz),
            count(row, "numEvents"), count(row, "numMinutes"))


def _feature_day(row: Mapping[str, Any], tz: ZoneInfo) -> Row:
    return (text(row, "accountId"), text(row, "visitorId"), text(row, "featureId"), _bucket_day(row, "day", tz),
            count(row, "numEvents"), count(row, "numMinutes"))


# What `text`, `count` and `epoch_ms` accept without converting, and the store holds, for TypedRows.
def _length(model: Any, column: str) -> int:
    """The length of a text id's column (`String(n)`)."""
    kind = models.table_of(model).c[column].type
    assert isinstance(kind, String), f"{column} is not a text column"
    assert kind.length, f"{column} has no length"
    return kind.length


_Account = Annotated[str, msgspec.Meta(min_length=1, max_length=_length(models.VisitorDay, "account_id"))]
_Visitor = Annotated[str, msgspec.Meta(min_length=1, max_length=_length(models.VisitorDay, "visitor_id"))]
_Page = Annotated[str, msgspec.Meta(min_length=1, max_length=_length(models.PageDay, "page_id"))]
_Feature = Annotated[str, msgspec.Meta(min_length=1, max_length=_length(models.FeatureVisitorDay, "feature_id"))]
_Count = Annotated[int, msgspec.Meta(ge=0, lt=MAX_COUNT)]
_Instant = Annotated[int, msgspec.Meta(ge=EARLIEST_MS, le=LATEST_MS)]


class _VisitorDayRow(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    accountId: _Account
    visitorId: _Visitor
    day: _Instant
    numEvents: _Count
    numMinutes: _Count


class _VisitorHourRow(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    accountId: _Account
    visitorId: _Visitor
    hour: _Instant
    numEvents: _Count
    numMinutes: _Count


class _PageDayRow(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    accountId: _Account
    pageId: _Page
    day: _Instant
    numEvents: _Count
    numMinutes: _Count


class _FeatureDayRow(msgspec.Struct, gc=False, forbid_unknown_fields=True):
    accountId: _Account
    visitorId: _Visitor
    featureId: _Feature
    day: _Instant
    numEvents: _Count
    numMinutes: _Count


def _typed_visitor_day(row: _VisitorDayRow, tz: ZoneInfo) -> Row:
    return row.accountId, row.visitorId, _local_day(row.day, tz, "day"), row.numEvents, row.numMinutes


def _typed_visitor_hour(row: _VisitorHourRow, tz: ZoneInfo) -> Row:
    return row.accountId, row.visitorId, row.hour, _local_day(row.hour, tz, "hour"), row.numEvents, row.numMinutes


def _typed_page_day(row: _PageDayRow, tz: ZoneInfo) -> Row:
    return row.accountId, row.pageId, _local_day(row.day, tz, "day"), row.numEvents, row.numMinutes


def _typed_feature_day(row: _FeatureDayRow, tz: ZoneInfo) -> Row:
    return (row.accountId, row.visitorId, row.featureId, _local_day(row.day, tz, "day"), row.numEvents,
            row.numMinutes)


def event_sub_type(value: str) -> str:
    """`ui:web:guideSeen` -> `guideSeen` (Pendo may prefix the type, pendo-api.md §7.1)."""
    return value.rsplit(":", 1)[-1]


def _guide_event(row: Mapping[str, Any], tz: ZoneInfo) -> Row | None:
    kind = event_sub_type(text(row, "type"))
    if kind not in GUIDE_TYPES:
        return None
    browser_time = epoch_ms(row, "browserTime")
    return (text(row, "visitorId"), text(row, "accountId"), text(row, "guideId"), text(row, "guideStepId"), kind,
            browser_time, day_of_ms(browser_time, tz))


VISITOR_DAYS = EventStream(
    "visitor_days", models.table_of(models.VisitorDay), "dayRange", queries.events_by_visitor_day,
    _visitor_day, ("account_id", "visitor_id", "day", "num_events", "num_minutes"), reach_back=89,
    keys=("day", "account_id", "visitor_id"),
    typed=TypedRows(_VisitorDayRow, _typed_visitor_day),
)
VISITOR_HOURS = EventStream(
    "visitor_hours", models.table_of(models.VisitorHour), "hourRange", queries.events_by_visitor_hour,
    _visitor_hour, ("account_id", "visitor_id", "hour_start", "day", "num_events", "num_minutes"), reach_back=1,
    keys=("account_id", "visitor_id", "hour_start"),
    typed=TypedRows(_VisitorHourRow, _typed_visitor_hour),
)
PAGE_DAYS = EventStream(
    "page_days", models.table_of(models.PageDay), "dayRange", queries.page_events_by_account_day,
    _page_day, ("account_id", "page_id", "day", "num_events", "num_minutes"), reach_back=0,
    keys=("day", "account_id", "page_id"),
    typed=TypedRows(_PageDayRow, _typed_page_day),
)
FEATURE_DAYS = EventStream(
    "feature_days", models.table_of(models.FeatureVisitorDay), "dayRange", queries.feature_events_by_visitor_day,
    _feature_day, ("account_id", "visitor_id", "feature_id", "day", "num_events", "num_minutes"), reach_back=41,
    keys=("day", "account_id", "feature_id", "visitor_id"),
    typed=TypedRows(_FeatureDayRow, _typed_feature_day),
)
GUIDE_EVENTS = EventStream(
    "guide_events", models.table_of(models.GuideEvent), "dayRange", queries.guide_events,
    _guide_event,
    ("visitor_id", "account_id", "guide_id", "step_id", "event_type", "browser_time", "day"), reach_back=29,
    keys=("visitor_id", "guide_id", "step_id", "event_type", "browser_time", "account_id"), replace=False,
)

EVENT_STREAMS: tuple[EventStream, ...] = (VISITOR_DAYS, VISITOR_HOURS, PAGE_DAYS, FEATURE_DAYS, GUIDE_EVENTS)
