"""PostgreSQL going away in the middle of a run: no window is half-written, and the store ends like a
clean run's (after a rerun when the outage stopped the run)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, text

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import SyncError, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store.engine import make_engine, migrate
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer
from tests.support.store import wipe
from tests.support.sync import import_demo_customers, run_sync, snapshot

TZ = "UTC"
AS_OF = date(2024, 3, 20)

pytestmark = pytest.mark.slow


class CutTheDatabase(LogProgress):
    """After the Nth committed window, every other connection to the database is terminated."""

    def __init__(self, engine: Engine, after: int) -> None:
        super().__init__()
        self.engine, self.after, self.windows = engine, after, 0

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        super().window_done(stream, first, last, rows)
        self.windows += 1
        if self.windows == self.after:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                  "WHERE datname = current_database() AND pid <> pg_backend_pid()"))


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=31, accounts=10, days=120, as_of=AS_OF, tz=TZ)


@pytest.mark.parametrize("after", [2, 9], ids=["early", "later"])
def test_database_outage_mid_run(pg_engine: Engine, subscription: Subscription, server: SimServer,
                                 tmp_path_factory: pytest.TempPathFactory, after: int) -> None:
    """Connections killed between windows: the run goes on or stops with a reason; the rerun finishes it."""
    clean_engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('clean') / 'clean.db'}")
    migrate(clean_engine)
    import_demo_customers(clean_engine, subscription)
    run_sync(clean_engine, server.url, TZ, AS_OF, 7)

    wipe(pg_engine)
    import_demo_customers(pg_engine, subscription)
    killer_engine = make_engine(pg_engine.url.render_as_string(hide_password=False))
    config = Settings(pendo_integration_key="demo-key", pendo_base_url=server.url, pendo_timezone=TZ)
    try:
        with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client:
            runner = sync_runner(config, pg_engine, client, steps=INGEST_STEPS,
                                 progress=CutTheDatabase(killer_engine, after))
            try:
                runner.run(SyncRequest(AS_OF, 7))
                reason = ""
            except SyncError as exc:
                reason = str(exc)
        assert "\n" not in reason  # a stopped run says why in one line
        run_sync(pg_engine, server.url, TZ, AS_OF, 7)
        assert snapshot(pg_engine) == snapshot(clean_engine)
    finally:
        killer_engine.dispose()
        wipe(pg_engine)
