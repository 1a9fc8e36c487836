"""The one place that builds the edges (store, Pendo client) from Settings.

Demo mode (no PENDO_INTEGRATION_KEY) syncs from a simulator the library does not know: the
delivery layers (jobs, the app, the API) hand it in once at start-up with `use_demo_server`, so the
library never imports `pendo_sim`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pendo_core.common.config import DEMO_KEY, Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pipeline.errors import PipelineError, StoreUnavailable
from pendo_core.store.engine import make_engine, migrate

log = logging.getLogger("pendo_core")
# The simulator keeps more history than a backfill needs: 90 reported days + 89 days behind them.
DEMO_HISTORY_DAYS = 200

# (settings, as_of, history days) -> a context serving a simulated subscription; yields its base URL.
DemoServer = Callable[[Settings, date, int], AbstractContextManager[str]]
_demo_server: list[DemoServer] = []


def use_demo_server(server: DemoServer) -> None:
    """Install the simulator that demo mode syncs from (called by the delivery layers at start-up)."""
    _demo_server[:] = [server]


def open_store(settings: Settings) -> Engine:
    """The store, migrated to the newest schema; StoreUnavailable (one line) when it cannot be reached."""
    try:
        engine = make_engine(settings.database_url)
        migrate(engine)
    except OperationalError as exc:
        where = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise StoreUnavailable(f"cannot reach the database {where}: {reason}. Check DATABASE_URL.") from exc
    return engine


@contextmanager
def pendo_endpoint(settings: Settings, as_of: date) -> Iterator[tuple[str, str]]:
    """(base URL, key) of the real Pendo host, or of a demo simulator started on loopback."""
    if not settings.demo_mode:
        assert settings.pendo_integration_key is not None
        yield settings.base_url, settings.pendo_integration_key.get_secret_value()
        return
    if not _demo_server:
        raise PipelineError("demo mode (no PENDO_INTEGRATION_KEY) needs the simulator: start through "
                            "`python -m jobs`, the app or `python -m api`, or set PENDO_INTEGRATION_KEY")
    with _demo_server[0](settings, as_of, DEMO_HISTORY_DAYS) as url:
        log.info("demo mode: no PENDO_INTEGRATION_KEY, syncing from the built-in simulator at %s", url)
        yield url, DEMO_KEY


def make_client(settings: Settings, base_url: str, key: str) -> PendoClient:
    """A Pendo client with the configured timeouts, retries and concurrency cap."""
    retry = RetryPolicy(attempts=settings.max_attempts, max_seconds=settings.max_retry_seconds)
    return PendoClient(base_url, key, timeout=settings.request_timeout_s, retry=retry,
                       max_concurrency=settings.max_concurrency)


@contextmanager
def pendo_client(settings: Settings, as_of: date) -> Iterator[PendoClient]:
    """A client of the configured Pendo host (or of the demo simulator, serving data up to `as_of`)."""
    with pendo_endpoint(settings, as_of) as (url, key), make_client(settings, url, key) as client:
        yield client
