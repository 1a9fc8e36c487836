"""Accounts and visitors paged through the simulator over HTTP, each page read while the one before is
written (entities._keyset_sync): small pages store what one page stores, and a page that fails to read
keeps the pages before it, which the next run goes on from."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoAuthError, PendoClient, RetryPolicy
from pendo_core.pendo.sync import entities
from pendo_core.pendo.sync.runner import SyncError, SyncRequest
from pendo_core.pipeline import sync_runner
from pendo_core.store import models
from pendo_core.store.engine import make_engine, migrate
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer
from tests.support.sync import snapshot

AS_OF = date(2024, 3, 20)
PAGE = 25

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=3, accounts=40, days=40, as_of=AS_OF, tz="UTC")


class RefusedAfter(PendoClient):
    """Pendo refusing the `failing`-th visitors page (as a key losing its access part-way would)."""

    def __init__(self, *args: Any, failing: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.failing, self.pages = failing, 0

    def aggregate_all(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None) -> list[dict[str, Any]]:
        if "visitors" in pipeline[0]["source"]:
            self.pages += 1
            if self.pages == self.failing:
                raise PendoAuthError("visitors refused: wrong key or wrong region", status_code=403)
        return super().aggregate_all(pipeline, request_id=request_id)


def _sync(engine: Engine, url: str, client_type: type[PendoClient] = PendoClient, **client: Any) -> None:
    config = Settings(pendo_integration_key="demo-key", pendo_base_url=url, pendo_timezone="UTC")
    with client_type(url, "demo-key", retry=RetryPolicy.for_tests(), timeout=30, **client) as pendo:
        sync_runner(config, engine, pendo, steps=()).run(SyncRequest(AS_OF, 7))


def _one_page_store(tmp_path: Path, url: str) -> dict[str, list[tuple[Any, ...]]]:
    engine = make_engine(f"sqlite:///{tmp_path / 'one-page.db'}")
    migrate(engine)
    _sync(engine, url)
    return snapshot(engine)


def _visitors(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(models.PendoVisitor)) or 0)


def test_small_pages_store_what_one_page_stores(engine: Engine, server: SimServer, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _one_page_store(tmp_path, server.url)
    assert len(expected["pendo_visitors"]) > 4 * PAGE
    assert len(expected["pendo_accounts"]) > PAGE
    monkeypatch.setattr(entities, "PAGE_SIZE", PAGE)
    _sync(engine, server.url)
    assert snapshot(engine) == expected


def test_a_page_refused_keeps_the_pages_before_and_the_next_run_finishes(
        engine: Engine, server: SimServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _one_page_store(tmp_path, server.url)
    monkeypatch.setattr(entities, "PAGE_SIZE", PAGE)
    with pytest.raises(SyncError, match="wrong key or wrong region"):
        _sync(engine, server.url, RefusedAfter, failing=3)
    assert _visitors(engine) == 2 * PAGE  # the two pages read before the refused one, written
    _sync(engine, server.url)
    assert snapshot(engine) == expected
