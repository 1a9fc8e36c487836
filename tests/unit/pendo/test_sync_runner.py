"""Runner behaviour that a real server cannot be made to show on demand: a hand-written fake client."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.common.config import Settings
from pendo_core.pendo.client import ClientStats, PendoTimeoutError, RetryPolicy
from pendo_core.pendo.sync import prefetch, runner
from pendo_core.pendo.sync.runner import SyncError, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store import models

DAY_MS = 86_400_000
T = TypeVar("T")


class FakeClient:
    """Answers every request with no rows; usage requests spanning more than `max_days` time out."""

    def __init__(self, max_days: int) -> None:
        self.max_days = max_days
        self.spans: list[int] = []
        self.stats = ClientStats()
        self.retry = RetryPolicy.for_tests(attempts=2)

    def verify(self) -> None:
        return None

    def aggregate(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None,
                  require_results: bool = False, row_type: type | None = None) -> Iterator[dict[str, Any]]:
        series = pipeline[0]["source"]["timeSeries"]
        days = (series["last"] - series["first"]) // DAY_MS + 1
        self.spans.append(days)
        if days > self.max_days:
            raise PendoTimeoutError("read timed out", host="fake")
        return iter(())

    def aggregate_all(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None) -> list[Any]:
        return []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return []

    def retrying(self, fn: Callable[[], T]) -> T:
        return self.retry.call(fn)


def _run(engine: Engine, client: FakeClient, backfill: int = 7, **settings: Any) -> None:
    config = Settings(pendo_integration_key="k", window_days=7, **settings)
    sync_runner(config, engine, client, steps=INGEST_STEPS).run(SyncRequest(date(2024, 3, 20), backfill))  # type: ignore[arg-type]


def test_a_window_that_times_out_is_split_until_it_fits(sqlite_engine: Engine) -> None:
    """7-day windows time out, 2-day ones pass: the days are still all read, none twice."""
    client = FakeClient(max_days=2)
    _run(sqlite_engine, client)
    assert max(s for s in client.spans if s <= 2) <= 2
    with sqlite_engine.connect() as conn:
        covered = conn.execute(select(models.SyncCoverage.day).where(
            models.SyncCoverage.stream == "page_days")).scalars().all()
    assert sorted(covered) == [date(2024, 3, d) for d in range(13, 20)]


def test_a_one_day_window_that_times_out_fails_the_run(sqlite_engine: Engine) -> None:
    """Nothing left to split: the run stops with a one-line reason and is recorded as failed."""
    with pytest.raises(SyncError, match="timed out"):
        _run(sqlite_engine, FakeClient(max_days=0))
    with sqlite_engine.connect() as conn:
        status, error = conn.execute(select(models.SyncRun.status, models.SyncRun.error)).one()
    assert status == "failed"
    assert "timed out" in error


class OneStreamClient(FakeClient):
    """Like Pendo behind a concurrency of one: a second stream opened while one is open waits, and a
    wait of more than 5 s fails the test (a read-ahead holding the slot while its window retries)."""

    def __init__(self, rows_per_answer: int, flaky: int) -> None:
        super().__init__(max_days=99)
        self.gate = threading.BoundedSemaphore(1)
        self.rows_per_answer, self.flaky = rows_per_answer, flaky
        self.opened = 0

    def aggregate(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None,
                  require_results: bool = False, row_type: type | None = None) -> Iterator[dict[str, Any]]:
        if not self.gate.acquire(timeout=5):
            raise AssertionError("a second stream waited behind an open one")
        try:
            self.opened += 1
            if self.opened == self.flaky:
                raise PendoTimeoutError("read timed out", host="fake")  # a one-day window: retried
            series = pipeline[0]["source"]["timeSeries"]
            for i in range(self.rows_per_answer):
                yield {"accountId": "a", "visitorId": f"v{i}", "pageId": f"p{i}", "featureId": f"f{i}",
                       "day": series["first"], "hour": series["first"], "numEvents": 1, "numMinutes": 1,
                       "type": "guideSeen", "guideId": "g", "guideStepId": "s", "browserTime": series["first"]}
        finally:
            self.gate.release()


def test_a_retried_window_never_waits_behind_the_read_ahead(sqlite_engine: Engine,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Window N+1 is read while N is written; when N fails its retry still gets the one stream (the
    read-ahead, paused on its full queue, is dropped), and every day is written once."""
    monkeypatch.setattr(runner, "READ_AHEAD_DIALECTS", frozenset({"sqlite"}))  # PostgreSQL's only, by default
    monkeypatch.setattr(prefetch, "BATCH_ROWS", 10)
    monkeypatch.setattr(prefetch, "DEPTH", 1)  # a read-ahead pauses after 20 rows, holding its stream
    client = OneStreamClient(rows_per_answer=100, flaky=3)
    config = Settings(pendo_integration_key="k", window_days=1)
    sync_runner(config, sqlite_engine, client, steps=INGEST_STEPS).run(  # type: ignore[arg-type]
        SyncRequest(date(2024, 3, 20), 3))
    with sqlite_engine.connect() as conn:
        days = conn.execute(select(models.SyncCoverage.day).where(
            models.SyncCoverage.stream == "visitor_days")).scalars().all()
        stored = conn.execute(select(func.count()).select_from(models.VisitorDay)).scalar_one()
    assert sorted(days)[-3:] == [date(2024, 3, d) for d in (17, 18, 19)]
    assert stored == 100 * len(days)
