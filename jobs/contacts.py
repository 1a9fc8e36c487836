"""`python -m jobs import-contacts FILE.csv`: customer stakeholders, matched to Pendo visitors by e-mail.

The header is `customer_id,name,email,title,role` (see pendo_core.customers.contacts for every rule). A line
is good when it parses and its customer_id is an imported customer; bad lines are reported by
their line number (header = line 1) and skipped, good lines land, upserted on (customer_id, email),
so importing a file twice changes nothing. The summary says how many of the imported contacts
match a Pendo visitor and names the first ones that do not, so a CSM can fix the data.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.common.timeutil import today_in
from pendo_core.customers.contacts import ContactRow, parse_contacts_csv
from pendo_core.customers.contacts_repo import upsert_contacts
from pendo_core.customers.people import contact_matches
from pendo_core.customers.repo import known_customers
from pendo_core.pipeline import open_store

SHOW_UNMATCHED = 10


def import_contacts(settings: Settings, args: argparse.Namespace) -> int:
    """The command body: parse, check customers, upsert; bad lines to stderr, a summary to stdout."""
    from jobs.commands import JobError, read_csv

    path: Path = args.file
    parsed = read_csv(path, parse_contacts_csv)
    engine = open_store(settings)
    with Session(engine) as session, session.begin():
        rows = known_customers(session, parsed.rows, parsed.errors)
        counts = upsert_contacts(session, rows)
    for problem in sorted([*parsed.errors, *parsed.warnings], key=lambda e: e.line_no):
        print(f"{path}: {problem}", file=sys.stderr)
    if not rows and parsed.errors:
        raise JobError(f"{path}: no contact imported ({len(parsed.errors)} problem(s) above)")
    print(f"{len(rows)} contact(s) imported ({counts.inserted} new, {counts.updated} updated); "
          f"{len(parsed.bad_lines)} line(s) rejected")
    print(match_summary(engine, rows, settings))
    return 0


def match_summary(engine: Engine, rows: list[ContactRow], settings: Settings) -> str:
    """How many imported contacts a Pendo visitor matches by e-mail, naming the first that none does."""
    as_of = today_in(settings.tz) - timedelta(days=1)
    imported = {(r.customer_id, r.email) for r in rows}
    unmatched: list[str] = []
    for customer in sorted({r.customer_id for r in rows}):
        found = contact_matches(engine, customer, as_of, include_anonymous=settings.include_anonymous)
        unmatched.extend(c.email for c in found if (customer, c.email) in imported and not c.visitor_ids)
    unmatched.sort()
    text = f"{len(rows) - len(unmatched)} of {len(rows)} match a Pendo visitor by e-mail"
    if not unmatched:
        return text
    shown = ", ".join(unmatched[:SHOW_UNMATCHED]) + (", ..." if len(unmatched) > SHOW_UNMATCHED else "")
    return f"{text}; no visitor yet for: {shown} (check the spelling, or they have not used the product)"
