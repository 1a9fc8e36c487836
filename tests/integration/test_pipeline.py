"""One sync pipeline: the CLI, the scheduler, the app's "sync now" and the API's POST /api/pendo/sync
all start their run through `pendo_core.pipeline.run_sync` (a recording stand-in at that one seam
shows it), and the pipeline itself, run for real on the simulator, scores, checks operations after
the run and says in one line why a run could not start or finish."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core import pipeline
from pendo_core.admin.tokens import issue_token
from pendo_core.common.config import Settings
from pendo_core.pendo.sync.lock import SyncAlreadyRunning, run_lock
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.pipeline import PipelineError, SyncBusy
from pendo_core.store import models
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer, start_server
from tests.support.app import open_page, point_app_at, texts
from tests.support.app_data import ADMIN, Store, copy_store
from tests.support.sync import import_demo_customers

SUMMARY = RunSummary(7, date(2024, 3, 17), date(2024, 3, 19), rows={"accounts": 3, "visitor_days": 1200},
                     requests=5, retries=1, bad_rows=2)
NOW = datetime(2024, 3, 20, 9, 0, tzinfo=UTC)
AS_OF = date(2024, 3, 20)


@dataclass
class RecordingSync:
    """Stands in for `pipeline.run_sync`: records each call, then answers with SUMMARY or raises `fail`."""

    calls: list[tuple[SyncRequest | None, dict[str, Any]]] = field(default_factory=list)
    fail: Exception | None = None

    def __call__(self, settings: Settings, engine: Engine, request: SyncRequest | None = None,
                 **options: Any) -> RunSummary:
        self.calls.append((request, options))
        if self.fail is not None:
            raise self.fail
        return SUMMARY


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> RecordingSync:
    """The one seam: every layer reaches the pipeline as `pipeline.run_sync`."""
    fake = RecordingSync()
    monkeypatch.setattr(pipeline, "run_sync", fake)
    return fake


@pytest.fixture
def store(hand_built_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh copy of the app's hand-built store, as DATABASE_URL, with no Pendo key in the environment."""
    copy = copy_store(hand_built_store, tmp_path / "store.db")
    engine = copy.engine
    point_app_at(monkeypatch, copy.url)
    for name in ("PENDO_INTEGRATION_KEY", "PENDO_BASE_URL", "PENDO_REGION"):
        monkeypatch.delenv(name, raising=False)
    yield engine
    engine.dispose()


@pytest.fixture
def kept_logging() -> Iterator[None]:
    """The CLI installs its own root log handler; put the test run's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


# --- every layer starts its sync through the pipeline -------------------------------------------


def _cli(_engine: Engine, capsys: pytest.CaptureFixture[str]) -> str:
    from jobs.cli import main

    assert main(["sync", "--as-of", AS_OF.isoformat(), "--backfill-days", "3"]) == 0
    return capsys.readouterr().out.strip()


def _scheduler(_engine: Engine, _capsys: pytest.CaptureFixture[str]) -> str:
    from jobs.scheduler import default_hooks

    hooks = default_hooks(Settings(), threading.Event(), lambda: NOW)
    return hooks.sync(AS_OF)


def _app(_engine: Engine, _capsys: pytest.CaptureFixture[str]) -> str:
    from pages.ui import admin_sync

    at = open_page("pages/admin.py", ADMIN)
    at.button(key="admin_sync_now").click().run()
    assert admin_sync.sync_job().wait(10).status == "success"
    return " ".join(texts(at.run().success))


def _api(engine: Engine, _capsys: pytest.CaptureFixture[str]) -> str:
    from api.__main__ import build_app

    with Session(engine) as session, session.begin():
        session.add(models.AppUser(email="root@cscx.io", name="Root", role="admin", password_hash=None))
        session.flush()
        token, _ = issue_token(session, "root@cscx.io", "test", by="test", now=datetime.now(UTC))
    app = build_app(Settings(), engine)
    response = TestClient(app).post("/api/pendo/sync", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 202, response.text
    state = app.state.ctx.sync_job.wait(10)
    assert state.status == "success"
    return str(state.message)


@dataclass(frozen=True)
class Layer:
    """How one delivery layer starts a sync, what it should ask the pipeline for, and what it shows."""

    start: Callable[[Engine, pytest.CaptureFixture[str]], str]
    request: SyncRequest | None  # None: the daily run as of today
    options: frozenset[str]  # the keyword arguments it passes
    shown: str


@pytest.mark.parametrize("layer", [
    Layer(_cli, SyncRequest(AS_OF, 3), frozenset({"progress"}), pipeline.describe(SUMMARY)),
    Layer(_scheduler, SyncRequest(AS_OF), frozenset({"progress", "stop", "clock"}), pipeline.brief(SUMMARY)),
    Layer(_app, None, frozenset(), "Sync 7 ok: days 2024-03-17..2024-03-19, 5 requests, 2 bad rows skipped."),
    Layer(_api, None, frozenset(), pipeline.brief(SUMMARY)),
], ids=["cli", "scheduler", "app-sync-now", "api-post-sync"])
@pytest.mark.usefixtures("kept_logging")
def test_every_layer_starts_its_sync_through_run_sync(store: Engine, recorder: RecordingSync,
                                                      capsys: pytest.CaptureFixture[str], layer: Layer) -> None:
    """Each way in calls run_sync exactly once (the CLI and scheduler with their request, the app and the
    API with none: the daily run) and shows the pipeline's own summary line."""
    assert layer.shown in layer.start(store, capsys)
    assert [(request, frozenset(given)) for request, given in recorder.calls] == [(layer.request, layer.options)]


@pytest.mark.usefixtures("kept_logging")
def test_the_cli_maps_a_pipeline_error_to_exit_1_and_one_line(
        store: Engine, recorder: RecordingSync, capsys: pytest.CaptureFixture[str]) -> None:
    """A PipelineError from the pipeline is `error: <its line>` on stderr and exit code 1, no trace."""
    from jobs.cli import main

    recorder.fail = PipelineError("sync failed: Pendo refused the key: wrong key or wrong region")
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == ["error: sync failed: Pendo refused the key: wrong key or wrong region"]


def test_the_cli_refuses_a_backfill_below_one_day_before_any_run(store: Engine, recorder: RecordingSync) -> None:
    """A bad argument is the CLI's own one-line error; the pipeline is never called."""
    from jobs.commands import JobError, sync

    with pytest.raises(JobError, match="at least 1"):
        sync(Settings(), argparse.Namespace(as_of=None, backfill_days=0))
    assert recorder.calls == []


# --- the pipeline itself, on the simulator ----------------------------------------------------------


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    """A small synthetic Pendo subscription."""
    return generate(seed=11, accounts=4, days=60, as_of=AS_OF, tz="UTC")


@pytest.fixture(scope="module")
def simulator(subscription: Subscription) -> Iterator[SimServer]:
    """The subscription served over HTTP; it accepts `demo-key`."""
    server = start_server(subscription)
    yield server
    server.stop()


def _settings(server: SimServer, key: str = "demo-key") -> Settings:
    return Settings(pendo_integration_key=key, pendo_base_url=server.url, pendo_timezone="UTC")


def _open_ops(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return sorted(conn.execute(select(models.OpsAlert.kind).where(models.OpsAlert.status == "open")).scalars())


def test_a_real_run_scores_and_checks_operations_after_itself(sqlite_engine: Engine, subscription: Subscription,
                                                              simulator: SimServer) -> None:
    """On the simulator: the run is recorded, the steps after the metrics scored health, and the
    operations check that followed found nothing wrong."""
    import_demo_customers(sqlite_engine, subscription)
    summary = pipeline.run_sync(_settings(simulator), sqlite_engine, SyncRequest(AS_OF, 14),
                                clock=lambda: datetime.now(UTC))
    with sqlite_engine.connect() as conn:
        status = conn.scalar(select(models.SyncRun.status).where(models.SyncRun.id == summary.run_id))
        scored = conn.scalar(select(func.count()).select_from(models.HealthScore))
    assert (status, summary.report_last, scored > 0) == ("success", date(2024, 3, 19), True)
    assert _open_ops(sqlite_engine) == []


@pytest.mark.parametrize(("key", "stop", "message", "opened"), [
    ("not-the-key-4711", False, "wrong key or wrong region", ["data_stale", "sync_failed"]),
    ("demo-key", True, "asked to stop", []),
], ids=["refused-key-is-news-for-the-admins", "stopped-on-purpose-is-not"])
def test_a_failed_run_is_one_line_and_checked_unless_stopped(sqlite_engine: Engine, simulator: SimServer,
                                                             key: str, stop: bool, *, message: str,
                                                             opened: list[str]) -> None:
    """A run that fails raises a one-line PipelineError and is followed by the operations check; a run
    stopped on purpose is not (no check, so not even the store's staleness is reported)."""
    stop_event = threading.Event()
    if stop:
        stop_event.set()
    with pytest.raises(PipelineError, match=message) as caught:
        pipeline.run_sync(_settings(simulator, key), sqlite_engine, SyncRequest(AS_OF, 3), stop=stop_event,
                          clock=lambda: NOW)
    assert len(str(caught.value).splitlines()) == 1
    assert key not in str(caught.value)
    assert _open_ops(sqlite_engine) == opened


def test_a_run_while_another_holds_the_lock_is_busy_and_starts_nothing(sqlite_engine: Engine,
                                                                       simulator: SimServer) -> None:
    """SyncBusy is a PipelineError for the CLI and a SyncAlreadyRunning for the scheduler's guard."""
    with run_lock(sqlite_engine), pytest.raises(SyncBusy, match="already running") as caught:
        pipeline.run_sync(_settings(simulator), sqlite_engine, SyncRequest(AS_OF, 3), clock=lambda: NOW)
    assert isinstance(caught.value, SyncAlreadyRunning)
    with sqlite_engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.SyncRun)) == 0
    assert _open_ops(sqlite_engine) == []
