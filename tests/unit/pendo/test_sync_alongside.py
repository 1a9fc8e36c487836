"""Post steps grouped `Alongside` run at once on PostgreSQL and SQLite (the server, or SQLite without the GIL,
works on both), in order on other stores."""

from __future__ import annotations

import threading
import time
from datetime import date
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.alerts.job import AlertsStep
from pendo_core.common.config import Settings
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.runner import Alongside, RunSummary, SyncRequest
from pendo_core.pipeline.run import STEPS, made_steps

REQUEST = SyncRequest(as_of=date(2024, 3, 21))


def _summary() -> Any:
    return RunSummary(run_id=1, report_first=date(2024, 3, 11), report_last=date(2024, 3, 20))


def test_the_parts_run_at_once(engine: Engine) -> None:
    both_running = threading.Barrier(2, timeout=10)  # passed only by two parts running at the same time
    calls: list[tuple[str, bool]] = []
    caller = threading.get_ident()

    def part(name: str) -> Any:
        def step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
            calls.append((name, threading.get_ident() == caller))
            both_running.wait()
        return step

    Alongside(part("snapshot"), part("health"))(engine, REQUEST, _summary())
    assert sorted(calls) == [("health", True), ("snapshot", False)]  # the last part on the run's thread


def test_parts_writing_at_once_take_turns_behind_the_run_fence(engine: Engine) -> None:
    """Both parts hold a write transaction opened by the run's fence at the same time: on SQLite the second
    waits for the first's commit under the busy timeout (one writer at a time), and both rows land."""
    with Session(engine) as session, session.begin():
        run_id = store.start_run(session, mode="daily", as_of=REQUEST.as_of, backfill_days=None, host="test")
    fence = store.run_fence(run_id)
    both_started = threading.Barrier(2, timeout=10)

    def writer(name: str) -> Any:
        def step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
            both_started.wait()
            with Session(engine) as session, session.begin():
                fence(session.connection())
                store.set_watermark(session, f"alongside:{name}", name)
                time.sleep(0.3)  # the other part's transaction starts meanwhile
        return step

    Alongside(writer("snapshot"), writer("health"))(engine, REQUEST, _summary())
    with Session(engine) as session:
        assert [store.get_watermark(session, f"alongside:{n}") for n in ("snapshot", "health")] == \
            ["snapshot", "health"]


def test_on_other_stores_the_parts_run_in_order_and_a_failure_stops_the_group_where_it_failed() -> None:
    other = SimpleNamespace(dialect=SimpleNamespace(name="mysql"))
    ran: list[tuple[str, bool]] = []
    caller = threading.get_ident()

    def part(name: str) -> Any:
        def step(engine: Any, request: SyncRequest, summary: RunSummary) -> None:
            ran.append((name, threading.get_ident() == caller))
        return step

    Alongside(part("snapshot"), part("health"))(other, REQUEST, _summary())  # type: ignore[arg-type]
    assert ran == [("snapshot", True), ("health", True)]

    def fails(engine: Any, request: SyncRequest, summary: RunSummary) -> None:
        raise ValueError("snapshot failed")

    ran.clear()
    with pytest.raises(ValueError, match="snapshot failed"):
        Alongside(fails, part("health"))(other, REQUEST, _summary())  # type: ignore[arg-type]
    assert ran == []


def test_a_part_that_fails_fails_the_group_once_the_others_ended(engine: Engine) -> None:
    ended: list[str] = []

    def slow(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        time.sleep(0.3)
        ended.append("slow")

    def fails(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        raise ValueError("health failed")

    with pytest.raises(ValueError, match="health failed"):
        Alongside(slow, fails)(engine, REQUEST, _summary())
    assert ended == ["slow"]  # not left running in its transaction when the run failed

    def fails_first(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        time.sleep(0.1)
        raise ValueError("snapshot failed")

    ended.clear()
    with pytest.raises(ValueError, match="snapshot failed"):
        Alongside(fails_first, slow)(engine, REQUEST, _summary())
    assert ended == ["slow"]


def test_the_alerts_step_after_the_group_is_the_one_whose_reading_runs_in_it() -> None:
    """The sync's group after the metrics reads the alerts' inputs (`AlertsStep.read_ahead`) for the very
    alerts step that runs after it and the Portfolio days, so the reading reaches the step that judges."""
    steps = made_steps(Settings(database_url="sqlite://"), STEPS)
    group = next(step for step in steps if isinstance(step, Alongside))
    alerts = next(step for step in steps if isinstance(step, AlertsStep))
    assert alerts.read_ahead in group.parts
    assert steps.index(group) < steps.index(alerts)
