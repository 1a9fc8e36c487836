"""`python -m jobs import-outcomes FILE.csv`: renewal outcomes for the health back-test.

The header is `customer_id,outcome,outcome_date` (any order, names trimmed, any case). A line is
good when customer_id is a UUID of an imported customer, outcome is `renewed` or `churned` (any
case) and outcome_date is YYYY-MM-DD. Bad lines are reported by their line number (header = line
1) and skipped; good lines land, upserted on (customer_id, outcome_date), so importing a file
twice changes nothing. A repeated (customer_id, outcome_date) keeps the later line.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from pendo_core.config import Settings
from pendo_core.customers.csv_parse import LineError, csv_records
from pendo_core.store.models import Customer, Outcome
from pendo_core.store.scope import chunks
from pendo_core.store.upsert import upsert

COLUMNS = ("customer_id", "outcome", "outcome_date")
OUTCOMES = ("renewed", "churned")


@dataclass(frozen=True)
class OutcomeRow:
    """One valid outcome line."""

    customer_id: str
    outcome: str
    outcome_date: date
    line_no: int


@dataclass
class OutcomeParse:
    """Good rows (one per customer and date) and one message per bad line, `line N: ...`."""

    rows: list[OutcomeRow] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def parse_outcomes_csv(lines: Iterable[str]) -> OutcomeParse:
    """Read an outcomes CSV: good rows plus an error for each bad line, with its number."""
    result = OutcomeParse()
    problems: list[LineError] = []
    records = csv_records(lines, problems)
    first = next(records, None)
    if first is None or first[1] is None:
        result.errors.extend(str(p) for p in problems)
        if not problems:
            result.errors.append(f"line 1: the file is empty; expected the header {','.join(COLUMNS)}")
        return result
    header = [h.strip().lower().lstrip("\ufeff") for h in first[1]]
    if sorted(header) != sorted(COLUMNS):
        result.errors.append(f"line 1: header is {','.join(header)}; expected {','.join(COLUMNS)}")
        return result
    kept: dict[tuple[str, date], OutcomeRow] = {}
    for line_no, fields in records:
        if fields is None:
            continue
        row = _row(line_no, dict(zip(header, fields, strict=False)), len(fields), result.errors)
        if row is not None:
            kept[(row.customer_id, row.outcome_date)] = row
    result.errors[:0] = [str(p) for p in problems]
    result.errors.sort(key=_line_of)
    result.rows = sorted(kept.values(), key=lambda r: r.line_no)
    return result


def _row(line_no: int, values: dict[str, str], count: int, errors: list[str]) -> OutcomeRow | None:
    if count != len(COLUMNS):
        errors.append(f"line {line_no}: expected {len(COLUMNS)} fields, found {count}")
        return None
    problems: list[str] = []
    customer = values["customer_id"].strip()
    try:
        customer = str(uuid.UUID(customer))
    except ValueError:
        problems.append(f"customer_id {customer!r} is not a UUID")
    outcome = values["outcome"].strip().lower()
    if outcome not in OUTCOMES:
        problems.append(f"outcome {values['outcome'].strip()!r} is not renewed or churned")
    day = _date(values["outcome_date"].strip(), problems)
    if problems or day is None:
        errors.append(f"line {line_no}: " + "; ".join(problems))
        return None
    return OutcomeRow(customer, outcome, day, line_no)


def _date(raw: str, problems: list[str]) -> date | None:
    try:
        if len(raw) == 10:
            return date.fromisoformat(raw)
    except ValueError:
        pass
    problems.append(f"outcome_date {raw!r} is not a date in the form YYYY-MM-DD")
    return None


def known_customers(session: Session, rows: list[OutcomeRow], errors: list[str]) -> list[OutcomeRow]:
    """The rows whose customer exists; an error line for each of the others."""
    ids = sorted({r.customer_id for r in rows})
    known: set[str] = set()
    for chunk in chunks(ids):
        known.update(session.execute(select(Customer.customer_id).where(Customer.customer_id.in_(chunk))).scalars())
    for row in rows:
        if row.customer_id not in known:
            errors.append(f"line {row.line_no}: customer_id {row.customer_id} is not an imported customer; "
                          f"run import-customers first")
    return [r for r in rows if r.customer_id in known]


def upsert_outcomes(session: Session, rows: list[OutcomeRow]) -> int:
    """Insert or update the outcomes (key: customer and date); returns how many rows were written."""
    table = Outcome.__table__
    values = [{"customer_id": r.customer_id, "outcome_date": r.outcome_date, "outcome": r.outcome} for r in rows]
    for batch in chunks(values):
        upsert(session, table, list(batch), keys=("customer_id", "outcome_date"))  # type: ignore[arg-type]
    return len(values)


def import_outcomes(settings: Settings, args: argparse.Namespace) -> int:
    """The command body: parse, check customers, upsert; prints bad lines to stderr, a summary to stdout."""
    from jobs.commands import JobError, read_csv, store

    path: Path = args.file
    parsed = read_csv(path, parse_outcomes_csv)
    engine = store(settings)
    with Session(engine) as session, session.begin():
        rows = known_customers(session, parsed.rows, parsed.errors)
        written = upsert_outcomes(session, rows)
    for problem in sorted(parsed.errors, key=_line_of):
        print(f"{path}: {problem}", file=sys.stderr)
    if not written and parsed.errors:
        raise JobError(f"{path}: no outcome imported ({len(parsed.errors)} problem(s) above)")
    print(f"{written} outcome(s) imported; {len(parsed.errors)} line(s) rejected")
    return 0


def _line_of(message: str) -> int:
    head = message.split(":", 1)[0].removeprefix("line ")
    return int(head) if head.isdigit() else 0
