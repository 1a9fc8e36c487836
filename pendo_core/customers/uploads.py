"""CSV uploads from the Admin screen: customers, contacts and outcomes, read by the CLI's parsers
(`csv_parse`, `contacts`, `outcomes`) and written by the same upserts, so a file reports the same
line-numbered problems and lands the same rows either way. Bad lines are skipped, good lines land;
every upload is in the access log with its counts.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin import access_log
from pendo_core.customers import contacts, outcomes
from pendo_core.customers.contacts_repo import upsert_contacts
from pendo_core.customers.csv_parse import COLUMNS as CUSTOMER_COLUMNS
from pendo_core.customers.csv_parse import LineError, parse_customers_csv
from pendo_core.customers.repo import known_customers, refresh_mapping, upsert_customers, upsert_outcomes

__all__ = ["HEADERS", "KINDS", "UploadReport", "text_lines", "upload_csv"]

KINDS = ("customers", "contacts", "outcomes")
HEADERS = {"customers": ",".join(CUSTOMER_COLUMNS), "contacts": ",".join(contacts.COLUMNS),
           "outcomes": ",".join(outcomes.COLUMNS)}


@dataclass(frozen=True)
class UploadReport:
    """What one upload did: rows that landed (new and updated when known) and every problem by line."""

    kind: str
    imported: int
    inserted: int | None = None
    updated: int | None = None
    errors: list[LineError] = field(default_factory=list)
    warnings: list[LineError] = field(default_factory=list)
    held: int = 0  # account moves to another customer held back (the import needs --reassign for them)

    @property
    def rejected(self) -> list[int]:
        """The line numbers that were skipped, in order."""
        return sorted({e.line_no for e in self.errors})

    @property
    def problems(self) -> list[LineError]:
        """Errors and warnings in line order (warnings did not stop their line)."""
        return sorted([*self.errors, *self.warnings], key=lambda e: e.line_no)

    def summary(self) -> str:
        """The CLI's closing line: how many landed, new and updated, and how many lines were rejected."""
        noun = {"customers": "customers", "contacts": "contact(s)", "outcomes": "outcome(s)"}[self.kind]
        split = f" ({self.inserted} new, {self.updated} updated)" if self.inserted is not None else ""
        held = f"; {self.held} account move(s) held (pass --reassign)" if self.held else ""
        return f"{self.imported} {noun} imported{split}; {len(self.rejected)} line(s) rejected{held}"


def text_lines(data: bytes) -> Iterator[str]:
    """An uploaded file's lines as the CLI reads a file: UTF-8, a BOM tolerated, newlines kept in quotes,
    a byte that is not UTF-8 passed on (surrogateescape) for the parser to report on its own line."""
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="surrogateescape", newline="")


def upload_csv(engine: Engine, kind: str, lines: Iterable[str], *, by: str, file_name: str = "") -> UploadReport:
    """Parse and store one CSV of `kind` (customers, contacts or outcomes) in one transaction."""
    if kind not in KINDS:
        raise ValueError(f"unknown upload {kind!r}: use one of {', '.join(KINDS)}")
    with Session(engine) as session, session.begin():
        report = _STORE[kind](session, lines)
        access_log.record(session, by, f"import.{kind}", {"file": file_name, "imported": report.imported,
                                                          "rejected_lines": len(report.rejected)})
    return report


def _customers(session: Session, lines: Iterable[str]) -> UploadReport:
    parsed = parse_customers_csv(lines)
    counts = upsert_customers(session, parsed.rows)  # a mapping move is held, as the CLI holds it without --reassign
    refresh_mapping(session)  # as the CLI does: new names and domains may match unmapped Pendo accounts
    moves = [LineError(m.line_no, str(m)) for m in counts.moves]
    return UploadReport("customers", len(parsed.rows), counts.inserted, counts.updated, parsed.errors,
                        [*parsed.warnings, *moves], held=len(counts.conflicts))


def _contacts(session: Session, lines: Iterable[str]) -> UploadReport:
    parsed = contacts.parse_contacts_csv(lines)
    rows = known_customers(session, parsed.rows, parsed.errors)
    counts = upsert_contacts(session, rows)
    return UploadReport("contacts", len(rows), counts.inserted, counts.updated, parsed.errors, parsed.warnings)


def _outcomes(session: Session, lines: Iterable[str]) -> UploadReport:
    parsed = outcomes.parse_outcomes_csv(lines)
    rows = known_customers(session, parsed.rows, parsed.errors)
    written = upsert_outcomes(session, rows)
    return UploadReport("outcomes", written, errors=parsed.errors, warnings=parsed.warnings)


_STORE: dict[str, Callable[[Session, Iterable[str]], UploadReport]] = {
    "customers": _customers, "contacts": _contacts, "outcomes": _outcomes}
