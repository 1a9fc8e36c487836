"""Turning Pendo response bodies into Python values: aggregation rows as a stream, GET bodies whole.

Aggregation bodies can be gigabytes (§9.3 of pendo-api.md), so rows are parsed incrementally with
ijson's push interface: each network chunk is fed in and the rows it completes are yielded at once;
memory holds one chunk and its rows, whatever the body size.

Errors: a body that ends before its JSON does is a broken connection (retriable); a complete body
that is not JSON, or not `{"results": [ {row}, ... ]}`, is a PendoResponseError (not retriable).
`results` null or missing reads as no rows, unless the caller requires the list (the usage windows
do: an answer without its list must not pass for "no activity").

Big numbers: the fast C parser (yajl) stops at an integer beyond 64 bits ("integer overflow"), which
is valid JSON (a numeric id of 30 digits). The stream cannot be resumed, so that body is reported as
retriable (BigNumberError, a PendoConnectionError); the client then reads its answers with ijson's
exact pure-Python backend (`exact=True`), and the retry gets the row with the whole number.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import ijson

from pendo_core.pendo.client.errors import (
    PendoConnectionError,
    PendoResponseError,
    malformed_body_error,
    truncated_body_error,
)

try:  # the C backend parses ~10x faster; ijson falls back to pure Python where it is missing
    _ijson: Any = ijson.get_backend("yajl2_c")
except ImportError:  # pragma: no cover - depends on the installed wheel
    _ijson = ijson

_exact: Any = ijson.get_backend("python")

ROWS_PREFIX = "results.item"
_PROBE_SLICE = 4096  # the shape probe sees the body only until it has decided, one slice at a time


class BigNumberError(PendoConnectionError):
    """An integer beyond 64 bits stopped the fast parser: read the answer again with `exact=True`."""


def iter_rows(chunks: Iterable[bytes], *, host: str, require_results: bool = False,
              exact: bool = False) -> Iterator[dict[str, Any]]:
    """Yield each row of `results` as its bytes arrive; `results` null or missing -> no rows, or an
    error at the end of the body when `require_results`. `exact` parses with the pure-Python backend,
    which holds integers of any size (slower)."""
    rows = ijson.sendable_list()
    parser = (_exact if exact else _ijson).items_coro(rows, ROWS_PREFIX, use_float=True)
    probe = _ShapeProbe(host, exact)
    count = 0
    for chunk in chunks:
        if not chunk:  # an empty send means end-of-input to ijson
            continue
        probe.feed(chunk)
        _send(parser, chunk, host)
        for row in rows:
            if not isinstance(row, dict):
                raise malformed_body_error(host, f"results holds a {_kind(row)}, not row objects")
            count += 1
            yield row
        del rows[:]
    _finish(parser, host, count)
    if require_results and not probe.saw_list:
        raise PendoResponseError(f"{host} answered without a list of rows (results is {probe.results_kind})",
                                 host=host)


def parse_json(content: bytes, *, host: str) -> Any:
    """A whole JSON body: truncated -> PendoConnectionError, not JSON -> PendoResponseError."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise malformed_body_error(host, "not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.pos >= len(text.rstrip()):  # failed only because the text stopped
            raise truncated_body_error(host, 0) from exc
        raise malformed_body_error(host, f"invalid JSON at character {exc.pos}") from exc


def _send(parser: Any, chunk: bytes, host: str) -> None:
    try:
        parser.send(chunk)
    except ijson.JSONError as exc:  # mid-body: the bytes themselves are not JSON
        if "integer overflow" in str(exc):
            raise BigNumberError(f"{host} sent an integer beyond 64 bits, which the fast JSON parser cannot hold: "
                                 "reading the answer again with the exact parser", host=host) from exc
        raise malformed_body_error(host, "invalid JSON") from exc


def _finish(parser: Any, host: str, count: int) -> None:
    try:
        parser.close()
    except ijson.JSONError as exc:  # at end of input: the JSON stopped short
        raise truncated_body_error(host, count) from exc


class _ShapeProbe:
    """Checks the top of the body is an object whose `results` is a list or null.

    Fed from the start of the body until it can decide, which for Pendo's bodies is within the
    first slice; it then costs nothing more.
    """

    def __init__(self, host: str, exact: bool = False) -> None:
        self._host = host
        self._events = ijson.sendable_list()
        self._parser = (_exact if exact else _ijson).parse_coro(self._events, use_float=True)
        self._started = False
        self._at_results = False
        self.decided = False
        self.results_kind = "missing"

    def feed(self, chunk: bytes) -> None:
        """Look at `chunk` unless the shape is already known."""
        for start in range(0, len(chunk), _PROBE_SLICE):
            if self.decided:
                return
            try:
                self._parser.send(chunk[start : start + _PROBE_SLICE])
            except ijson.JSONError:  # the row parser reports syntax errors; the probe just stops
                self.decided = True
                return
            self._inspect()

    def _inspect(self) -> None:
        for prefix, event, _value in self._events:
            if not self._started:
                self._started = True
                if (prefix, event) != ("", "start_map"):
                    raise malformed_body_error(self._host, f"the body is a JSON {_event_kind(event)}")
            elif self._at_results:
                if event not in ("start_array", "null"):
                    raise malformed_body_error(self._host, f"results is a {_event_kind(event)}, not a list")
                self.results_kind = "a list" if event == "start_array" else "null"
                self.decided = True
                return
            elif (prefix, event) == ("", "end_map"):
                self.decided = True  # no `results` key at all: no rows
                return
            self._at_results = (prefix, event, _value) == ("", "map_key", "results")
        del self._events[:]


    @property
    def saw_list(self) -> bool:
        """Whether `results` was there and opened a list."""
        return self.results_kind == "a list"


def _event_kind(event: str) -> str:
    return {"start_map": "object", "start_array": "array", "map_key": "object"}.get(event, event)


def _kind(value: object) -> str:
    return {list: "array", str: "string", bool: "boolean", type(None): "null"}.get(type(value), "number")
