"""The operations alert rules as pure functions over the store's freshness: the last sync failed, the
data is stale, windows were held back as suspect. Each says fire or clear; `operations.py` reads the
freshness and keeps the alerts.

- **sync_failed** fires when the newest finished run (a stop on purpose is not one) failed, unless it
  failed only because it held windows back: sync_suspect says that, with what an admin can do.
- **data_stale** fires when no sync ever succeeded, or the last successful one started more than
  `max_age_hours` ago.
- **sync_suspect** fires while the newest run that read usage windows and withheld some as suspect
  (`docs/operations.md`) has had no successful run after it: those days keep their stored rows and
  count as unknown. It names the days, what was wrong and how to accept a real restatement.

An operations alert's message is its numbers, then its suggested action (`kinds.message`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from pendo_core.alerts.rules import Finding
from pendo_core.alerts.settings import DataStaleSettings, SyncFailedSettings, SyncSuspectSettings

SYNC_FAILED = "sync_failed"
DATA_STALE = "data_stale"
SYNC_SUSPECT = "sync_suspect"
SYNC_FAILED_ACTION = "See the sync history; the next scheduled run retries, or run `python -m jobs sync`."
DATA_STALE_ACTION = "Check the scheduler and the sync history; `python -m jobs sync` runs one now."
SYNC_SUSPECT_ACTION = ("Nothing was lost, and the next run reads those days again. If Pendo really restated that "
                       "data (visitors deleted, a data exclusion), apply it once with `python -m jobs sync "
                       "--accept-restatement` (see \"Suspect windows and restatements\" in docs/operations.md).")


@dataclass(frozen=True)
class SuspectWindow:
    """One usage window a run withheld: its stream, first and last day, and what was wrong."""

    stream: str
    first: date
    last: date
    why: str


@dataclass(frozen=True)
class Suspect:
    """The windows the newest run that withheld any held back, while no run succeeded after it."""

    run_id: int
    windows: tuple[SuspectWindow, ...]

    @property
    def days(self) -> list[date]:
        """The distinct days held back, over every stream, in order."""
        return sorted({date.fromordinal(n) for w in self.windows
                       for n in range(w.first.toordinal(), w.last.toordinal() + 1)})


@dataclass(frozen=True)
class Freshness:
    """How old the store's data is, and how the newest finished run ended."""

    last_success_at: datetime | None
    age_hours: float | None
    stale: bool
    latest_run_id: int | None
    latest_run_status: str | None
    latest_run_error: str | None
    suspect: Suspect | None = None  # windows still held back as suspect (no successful run since)


def sync_failed(state: Freshness, cfg: SyncFailedSettings) -> Finding:
    """Fire when the newest finished run failed; the details name it and its reason. A run that failed
    only for its suspect windows is sync_suspect's to report (one alert for one event)."""
    if state.latest_run_status != "failed" or (state.suspect and state.suspect.run_id == state.latest_run_id):
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


def sync_suspect(state: Freshness, cfg: SyncSuspectSettings) -> Finding:
    """Fire while windows are held back as suspect: how many days, which, and what was wrong."""
    if state.suspect is None or not state.suspect.windows:
        return Finding(SYNC_SUSPECT, "clear")
    days = state.suspect.days
    windows = [{"stream": w.stream, "first": w.first.isoformat(), "last": w.last.isoformat(), "why": w.why}
               for w in state.suspect.windows]
    details = {"run_id": state.suspect.run_id, "days": len(days), "first_day": days[0].isoformat(),
               "last_day": days[-1].isoformat(), "windows": windows}
    return Finding(SYNC_SUSPECT, "fire", "", "high", details, SYNC_SUSPECT_ACTION)


def sync_failed_numbers(d: Mapping[str, Any]) -> str:
    """A sync_failed alert's numbers in one line."""
    return f"Sync run {d.get('run_id')} failed: {d.get('error') or 'no reason recorded'}"


def data_stale_numbers(d: Mapping[str, Any]) -> str:
    """A data_stale alert's numbers in one line."""
    if d.get("age_hours") is None:
        return "No sync has succeeded yet: the store holds no Pendo data"
    return (f"The data is {d['age_hours']:.0f} hours old (more than {d.get('max_age_hours', 24):g}): the last "
            f"successful sync started {d.get('last_success_at')} UTC")



def sync_suspect_numbers(d: Mapping[str, Any]) -> str:
    """A sync_suspect alert's numbers in one line: the days held back, then each window and its reason."""
    windows = list(d.get("windows") or [])
    first, last = d.get("first_day"), d.get("last_day")
    span = first if first == last else f"{first}..{last}"
    said = "; ".join(f"{w.get('stream')} {w.get('first')}..{w.get('last')}: {w.get('why')}" for w in windows[:3])
    more = f" (and {len(windows) - 3} more)" if len(windows) > 3 else ""
    return (f"Sync run {d.get('run_id')} held back {len(windows)} window(s) as suspect: {d.get('days')} day(s), "
            f"{span}, stored rows kept, metrics and alerts wait for them: {said}{more}")
