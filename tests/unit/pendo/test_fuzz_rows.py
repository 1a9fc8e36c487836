"""Fuzzing Pendo's rows and whole responses (hypothesis): whatever Pendo sends, a window write never
crashes, every bad row is counted, and every good row lands, summed exactly; the stream parser hands
back every row of a valid body and turns any broken body into a PendoError.

Rows are good or bad by construction: a good row is built from valid values (ids with quotes,
backslashes and any unicode, counts up to 2**53 - 1, integral floats); a bad row is a good row with
one field broken (missing, null, wrong type, negative, huge, off-bucket, outside the window). The
expected table is computed here from the good rows alone, never by the code under test.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.common.timeutil import HOUR_MS, local_midnight_ms
from pendo_core.pendo.client import PendoConnectionError, PendoError, PendoResponseError
from pendo_core.pendo.client._body import iter_rows
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.streams import (
    FEATURE_DAYS,
    GUIDE_EVENTS,
    PAGE_DAYS,
    VISITOR_DAYS,
    VISITOR_HOURS,
    EventStream,
)

UTC = ZoneInfo("UTC")
WINDOW = Window(date(2031, 7, 14), date(2031, 7, 16))  # days no other test writes, on a shared database
MAX_COUNT = 2**53 - 1
FUZZ = settings(max_examples=40, deadline=timedelta(seconds=5), derandomize=os.environ.get("CI") == "true",
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZ_DB = settings(FUZZ, max_examples=20)  # each example writes to a database: fewer, still varied

# Each stream's Pendo fields, by kind; `id` columns are String(512) or String(200) in the store.
FIELDS: dict[str, dict[str, str]] = {
    "visitor_days": {"accountId": "id", "visitorId": "id", "day": "day", "numEvents": "count", "numMinutes": "count"},
    "visitor_hours": {"accountId": "id", "visitorId": "id", "hour": "hour", "numEvents": "count",
                      "numMinutes": "count"},
    "page_days": {"accountId": "id", "pageId": "id", "day": "day", "numEvents": "count", "numMinutes": "count"},
    "feature_days": {"accountId": "id", "visitorId": "id", "featureId": "id", "day": "day", "numEvents": "count",
                     "numMinutes": "count"},
    "guide_events": {"visitorId": "id", "accountId": "id", "guideId": "id", "guideStepId": "id",
                     "type": "guide_type", "browserTime": "instant"},
}
STREAMS = {s.name: s for s in (VISITOR_DAYS, VISITOR_HOURS, PAGE_DAYS, FEATURE_DAYS, GUIDE_EVENTS)}
COLUMN = {"accountId": "account_id", "visitorId": "visitor_id", "pageId": "page_id", "featureId": "feature_id",
          "guideId": "guide_id", "guideStepId": "step_id", "numEvents": "num_events", "numMinutes": "num_minutes",
          "hour": "hour_start", "browserTime": "browser_time"}

# --- values -------------------------------------------------------------------------------------------

ID_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
ids = st.one_of(
    st.text(ID_CHARS, min_size=1, max_size=30),
    st.sampled_from(['acme "quoted"', "back\\slash", 'both \\" of them', "naïve ✓ 日本", "'single'", " spaced "]),
    st.integers(min_value=0, max_value=MAX_COUNT),
)
int64 = st.integers(-(2**63) + 1, 2**63 - 1)  # the C parser refuses a body with a wider number anywhere
counts = st.one_of(st.integers(0, 1000), st.integers(0, MAX_COUNT), st.integers(0, 10**6).map(float))
days = st.sampled_from([WINDOW.first + timedelta(days=i) for i in range(WINDOW.days)])


def _good_value(kind: str) -> st.SearchStrategy[Any]:
    if kind == "id":
        return ids
    if kind == "count":
        return counts
    if kind == "day":
        return days.map(lambda d: local_midnight_ms(d, UTC))
    if kind == "hour":
        return st.tuples(days, st.integers(0, 23)).map(lambda t: local_midnight_ms(t[0], UTC) + t[1] * HOUR_MS)
    if kind == "guide_type":
        return st.tuples(st.sampled_from(["", "ui:web:"]), st.sampled_from(["guideSeen", "guideAdvanced",
                                                                           "guideDismissed"])).map("".join)
    return st.tuples(days, st.integers(0, 86_399_999)).map(lambda t: local_midnight_ms(t[0], UTC) + t[1])


MISSING = object()
_BAD_ANY = [MISSING, None, True, [], {}, {"nested": 1}]
_BAD: dict[str, list[Any]] = {
    "id": [*_BAD_ANY, "", 1.5, -2.0],
    "count": [*_BAD_ANY, -1, 2**53, 10**18, 0.5, "7", "seven"],
    "day": [*_BAD_ANY, -5, "2024-03-04", 1.5, 0, local_midnight_ms(WINDOW.first, UTC) + HOUR_MS,
            local_midnight_ms(WINDOW.last + timedelta(days=1), UTC), local_midnight_ms(WINDOW.first, UTC) - 86_400_000],
    "hour": [*_BAD_ANY, "noon", -1, local_midnight_ms(WINDOW.first, UTC) + 1_000,
             local_midnight_ms(WINDOW.last + timedelta(days=2), UTC)],
    "guide_type": list(_BAD_ANY),  # an unknown type (a number, "guideTimeout") is skipped, not bad
    "instant": [*_BAD_ANY, "yesterday", -1, 10**14],
}


@st.composite
def good_rows(draw: st.DrawFn, stream: str) -> dict[str, Any]:
    row = {name: draw(_good_value(kind)) for name, kind in FIELDS[stream].items()}
    if draw(st.booleans()):  # Pendo adds fields we do not read
        row[draw(st.sampled_from(["appId", "remoteIp", "userAgent", "server", "parameters"]))] = draw(
            st.one_of(st.none(), int64, st.text(max_size=10), st.lists(int64, max_size=3)))
    return row


@st.composite
def bad_rows(draw: st.DrawFn, stream: str) -> dict[str, Any]:
    row = draw(good_rows(stream))
    name = draw(st.sampled_from(sorted(FIELDS[stream])))
    broken = draw(st.sampled_from(_BAD[FIELDS[stream][name]]))
    if broken is MISSING:
        del row[name]
    else:
        row[name] = broken
    return row


@st.composite
def answers(draw: st.DrawFn, stream: str) -> tuple[list[Any], list[dict[str, Any]], int]:
    """(rows in Pendo's order, the good ones, how many bad), shuffled together."""
    good = draw(st.lists(good_rows(stream), max_size=25))
    bad = draw(st.lists(bad_rows(stream), max_size=10))
    mixed: list[Any] = [*good, *bad]
    return draw(st.permutations(mixed)), good, len(bad)


# --- the expectation, computed here ---------------------------------------------------------------------


def _id(value: Any) -> str:
    return str(value)


def expected_table(stream: EventStream, good: list[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[int, int]]:
    """The stored rows the good rows must give: key -> (events, minutes), or key -> (0, 0) for guide events."""
    table: dict[tuple[Any, ...], tuple[int, int]] = {}
    for row in good:
        values = _columns(stream, row)
        if values is None:
            continue
        key = tuple(values[k] for k in stream.keys)
        events, minutes = table.get(key, (0, 0))
        if stream.replace:
            table[key] = (events + values["num_events"], minutes + values["num_minutes"])
        else:
            table[key] = (0, 0)
    return table


def _columns(stream: EventStream, row: dict[str, Any]) -> dict[str, Any] | None:
    values: dict[str, Any] = {}
    for name, kind in FIELDS[stream.name].items():
        value = row[name]
        if kind == "id":
            values[COLUMN[name]] = _id(value)
        elif kind == "count":
            values[COLUMN[name]] = int(value)
        elif kind == "guide_type":
            values["event_type"] = value.rsplit(":", 1)[-1]
        elif kind == "day":
            values["day"] = date.fromtimestamp(0) + timedelta(milliseconds=value)
        else:
            values[COLUMN[name]] = value
    return values


def stored_table(session: Session, stream: EventStream) -> dict[tuple[Any, ...], tuple[int, int]]:
    table = stream.table
    columns = [table.c[k] for k in stream.keys]
    mine = table.c.day.between(WINDOW.first - timedelta(days=1), WINDOW.last + timedelta(days=1))
    if stream.replace:
        rows = session.execute(select(*columns, table.c.num_events, table.c.num_minutes).where(mine))
        return {tuple(r[:-2]): (r[-2], r[-1]) for r in rows}
    return {tuple(r): (0, 0) for r in session.execute(select(*columns).where(mine))}


# --- the store under fuzzing ----------------------------------------------------------------------------


def _write_and_read(engine: Engine, stream: EventStream, rows: Any) -> tuple[store.WindowResult, dict[Any, Any]]:
    with Session(engine) as session:
        session.begin()
        try:
            result = store.write_window(session, stream, WINDOW, rows, tz=UTC, as_of=date(2024, 3, 20),
                                        include_anonymous=False, run_id=1)
            return result, stored_table(session, stream)
        finally:
            session.rollback()


@pytest.mark.parametrize("stream_name", sorted(STREAMS), ids=lambda s: s)
@FUZZ_DB
@given(data=st.data())
def test_window_writes_keep_every_good_row_and_count_every_bad_one(fuzz_engine: Engine, stream_name: str,
                                                                    data: st.DataObject) -> None:
    """No crash; the table equals the good rows summed per key; bad rows are counted, each with a reason."""
    stream = STREAMS[stream_name]
    rows, good, bad = data.draw(answers(stream_name))
    junk = data.draw(st.lists(st.sampled_from([None, 3, "row", ["a", "list"], 2.5]), max_size=3))
    result, stored = _write_and_read(fuzz_engine, stream, [*rows, *junk])
    assert stored == expected_table(stream, good)
    assert result.bad.total == bad + len(junk)
    assert all(reason for _stream, reason in result.bad.counts)


@pytest.mark.parametrize("stream_name", ["visitor_days", "feature_days", "guide_events"], ids=lambda s: s)
@FUZZ_DB
@given(data=st.data())
def test_rows_survive_the_wire(fuzz_engine: Engine, stream_name: str, data: st.DataObject) -> None:
    """The same rows sent as a JSON body in random chunks, parsed by the client, then written: same table."""
    stream = STREAMS[stream_name]
    rows, good, bad = data.draw(answers(stream_name))
    body = json.dumps({"startTime": 1, "results": rows}, ensure_ascii=data.draw(st.booleans())).encode()
    parsed = list(iter_rows(_chunks(body, data.draw(st.lists(st.integers(1, 4096), max_size=20))), host="pendo"))
    assert parsed == rows
    result, stored = _write_and_read(fuzz_engine, stream, parsed)
    assert stored == expected_table(stream, good)
    assert result.bad.total == bad


def _chunks(body: bytes, cuts: list[int]) -> Iterator[bytes]:
    start = 0
    for size in cuts:
        yield body[start:start + size]
        start += size
    yield body[start:]


# --- the stream parser on its own ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | int64 | st.text(ID_CHARS, max_size=20)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
json_rows = st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=6), max_size=15)


@FUZZ
@given(rows=json_rows, extra=st.dictionaries(st.sampled_from(["startTime", "requestId", "x"]), json_values),
       cuts=st.lists(st.integers(1, 512), max_size=30), ascii_only=st.booleans())
def test_the_parser_returns_every_row_of_a_valid_body(rows: list[dict[str, Any]], extra: dict[str, Any],
                                                      cuts: list[int], ascii_only: bool) -> None:
    """Any rows, any other top-level keys, any chunking: the rows come back equal and in order."""
    body = json.dumps({**extra, "results": rows}, ensure_ascii=ascii_only).encode()
    parsed = list(iter_rows(_chunks(body, cuts), host="pendo"))
    assert len(parsed) == len(rows)
    assert all(_same(a, b) for a, b in zip(parsed, rows, strict=True))


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values (floats within a rounding of their text form)."""
    if isinstance(a, float) or isinstance(b, float):
        return isinstance(a, int | float) and isinstance(b, int | float) and math.isclose(a, b, rel_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


@FUZZ
@given(rows=json_rows.filter(bool), cut=st.floats(0.0, 0.999))
def test_a_body_cut_short_is_a_retriable_connection_error(rows: list[dict[str, Any]], cut: float) -> None:
    """A body that stops mid-way raises PendoConnectionError (the window is retried), never anything else."""
    body = json.dumps({"results": rows}).encode()
    with pytest.raises(PendoError) as caught:
        list(iter_rows([body[: int(len(body) * cut)]], host="pendo"))
    assert isinstance(caught.value, PendoConnectionError | PendoResponseError)


@FUZZ
@given(body=st.binary(max_size=300) | st.text(max_size=200).map(str.encode))
def test_garbage_is_refused_with_a_pendo_error(body: bytes) -> None:
    """Random bytes: either a valid body's rows, or a PendoError naming the problem; no other exception."""
    outcome = _parse_or_error(body)
    if isinstance(outcome, PendoError):
        assert "pendo" in str(outcome)
    else:
        assert all(isinstance(r, dict) for r in outcome)


def _parse_or_error(body: bytes) -> list[dict[str, Any]] | PendoError:
    try:
        return list(iter_rows([body], host="pendo"))
    except PendoError as exc:
        return exc


@pytest.mark.parametrize(("body", "error"), [
    (b'["a list"]', PendoResponseError),
    (b'{"results": "text"}', PendoResponseError),
    (b'{"results": [1, 2]}', PendoResponseError),
    (b'{"results": [{"numEvents": 1e400}]}', PendoResponseError),
    (b'{"results": [{"numEvents": NaN}]}', PendoResponseError),
    (b'{"results": [{"a": 1},]}', PendoResponseError),
    (b'{"results": [{"a": 1}]} {}', PendoResponseError),
    (b'{"results": [{"a": 1}', PendoConnectionError),
], ids=["top-level-list", "results-not-a-list", "rows-not-objects", "float-overflow", "nan", "trailing-comma",
        "trailing-value", "truncated"])
def test_bodies_that_cannot_be_rows_fail_the_request_clearly(body: bytes, error: type[PendoError]) -> None:
    """Shapes no row can come from fail the whole answer with one clear line (a number beyond 64 bits is
    valid JSON and read exactly: tests/integration/test_hardening.py)."""
    with pytest.raises(error) as caught:
        list(iter_rows([body], host="pendo"))
    assert "\n" not in str(caught.value)


CUT_BODIES = [
    {"startTime": 1, "results": [{"a": "x\u00e9\U0001f600 \\\"q", "b": -12, "c": -0.5, "d": None, "e": [True, False],
                                  "n": 2**70, "f": 1.5e3}, {}], "after": {"k": [1, 2]}},
    {"results": None},
    {"results": []},
]


@pytest.mark.parametrize("body", [json.dumps(b, ensure_ascii=a, indent=i).encode() for b in CUT_BODIES
                                  for a, i in ((True, 1), (False, None))], ids=lambda b: b[:24].decode())
def test_every_cut_of_a_body(body: bytes) -> None:
    """Cut into chunks at every position, a body gives the same rows; stopped at any position, it is a
    retriable cut-off (never "not JSON", which would withhold the window instead of reading it again)."""
    rows = json.loads(body)["results"] or []
    for cut in range(len(body)):
        assert list(iter_rows([body[:cut], body[cut:cut + 3], body[cut + 3:]], host="pendo")) == rows
        with pytest.raises(PendoConnectionError):
            list(iter_rows([body[:cut]], host="pendo"))


def test_an_escaped_lone_surrogate_becomes_a_question_mark() -> None:
    """Half a surrogate pair cannot be stored as text; a whole pair is the character it encodes."""
    body = b'{"results": [{"a": "x\\ud800y", "b": "\\ud83d\\ude00"}]}'
    assert list(iter_rows([body], host="pendo")) == [{"a": "x?y", "b": "\U0001f600"}]


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 2**64, -(2**63)], ids=repr)
def test_non_finite_and_oversized_counts_are_bad_rows(fuzz_engine: Engine, value: float) -> None:
    """Values a JSON body cannot carry, handed in directly, are still counted as bad rows."""
    row = {"accountId": "a", "visitorId": "v", "day": local_midnight_ms(WINDOW.first, UTC), "numEvents": value,
           "numMinutes": 1}
    result, stored = _write_and_read(fuzz_engine, VISITOR_DAYS, [row])
    assert stored == {}
    assert result.bad.total == 1


def _vd_row(account: str, page: str | None = None) -> dict[str, Any]:
    row = {"accountId": account, "day": local_midnight_ms(WINDOW.first, UTC), "numEvents": 1, "numMinutes": 1}
    return row | ({"pageId": page} if page is not None else {"visitorId": "v"})


@pytest.mark.parametrize(("stream", "row", "fine"), [
    (VISITOR_DAYS, _vd_row("a\x00b"), _vd_row("fine")),
    (VISITOR_DAYS, _vd_row("a" * 513), _vd_row("fine")),
    (PAGE_DAYS, _vd_row("a", page="p" * 201), _vd_row("a", page="fine")),
], ids=["nul-byte-in-an-id", "account-id-over-512", "page-id-over-200"])
def test_ids_the_store_cannot_hold_are_bad_rows(fuzz_engine: Engine, stream: EventStream, row: dict[str, Any],
                                                fine: dict[str, Any]) -> None:
    """An id with a NUL byte or longer than its column is one bad row; the rest of the window still lands."""
    result, stored = _write_and_read(fuzz_engine, stream, [row, fine])
    assert result.bad.total == 1
    assert len(stored) == 1
