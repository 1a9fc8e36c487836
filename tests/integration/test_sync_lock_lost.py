"""PostgreSQL: the run lock vanishes mid-run (its server session is terminated), a second sync takes the
lock and runs while the first is still alive. The first stops at its next window, the second finishes,
and the store equals a clean run's cell by cell: no count is doubled."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest
from sqlalchemy import Engine, select, text

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.lock import advisory_key, run_lock
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import SyncError, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store import models
from pendo_core.store.engine import make_engine
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer
from tests.support.store import wipe
from tests.support.sync import import_demo_customers, snapshot, synced_sqlite

TZ = "UTC"
AS_OF = date(2024, 3, 20)
BACKFILL = 7
WAIT_S = 300  # only a broken run would wait this long

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


class LoseTheLock(LogProgress):
    """After the Nth committed window: terminate the lock's session, then wait until a second run started."""

    def __init__(self, killer: Engine, after: int, lock_lost: threading.Event, second_started: threading.Event) -> None:
        super().__init__()
        self.killer, self.after, self.windows = killer, after, 0
        self.lock_lost, self.second_started = lock_lost, second_started

    def _wait_until_released(self, key: int) -> None:
        """pg_terminate_backend only signals: the lock is free once the backend has gone."""
        deadline = time.monotonic() + WAIT_S
        with self.killer.connect() as conn:
            while conn.scalar(text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND classid::bigint = :hi AND objid::bigint = :lo"),
                    {"hi": (key >> 32) & 0xFFFFFFFF, "lo": key & 0xFFFFFFFF}):
                assert time.monotonic() < deadline, "the terminated backend kept the lock"
                time.sleep(0.05)

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        super().window_done(stream, first, last, rows)
        self.windows += 1
        if self.windows == self.after:
            key = advisory_key("sync")
            with self.killer.connect() as conn:
                killed = conn.scalar(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
                    "AND classid::bigint = :hi AND objid::bigint = :lo"), {"hi": (key >> 32) & 0xFFFFFFFF,
                                                                           "lo": key & 0xFFFFFFFF})
            assert killed == 1
            self._wait_until_released(key)
            self.lock_lost.set()
            assert self.second_started.wait(WAIT_S)


class Started(LogProgress):
    """Tells the first run to go on once this run's windows begin (it has superseded the first by then)."""

    def __init__(self, started: threading.Event) -> None:
        super().__init__()
        self.started = started

    def start(self, total_windows: int) -> None:
        super().start(total_windows)
        self.started.set()


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=31, accounts=10, days=120, as_of=AS_OF, tz=TZ)


@pytest.fixture(scope="module")
def clean(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> dict:
    path = tmp_path_factory.mktemp("clean") / "clean.db"
    return snapshot(synced_sqlite(path, subscription, server.url, tz=TZ, as_of=AS_OF, backfill_days=BACKFILL))


def _locked_run(engine: Engine, url: str, progress: LogProgress) -> None:
    config = Settings(pendo_integration_key="demo-key", pendo_base_url=url, pendo_timezone=TZ)
    with run_lock(engine), PendoClient(url, "demo-key", retry=RetryPolicy.for_tests()) as client:
        sync_runner(config, engine, client, steps=INGEST_STEPS, progress=progress).run(SyncRequest(AS_OF, BACKFILL))


@pytest.mark.parametrize("after", [2, 9], ids=["early", "later"])
def test_a_run_whose_lock_was_lost_stops_and_the_store_stays_exact(
        pg_engine: Engine, subscription: Subscription, server: SimServer, clean: dict, after: int) -> None:
    """The first run fails saying a newer run started; the second succeeds; every table is a clean run's."""
    wipe(pg_engine)
    import_demo_customers(pg_engine, subscription)
    killer = make_engine(pg_engine.url.render_as_string(hide_password=False))
    lock_lost, second_started = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def first_run() -> None:
        try:
            _locked_run(pg_engine, server.url, LoseTheLock(killer, after, lock_lost, second_started))
        except BaseException as exc:  # handed to the test below
            failures.append(exc)
        lock_lost.set()  # whatever happened, never leave the test waiting

    first = threading.Thread(target=first_run, daemon=True)
    try:
        first.start()
        assert lock_lost.wait(WAIT_S)
        _locked_run(pg_engine, server.url, Started(second_started))
        first.join(WAIT_S)
        assert len(failures) == 1
        assert isinstance(failures[0], SyncError)
        assert "a newer run started" in str(failures[0])
        with pg_engine.connect() as conn:
            assert conn.execute(select(models.SyncRun.status).order_by(models.SyncRun.id)).scalars().all() == [
                "failed", "success"]
        assert snapshot(pg_engine) == clean
    finally:
        second_started.set()
        first.join(WAIT_S)
        killer.dispose()
        wipe(pg_engine)
