"""Post steps grouped `Alongside` run at once on PostgreSQL (the server works on both), in order on SQLite."""

from __future__ import annotations

import threading
import time
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from pendo_core.alerts.job import AlertsStep
from pendo_core.common.config import Settings
from pendo_core.pendo.sync.runner import Alongside, RunSummary, SyncRequest
from pendo_core.pipeline.run import STEPS, made_steps

REQUEST = SyncRequest(as_of=date(2024, 3, 21))


def _summary() -> Any:
    return RunSummary(run_id=1, report_first=date(2024, 3, 11), report_last=date(2024, 3, 20))


def test_the_parts_run_at_once_on_postgresql_and_in_order_on_sqlite(engine: Engine) -> None:
    at_once = engine.dialect.name == "postgresql"
    both_running = threading.Barrier(2, timeout=10)  # passed only by two parts running at the same time
    calls: list[tuple[str, bool]] = []
    caller = threading.get_ident()

    def part(name: str) -> Any:
        def step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
            calls.append((name, threading.get_ident() == caller))
            if at_once:
                both_running.wait()
        return step

    Alongside(part("snapshot"), part("health"))(engine, REQUEST, _summary())
    if at_once:
        assert sorted(calls) == [("health", True), ("snapshot", False)]  # the last part on the run's thread
    else:
        assert calls == [("snapshot", True), ("health", True)]


def test_a_part_that_fails_fails_the_group_once_the_others_ended(pg_engine: Engine) -> None:
    ended: list[str] = []

    def slow(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        time.sleep(0.3)
        ended.append("slow")

    def fails(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        raise ValueError("health failed")

    with pytest.raises(ValueError, match="health failed"):
        Alongside(slow, fails)(pg_engine, REQUEST, _summary())
    assert ended == ["slow"]  # not left running in its transaction when the run failed

    def fails_first(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        time.sleep(0.1)
        raise ValueError("snapshot failed")

    ended.clear()
    with pytest.raises(ValueError, match="snapshot failed"):
        Alongside(fails_first, slow)(pg_engine, REQUEST, _summary())
    assert ended == ["slow"]


def test_on_sqlite_a_failure_stops_the_group_where_it_failed(sqlite_engine: Engine) -> None:
    ran: list[str] = []

    def fails(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        raise ValueError("snapshot failed")

    def after(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        ran.append("health")

    with pytest.raises(ValueError, match="snapshot failed"):
        Alongside(fails, after)(sqlite_engine, REQUEST, _summary())
    assert ran == []


def test_the_alerts_step_after_the_group_is_the_one_whose_reading_runs_in_it() -> None:
    """The sync's group after the metrics reads the alerts' inputs (`AlertsStep.read_ahead`) for the very
    alerts step that runs after it and the Portfolio days, so the reading reaches the step that judges."""
    steps = made_steps(Settings(database_url="sqlite://"), STEPS)
    group = next(step for step in steps if isinstance(step, Alongside))
    alerts = next(step for step in steps if isinstance(step, AlertsStep))
    assert alerts.read_ahead in group.parts
    assert steps.index(group) < steps.index(alerts)
