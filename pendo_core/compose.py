"""The one place that builds the edges (store, Pendo client, demo simulator) from Settings."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from pendo_core.config import DEMO_KEY, Settings
from pendo_core.errors import StoreUnavailable
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.store.engine import make_engine, migrate

log = logging.getLogger("pendo_core")
# The simulator keeps more history than a backfill needs: 90 reported days + 89 days behind them.
DEMO_HISTORY_DAYS = 200


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
    from pendo_sim.data import generate
    from pendo_sim.server import start_server

    subscription = generate(seed=settings.demo_seed, accounts=settings.demo_accounts,
                            days=DEMO_HISTORY_DAYS, as_of=as_of, tz=settings.pendo_timezone)
    server = start_server(subscription)
    log.info("demo mode: no PENDO_INTEGRATION_KEY, syncing from the built-in simulator at %s", server.url)
    try:
        yield server.url, DEMO_KEY
    finally:
        server.stop()


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
