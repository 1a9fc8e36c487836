"""`python -m jobs`: sync, imports and the demo loader. Exit 0 on success, else a one-line reason."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pendo_core.common.config import SettingsError, load_settings
from pendo_core.common.logging_setup import configure_logging
from pendo_core.pipeline import PipelineError
from pendo_sim import endpoint as demo_endpoint


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (YYYY-MM-DD)") from exc


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs", description="CSCX Pendo Usage jobs")
    commands = parser.add_subparsers(dest="command", required=True)
    sync = commands.add_parser("sync", help="one full run: Pendo entities and usage, mapping, metrics")
    sync.add_argument("--as-of", type=_date, help="run as if today were this date (default: today)")
    sync.add_argument("--backfill-days", type=int, help="report the last N complete days (default: daily run)")
    sync.add_argument("--accept-restatement", action="store_true",
                      help="apply answers the sync would withhold as suspect (Pendo really restated the data)")
    customers = commands.add_parser("import-customers", help="upsert CSCX customers and CSMs from a CSV")
    customers.add_argument("file", type=Path)
    customers.add_argument("--reassign", action="store_true",
                           help="move Pendo accounts already mapped to another customer (else reported as conflicts)")
    outcomes = commands.add_parser("import-outcomes", help="upsert renewal outcomes for the health back-test")
    outcomes.add_argument("file", type=Path)
    contacts = commands.add_parser("import-contacts", help="upsert customer stakeholders from a CSV")
    contacts.add_argument("file", type=Path)
    commands.add_parser("demo", help="load demo data from the built-in simulator when the store is empty")
    user = commands.add_parser("create-user", help="create or update an app user (password from stdin or a prompt)")
    user.add_argument("email")
    user.add_argument("--name", help="display name (default: the e-mail)")
    user.add_argument("--role", required=True, choices=["csm", "leader", "admin"])
    from jobs import audit, evaluate, scheduler

    audit.add_parser(commands)
    scheduler.add_parser(commands)
    evaluate.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings)
    demo_endpoint.install()
    from jobs import audit, commands, contacts, evaluate, outcomes, scheduler, users

    handler = {"sync": commands.sync, "import-customers": commands.import_customers, "demo": commands.demo,
               "import-outcomes": outcomes.import_outcomes, "create-user": users.create_user,
               "import-contacts": contacts.import_contacts, "evaluate": evaluate.evaluate,
               "audit": audit.audit, "schedule": scheduler.command}
    try:
        return handler[args.command](settings, args)
    except (commands.JobError, PipelineError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


__all__ = ["main"]
