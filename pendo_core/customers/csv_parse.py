"""Parse the CSCX customers CSV (interfaces.md) line by line into validated rows and line errors.

Its reading pieces (`csv_records`, `read_header`, `parse_fields`, `parse_customer_id`, `iso_date`,
`Invalid`, `LineError`, `Parsed`, `show`) serve the contacts and outcomes imports too, so all three
read, number and report alike.

Pure: give it any iterable of lines (an open file: `open(path, encoding="utf-8-sig",
errors="surrogateescape", newline="")`, as `jobs` does, so a byte that is not UTF-8 costs only its
line); it holds one record at a time, never the whole file. Line numbers are physical (header = line 1;
a record with a quoted newline is reported by the line it starts on). Choices:

- **Header**: the nine columns of interfaces.md in any order, names trimmed and case-insensitive. A
  missing or unknown column is one error and nothing else is read. A UTF-8 BOM is ignored; a file
  with no header at all is one error.
- **Bytes the store cannot hold**: a record with a byte that is not UTF-8 (read as a lone surrogate
  through `errors="surrogateescape"`) or a NUL byte (PostgreSQL refuses it in text, and would fail
  the whole batch with it) is one error naming the line and field; the other lines still land. A
  reader without surrogateescape stops at the first bad byte, reported at or after its line.
- **customer_id**: a UUID in any form Python reads (`{...}`, no hyphens, upper case), stored in the
  lowercase canonical form. **name** is required; every other column is optional (empty = none).
- **arr**: digits, optionally grouped by commas in threes, optionally with a decimal point:
  `120000`, `120,000.50` (quote it). No currency signs, exponents or negative amounts.
- **renewal_date**: `YYYY-MM-DD`. **domain**: a host, URL or e-mail address, stored as the bare host.
- **csm_email**: must look like `name@host.tld`; stored lowercase. A `csm_name` without an e-mail is
  dropped with a warning (a CSM is keyed by e-mail); an e-mail without a name is kept.
- **pendo_account_ids**: `;`-separated, spaces around each id trimmed, empty pieces and repeats
  ignored; an id cannot contain `;`. An id already claimed by another customer on an earlier line is
  an error on the later line.
- **Duplicate customer_id**: the later good line wins and a warning names both lines.
- Blank lines (or bare commas) are skipped. Every problem of a line is one error; a line with any
  error is skipped, the others still land.
"""

from __future__ import annotations

import csv
import re
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Generic, TypeVar

from pendo_core.common.names import normalise_domain

__all__ = ["COLUMNS", "CustomerRow", "Invalid", "LineError", "ParseResult", "Parsed", "csv_records", "iso_date",
           "parse_customer_id", "parse_customers_csv", "parse_fields", "read_header", "show"]

RowT = TypeVar("RowT")

COLUMNS = ("customer_id", "name", "domain", "segment", "arr", "renewal_date", "csm_name", "csm_email",
           "pendo_account_ids")

# Column widths of the schema (models.py): a longer value would fail the whole batch on PostgreSQL.
_MAX_LEN = {"name": 300, "domain": 300, "segment": 100, "csm_name": 200, "csm_email": 320}
_MAX_ACCOUNT_ID = 512
_ARR = re.compile(r"^(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_SHOW_MAX = 60


@dataclass(frozen=True, slots=True)
class CustomerRow:
    """One valid customer line, normalised."""

    customer_id: str
    name: str
    domain: str | None = None
    segment: str | None = None
    arr: float | None = None
    renewal_date: date | None = None
    csm_name: str | None = None
    csm_email: str | None = None
    pendo_account_ids: tuple[str, ...] = ()
    line_no: int = 0


@dataclass(frozen=True, slots=True)
class LineError:
    """A problem on one physical line; `message` is the whole one-line text, `line N: ...`."""

    line_no: int
    message: str

    def __str__(self) -> str:
        return self.message


@dataclass(slots=True)
class Parsed(Generic[RowT]):
    """A CSV import's good rows (one per key), its errors (those lines were skipped) and warnings."""

    rows: list[RowT] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)

    @property
    def bad_lines(self) -> list[int]:
        """The line numbers that were skipped, in order."""
        return sorted({e.line_no for e in self.errors})


ParseResult = Parsed[CustomerRow]


class Invalid(ValueError):
    """A column value is wrong; a column parser raises it, the text follows the column name in the message."""


def parse_customers_csv(lines: Iterable[str]) -> ParseResult:
    """Read a customers CSV line by line: good rows, plus one error per problem with its line."""
    state = _FileState()
    records = csv_records(lines, state.result.errors)
    header = read_header(records, COLUMNS, state.result.errors)
    if header is not None:
        for line_no, fields in records:
            if fields is not None:
                state.add(line_no, _parse_row(line_no, header, fields, state.result))
    return state.finish()


# --- physical lines and CSV records ----------------------------------------------------------


def _physical_lines(lines: Iterable[str]) -> Iterator[str]:
    """Each line ends with a newline (so a quoted newline survives) and the BOM is gone."""
    for number, line in enumerate(lines):
        text = line.removeprefix("\ufeff") if number == 0 else line
        yield text if text.endswith(("\n", "\r")) else text + "\n"


_Record = tuple[int, list[str] | None]


def csv_records(lines: Iterable[str], errors: list[LineError]) -> Iterator[_Record]:
    """(first physical line, fields) per non-blank record; fields None after an error in `errors`."""
    reader = csv.reader(_physical_lines(lines), strict=True)
    while True:
        start = reader.line_num + 1
        try:
            fields = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError:
            problem = "the file is not valid UTF-8 at or after this line; save it as UTF-8 CSV"
            errors.append(LineError(start, f"line {start}: {problem}"))
            return  # the decoder cannot resume mid-file
        except csv.Error as exc:
            errors.append(LineError(start, f"line {start}: {_csv_problem(exc)}"))
            yield start, None
            continue
        unstorable = _unstorable(fields)
        if unstorable is not None:
            errors.append(LineError(start, f"line {start}: {unstorable}"))
            yield start, None
        elif any(f.strip() for f in fields):  # blank lines and lines of bare commas carry nothing
            yield start, fields


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # what surrogateescape makes of a byte that is not UTF-8


def _unstorable(fields: list[str]) -> str | None:
    """Why a record's text cannot be stored (a byte that is not UTF-8, a NUL byte), or None."""
    for number, value in enumerate(fields, start=1):
        bad = _NOT_UTF8.search(value)
        if bad is not None:
            byte = ord(bad.group()) - 0xDC00
            return f"field {number} is not valid UTF-8 (byte 0x{byte:02X}); save the file as UTF-8 CSV"
        if "\x00" in value:
            return f"field {number} holds a NUL byte (\\x00), which cannot be stored; remove it"
    return None


def _csv_problem(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quoted field opened on this line is never closed (a missing closing \")"
    return f"malformed CSV ({text}); quote fields holding commas, quotes or newlines"


def read_header(records: Iterator[_Record], columns: Sequence[str], errors: list[LineError]) -> dict[str, int] | None:
    """Column positions from the first record, or None after recording in `errors` why there are none."""
    first = next(records, None)
    expected = ",".join(columns)
    if first is None:
        if not errors:  # a stream that broke before any header (not UTF-8) is already reported
            errors.append(LineError(1, f"line 1: the file is empty; expected the header {expected}"))
        return None
    line_no, fields = first
    if fields is None:
        return None  # csv_records has reported why the header line is not CSV
    problem = _header_problem(fields, columns)
    if problem:
        errors.append(LineError(line_no, f"line {line_no}: header {problem}; expected {expected}"))
        return None
    return {name.strip().lower(): i for i, name in enumerate(fields)}


def _header_problem(fields: list[str], columns: Sequence[str]) -> str | None:
    names = [f.strip().lower() for f in fields]
    missing = [c for c in columns if c not in names]
    unknown = [n for n in names if n not in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    parts = [f"{label} {', '.join(show(n) for n in values)}" for label, values in
             (("lacks", missing), ("has unknown", unknown), ("repeats", repeated)) if values]
    return "; ".join(parts) or None


def parse_fields(line_no: int, header: dict[str, int], fields: list[str], parsers: Mapping[str, Callable[[str], Any]],
                 errors: list[LineError]) -> dict[str, Any] | None:
    """Each column's parsed value (fields trimmed), or None after one error per problem of the line."""
    if len(fields) != len(header):
        errors.append(LineError(line_no, f"line {line_no}: expected {len(header)} fields, found "
                                f"{len(fields)}; quote a value that holds a comma"))
        return None
    values: dict[str, Any] = {}
    problems: list[str] = []
    for column, parse in parsers.items():
        try:
            values[column] = parse(fields[header[column]].strip())
        except Invalid as exc:
            problems.append(f"line {line_no}: {column} {exc}")
    errors.extend(LineError(line_no, p) for p in problems)
    return None if problems else values


# --- one row ---------------------------------------------------------------------------------


def _parse_row(line_no: int, header: dict[str, int], fields: list[str], result: ParseResult) -> CustomerRow | None:
    values = parse_fields(line_no, header, fields, _PARSERS, result.errors)
    return None if values is None else CustomerRow(line_no=line_no, **values)


def parse_customer_id(raw: str) -> str:
    """The canonical (lowercase, hyphenated) form of a customer UUID in any form Python reads, or Invalid."""
    if not raw:
        raise Invalid("is empty; every line needs the customer's UUID")
    try:
        return str(uuid.UUID(raw))
    except ValueError:
        raise Invalid(f"{show(raw)} is not a UUID") from None


def _name(raw: str) -> str:
    if not raw:
        raise Invalid("is empty; every customer needs a name")
    return _text("name")(raw) or raw


def _text(column: str) -> Callable[[str], str | None]:
    def parse(raw: str) -> str | None:
        if len(raw) > _MAX_LEN[column]:
            raise Invalid(f"is {len(raw)} characters long; at most {_MAX_LEN[column]} fit")
        return raw or None

    return parse


def _domain(raw: str) -> str | None:
    if not raw:
        return None
    domain = normalise_domain(raw)
    if domain is None:
        raise Invalid(f"{show(raw)} is not a domain such as acme.com")
    return _text("domain")(domain)


def _arr(raw: str) -> float | None:
    if not raw:
        return None
    if raw.startswith("-"):
        raise Invalid(f"{show(raw)} is negative; ARR must be 0 or more")
    if not _ARR.match(raw):
        raise Invalid(f"{show(raw)} is not an amount such as 120000 or 120,000.50 (no currency sign)")
    return float(raw.replace(",", ""))


def _renewal_date(raw: str) -> date | None:
    return iso_date(raw) if raw else None


def iso_date(raw: str) -> date:
    """A date written `YYYY-MM-DD`, or Invalid."""
    try:
        if _ISO_DATE.match(raw):
            return date.fromisoformat(raw)
    except ValueError:
        pass
    raise Invalid(f"{show(raw)} is not a date in the form YYYY-MM-DD")


def _csm_email(raw: str) -> str | None:
    if raw and not _EMAIL.match(raw):
        raise Invalid(f"{show(raw)} is not an e-mail address")
    return _text("csm_email")(raw.lower())


def _account_ids(raw: str) -> tuple[str, ...]:
    ids = tuple(dict.fromkeys(p.strip() for p in raw.split(";") if p.strip()))
    for account_id in ids:
        if len(account_id) > _MAX_ACCOUNT_ID:
            raise Invalid(f"{show(account_id)} is longer than {_MAX_ACCOUNT_ID} characters")
    return ids


_PARSERS: dict[str, Callable[[str], Any]] = {
    "customer_id": parse_customer_id,
    "name": _name,
    "domain": _domain,
    "segment": _text("segment"),
    "arr": _arr,
    "renewal_date": _renewal_date,
    "csm_name": _text("csm_name"),
    "csm_email": _csm_email,
    "pendo_account_ids": _account_ids,
}


def show(value: str) -> str:
    """A value quoted for a one-line message: control characters escaped, long values cut."""
    cut = value if len(value) <= _SHOW_MAX else value[: _SHOW_MAX - 3] + "..."
    shown = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return '"' + shown.replace('"', '\\"') + '"'


# --- rules across lines ----------------------------------------------------------------------


@dataclass(slots=True)
class _FileState:
    """Rows by customer (the later line wins) and which customer claimed each account id."""

    result: ParseResult = field(default_factory=ParseResult)
    rows: dict[str, CustomerRow] = field(default_factory=dict)
    claims: dict[str, CustomerRow] = field(default_factory=dict)

    def add(self, line_no: int, row: CustomerRow | None) -> None:
        """Keep a valid row unless it claims another customer's account id."""
        if row is None or self._conflicts(line_no, row):
            return
        row = self._without_lonely_csm_name(line_no, row)
        earlier = self.rows.pop(row.customer_id, None)
        if earlier is not None:
            self._release(earlier)
            self.result.warnings.append(LineError(line_no, f"line {line_no}: customer_id "
                                                  f"{row.customer_id} repeats line {earlier.line_no}; "
                                                  f"this line replaces it"))
        self.rows[row.customer_id] = row
        self.claims.update(dict.fromkeys(row.pendo_account_ids, row))

    def _conflicts(self, line_no: int, row: CustomerRow) -> bool:
        taken = [(a, self.claims[a]) for a in row.pendo_account_ids
                 if a in self.claims and self.claims[a].customer_id != row.customer_id]
        self.result.errors.extend(
            LineError(line_no, f"line {line_no}: pendo_account_ids {show(a)} is already claimed by "
                               f"customer {owner.customer_id} on line {owner.line_no}")
            for a, owner in taken)
        return bool(taken)

    def _release(self, earlier: CustomerRow) -> None:
        for account_id in earlier.pendo_account_ids:
            self.claims.pop(account_id, None)

    def _without_lonely_csm_name(self, line_no: int, row: CustomerRow) -> CustomerRow:
        if not row.csm_name or row.csm_email:
            return row
        self.result.warnings.append(LineError(line_no, f"line {line_no}: csm_name {show(row.csm_name)} "
                                              f"ignored: csm_email is empty (a CSM is keyed by e-mail)"))
        return replace(row, csm_name=None)

    def finish(self) -> ParseResult:
        """The result, rows in the order their winning lines appeared."""
        self.result.rows = list(self.rows.values())
        return self.result
