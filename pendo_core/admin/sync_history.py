"""Sync history for the admin screens and the API: runs, rows per stream, bad rows, and whether a
run is going now. Readers return pandas frames ready to show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from pendo_core.store import models

__all__ = ["RUN_COLUMNS", "STALE_RUNNING", "data_quality", "running_sync", "stream_rows", "sync_runs"]

STALE_RUNNING = timedelta(hours=6)  # a "running" row older than this belongs to a run that died
RUN_COLUMNS = ["run", "status", "mode", "started", "finished", "minutes", "as_of", "days", "requests",
               "retries", "bad_rows", "error"]


def sync_runs(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """The newest sync runs, one row each: when, how long, what range, requests, bad rows, error."""
    runs = models.SyncRun
    with engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.id.desc()).limit(limit)).mappings().all()
    return pd.DataFrame([_run_row(r) for r in rows], columns=RUN_COLUMNS)


def _run_row(r: Any) -> dict[str, Any]:
    stats = r["stats"] or {}
    span = f"{stats['report_first']} → {stats['report_last']}" if stats.get("report_first") else ""
    took = (r["finished_at"] - r["started_at"]).total_seconds() / 60 if r["finished_at"] else None
    return {"run": r["id"], "status": r["status"], "mode": r["mode"], "started": r["started_at"],
            "finished": r["finished_at"], "minutes": None if took is None else round(took, 1), "as_of": r["as_of"],
            "days": span, "requests": r["requests"], "retries": r["retries"], "bad_rows": r["bad_rows"],
            "error": r["error"] or ""}


def stream_rows(engine: Engine, run_ids: list[int]) -> pd.DataFrame:
    """Rows written and bad rows skipped per run and stream (from the run's stats and data-quality log)."""
    runs, issues = models.SyncRun, models.DataQualityIssue
    with engine.connect() as conn:
        stats = conn.execute(select(runs.id, runs.stats).where(runs.id.in_(run_ids))).all()
        bad = conn.execute(select(issues.run_id, issues.stream, func.sum(issues.count))
                           .where(issues.run_id.in_(run_ids)).group_by(issues.run_id, issues.stream)).all()
    written = {(run, stream): n for run, s in stats for stream, n in ((s or {}).get("rows") or {}).items()}
    skipped = {(run, stream): int(n) for run, stream, n in bad}
    keys = sorted(written.keys() | skipped.keys(), key=lambda k: (-k[0], k[1]))
    return pd.DataFrame([{"run": run, "stream": stream, "rows": written.get((run, stream), 0),
                          "bad_rows": skipped.get((run, stream), 0)} for run, stream in keys],
                        columns=["run", "stream", "rows", "bad_rows"])


def data_quality(engine: Engine, run_ids: list[int]) -> pd.DataFrame:
    """Every bad-row reason recorded by the given runs, with a sample row."""
    issues = models.DataQualityIssue
    stmt = (select(issues.run_id, issues.stream, issues.reason, issues.count, issues.sample)
            .where(issues.run_id.in_(run_ids)).order_by(issues.run_id.desc(), issues.count.desc()))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["run", "stream", "reason", "count", "sample"])


def running_sync(engine: Engine, now: datetime | None = None) -> int | None:
    """The id of a run still marked running and recent enough to be alive, else None."""
    runs = models.SyncRun
    since = (now or datetime.now(UTC)) - STALE_RUNNING
    with engine.connect() as conn:
        rows = conn.execute(select(runs.id, runs.started_at).where(runs.status == "running")
                            .order_by(runs.id.desc())).all()
    alive = [run for run, started in rows if _aware(started) >= since]
    return alive[0] if alive else None


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
