"""Sync history: runs newest first with rows and bad rows per stream; a run that died is not running."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine

from pendo_core.admin.sync_history import data_quality, running_sync, stream_rows, sync_runs
from tests.support.health_alerts import table_insert

NOW = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)


def _add_run(engine: Engine, run_id: int, status: str, started: datetime, *, rows: dict[str, int] | None = None,
             error: str | None = None) -> None:
    stats = {"rows": rows or {}, "report_first": "2026-03-01", "report_last": "2026-03-18"}
    table_insert(engine, "pendo_sync_runs", [{
        "id": run_id, "started_at": started, "finished_at": None if status == "running" else started
        + timedelta(minutes=3), "status": status, "mode": "daily", "as_of": date(2026, 3, 19), "stats": stats,
        "requests": 12, "retries": 1, "bad_rows": 3, "error": error}])


def test_sync_history_lists_runs_streams_and_bad_rows(engine: Engine) -> None:
    """Runs come newest first with duration and error; rows and bad rows are split per stream."""
    _add_run(engine, 1, "success", NOW - timedelta(days=1), rows={"accounts": 5, "visitor_days": 40})
    _add_run(engine, 2, "failed", NOW, rows={"accounts": 5}, error="Pendo refused the key")
    table_insert(engine, "pendo_data_quality_issues", [
        {"run_id": 1, "stream": "visitor_days", "reason": "missing visitorId", "count": 2, "sample": "{}"},
        {"run_id": 1, "stream": "visitor_days", "reason": "bad day", "count": 1, "sample": None}])
    runs = sync_runs(engine)
    assert runs[["run", "status", "minutes", "error"]].values.tolist() == [
        [2, "failed", 3.0, "Pendo refused the key"], [1, "success", 3.0, ""]]
    streams = stream_rows(engine, [1, 2])
    assert streams.values.tolist() == [[2, "accounts", 5, 0], [1, "accounts", 5, 0], [1, "visitor_days", 40, 3]]
    assert data_quality(engine, [1])["reason"].tolist() == ["missing visitorId", "bad day"]


@pytest.mark.parametrize(("started", "expected"), [
    (NOW - timedelta(minutes=5), 7),
    (NOW - timedelta(hours=7), None),
], ids=["fresh-run-is-running", "stale-run-died"])
def test_running_sync_ignores_runs_that_died(sqlite_engine: Engine, started: datetime, expected: int | None) -> None:
    """A run marked running for hours is a dead run, not a reason to refuse a new one."""
    _add_run(sqlite_engine, 7, "running", started)
    assert running_sync(sqlite_engine, now=NOW) == expected
