"""`python -m jobs`: sync, imports and the demo loader. Exit 0 on success, else a one-line reason."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from pydantic import ValidationError

from pendo_core.config import Settings
from pendo_core.timeutil import today_in

log = logging.getLogger("jobs")


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
    customers = commands.add_parser("import-customers", help="upsert CSCX customers and CSMs from a CSV")
    customers.add_argument("file", type=Path)
    outcomes = commands.add_parser("import-outcomes", help="upsert renewal outcomes for the health back-test")
    outcomes.add_argument("file", type=Path)
    commands.add_parser("demo", help="load demo data from the built-in simulator when the store is empty")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the process exit code."""
    args = _parser().parse_args(argv)
    _configure_logging()
    try:
        settings = Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        print(f"error: bad setting {'.'.join(map(str, first['loc'])).upper()}: {first['msg']}", file=sys.stderr)
        return 2
    from jobs import commands, outcomes

    handler = {"sync": commands.sync, "import-customers": commands.import_customers, "demo": commands.demo,
               "import-outcomes": outcomes.import_outcomes}
    try:
        return handler[args.command](settings, args)
    except commands.JobError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def _configure_logging() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        stream=sys.stderr)
    for chatty in ("httpx", "httpcore", "alembic"):
        logging.getLogger(chatty).setLevel(logging.WARNING)


__all__ = ["main", "today_in"]
