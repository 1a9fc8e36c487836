"""The jobs themselves; each takes Settings and parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core import pipeline
from pendo_core.compose import DEMO_HISTORY_DAYS, open_store
from pendo_core.config import Settings
from pendo_core.pendo.sync.progress import default_progress
from pendo_core.pendo.sync.runner import SyncRequest
from pendo_core.store import models
from pendo_core.timeutil import today_in

if TYPE_CHECKING:
    from pendo_sim.data import Subscription

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


def _load_demo(settings: Settings, engine: Engine) -> None:
    from pendo_core.admin.users import ensure_demo_users
    from pendo_core.customers.csv_parse import parse_customers_csv
    from pendo_core.customers.repo import upsert_customers
    from pendo_sim.data import generate
    from pendo_sim.demo import demo_customers, write_customers_csv

    as_of = today_in(settings.tz)
    subscription = generate(seed=settings.demo_seed, accounts=settings.demo_accounts, days=DEMO_HISTORY_DAYS,
                            as_of=as_of, tz=settings.pendo_timezone)
    path = Path("data") / "demo_customers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_customers_csv(demo_customers(subscription), path)
    result = read_csv(path, parse_customers_csv)
    with Session(engine) as session, session.begin():
        upsert_customers(session, result.rows)
        logins = ensure_demo_users(session)
    _import_demo_outcomes(engine, subscription)
    print(f"demo: sign in as {', '.join(logins)} (password: demo)")
    print(f"demo: {len(result.rows)} customers from {path}; syncing 90 days from the simulator...")
    _sync(settings, engine, as_of, settings.backfill_days)


def _import_demo_outcomes(engine: Engine, subscription: Subscription) -> None:
    """Renewal outcomes from the simulator's account fates, so the admin back-test has something to show."""
    from pendo_core.customers.outcomes import OutcomeRow
    from pendo_core.customers.repo import known_customers, upsert_outcomes
    from pendo_sim.demo import demo_outcomes

    rows = [OutcomeRow(c, o, d, i + 2) for i, (c, o, d) in enumerate(demo_outcomes(subscription))]
    with Session(engine) as session, session.begin():
        upsert_outcomes(session, known_customers(session, rows, []))
