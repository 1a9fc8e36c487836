"""A sync process killed (SIGKILL) at any point, then run again, ends with the store of a clean run.

The kill points are statements, not seconds: the child stops just before the chosen statement and
says so, then the test kills it (tests/support/kill_point.py), so every case really kills a run
where it means to."""

from __future__ import annotations

import os
import signal
from datetime import date

import pytest
from sqlalchemy import Engine, select

from pendo_core.store.models import SyncRun
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer
from tests.support import REPO
from tests.support.kill_point import KilledRun, KillPoint, kill_at
from tests.support.sync import import_demo_customers, run_sync, snapshot, synced_sqlite

ROOT = REPO
TZ = "America/New_York"
AS_OF = date(2024, 3, 20)
BACKFILL = 14

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=23, accounts=16, days=130, as_of=AS_OF, tz=TZ)


@pytest.fixture(scope="module")
def clean(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    return snapshot(synced_sqlite(path, subscription, server.url, tz=TZ, as_of=AS_OF, backfill_days=BACKFILL))


# Each point stops the child just before one statement: a state the store must survive a kill in.
KILL_POINTS = [
    KillPoint("start-up", "INSERT INTO", "pendo_accounts"),  # run recorded, first entity write open
    KillPoint("first-window", "INSERT INTO", "pendo_sync_coverage"),  # a window's rows written, not committed
    KillPoint("later-window", "INSERT INTO", "pendo_sync_coverage", 24),  # 23 windows committed, the 24th's
    # rows written, not committed (not its INSERT: on PostgreSQL a backfill's rows go in by COPY, unseen)
    # every window in, the usage metrics written and not committed, the feature usage next (rows go by COPY
    # or the driver's executemany, unseen: the point is `usage.compute._write`'s look for stored rows)
    KillPoint("metrics", "SELECT EXISTS (SELECT * FROM", "pendo_feature_usage"),
    KillPoint("health", "DELETE FROM", "pendo_health_scores"),  # metrics in, health scoring begun (not its
    # INSERT: on PostgreSQL the scores go in by COPY, which no SQLAlchemy event sees)
    KillPoint("finishing", "UPDATE", "pendo_sync_runs", 2),  # everything written, the run not marked done
]


def _killed_sync(engine: Engine, url: str, point: KillPoint) -> KilledRun:
    """`python -m jobs sync`, SIGKILLed when it reaches `point`."""
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PENDO_INTEGRATION_KEY": "demo-key", "PENDO_BASE_URL": url, "PENDO_TIMEZONE": TZ}
    args = ["sync", "--as-of", AS_OF.isoformat(), "--backfill-days", str(BACKFILL)]
    return kill_at(point, args, env=env, cwd=ROOT)


def _run_statuses(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(SyncRun.status).order_by(SyncRun.id)).scalars())


@pytest.mark.parametrize("point", KILL_POINTS, ids=lambda p: f"kill-at-{p.name}")
def test_killed_run_then_rerun_equals_clean_run(engine: Engine, subscription: Subscription, server: SimServer,
                                                clean: dict, point: KillPoint) -> None:
    """Whatever the kill point (start-up, windows, metrics, health), the next run leaves the clean store."""
    import_demo_customers(engine, subscription)
    killed = _killed_sync(engine, server.url, point)
    assert killed.reached == point.label, f"the sync ended (exit {killed.exit_code}) before {point.label}:\n" \
                                          f"{killed.stderr}"
    assert killed.exit_code == -signal.SIGKILL
    assert _run_statuses(engine) == ["running"]  # killed mid-run: nothing marked it finished
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    assert snapshot(engine) == clean
