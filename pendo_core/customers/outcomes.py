"""Parse the renewal outcomes CSV (`customer_id,outcome,outcome_date`) for the health back-test.

Pure, streaming and numbered with the reader of `pendo_core.customers.csv_parse`, as the customers
and contacts imports are: line numbers are physical (header = line 1). Choices:

- **Header**: the three columns in any order, names trimmed and case-insensitive; a missing, unknown
  or repeated column is one error and nothing else is read. A UTF-8 BOM is ignored.
- **customer_id**: a UUID in any form Python reads, stored in the lowercase canonical form. Whether
  the customer exists is the store's question (`repo.known_customers`).
- **outcome**: `renewed` or `churned`, any case. **outcome_date**: `YYYY-MM-DD`.
- **Duplicate (customer_id, outcome_date)**: the later good line wins and a warning names both lines.
- Blank lines are skipped. Every problem of a line is one error; a line with any error is skipped,
  the others still land.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from pendo_core.customers.csv_parse import (
    Invalid,
    LineError,
    Parsed,
    csv_records,
    iso_date,
    parse_customer_id,
    parse_fields,
    read_header,
    show,
)

__all__ = ["COLUMNS", "OUTCOMES", "LineError", "OutcomeParse", "OutcomeRow", "parse_outcomes_csv"]

COLUMNS = ("customer_id", "outcome", "outcome_date")
OUTCOMES = ("renewed", "churned")


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One valid outcome line."""

    customer_id: str
    outcome: str
    outcome_date: date
    line_no: int = 0


OutcomeParse = Parsed[OutcomeRow]  # rows one per customer and date


def parse_outcomes_csv(lines: Iterable[str]) -> OutcomeParse:
    """Read an outcomes CSV line by line: good rows, plus one error per problem with its line."""
    result = OutcomeParse()
    stream = csv_records(lines, result.errors)
    header = read_header(stream, COLUMNS, result.errors)
    kept: dict[tuple[str, date], OutcomeRow] = {}
    if header is not None:
        for line_no, fields in stream:
            values = None if fields is None else parse_fields(line_no, header, fields, _PARSERS, result.errors)
            if values is not None:
                _keep(kept, OutcomeRow(line_no=line_no, **values), result)
    result.rows = sorted(kept.values(), key=lambda r: r.line_no)
    return result


def _keep(kept: dict[tuple[str, date], OutcomeRow], row: OutcomeRow, result: OutcomeParse) -> None:
    """The later line of a (customer, date) wins, with a warning naming the earlier one."""
    key = (row.customer_id, row.outcome_date)
    earlier = kept.pop(key, None)
    if earlier is not None:
        result.warnings.append(LineError(row.line_no, f"line {row.line_no}: customer {row.customer_id} on "
                                         f"{row.outcome_date} repeats line {earlier.line_no}; this line replaces it"))
    kept[key] = row


def _outcome(raw: str) -> str:
    outcome = raw.lower()
    if outcome not in OUTCOMES:
        raise Invalid(f"{show(raw)} is not {' or '.join(OUTCOMES)}")
    return outcome


_PARSERS: dict[str, Callable[[str], Any]] = {
    "customer_id": parse_customer_id,
    "outcome": _outcome,
    "outcome_date": iso_date,
}
