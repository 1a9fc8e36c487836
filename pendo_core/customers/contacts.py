"""Parse the contacts CSV (`customer_id,name,email,title,role`) line by line into rows and line errors.

Pure, streaming and numbered like `pendo_core.customers.csv_parse` (whose reader it reuses): give it any
iterable of lines; line numbers are physical (header = line 1; a record with a quoted newline is
reported by the line it starts on). Choices:

- **Header**: the five columns in any order, names trimmed and case-insensitive; a missing, unknown or
  repeated column is one error and nothing else is read. A UTF-8 BOM is ignored.
- **customer_id**: a UUID in any form Python reads, stored in the lowercase canonical form. Whether
  the customer exists is the store's question (`repo.known_customers`).
- **name** and **email** are required; **email** must look like `name@host.tld` and is stored
  lowercase (contacts match Pendo visitors by e-mail, case-insensitively). **title** is optional.
- **role**: `champion`, `decision_maker`, `admin` or `user`, any case; spaces and hyphens read as
  underscores, so `Decision Maker` and `decision-maker` are `decision_maker`.
- **Duplicate (customer_id, email)**: the later good line wins and a warning names both lines.
- Blank lines are skipped. Every problem of a line is one error; a line with any error is skipped,
  the others still land.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

# The reader of the customers CSV: one behaviour for every import.
from pendo_core.customers.csv_parse import (
    Invalid,
    LineError,
    Parsed,
    csv_records,
    parse_customer_id,
    parse_fields,
    read_header,
    show,
)

__all__ = ["COLUMNS", "ROLES", "ContactParse", "ContactRow", "LineError", "normalise_role", "parse_contacts_csv"]

COLUMNS = ("customer_id", "name", "email", "title", "role")
ROLES = ("champion", "decision_maker", "admin", "user")
KEY_ROLES = ("champion", "decision_maker")  # the stakeholders whose engagement is watched
_MAX_LEN = {"name": 200, "email": 320, "title": 200}  # column widths of customer_contacts
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


@dataclass(frozen=True, slots=True)
class ContactRow:
    """One valid contact line, normalised."""

    customer_id: str
    name: str
    email: str
    role: str
    title: str | None = None
    line_no: int = 0


ContactParse = Parsed[ContactRow]  # rows one per customer and e-mail


def parse_contacts_csv(lines: Iterable[str]) -> ContactParse:
    """Read a contacts CSV line by line: good rows, plus one error per problem with its line."""
    result = ContactParse()
    stream = csv_records(lines, result.errors)
    header = read_header(stream, COLUMNS, result.errors)
    kept: dict[tuple[str, str], ContactRow] = {}
    if header is not None:
        for line_no, fields in stream:
            row = None if fields is None else _parse_row(line_no, header, fields, result)
            if row is not None:
                _keep(kept, row, result)
    result.rows = list(kept.values())
    return result


def normalise_role(raw: str) -> str | None:
    """The canonical role for a spelling such as `Decision Maker`, or None when it is not a role."""
    role = re.sub(r"[\s-]+", "_", raw.strip().lower())
    return role if role in ROLES else None


def _parse_row(line_no: int, header: dict[str, int], fields: list[str], result: ContactParse) -> ContactRow | None:
    values = parse_fields(line_no, header, fields, _PARSERS, result.errors)
    return None if values is None else ContactRow(line_no=line_no, **values)


def _keep(kept: dict[tuple[str, str], ContactRow], row: ContactRow, result: ContactParse) -> None:
    """The later line of a (customer, e-mail) wins, with a warning naming the earlier one."""
    key = (row.customer_id, row.email)
    earlier = kept.pop(key, None)
    if earlier is not None:
        result.warnings.append(LineError(row.line_no, f"line {row.line_no}: {row.email} of customer "
                                         f"{row.customer_id} repeats line {earlier.line_no}; this line replaces it"))
    kept[key] = row


def _required(column: str, why: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if not raw:
            raise Invalid(f"is empty; {why}")
        return _fits(column, raw)

    return parse


def _fits(column: str, raw: str) -> str:
    if len(raw) > _MAX_LEN[column]:
        raise Invalid(f"is {len(raw)} characters long; at most {_MAX_LEN[column]} fit")
    return raw


def _email(raw: str) -> str:
    if not raw:
        raise Invalid("is empty; contacts are matched to Pendo visitors by e-mail")
    if not _EMAIL.match(raw):
        raise Invalid(f"{show(raw)} is not an e-mail address")
    return _fits("email", raw.lower())


def _title(raw: str) -> str | None:
    return _fits("title", raw) if raw else None


def _role(raw: str) -> str:
    if not raw:
        raise Invalid(f"is empty; use one of {', '.join(ROLES)}")
    role = normalise_role(raw)
    if role is None:
        raise Invalid(f"{show(raw)} is not one of {', '.join(ROLES)}")
    return role


_PARSERS: dict[str, Callable[[str], Any]] = {
    "customer_id": parse_customer_id,
    "name": _required("name", "every contact needs a name"),
    "email": _email,
    "title": _title,
    "role": _role,
}
