"""`python -m jobs import-outcomes FILE.csv`: renewal outcomes for the health back-test.

The header is `customer_id,outcome,outcome_date` (see pendo_core.customers.outcomes for every rule).
A line is good when it parses and its customer_id is an imported customer; bad lines are reported by
their line number (header = line 1) and skipped, good lines land, upserted on (customer_id,
outcome_date), so importing a file twice changes nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.customers.outcomes import parse_outcomes_csv
from pendo_core.customers.repo import known_customers, upsert_outcomes
from pendo_core.pipeline import open_store


def import_outcomes(settings: Settings, args: argparse.Namespace) -> int:
    """The command body: parse, check customers, upsert; bad lines to stderr, a summary to stdout."""
    from jobs.commands import JobError, read_csv

    path: Path = args.file
    parsed = read_csv(path, parse_outcomes_csv)
    engine = open_store(settings)
    with Session(engine) as session, session.begin():
        rows = known_customers(session, parsed.rows, parsed.errors)
        written = upsert_outcomes(session, rows)
    for problem in sorted([*parsed.errors, *parsed.warnings], key=lambda e: e.line_no):
        print(f"{path}: {problem}", file=sys.stderr)
    if not written and parsed.errors:
        raise JobError(f"{path}: no outcome imported ({len(parsed.errors)} problem(s) above)")
    print(f"{written} outcome(s) imported; {len(parsed.bad_lines)} line(s) rejected")
    return 0
