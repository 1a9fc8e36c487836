"""The jobs themselves; each takes Settings and parsed arguments and returns an exit code."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pendo_core.admin.secrets import SecretsError, with_stored_secrets
from pendo_core.compose import DEMO_HISTORY_DAYS, make_client, open_store, pendo_endpoint
from pendo_core.config import Settings
from pendo_core.pendo.sync.lock import SyncAlreadyRunning, run_lock
from pendo_core.pendo.sync.progress import default_progress
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncError, SyncRequest, SyncRunner
from pendo_core.store import models
from pendo_core.timeutil import today_in

if TYPE_CHECKING:
    from pendo_sim.data import Subscription

log = logging.getLogger("jobs")
T = TypeVar("T")


class JobError(RuntimeError):
    """A job that cannot go on; the message is one line naming the cause and the fix."""


def store(settings: Settings) -> Engine:
    """The migrated store, or a JobError that names the database (never its password)."""
    try:
        return open_store(settings)
    except OperationalError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise JobError(f"cannot reach the database {where}: {reason}. Check DATABASE_URL.") from exc


def sync(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m jobs sync [--as-of D] [--backfill-days N]`."""
    if args.backfill_days is not None and args.backfill_days < 1:
        raise JobError("--backfill-days must be at least 1")
    engine = store(settings)
    try:
        settings = with_stored_secrets(settings, engine)
        with run_lock(engine):
            summary = _run_sync(settings, engine, args)
    except (SyncAlreadyRunning, SecretsError) as exc:
        raise JobError(str(exc)) from exc
    rows = ", ".join(f"{name} {count:,}" for name, count in summary.rows.items())
    print(f"sync {summary.run_id} ok: days {summary.report_first}..{summary.report_last}; {rows}; "
          f"{summary.requests} requests, {summary.retries} retries, {summary.bad_rows} bad rows skipped")
    return 0


def _run_sync(settings: Settings, engine: Engine, args: argparse.Namespace) -> RunSummary:
    as_of = args.as_of or today_in(settings.tz)
    request = SyncRequest(as_of=as_of, backfill_days=args.backfill_days,
                          accept_restatement=getattr(args, "accept_restatement", False))
    with pendo_endpoint(settings, as_of) as (url, key), make_client(settings, url, key) as client:
        runner = SyncRunner(settings, engine, client, progress=default_progress(),
                            after_metrics=post_steps(settings))
        try:
            return runner.run(request)
        except SyncError as exc:
            raise JobError(f"sync failed: {exc}") from exc


def post_steps(settings: Settings) -> list[PostStep]:
    """What every sync does after metrics: health scores, champion alerts, then the other alerts and delivery."""
    from pendo_core.alerts.champions import make_champion_step
    from pendo_core.alerts.job import make_alerts_step
    from pendo_core.health.job import make_health_step

    return [make_health_step(settings), make_champion_step(settings), make_alerts_step(settings)]


def read_csv(path: Path, parse: Callable[[Iterable[str]], T]) -> T:
    """Parse a CSV file line by line (UTF-8, a BOM tolerated), or a JobError when it is not there."""
    if not path.is_file():
        raise JobError(f"no such file: {path}")
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return parse(handle)


def import_customers(settings: Settings, args: argparse.Namespace) -> int:
    """`python -m jobs import-customers FILE.csv`: good lines land, bad lines are reported by number."""
    from pendo_core.customers.csv_parse import parse_customers_csv
    from pendo_core.customers.repo import upsert_customers

    path: Path = args.file
    result = read_csv(path, parse_customers_csv)
    engine = store(settings)
    for problem in [*result.errors, *result.warnings]:
        print(f"{path}: {problem}", file=sys.stderr)
    if not result.rows and result.errors:
        raise JobError(f"{path}: no customer imported ({len(result.errors)} problem(s) above)")
    with Session(engine) as session, session.begin():
        counts = upsert_customers(session, result.rows)
    _map_accounts(engine)
    print(f"{len(result.rows)} customers imported ({counts.inserted} new, {counts.updated} updated); "
          f"{len(result.errors)} line(s) rejected")
    return 0


def _map_accounts(engine: Engine) -> None:
    from pendo_core.customers.repo import refresh_mapping

    with Session(engine) as session, session.begin():
        refresh_mapping(session)


def demo(settings: Settings, args: argparse.Namespace) -> int:
    """Loads demo customers and a 90-day backfill from the simulator when the store is empty."""
    engine = store(settings)
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
    sync(settings, argparse.Namespace(as_of=as_of, backfill_days=settings.backfill_days))


def _import_demo_outcomes(engine: Engine, subscription: Subscription) -> None:
    """Renewal outcomes from the simulator's account fates, so the admin back-test has something to show."""
    from jobs.outcomes import OutcomeRow, known_customers, upsert_outcomes
    from pendo_sim.demo import demo_outcomes

    rows = [OutcomeRow(c, o, d, i + 2) for i, (c, o, d) in enumerate(demo_outcomes(subscription))]
    with Session(engine) as session, session.begin():
        upsert_outcomes(session, known_customers(session, rows, []))
