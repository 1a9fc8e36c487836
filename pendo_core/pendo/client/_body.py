"""Turning Pendo response bodies into Python values: aggregation rows as a stream, GET bodies whole.

Aggregation bodies can be gigabytes (§9.3 of pendo-api.md), so rows are parsed incrementally: each
network chunk is decoded and appended to what is left of the previous one, and the rows it completes
are yielded at once; memory holds one chunk and the start of the row it cuts, whatever the body size.
A small walker over the top-level object finds `results`. Inside it, every whole row up to the last
`},` of the text that a `{` follows is decoded in one call by msgspec (a batch); when a batch does not
decode as a list of plain rows, the rows of that text are taken one at a time by the standard library's
C scanner (`json`'s `scan_once`), which reads or refuses exactly as `json.loads` would, and says what is
wrong. A batch that decodes holds exactly those rows (a `},{` inside a string or a nested list of
objects cuts the batch there, and it does not decode), and msgspec refuses whatever `json` reads differently (lone
surrogates, floats beyond the double range), so both paths give the same rows. Given a row type (a
msgspec Struct: the usage streams pass theirs, which forbid fields they do not declare, whose values
msgspec would skip unchecked), a batch whose rows all fit it is decoded straight into it, with no dict
per row; a batch with a row that does not fit is decoded as dicts, and so is a batch whose text holds a
NUL character (no store keeps one in text: a row type's strings never hold it). On a 109 MB answer of
900,000 compact rows this takes 0.5 µs a row, half of `json.loads` of the whole body (1.0 µs) and a
quarter of the scanner alone (1.8 µs; ijson's C backend, the first parser here, took twice the
scanner's time). Integers are read exactly up to Python's limit of 4,300 digits
(`sys.get_int_max_str_digits`).

Errors: a body that ends before its JSON does is a broken connection (retriable); a complete body
that is not JSON, or not `{"results": [ {row}, ... ]}`, is a PendoResponseError (not retriable).
`results` null or missing reads as no rows, unless the caller requires the list (the usage windows
do: an answer without its list must not pass for "no activity"). `results` given twice is refused
(json.loads would keep the last; a stream has already handed out the first). NaN, Infinity, floats
beyond the double range and integers beyond the digit limit are refused; an escaped lone surrogate
becomes "?".
"""

from __future__ import annotations

import codecs
import json
import math
import re
import sys
from collections.abc import Iterable, Iterator
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, NoReturn

import msgspec

from pendo_core.pendo.client.errors import (
    PendoResponseError,
    malformed_body_error,
    truncated_body_error,
)

_SPACE = re.compile(r"[ \t\n\r]*")
_WHITESPACE = frozenset(" \t\n\r")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_CUT_TOKEN = re.compile(r"-?[0-9]*\.?[0-9]*(?:[eE][+-]?[0-9]*)?|t(?:r(?:ue?)?)?|f(?:a(?:l(?:se?)?)?)?|n(?:u(?:ll?)?)?")
_CUT_ESCAPE = re.compile(r"u[0-9a-fA-F]{0,4}(?:\\u?[0-9a-fA-F]{0,3})?")
_TOKEN_END = frozenset(' \t\n\r,:]}"')
_LONGEST_TOKEN = 64  # an unfinished number, literal or escape longer than this is not cut, it is wrong
_NUL = "\\u0000"  # how a NUL character is written in JSON (a raw one is invalid there)
_TOO_LONG = f"an integer of more than {sys.get_int_max_str_digits()} digits"
_KINDS = {"{": "object", "[": "array", '"': "string", "t": "boolean", "f": "boolean", "n": "null"}


class _NotJson(ValueError):
    """A value JSON does not allow (NaN, Infinity, a float beyond the double range)."""


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _NotJson(text)
    return value


def _no_constant(text: str) -> Any:
    raise _NotJson(text)


_decode_batch = msgspec.json.Decoder(list[Any]).decode
_scan = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant).scan_once  # type: ignore[attr-defined]


class _More(Exception):
    """The buffered text stops inside the current step: read more of the body, then take it again."""


class _Bad(Exception):
    """The body is not what it should be; `detail` names how."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def iter_rows(chunks: Iterable[bytes], *, host: str, require_results: bool = False,
              row_type: type[msgspec.Struct] | None = None) -> Iterator[Any]:
    """Yield each row of `results` as its bytes arrive; `results` null or missing -> no rows, or an
    error at the end of the body when `require_results`. Rows are dicts; with `row_type`, the rows of a
    batch that all fit it are instances of it instead (decoded straight into it by msgspec, which reads
    the same values as `json`; a batch with one row that does not fit, or with a NUL character anywhere,
    is read as dicts)."""
    walker = _Walker(row_type)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        for chunk in chunks:
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise _Bad("not UTF-8 text") from exc
            yield from walker.feed(text)
        try:
            text = decoder.decode(b"", final=True)
        except UnicodeDecodeError:  # the body stopped inside a character
            raise _More from None
        yield from walker.finish(text)
    except _Bad as exc:
        raise malformed_body_error(host, exc.detail) from None
    except _More:  # only `finish` lets this out: the body ended mid-way
        raise truncated_body_error(host, walker.count) from None
    if require_results and walker.results_kind != "a list":
        raise PendoResponseError(f"{host} answered without a list of rows (results is {walker.results_kind})",
                                 host=host)


class _Walker:
    """The top-level object, one step at a time. A step (the opening brace, a key, a value and what
    follows it, a row, what follows a row) either completes or raises `_More` and is taken again, whole,
    with the next chunk's text: nothing is taken from a value that may be cut short (a number, a
    literal) until the character after it is in."""

    def __init__(self, row_type: type[msgspec.Struct] | None = None) -> None:
        self.decode_typed = msgspec.json.Decoder(list[row_type]).decode if row_type else None  # type: ignore[valid-type]
        self.text = ""
        self.pos = 0
        self.state = "start"  # start, key, value, row, after_row, end
        self.key = ""
        self.first_row = False  # `]` may close the list here
        self.results_kind = "missing"
        self.count = 0

    def feed(self, text: str) -> Iterator[Any]:
        """Take more of the body's text; yields the rows it completes."""
        self.text = self.text[self.pos:] + text
        self.pos = 0
        batches = True  # until a batch fails: then row by row up to the end of this text
        try:
            while self.state != "end":
                if self.state == "row":
                    if batches:
                        rows = self._batch()
                        if rows is not None:
                            self.count += len(rows)
                            yield from rows
                            continue
                        batches = False
                    row = self._row()
                    if row is not None:
                        self.count += 1
                        yield row
                elif self.state == "after_row":  # the other per-row step: no look-up by name
                    self._after_row()
                else:
                    getattr(self, f"_{self.state}")()
        except _More:
            pass

    def finish(self, text: str) -> Iterator[Any]:
        """The last of the text: the body must end here, its JSON complete (else `_More`: truncated)."""
        yield from self.feed(text)
        if self.state != "end":
            raise _More
        if _skip(self.text, self.pos) < len(self.text):
            raise _Bad("invalid JSON")

    def _start(self) -> None:
        at = _skip(self.text, self.pos)
        first = self._char(at)
        if first != "{":
            kind = _kind(first)
            raise _Bad("invalid JSON" if kind is None else f"the body is a JSON {kind}")
        self._next_member(at + 1, first=True)

    def _next_member(self, at: int, *, first: bool = False) -> None:
        """After `{` or a member: `}` ends the object, else (after a comma, unless first) a key follows."""
        at = _skip(self.text, at)
        char = self._char(at)
        if char == "}":
            self.pos, self.state = at + 1, "end"
        elif first or char == ",":
            self.pos, self.state = (at if first else _skip(self.text, at + 1)), "key"
        else:
            raise _Bad("invalid JSON")

    def _key(self) -> None:
        at = _skip(self.text, self.pos)
        if self._char(at) != '"':
            raise _Bad("invalid JSON")
        try:
            key, at = scanstring(self.text, at + 1, True)
        except json.JSONDecodeError as exc:
            self._failed(exc.pos, exc.msg)
        if key == "results" and self.results_kind != "missing":  # json.loads keeps the last, rows came from the first
            raise _Bad("results given twice")
        at = _skip(self.text, at)
        if self._char(at) != ":":
            raise _Bad("invalid JSON")
        self.key, self.pos, self.state = key, _skip(self.text, at + 1), "value"

    def _value(self) -> None:
        at = _skip(self.text, self.pos)
        first = self._char(at)
        if self.key == "results" and first == "[":
            self.results_kind = "a list" if self.results_kind == "missing" else self.results_kind
            self.pos, self.state, self.first_row = at + 1, "row", True
            return
        _value, end = self._scan(at)
        self._followed(end, ",}")
        if self.key == "results" and self.results_kind == "missing":
            if first != "n":
                raise _Bad(f"results is a {_kind(first)}, not a list")
            self.results_kind = "null"
        self._next_member(end)

    def _batch(self) -> list[Any] | None:
        """Every whole row up to the last row end in the text (`_last_row_end`), decoded at once by
        msgspec (into the row type when every row fits it); None when there is no such row or the batch
        is not a list of plain rows (then `_row` takes them one by one and says what is wrong). A cut
        inside a string or a nested value leaves the batch unbalanced, so it does not decode: a batch
        that decodes holds exactly the rows `_row` would have read."""
        at = _skip(self.text, self.pos)
        end = self._last_row_end(at)
        if end < 0:
            return None
        batch = "[" + self.text[at:end + 1] + "]"
        try:
            rows = self.decode_typed(batch) if self.decode_typed and _NUL not in batch else None
        except msgspec.ValidationError:  # valid JSON, but a row does not fit the type: read them as dicts
            rows = None
        except (msgspec.DecodeError, RecursionError):  # anything `_row` refuses, or reads differently
            return None
        if rows is None:
            try:
                rows = _decode_batch(batch)
            except (msgspec.DecodeError, RecursionError):
                return None
            if not all(type(row) is dict for row in rows):
                return None
        self.pos, self.first_row = end + 2, False
        return rows

    def _last_row_end(self, at: int) -> int:
        """Where the last `},` after `at` that a `{` follows is (-1: none): the end of a row, unless the
        `},` is inside a string or a nested list of objects (then the batch does not decode). Rows with
        nested objects hold `},"key"` too: cut there, a batch would never decode."""
        text = self.text
        end = text.rfind("},", at)
        while end >= 0:
            after = _skip(text, end + 2)
            if after < len(text) and text[after] == "{":
                return end
            end = text.rfind("},", at, end)
        return end

    def _row(self) -> dict[str, Any] | None:
        """The next row (handed out as soon as its closing brace is in), or None at the list's end."""
        at = _skip(self.text, self.pos)
        first = self._char(at)
        if first == "]" and self.first_row:
            self._next_member(at + 1)
            return None
        row, end = self._scan(at)
        if not isinstance(row, dict):
            self._followed(end, ",]")  # `12` may be the start of `123`: still not a row, but say so once whole
            raise _Bad(f"results holds a {_kind(first)}, not row objects")
        if self.text.startswith(",", end):  # the usual separator, taken at once (else `_after_row` decides)
            self.pos, self.first_row = end + 1, False
        else:
            self.pos, self.state = end, "after_row"
        return _without_lone_surrogates(row) if self.text.find("\\u", at, end) >= 0 else row

    def _after_row(self) -> None:
        at = _skip(self.text, self.pos)
        if self._char(at) == "]":
            self._next_member(at + 1)
        elif self.text[at] == ",":
            self.pos, self.state, self.first_row = at + 1, "row", False
        else:
            raise _Bad("invalid JSON")

    def _scan(self, at: int) -> tuple[Any, int]:
        try:
            return _scan(self.text, at)  # type: ignore[no-any-return]
        except StopIteration as exc:
            self._failed(exc.value, "Expecting value")
        except json.JSONDecodeError as exc:
            self._failed(exc.pos, exc.msg)
        except _NotJson as exc:
            raise _Bad("invalid JSON") from exc
        except ValueError as exc:  # only int() raises it here: more digits than sys.get_int_max_str_digits()
            raise _Bad(_TOO_LONG) from exc
        except RecursionError as exc:
            raise _Bad("nested too deeply") from exc

    def _followed(self, end: int, allowed: str) -> int:
        """Where the character after the value ending at `end` is; it must be one of `allowed`. Until
        it has arrived the value may be cut short (`-0.` of `-0.5`), so the step waits for it."""
        at = _skip(self.text, end)
        if self._char(at) not in allowed:
            self._failed(end, "")
        return at

    def _failed(self, where: int, why: str) -> NoReturn:
        """A scan stopped at `where`: more text can mend it only if what follows is all cut off there
        (a string still open, or one unfinished token and nothing after it)."""
        rest = self.text[where:]
        if why.startswith("Unterminated string") or (len(rest) < _LONGEST_TOKEN
                                                      and not any(c in _TOKEN_END for c in rest)):
            raise _More
        raise _Bad("invalid JSON")

    def _char(self, at: int) -> str:
        if at >= len(self.text):
            raise _More
        return self.text[at]


def _skip(text: str, at: int) -> int:
    """The first position at or after `at` that is not JSON whitespace."""
    if at < len(text) and text[at] not in _WHITESPACE:  # compact bodies: no regex call per row
        return at
    return _SPACE.match(text, at).end()  # type: ignore[union-attr]


def _kind(first: str) -> str | None:
    """What JSON value starts with `first` (None: none does)."""
    if first in _KINDS:
        return _KINDS[first]
    return "number" if first == "-" or first.isdigit() else None


def _without_lone_surrogates(value: Any) -> Any:
    """An escaped half of a surrogate pair cannot be stored as text: it becomes "?"."""
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("?", value)
    if isinstance(value, dict):
        return {_without_lone_surrogates(k): _without_lone_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_lone_surrogates(v) for v in value]
    return value


def parse_json(content: bytes, *, host: str) -> Any:
    """A whole JSON body: truncated -> PendoConnectionError, not JSON -> PendoResponseError."""
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.reason == "unexpected end of data":  # the body stopped inside a character
            raise truncated_body_error(host, 0) from exc
        raise malformed_body_error(host, "not UTF-8 text") from exc
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        if _stopped(text, exc):
            raise truncated_body_error(host, 0) from exc
        raise malformed_body_error(host, f"invalid JSON at character {exc.pos}") from exc
    except ValueError as exc:  # int() of more digits than the limit
        raise malformed_body_error(host, _TOO_LONG) from exc
    except RecursionError as exc:
        raise malformed_body_error(host, "nested too deeply") from exc


def _stopped(text: str, exc: json.JSONDecodeError) -> bool:
    """json.loads failed only because the text stopped: inside a string, or in a token (a number, a
    literal, the escape json reports from its `u`) that runs to the end of the text."""
    if exc.msg.startswith("Unterminated string"):
        return True
    cut = _CUT_ESCAPE if exc.msg.startswith("Invalid \\uXXXX") else _CUT_TOKEN
    return exc.msg != "Extra data" and cut.fullmatch(text, exc.pos) is not None
