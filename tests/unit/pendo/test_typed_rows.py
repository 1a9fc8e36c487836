"""Rows decoded straight into a stream's row type (streams.TypedRows) convert exactly as the same rows
decoded as dicts: the same tuples in the same order, the same bad rows for the same reasons, whatever the
mix of good and bad rows and wherever the body is cut (hypothesis, the dict path the oracle)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.client._body import iter_rows
from pendo_core.pendo.sync.rows import BadRows
from pendo_core.pendo.sync.staging import _convert
from tests.unit.pendo.test_fuzz_rows import FUZZ, STREAMS, UTC, WINDOW, _chunks, answers, good_rows

TYPED = sorted(name for name, stream in STREAMS.items() if stream.typed)
_IDS = {"accountId", "visitorId", "pageId", "featureId"}


@st.composite
def unstorable(draw: st.DrawFn, stream: str) -> dict[str, Any]:
    """A row that fits the row type but cannot be stored: a NUL byte in an id, or an id too long."""
    row = draw(good_rows(stream))
    name = draw(st.sampled_from(sorted(_IDS & row.keys())))
    row[name] = draw(st.sampled_from(["nul\x00byte", "x" * 201, "x" * 513]))
    return row


@st.composite
def plain(draw: st.DrawFn, stream: str) -> dict[str, Any]:
    """A good row as Pendo usually sends it (text ids, whole counts): one that fits the row type."""
    row = draw(good_rows(stream))
    for name, value in row.items():
        if name in _IDS:
            row[name] = str(value)
        elif name in ("numEvents", "numMinutes"):
            row[name] = int(value)
    return row


_EDGES = {"id": [""], "count": [-1, 2**53, 2**63 - 1], "instant": [-5, 0, 631_151_999_999, 4_102_444_800_001]}


@st.composite
def edge(draw: st.DrawFn, stream: str) -> dict[str, Any]:
    """A plain row with one field of the right JSON type but out of its range (an empty id, a negative
    or huge count, an instant before 1990 or after 2100): the row type must refuse it as `convert` does."""
    row = draw(plain(stream))
    name = draw(st.sampled_from(sorted(row.keys() & (_IDS | {"numEvents", "numMinutes", "day", "hour"}))))
    kind = "id" if name in _IDS else "count" if name.startswith("num") else "instant"
    row[name] = draw(st.sampled_from(_EDGES[kind]))
    return row


def _parse(body: bytes, cuts: list[int], row_type: Any) -> list[Any]:
    return list(iter_rows(_chunks(body, cuts), host="pendo", row_type=row_type))


def _converted(stream_name: str, rows: list[Any]) -> tuple[list[Any], dict[Any, int]]:
    bad = BadRows()
    out = list(_convert(STREAMS[stream_name], WINDOW, rows, UTC, bad))
    return out, dict(bad.counts)


@pytest.mark.parametrize("stream_name", TYPED)
@FUZZ
@given(data=st.data())
def test_typed_rows_convert_as_dicts_do(stream_name: str, data: st.DataObject) -> None:
    rows, _good, _bad = data.draw(answers(stream_name))
    fitting = data.draw(st.lists(plain(stream_name), max_size=40))
    odd = data.draw(st.lists(unstorable(stream_name) | edge(stream_name), max_size=2))
    rows = data.draw(st.permutations([*fitting, *odd, *rows[:data.draw(st.integers(0, len(rows)))]]))
    body = json.dumps({"results": rows}, ensure_ascii=data.draw(st.booleans())).encode()
    cuts = data.draw(st.lists(st.integers(1, 4096), max_size=20))
    as_dicts = _parse(body, cuts, None)
    typed = _parse(body, cuts, STREAMS[stream_name].typed.struct)  # type: ignore[union-attr]
    assert _converted(stream_name, typed) == _converted(stream_name, as_dicts)


@pytest.mark.parametrize("stream_name", TYPED)
def test_a_body_of_plain_rows_is_decoded_into_the_row_type(stream_name: str) -> None:
    """Not vacuous: the usual answer does take the typed path, and a bad row's sample is still its object."""
    stream = STREAMS[stream_name]
    struct = stream.typed.struct  # type: ignore[union-attr]
    day = local_midnight_ms(WINDOW.first, UTC)
    row = {"accountId": "a", "visitorId": "v", "pageId": "p", "featureId": "f", "day": day, "hour": day,
           "numEvents": 3, "numMinutes": 1}
    row = {k: v for k, v in row.items() if k in struct.__struct_fields__}
    late = {**row, **{k: day + 1_000 for k in ("day", "hour") if k in row}}  # fits the type, off its bucket
    body = json.dumps({"results": [row, row, late, row]}).encode()
    parsed = _parse(body, [], struct)
    assert [type(r) for r in parsed[:3]] == [struct] * 3  # the last row is read on its own, as a dict
    bad = BadRows()
    assert list(_convert(stream, WINDOW, parsed, UTC, bad)) == [stream.convert(row, UTC)] * 3
    assert bad.total == 1
    assert all(sample.startswith("{'accountId': 'a'") for sample in bad.samples.values())



def _id_edges(stream_name: str, field: str) -> list[str]:
    """Ids the store holds or refuses: a NUL byte, and the column's length and one more."""
    column = {"accountId": "account_id", "visitorId": "visitor_id", "pageId": "page_id", "featureId": "feature_id"}
    length = STREAMS[stream_name].table.c[column[field]].type.length
    return ["a\x00b", "x" * length, "x" * (length + 1)]


def _edge_cases() -> list[tuple[str, str, Any]]:
    cases = []
    for name in TYPED:
        for field in STREAMS[name].typed.struct.__struct_fields__:  # type: ignore[union-attr]
            kind = "id" if field in _IDS else "count" if field.startswith("num") else "instant"
            ids = _id_edges(name, field) if kind == "id" else []
            cases += [(name, field, value) for value in [*_EDGES[kind], *ids, 1.0, "7", None, True]]
    return cases


@pytest.mark.parametrize(("stream_name", "field", "value"), _edge_cases())
def test_each_edge_value_among_plain_rows_is_refused_as_convert_does(stream_name: str, field: str, value: Any) -> None:
    struct = STREAMS[stream_name].typed.struct  # type: ignore[union-attr]
    day = local_midnight_ms(WINDOW.first, UTC)
    row = {name: day if name in ("day", "hour") else 2 if name.startswith("num") else "id"
           for name in struct.__struct_fields__}
    body = json.dumps({"results": [row, {**row, field: value}, row, row]}).encode()
    assert _converted(stream_name, _parse(body, [], struct)) == _converted(stream_name, _parse(body, [], None))


def _outcome(body: bytes, cut: int, row_type: Any) -> Any:
    try:
        return _parse(body, [cut] if cut else [], row_type)
    except Exception as exc:  # the outcome compared is the error's kind and text
        return type(exc).__name__, str(exc)


@pytest.mark.parametrize("stream_name", TYPED)
@pytest.mark.parametrize("odd", ["1e400", "-1e400", "1.7976931348623159e308", "1" * 4301, "[1e400]", '{"a": 1e400}'])
def test_a_field_the_row_type_does_not_declare_is_read_as_json_reads_it(stream_name: str, odd: str) -> None:
    """msgspec skips the value of a field a Struct does not declare without checking it, where `json`
    refuses a number beyond the double range or of more than 4,300 digits: a row with any such field is
    read as a dict, so the body fails as before, wherever it is cut (found by a fault probe)."""
    struct = STREAMS[stream_name].typed.struct  # type: ignore[union-attr]
    day = local_midnight_ms(WINDOW.first, UTC)
    row = {name: day if name in ("day", "hour") else 2 if name.startswith("num") else "id"
           for name in struct.__struct_fields__}
    first = json.dumps(row)[:-1] + f', "x": {odd}}}'
    body = ('{"results": [' + first + ", " + json.dumps(row) + "]}").encode()
    for cut in range(len(body)):
        assert _outcome(body, cut, struct) == _outcome(body, cut, None)
    assert isinstance(_outcome(body, 0, None), tuple)  # the oracle refuses the body


@pytest.mark.parametrize("stream_name", TYPED)
def test_a_row_with_a_field_the_row_type_does_not_declare_is_a_dict(stream_name: str) -> None:
    struct = STREAMS[stream_name].typed.struct  # type: ignore[union-attr]
    day = local_midnight_ms(WINDOW.first, UTC)
    row = {name: day if name in ("day", "hour") else 2 if name.startswith("num") else "id"
           for name in struct.__struct_fields__}
    body = json.dumps({"results": [{**row, "appId": 5}, row, row]}).encode()
    assert [type(r) for r in _parse(body, [], struct)] == [dict, dict, dict]  # one batch: the first two
    assert _converted(stream_name, _parse(body, [], struct)) == _converted(stream_name, _parse(body, [], None))
