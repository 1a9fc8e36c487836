"""The jobs themselves; each takes Settings and parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core import pipeline
from pendo_core.common.config import Settings
from pendo_core.common.timeutil import today_in
from pendo_core.pendo.sync.progress import default_progress
from pendo_core.pendo.sync.runner import SyncRequest
from pendo_core.pipeline import DEMO_HISTORY_DAYS, open_store
from pendo_core.store import models

log = logging.getLogger("jobs")
T = TypeVar("T")


class JobError(RuntimeError):
    """A job that cannot go on; the message is one line naming the cause and the fix."""


def sync(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m jobs sync [--as-of D] [--backfill-days N] [--accept-restatement]`."""
    if args.backfill_days is not None and args.backfill_days < 1:
        raise JobError("--backfill-days must be at least 1")
    _sync(settings, open_store(settings), args.as_of, args.backfill_days,
          accept_restatement=getattr(args, "accept_restatement", False))
    return 0


def _sync(settings: Settings, engine: Engine, as_of: date | None, backfill_days: int | None, *,
          accept_restatement: bool = False) -> None:
    """One run through the sync pipeline, its one-line summary printed."""
    request = SyncRequest(as_of or today_in(settings.tz), backfill_days, accept_restatement)
    summary = pipeline.run_sync(settings, engine, request, progress=default_progress())
    print(pipeline.describe(summary))


def read_csv(path: Path, parse: Callable[[Iterable[str]], T]) -> T:
    """Parse a CSV file line by line (UTF-8, a BOM tolerated), or a JobError when it is not there.

    Bytes that are not UTF-8 are passed on as lone surrogates (surrogateescape), so the parser
    reports them on their own line and keeps the good lines around them."""
    if not path.is_file():
        raise JobError(f"no such file: {path}")
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as handle:
        return parse(handle)


def import_customers(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m jobs import-customers FILE.csv`: good lines land, bad lines are reported by number."""
    from pendo_core.customers.csv_parse import parse_customers_csv
    from pendo_core.customers.repo import upsert_customers

    path: Path = args.file
    result = read_csv(path, parse_customers_csv)
    engine = open_store(settings)
    for problem in [*result.errors, *result.warnings]:
        print(f"{path}: {problem}", file=sys.stderr)
    if not result.rows and result.errors:
        raise JobError(f"{path}: no customer imported ({len(result.errors)} problem(s) above)")
    with Session(engine) as session, session.begin():
        counts = upsert_customers(session, result.rows, reassign=getattr(args, "reassign", False))
    for move in counts.moves:
        print(f"{path}: {move}", file=sys.stderr)
    _map_accounts(engine)
    held = f"; {len(counts.conflicts)} account move(s) held (pass --reassign)" if counts.conflicts else ""
    print(f"{len(result.rows)} customers imported ({counts.inserted} new, {counts.updated} updated); "
          f"{len(result.bad_lines)} line(s) rejected{held}")
    return 0


def _map_accounts(engine: Engine) -> None:
    from pendo_core.customers.repo import refresh_mapping

    with Session(engine) as session, session.begin():
        refresh_mapping(session)


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Loads demo customers and a 90-day backfill from the simulator when the store is empty."""
    engine = open_store(settings)
    with Session(engine) as session:
        has_customers = session.scalar(select(func.count()).select_from(models.Customer)) or 0
        has_runs = session.scalar(select(func.count()).select_from(models.SyncRun)
                                  .where(models.SyncRun.status == "success")) or 0
    if has_customers and has_runs:
        print("store already holds data; demo load skipped")
        return 0
    if not settings.demo_mode:
        raise JobError("PENDO_INTEGRATION_KEY is set: demo data loads only without a key")
    _load_demo(settings, engine)
    return 0


def _load_demo(settings: Settings, engine: Engine, as_of: date | None = None) -> None:
    """The demo's story world (pendo_sim/demo_world.py): its customers, contacts and renewal outcomes,
    written as import files under data/ and loaded as the importers would, then the 90-day backfill."""
    from pendo_core.admin.users import ensure_demo_users
    from pendo_core.customers.contacts import parse_contacts_csv
    from pendo_core.customers.contacts_repo import upsert_contacts
    from pendo_core.customers.csv_parse import parse_customers_csv
    from pendo_core.customers.outcomes import parse_outcomes_csv
    from pendo_core.customers.repo import known_customers, upsert_customers, upsert_outcomes
    from pendo_sim import demo_world as world_data
    from pendo_sim.demo import HEADER, write_csv

    as_of = as_of or today_in(settings.tz)
    world = world_data.demo_world(settings.demo_seed, settings.demo_accounts, as_of, settings.pendo_timezone,
                                  DEMO_HISTORY_DAYS)
    listed = world_data.world_customers(world)
    data = Path("data")
    path = write_csv([row for _, row in listed], HEADER, data / "demo_customers.csv")
    customers = read_csv(path, parse_customers_csv)
    contacts = read_csv(write_csv(world_data.world_contacts(world, listed), world_data.CONTACT_HEADER,
                                  data / "demo_contacts.csv"), parse_contacts_csv)
    outcomes = read_csv(write_csv(world_data.world_outcomes(world, listed), world_data.OUTCOME_HEADER,
                                  data / "demo_outcomes.csv"), parse_outcomes_csv)
    with Session(engine) as session, session.begin():
        upsert_customers(session, customers.rows)
        upsert_contacts(session, known_customers(session, contacts.rows, []))
        upsert_outcomes(session, known_customers(session, outcomes.rows, []))
        logins = ensure_demo_users(session)
    print(f"demo: sign in as {', '.join(logins)} (password: demo)")
    print(f"demo: {len(customers.rows)} customers from {path}, {len(contacts.rows)} contacts and "
          f"{len(outcomes.rows)} renewal outcomes from the same stories; syncing 90 days from the simulator...")
    _sync(settings, engine, as_of, settings.backfill_days)
