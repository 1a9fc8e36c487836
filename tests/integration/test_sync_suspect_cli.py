"""Issue 11's report, end to end through `python -m jobs sync`: on a daily rerun whose `events` answers are
broken, the stored activity, the metrics and the alerts stay as they were, the command exits non-zero
with one line, and the operations check opens a sync_suspect alert saying what happened. Once the answer
is fine again the next run succeeds; an operator can accept a real restatement."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.alerts.operations import SYNC_FAILED, SYNC_SUSPECT, check_operations, open_ops_alerts
from pendo_core.store import models
from pendo_core.store.engine import make_engine, migrate
from pendo_sim.data import Subscription, generate
from pendo_sim.faults import AnswerFault
from pendo_sim.server import SimServer
from tests.support import REPO
from tests.support.sync import import_demo_customers, snapshot

pytestmark = pytest.mark.slow

TZ = "UTC"
AS_OF = date(2024, 3, 20)
LOOKBACK = [date(2024, 3, d) for d in range(10, 20)]


def _events(kind: str, **fields: Any) -> AnswerFault:
    return AnswerFault("events", kind, period="dayRange", **fields)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=17, accounts=16, days=130, as_of=AS_OF, tz=TZ)


def _cli(database: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PENDO_", "DATABASE_URL", "CSCX_", "SMTP_"))}
    env |= {"DATABASE_URL": f"sqlite:///{database}", "PENDO_INTEGRATION_KEY": "demo-key", "PENDO_BASE_URL": url,
            "PENDO_TIMEZONE": TZ, "LOG_FORMAT": "json"}
    return subprocess.run([sys.executable, "-m", "jobs", "sync", "--as-of", AS_OF.isoformat(), *args], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=600, check=False)


@pytest.fixture(scope="module")
def backfilled(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store after `python -m jobs sync --backfill-days 30` (metrics, health and alerts included)."""
    path = tmp_path_factory.mktemp("backfilled") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    import_demo_customers(engine, subscription)
    engine.dispose()
    done = _cli(path, server.url, "--backfill-days", "30")
    assert done.returncode == 0, done.stderr
    return path


@pytest.fixture
def store(backfilled: Path, tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A copy of the backfilled store for one test."""
    path = tmp_path / "store.db"
    with sqlite3.connect(backfilled) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    engine = make_engine(f"sqlite:///{path}")
    yield path, engine
    engine.dispose()


def _alerts(engine: Engine) -> list[tuple[Any, ...]]:
    alert = models.UsageAlert
    with engine.connect() as conn:
        return sorted(tuple(r) for r in conn.execute(select(alert.customer_id, alert.kind, alert.status)))


@pytest.mark.parametrize("fault", [
    _events("results_null"),
    _events("set", field="numEvents", value="12"),
    _events("set", field="visitorId", value=None),
], ids=["results-null", "counts-as-text", "null-visitors"])
def test_a_broken_rerun_changes_nothing_and_fails_loudly(store: tuple[Path, Engine], server: SimServer,
                                                         fault: AnswerFault) -> None:
    """Exit 1 with one line; every table, DAU and alert as before; sync_failed names the suspect windows."""
    path, engine = store
    before, alerts = snapshot(engine), _alerts(engine)
    server.faults.answer, server.state.corrupted = fault, 0
    try:
        done = _cli(path, server.url)
    finally:
        server.faults.answer = None
    assert done.returncode == 1
    assert "ok" not in done.stdout
    [line] = done.stderr.strip().splitlines()[-1:]
    assert line.startswith("error: sync failed: 2 suspect window(s) withheld, stored rows kept: visitor_days")
    assert "--accept-restatement" in line
    assert snapshot(engine) == before
    assert _alerts(engine) == alerts
    assert [a.kind for a in open_ops_alerts(engine)] == [SYNC_SUSPECT]  # opened by the run's own check
    check = check_operations(engine, datetime.now(UTC))
    [held] = [a for a in check.open if a.kind == SYNC_SUSPECT]
    assert SYNC_FAILED not in {a.kind for a in check.open}  # one alert for one event
    assert held.message.startswith("Sync run 2 held back 2 window(s) as suspect: 10 day(s), 2024-03-10..2024-03-19")
    assert "--accept-restatement" in held.message


def test_the_next_good_run_succeeds_and_changes_nothing(store: tuple[Path, Engine], server: SimServer) -> None:
    """After a withheld run, a rerun with a sound answer exits 0 and the store is as it was."""
    path, engine = store
    before = snapshot(engine)
    server.faults.answer, server.state.corrupted = _events("results_null"), 0
    try:
        assert _cli(path, server.url).returncode == 1
    finally:
        server.faults.answer = None
    done = _cli(path, server.url)
    assert done.returncode == 0, done.stderr
    assert snapshot(engine) == before


def test_an_operator_accepts_a_restatement(store: tuple[Path, Engine], server: SimServer) -> None:
    """Pendo now reports no activity for the lookback: refused by default, applied with --accept-restatement."""
    path, engine = store
    server.faults.answer, server.state.corrupted = _events("drop"), 0
    try:
        assert _cli(path, server.url).returncode == 1
        done = _cli(path, server.url, "--accept-restatement")
    finally:
        server.faults.answer = None
    assert done.returncode == 0, done.stderr
    with engine.connect() as conn:
        kept = conn.scalar(select(func.count()).select_from(models.VisitorDay)
                           .where(models.VisitorDay.day.between(LOOKBACK[0], LOOKBACK[-1])))
        accepted = conn.scalars(select(models.DataQualityIssue.reason)
                                .where(models.DataQualityIssue.reason.startswith("accepted"))).all()
    assert kept == 0
    assert len(accepted) == 2
    assert check_operations(engine, datetime.now(UTC)).open == []  # sync_suspect resolved by the accepted run
