"""`python -m jobs audit [--days N]`: the store against Pendo's own aggregates (pendo_core/pendo/quality_audit.py).

Exit 0 when the match rate reaches the target (99%), 1 below it or when the audit cannot run. The
audit holds the sync lock, so no sync changes the store while it reads.
"""

from __future__ import annotations

import argparse
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin.secrets import SecretsError, with_stored_secrets
from pendo_core.common.config import Settings
from pendo_core.pendo.quality_audit import TARGET, AuditError, describe, run_audit, synced_range
from pendo_core.pendo.sync.lock import SyncAlreadyRunning, run_lock
from pendo_core.pipeline import open_store, pendo_client
from pendo_core.store import models


def add_parser(commands: Any) -> argparse.ArgumentParser:
    """Register `audit` on the CLI's subparsers."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "audit", help="compare the store with Pendo's own aggregates and print the match rate")
    parser.add_argument("--days", type=int, help="audit only the last N synced days (default: the whole range)")
    return parser


def audit(settings: Settings, args: argparse.Namespace) -> int:
    """The command body: pick the days, re-ask Pendo, print the report; JobError when it cannot run."""
    from jobs.commands import JobError

    if args.days is not None and args.days < 1:
        raise JobError("--days must be at least 1")
    engine = open_store(settings)
    span = synced_range(engine)
    if span is None:
        raise JobError("nothing to audit: the store holds no synced metrics yet; run `python -m jobs sync` first")
    first, last = span
    if args.days is not None:
        first = max(first, last - timedelta(days=args.days - 1))
    try:
        current = with_stored_secrets(settings, engine)  # a key saved in the app, unless the environment sets one
        with run_lock(engine), pendo_client(current, _as_of(engine, last)) as client:
            result = run_audit(engine, client, current, first, last)
    except (AuditError, SecretsError, SyncAlreadyRunning) as exc:
        raise JobError(str(exc)) from exc
    print("\n".join(describe(result)))
    if result.match_rate < TARGET:
        raise JobError(f"audit below target: {result.match_rate:.2%} of items match, the target is {TARGET:.0%}")
    return 0


def _as_of(engine: Engine, last: date) -> date:
    """The as-of date of the newest successful sync (so demo mode serves the very data it synced)."""
    with Session(engine) as session:
        as_of = session.scalar(select(models.SyncRun.as_of).where(models.SyncRun.status == "success")
                               .order_by(models.SyncRun.id.desc()).limit(1))
    return as_of or last + timedelta(days=1)
