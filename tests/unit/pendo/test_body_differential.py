"""The streaming row parser against `json.loads` of the whole body (hypothesis): for any body text,
whitespace, escapes, number forms, duplicate keys and chunking at any byte, `iter_rows` gives the rows
`json.loads` reads, or fails the way _body.py's docstring says: a complete body that is not
`{"results": [ {row}, ... ]}` is a PendoResponseError, a body cut anywhere a PendoConnectionError.

The bodies are written here as JSON text, not by json.dumps, so they carry what Pendo or a proxy
could send and json.dumps never writes (raw and escaped astral characters, lone surrogates, `1E+2`,
`-0.0`, whitespace between every token, a key twice).
"""

from __future__ import annotations

import json
import math
import os
import re
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_core.pendo.client import PendoConnectionError, PendoError, PendoResponseError, _body
from pendo_core.pendo.client._body import iter_rows, parse_json

PROBE = settings(max_examples=150, deadline=None, derandomize=os.environ.get("CI") == "true",
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# --- JSON text ------------------------------------------------------------------------------------------

ws = st.text(alphabet=" \t\n\r", max_size=3)
_SHORT_ESCAPES = ['\\"', "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t"]
_RAW = st.characters(blacklist_categories=("Cs",), blacklist_characters='"\\').filter(lambda c: c >= " ")


def _pair_escape(char: str) -> str:
    """An astral character as its escaped surrogate pair (`\\ud83d\\ude00`)."""
    high, low = divmod(ord(char) - 0x10000, 0x400)
    return f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04X}"


_piece = st.one_of(
    _RAW,
    st.sampled_from(_SHORT_ESCAPES),
    st.integers(0, 0xFFFF).map(lambda n: f"\\u{n:04x}"),  # any BMP unit, lone surrogates included
    st.characters(min_codepoint=0x10000).map(_pair_escape),
    st.sampled_from(["\U0001f600", "é", "日本", "\u2028", "\x7f", "\\ud83d\\ude00", "\\ud800", "\\udfff"]),
    st.sampled_from(["},", "},{", '},{\\"a\\":1'])  # a `},` inside a string: where a batch would be cut
)
strings = st.lists(_piece, max_size=8).map(lambda pieces: '"' + "".join(pieces) + '"')
keys = st.one_of(st.sampled_from(['""', '"a"', '"b"', '"results"', '"r\\u0065sults"', '"\\ud800"']), strings)
numbers = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.sampled_from(["0", "-0", "-0.0", "1e308", "1E+2", "1e-2", "0.5E-3", "-1.7976931348623157e308", "5e-324",
                     "2.2250738585072014e-308", "123456789012345678901234567890", "1" * 300]),
)
literals = st.sampled_from(["null", "true", "false"])


def _array(items: list[tuple[str, str, str]]) -> str:
    return "[" + ",".join(f"{a}{v}{b}" for a, v, b in items) + "]" if items else "[]"


def _object(members: list[tuple[str, str, str, str, str]]) -> str:
    return "{" + ",".join(f"{a}{k}{b}:{c}{v}{d}" for a, k, b, c, v, d in members) + "}" if members else "{}"


values = st.recursive(
    literals | numbers | strings,
    lambda inner: (st.lists(st.tuples(ws, inner, ws), max_size=4).map(_array)
                   | st.lists(st.tuples(ws, keys, ws, ws, inner, ws), max_size=4).map(_object)),
    max_leaves=12,
)
row_texts = st.lists(st.tuples(ws, keys, ws, ws, values, ws), max_size=5).map(_object)
results_values = st.one_of(
    st.lists(st.tuples(ws, row_texts, ws), max_size=6).map(_array),
    st.just("null"),
    st.lists(st.tuples(ws, values, ws), min_size=1, max_size=3).map(_array),  # maybe rows, maybe not
    values,  # maybe a list, usually not
)
members = st.tuples(ws, keys, ws, ws, values, ws)


@st.composite
def bodies(draw: st.DrawFn) -> str:
    """`{ other members, "results": ..., other members }` (results maybe missing, maybe twice)."""
    before = draw(st.lists(members, max_size=3))
    after = draw(st.lists(members, max_size=3))
    results = [(draw(ws), '"results"', draw(ws), draw(ws), draw(results_values), draw(ws))
               for _ in range(draw(st.sampled_from([1, 1, 1, 1, 0, 2])))]
    return draw(ws) + _object([*before, *results, *after]) + draw(ws)


# --- the oracle: json.loads of the whole body --------------------------------------------------------------

_LONE = re.compile("[\ud800-\udfff]")


class _Refused(Exception):
    pass


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(text)
    return value


def _no_lone(value: Any) -> Any:
    """What the docstring promises for an escaped lone surrogate: "?"."""
    if isinstance(value, str):
        return _LONE.sub("?", value)
    if isinstance(value, dict):
        return {_no_lone(k): _no_lone(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_lone(v) for v in value]
    return value


def expected(body: bytes, *, require_results: bool) -> list[dict[str, Any]] | type[PendoError]:
    """The rows `json.loads` finds, or the error the docstring names for this body."""
    objects: list[list[tuple[str, Any]]] = []

    def pairs(members: list[tuple[str, Any]]) -> dict[str, Any]:
        objects.append(members)
        return dict(members)

    try:
        doc = json.loads(body.decode("utf-8"), parse_float=_finite, object_pairs_hook=pairs)
    except (ValueError, RecursionError, _Refused):  # not UTF-8, not JSON, a float beyond the double range
        return PendoResponseError
    if not isinstance(doc, dict):
        return PendoResponseError
    if sum(key == "results" for key, _value in objects[-1]) > 1:  # the top-level object is built last
        return PendoResponseError  # which one is meant? (json.loads keeps the last, a stream has used the first)
    results = doc.get("results")
    if results is None:
        return PendoResponseError if require_results else []
    if not isinstance(results, list) or not all(isinstance(row, dict) for row in results):
        return PendoResponseError
    return [_no_lone(row) for row in results]


def outcome(chunks: list[bytes], *, require_results: bool = False) -> list[dict[str, Any]] | type[PendoError]:
    """What `iter_rows` gives: the rows, or the class of the PendoError it raised (any other escapes)."""
    try:
        return list(iter_rows(chunks, host="pendo", require_results=require_results))
    except PendoConnectionError:
        return PendoConnectionError
    except PendoResponseError:
        return PendoResponseError


def split(body: bytes, cuts: list[int]) -> list[bytes]:
    """The body in chunks cut at byte positions (inside a UTF-8 character too), empty chunks included."""
    bounds = [0, *sorted(min(c, len(body)) for c in cuts), len(body)]
    return [body[a:b] for a, b in pairwise(bounds)]


def _complete_at(body: bytes) -> int:
    """Where the top-level value ends: every shorter prefix is cut short."""
    return len(body.rstrip(b" \t\n\r"))


# --- the properties -----------------------------------------------------------------------------------------


@PROBE
@given(text=bodies(), require_results=st.booleans(), data=st.data())
def test_rows_equal_json_loads_in_any_chunking(text: str, require_results: bool, data: st.DataObject) -> None:
    """Any body in chunks cut at any bytes: the same rows as json.loads (compared by repr: 1 is not 1.0,
    -0.0 is not 0.0), or the error the docstring names."""
    body = text.encode()
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=12))
    want = expected(body, require_results=require_results)
    got = outcome(split(body, cuts), require_results=require_results)
    assert repr(got) == repr(want)


@PROBE
@given(rows=st.lists(row_texts | row_texts | values, min_size=1, max_size=12), nested=st.booleans(),
       data=st.data())
def test_rows_packed_as_pendo_sends_them_equal_json_loads(rows: list[str], nested: bool, data: st.DataObject) -> None:
    """Rows with nothing between them (`},{`, as Pendo writes them) are read in batches up to the last
    `},` of each chunk: the same rows as json.loads in any chunking, whatever `},` their strings and
    nested objects hold, or the error the docstring names (some "rows" are other values)."""
    packed = ",".join(['{"n":{"o":{}},"s":"},{"}' if nested else "{}", *rows])
    body = ('{"results":[' + packed + "]}").encode()
    cuts = data.draw(st.lists(st.integers(0, len(body)), max_size=6))
    assert repr(outcome(split(body, cuts))) == repr(expected(body, require_results=True))


def test_packed_rows_are_read_in_batches_not_one_by_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk of 1,000 packed rows takes one batch, and the last row (`}]`) the scanner."""
    calls = []
    one_by_one = _body._Walker._row
    monkeypatch.setattr(_body._Walker, "_row", lambda self: calls.append(1) or one_by_one(self))
    rows = [{"accountId": f"a{i}", "numEvents": i} for i in range(1000)]
    assert list(iter_rows([json.dumps({"results": rows}, separators=(",", ":")).encode()], host="p")) == rows
    assert len(calls) <= 2


@pytest.mark.parametrize("separators", [(",", ":"), (", ", ": ")])
def test_rows_with_nested_objects_are_read_in_batches(monkeypatch: pytest.MonkeyPatch,
                                                      separators: tuple[str, str]) -> None:
    """A visitor row holds `},"auto"`: the batch is cut at the last `},` that a `{` follows (a row's
    end), not at the last `},` (inside the last row: the batch would never decode)."""
    calls = []
    one_by_one = _body._Walker._row
    monkeypatch.setattr(_body._Walker, "_row", lambda self: calls.append(1) or one_by_one(self))
    rows = [{"visitorId": f"v{i}", "metadata": {"agent": {"email": f"v{i}@x.io"}, "auto": {"lastupdated": i}}}
            for i in range(1000)]
    body = json.dumps({"results": rows}, separators=separators).encode()
    assert list(iter_rows([body], host="p")) == rows
    assert len(calls) <= 2


@PROBE
@given(text=bodies(), data=st.data())
def test_a_valid_body_cut_anywhere_is_a_retriable_cut_off(text: str, data: st.DataObject) -> None:
    """A body whose rows are readable, stopped before its closing brace, is a PendoConnectionError
    (retried), whole or in chunks: never a short list, never "not JSON"."""
    body = text.encode()
    if not isinstance(expected(body, require_results=False), list):
        return
    cut = data.draw(st.integers(0, _complete_at(body) - 1))
    cuts = data.draw(st.lists(st.integers(0, cut), max_size=6))
    assert outcome([body[:cut]]) is PendoConnectionError
    assert outcome(split(body[:cut], cuts)) is PendoConnectionError


@PROBE
@given(text=bodies(), tail=st.sampled_from(["x", "{}", "[]", "0", ",", "}", "]", '"s"', "null", "\x00", "\ufeff"]),
       gap=ws)
def test_anything_after_the_top_level_object_is_refused(text: str, tail: str, gap: str) -> None:
    """A second value or garbage after the object: a PendoResponseError, never the rows alone."""
    body = text.encode()
    if not isinstance(expected(body, require_results=False), list):
        return
    assert outcome([body + (gap + tail).encode()]) is PendoResponseError


@pytest.mark.parametrize(("body", "want"), [
    (b'\xef\xbb\xbf{"results": [{"a": 1}]}', PendoResponseError),
    (b'{"results": [{"a": 1}]}{"results": [{"b": 2}]}', PendoResponseError),
    (b'{"results": [{"a": 1}]} \n {}', PendoResponseError),
    (b'{"results": [{"a": 1}]}]', PendoResponseError),
    (b'{"results": [{"a": 1}]}\n', [{"a": 1}]),
    (b'{"results": [{"a": 1}], "results": [{"b": 2}]}', PendoResponseError),
    (b'{"results": [{"a": 1}], "results": 5}', PendoResponseError),
    (b'{"results": [{"a": 1}], "results": null}', PendoResponseError),
    (b'{"results": null, "results": [{"a": 1}]}', PendoResponseError),
    (b'{"r\\u0065sults": [{"a": 1}]}', [{"a": 1}]),
    (b'{"results": [{"a": 1, "a": 2}]}', [{"a": 2}]),
], ids=["bom", "two-objects", "two-objects-spaced", "stray-bracket", "trailing-newline", "results-twice",
        "results-then-a-number", "results-then-null", "null-then-results", "escaped-key", "duplicate-row-key"])
def test_edges_of_the_top_level(body: bytes, want: Any) -> None:
    """A BOM, a second top-level value, `results` given twice: refused, never read half; a row's own
    duplicate key keeps the last value, as json.loads does."""
    assert outcome([body]) == want
    assert outcome(split(body, list(range(len(body))))) == want  # one byte per chunk


HUGE = b"9" * 5000  # Python refuses to turn more than 4300 digits into an int (sys.int_info)


@pytest.mark.parametrize("body", [
    b'{"results": [{"numEvents": ' + HUGE + b"}]}",
    b'{"results": [{"accountId": ' + HUGE + b', "a": 1}, {"b": 2}]}',
    b'{"startTime": ' + HUGE + b', "results": []}',
    b'{"results": [' + HUGE + b"]}",
], ids=["in-a-row", "id-in-a-row", "other-key", "as-a-row"])
def test_an_integer_too_long_to_read_is_a_clear_pendo_error(body: bytes) -> None:
    """An integer of more than 4300 digits is a PendoResponseError naming it, not a bare ValueError
    that would escape the client's error tree (whole or in chunks)."""
    for chunks in ([body], split(body, list(range(0, len(body), 7)))):
        with pytest.raises(PendoResponseError, match="digits"):
            list(iter_rows(chunks, host="pendo"))


# --- whole bodies (the GET answers: accounts, visitors, features) -------------------------------------------

GET_BODY = '[{"id": "acme \\"q\\" \\u00e9\\ud83d\\ude00", "n": -12.5e-3, "ok": true, "none": null, "big": 2e+2}, {}]'


def test_a_whole_body_cut_anywhere_is_a_retriable_cut_off() -> None:
    """parse_json on a GET body stopped at any character (inside a string, an escape, a number or a
    literal) is a PendoConnectionError, as iter_rows says of a cut answer; whole, it is the value."""
    body = GET_BODY.encode()
    assert parse_json(body, host="pendo") == json.loads(body)
    for cut in range(len(body)):
        with pytest.raises(PendoConnectionError):
            parse_json(body[:cut], host="pendo")


@pytest.mark.parametrize("body", [b'{"results": [{"numEvents": ' + HUGE + b"}]}", b"[" * 100_000 + b"]" * 100_000,
                                  b"Forbidden", b'{"a": tru}', b"<html>", b'[1] x', b'{"a": "\\x"}'],
                         ids=["integer-too-long", "nested-too-deeply", "plain-text", "bad-literal", "html",
                              "trailing-garbage", "bad-escape"])
def test_a_whole_body_that_is_not_json_is_a_clear_pendo_error(body: bytes) -> None:
    """Complete bodies that are not JSON: a PendoResponseError (not retried), never a bare ValueError or
    RecursionError escaping the client's error tree, never taken for a cut-off."""
    with pytest.raises(PendoResponseError):
        parse_json(body, host="pendo")


@PROBE
@given(text=bodies(), data=st.data())
def test_any_whole_body_cut_anywhere_is_a_retriable_cut_off(text: str, data: st.DataObject) -> None:
    """The same for any JSON text a body can carry: whole it is json.loads' value, cut it is a cut-off."""
    body = text.encode()
    try:
        want = json.loads(body)
    except ValueError:  # an integer beyond the digit limit: the test above
        return
    assert repr(parse_json(body, host="pendo")) == repr(want)
    with pytest.raises(PendoConnectionError):
        parse_json(body[:data.draw(st.integers(0, _complete_at(body) - 1))], host="pendo")
