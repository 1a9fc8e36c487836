"""The usage streams' rows as plain tuples: every value lands in its own column, by name, through both
writers (the sync's `replace_rows`, the staged `write_window`) on SQLite and PostgreSQL, and a row
missing a field, with a null, a wrong type or a number as text is counted with the reason it had when
rows were dicts (815a5c2), and skipped; an unknown extra key and a numeric id are fine.

The expected stored row is written here from Pendo's field names, never from a stream's `columns`:
a converter whose tuple order differs from its `columns` would store visitor ids as account ids.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.common.timeutil import HOUR_MS, local_midnight_ms
from pendo_core.pendo.sync import staging, store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.rows import BadRows
from pendo_core.pendo.sync.streams import EVENT_STREAMS, EventStream

UTC = ZoneInfo("UTC")
WINDOW = Window(date(2032, 2, 10), date(2032, 2, 11))  # days no other test writes, on a shared database
DAY = WINDOW.last
MIDNIGHT = local_midnight_ms(DAY, UTC)
STREAMS = {s.name: s for s in EVENT_STREAMS}

# One Pendo row per stream, every value distinct, and the stored row it must give (column -> value).
ROWS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "visitor_days": (
        {"accountId": "acct-1", "visitorId": "vis-2", "day": MIDNIGHT, "numEvents": 31, "numMinutes": 7},
        {"account_id": "acct-1", "visitor_id": "vis-2", "day": DAY, "num_events": 31, "num_minutes": 7}),
    "visitor_hours": (
        {"accountId": "acct-1", "visitorId": "vis-2", "hour": MIDNIGHT + 5 * HOUR_MS, "numEvents": 31,
         "numMinutes": 7},
        {"account_id": "acct-1", "visitor_id": "vis-2", "hour_start": MIDNIGHT + 5 * HOUR_MS, "day": DAY,
         "num_events": 31, "num_minutes": 7}),
    "page_days": (
        {"accountId": "acct-1", "pageId": "page-3", "day": MIDNIGHT, "numEvents": 31, "numMinutes": 7},
        {"account_id": "acct-1", "page_id": "page-3", "day": DAY, "num_events": 31, "num_minutes": 7}),
    "feature_days": (
        {"accountId": "acct-1", "visitorId": "vis-2", "featureId": "feat-4", "day": MIDNIGHT, "numEvents": 31,
         "numMinutes": 7},
        {"account_id": "acct-1", "visitor_id": "vis-2", "feature_id": "feat-4", "day": DAY, "num_events": 31,
         "num_minutes": 7}),
    "guide_events": (
        {"visitorId": "vis-2", "accountId": "acct-1", "guideId": "guide-5", "guideStepId": "step-6",
         "type": "ui:web:guideAdvanced", "browserTime": MIDNIGHT + 1234},
        {"visitor_id": "vis-2", "account_id": "acct-1", "guide_id": "guide-5", "step_id": "step-6",
         "event_type": "guideAdvanced", "browser_time": MIDNIGHT + 1234, "day": DAY}),
}
IDS = ("accountId", "visitorId", "pageId", "featureId", "guideId", "guideStepId", "type")
COUNTS = ("numEvents", "numMinutes")
TIMES = ("day", "hour", "browserTime")
MISSING = object()


def _cases() -> Iterator[Any]:
    """(stream, field, value, reason): the reason the dict rows gave."""
    for name, (row, _stored) in ROWS.items():
        for field in row:
            table: list[tuple[str, Any, str]] = [
                ("missing", MISSING, f"missing {field}"), ("null", None, f"missing {field}"),
                ("true", True, f"missing {field}"), ("list", [], f"bad {field}"), ("object", {"a": 1}, f"bad {field}"),
            ]
            if field in IDS:
                table += [("empty", "", f"bad {field}"), ("float", 1.5, f"bad {field}")]
            if field in COUNTS:
                table += [("text", "7", f"bad {field}"), ("half", 0.5, f"bad {field}"),
                          ("negative", -1, f"negative {field}"), ("huge", 2**53, f"huge {field}")]
            if field in TIMES:
                table += [("text", str(row[field]), f"bad {field}"), ("zero", 0, f"{field} out of range")]
            for label, value, reason in table:
                yield pytest.param((name, field, value, reason), id=f"{name}-{field}-{label}")


def _replace(session: Session, stream: EventStream, rows: list[Any]) -> BadRows:
    bad = BadRows()
    staging.replace_rows(session, stream, WINDOW, rows, tz=UTC, bad=bad)
    return bad


def _staged(session: Session, stream: EventStream, rows: list[Any]) -> BadRows:
    return store.write_window(session, stream, WINDOW, rows, tz=UTC, as_of=date(2032, 2, 12),
                              include_anonymous=False, run_id=1).bad


WRITERS: dict[str, Callable[[Session, EventStream, list[Any]], BadRows]] = {"replace_rows": _replace,
                                                                           "write_window": _staged}


def _write(engine: Engine, writer: str, stream: EventStream, rows: list[Any]) -> tuple[BadRows, list[dict[str, Any]]]:
    """Write the rows, return the bad ones and every stored row of the window (column -> value)."""
    with Session(engine) as session, session.begin():
        try:
            bad = WRITERS[writer](session, stream, rows)
            table = stream.table
            stored = session.execute(select(table).where(table.c.day.between(WINDOW.first, WINDOW.last)))
            return bad, [dict(r._mapping) for r in stored]
        finally:
            session.rollback()


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("name", sorted(ROWS))
def test_each_value_lands_in_its_own_column(fuzz_engine: Engine, writer: str, name: str) -> None:
    """A row with an unknown extra key lands whole, each value under its own column name."""
    row, want = ROWS[name]
    bad, stored = _write(fuzz_engine, writer, STREAMS[name], [row | {"remoteIp": "10.0.0.1", "appId": -323232}])
    assert stored == [want]
    assert bad.total == 0


def test_every_stream_declares_every_column_of_its_table_once() -> None:
    """A stream's `columns` are its table's columns (no column left to a default, none twice)."""
    for stream in EVENT_STREAMS:
        assert sorted(stream.columns) == sorted(c.name for c in stream.table.columns), stream.name


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize("case", list(_cases()))
def test_a_broken_field_is_one_bad_row_with_its_reason(fuzz_engine: Engine, writer: str,
                                                       case: tuple[str, str, Any, str]) -> None:
    """One field broken: that row is counted under the reason it always had and skipped; the good
    row beside it still lands whole."""
    name, field, value, reason = case
    row, want = ROWS[name]
    broken = {k: v for k, v in row.items() if k != field} | ({} if value is MISSING else {field: value})
    other = dict(row) | ({"visitorId": "vis-other"} if "visitorId" in row else {"pageId": "page-other"})
    bad, stored = _write(fuzz_engine, writer, STREAMS[name], [broken, other])
    assert dict(bad.counts) == {(name, reason): 1}
    assert stored == [want | {k: v for k, v in (("visitor_id", "vis-other"), ("page_id", "page-other"))
                              if k in want}]


@pytest.mark.parametrize("writer", sorted(WRITERS))
@pytest.mark.parametrize(("field", "value", "text"), [("accountId", 42, "42"), ("visitorId", 2**70, str(2**70)),
                                                      ("accountId", "42", "42")], ids=["int", "huge-int", "digits"])
def test_a_numeric_id_is_stored_as_its_decimal_text(fuzz_engine: Engine, writer: str, field: str, value: Any,
                                                    text: str) -> None:
    """Ids given as numbers (or digits as text) are the same id as text, in the right column."""
    row, want = ROWS["feature_days"]
    bad, stored = _write(fuzz_engine, writer, STREAMS["feature_days"], [row | {field: value}])
    column = {"accountId": "account_id", "visitorId": "visitor_id"}[field]
    assert stored == [want | {column: text}]
    assert bad.total == 0


@pytest.mark.parametrize("writer", sorted(WRITERS))
def test_a_guide_event_of_another_type_is_skipped_not_bad(fuzz_engine: Engine, writer: str) -> None:
    """Guide events Pendo sends that are not seen/advanced/dismissed are neither stored nor bad."""
    row, _want = ROWS["guide_events"]
    bad, stored = _write(fuzz_engine, writer, STREAMS["guide_events"], [row | {"type": "guideTimeout"}])
    assert stored == []
    assert bad.total == 0


@pytest.mark.parametrize("name", ["visitor_days", "guide_events"])
def test_rows_of_two_days_interleaved_each_land_on_their_own_day(fuzz_engine: Engine, name: str) -> None:
    """On SQLite the sync writes each run of one day's rows with the day in the statement; an answer
    whose days alternate lands every row, each on its own day (a replaced stream and an added one)."""
    row, want = ROWS[name]
    time_field = "day" if "day" in row else "browserTime"
    rows, expected = [], []
    for i in range(6):
        day = WINDOW.first if i % 2 else WINDOW.last
        moved = local_midnight_ms(day, UTC) - MIDNIGHT
        rows.append(row | {"visitorId": f"vis-{i}", time_field: row[time_field] + moved})
        expected.append(want | {"visitor_id": f"vis-{i}", "day": day}
                        | ({"browser_time": want["browser_time"] + moved} if "browser_time" in want else {}))
    bad, stored = _write(fuzz_engine, "replace_rows", STREAMS[name], rows)
    key = itemgetter("day", "visitor_id")
    assert sorted(stored, key=key) == sorted(expected, key=key)
    assert bad.total == 0
