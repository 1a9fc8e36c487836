"""The operations alert rules as pure functions over the store's freshness: the last sync failed, the
data is stale. Each says fire or clear; `operations.py` reads the freshness and keeps the alerts.

- **sync_failed** fires when the newest finished run (a stop on purpose is not one) failed.
- **data_stale** fires when no sync ever succeeded, or the last successful one started more than
  `max_age_hours` ago.

An operations alert's message is its numbers, then its suggested action (`kinds.message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pendo_core.alerts.rules import Finding
from pendo_core.alerts.settings import DataStaleSettings, SyncFailedSettings

SYNC_FAILED = "sync_failed"
DATA_STALE = "data_stale"
SYNC_FAILED_ACTION = "See the sync history; the next scheduled run retries, or run `python -m jobs sync`."
DATA_STALE_ACTION = "Check the scheduler and the sync history; `python -m jobs sync` runs one now."


@dataclass(frozen=True)
class Freshness:
    """How old the store's data is, and how the newest finished run ended."""

    last_success_at: datetime | None
    age_hours: float | None
    stale: bool
    latest_run_id: int | None
    latest_run_status: str | None
    latest_run_error: str | None


def sync_failed(state: Freshness, cfg: SyncFailedSettings) -> Finding:
    """Fire when the newest finished run failed; the details name it and its reason."""
    if state.latest_run_status != "failed":
        return Finding(SYNC_FAILED, "clear")
    details = {"run_id": state.latest_run_id, "error": state.latest_run_error or "no reason recorded"}
    return Finding(SYNC_FAILED, "fire", "", "high", details, SYNC_FAILED_ACTION)


def data_stale(state: Freshness, cfg: DataStaleSettings) -> Finding:
    """Fire when no sync succeeded yet, or the last successful one started over max_age_hours ago."""
    if state.age_hours is not None and state.age_hours <= cfg.max_age_hours:
        return Finding(DATA_STALE, "clear")
    if state.age_hours is None or state.last_success_at is None:
        return Finding(DATA_STALE, "fire", "", "high", {}, DATA_STALE_ACTION)
    details = {"age_hours": round(state.age_hours, 1), "max_age_hours": cfg.max_age_hours,
               "last_success_at": f"{state.last_success_at:%Y-%m-%d %H:%M}"}
    return Finding(DATA_STALE, "fire", "", "high", details, DATA_STALE_ACTION)


def sync_failed_numbers(d: Mapping[str, Any]) -> str:
    """A sync_failed alert's numbers in one line."""
    return f"Sync run {d.get('run_id')} failed: {d.get('error') or 'no reason recorded'}"


def data_stale_numbers(d: Mapping[str, Any]) -> str:
    """A data_stale alert's numbers in one line."""
    if d.get("age_hours") is None:
        return "No sync has succeeded yet: the store holds no Pendo data"
    return (f"The data is {d['age_hours']:.0f} hours old (more than {d.get('max_age_hours', 24):g}): the last "
            f"successful sync started {d.get('last_success_at')} UTC")

