"""A sync process killed (SIGKILL) at any point, then run again, ends with the store of a clean run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date

import pytest
from sqlalchemy import Engine

from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer, start_server
from tests.support import REPO
from tests.support.sync import import_demo_customers, run_sync, snapshot

ROOT = REPO
TZ = "America/New_York"
AS_OF = date(2024, 3, 20)
BACKFILL = 14

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=23, accounts=16, days=130, as_of=AS_OF, tz=TZ)


@pytest.fixture(scope="module")
def server(subscription: Subscription) -> Iterator[SimServer]:
    sim = start_server(subscription)
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def clean(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    from pendo_core.store.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}")
    migrate(engine)
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    return snapshot(engine)


def _killed_sync(engine: Engine, url: str, after_seconds: float) -> int | None:
    """Start `python -m jobs sync` and SIGKILL it after `after_seconds`; None if it finished first."""
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "PENDO_INTEGRATION_KEY": "demo-key", "PENDO_BASE_URL": url, "PENDO_TIMEZONE": TZ}
    proc = subprocess.Popen([sys.executable, "-m", "jobs", "sync", "--as-of", AS_OF.isoformat(),
                             "--backfill-days", str(BACKFILL)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + after_seconds
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)
    if proc.poll() is not None:
        return None
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


@pytest.mark.parametrize("after_seconds", [1.2, 2.0, 3.0, 4.5, 6.5], ids=lambda s: f"kill-at-{s}s")
def test_killed_run_then_rerun_equals_clean_run(engine: Engine, subscription: Subscription, server: SimServer,
                                                clean: dict, after_seconds: float) -> None:
    """Whatever the kill point (start-up, windows, metrics), the next run leaves the clean store."""
    import_demo_customers(engine, subscription)
    _killed_sync(engine, server.url, after_seconds)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL)
    assert snapshot(engine) == clean
