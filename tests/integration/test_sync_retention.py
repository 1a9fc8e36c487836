"""Retention end to end against the simulator: a sync purges raw rows past RAW_RETENTION_DAYS after
its metrics, every metric still matches the spec, and a remap after a purge keeps the metrics of the
days whose raw rows are gone instead of restating them as zeros."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync import retention
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store import models
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer, start_server
from tests.support.metrics import Outputs, read_outputs
from tests.support.reference_metrics import reference_metrics
from tests.support.sync import expected_activity, import_demo_customers, map_an_unmapped_account

TZ = "America/New_York"
AS_OF = date(2024, 3, 20)
RETENTION = 150

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=11, accounts=24, days=200, as_of=AS_OF, tz=TZ)


@pytest.fixture
def server(subscription: Subscription) -> Iterator[SimServer]:
    sim = start_server(subscription)
    yield sim
    sim.stop()


def _sync(engine: Engine, url: str, backfill_days: int | None, **settings: Any) -> RunSummary:
    """One run with the metrics step and then the retention step (health and alerts left out)."""
    config = Settings(pendo_integration_key="demo-key", pendo_base_url=url, pendo_timezone=TZ, **settings)
    with PendoClient(url, "demo-key", retry=RetryPolicy.for_tests(), timeout=30) as client:
        steps = (*INGEST_STEPS, retention.make_retention_step)
        return sync_runner(config, engine, client, steps=steps).run(SyncRequest(AS_OF, backfill_days))


def _since(outputs: Outputs, first: date) -> Outputs:
    """Only the rows of metric dates from `first` on (the date is each key's last part)."""
    return {name: {k: v for k, v in rows.items() if k[-1] >= first} for name, rows in outputs.items()}


def _assert_matches_reference(engine: Engine, sub: Subscription, first: date, last: date, since: date) -> None:
    expected = _since(reference_metrics(expected_activity(engine, sub, first, last), first, last_day=last), since)
    stored = _since(read_outputs(engine), since)
    for table, rows in expected.items():
        assert set(stored[table]) == set(rows), f"{table}: different keys"
        for key, values in rows.items():
            assert stored[table][key] == pytest.approx(values), f"{table} {key}"


def _first_day(engine: Engine, model: Any) -> date:
    with engine.connect() as conn:
        value = conn.scalar(select(func.min(model.day)))
    return value if isinstance(value, date) else date.fromisoformat(value)


def test_sync_purges_rows_past_retention_and_metrics_stay_exact(
    engine: Engine, subscription: Subscription, server: SimServer
) -> None:
    """A 70-day backfill reads visitor days 159 days back; with 150 days kept the older ones go after
    the metrics, which match the spec, and the next daily run restates its days to the same values."""
    import_demo_customers(engine, subscription)
    summary = _sync(engine, server.url, 70, raw_retention_days=RETENTION)
    cutoff = AS_OF - timedelta(days=RETENTION)
    assert summary.purged["visitor_days"] > 0
    assert _first_day(engine, models.VisitorDay) == cutoff
    assert _first_day(engine, models.FeatureVisitorDay) > cutoff  # read 111 days back: nothing to purge
    first, last = summary.report_first, summary.report_last
    _assert_matches_reference(engine, subscription, first, last, first)
    before = read_outputs(engine)
    daily = _sync(engine, server.url, None, raw_retention_days=RETENTION)
    assert daily.metrics_first is not None
    assert daily.metrics_first > first
    assert read_outputs(engine) == before


def test_remap_after_a_purge_keeps_the_metrics_of_purged_days(
    engine: Engine, subscription: Subscription, server: SimServer, caplog: pytest.LogCaptureFixture
) -> None:
    """An account mapped after a purge: days whose inputs were purged keep their stored metrics (and
    the run logs it); the later days are restated exactly with the new mapping."""
    import_demo_customers(engine, subscription)
    summary = _sync(engine, server.url, 21)
    first, last = summary.report_first, summary.report_last
    restatable = first + timedelta(days=10)
    retention.purge(engine, restatable - timedelta(days=89))  # below the floor on purpose: a mid-range edge
    before = read_outputs(engine)
    owner = map_an_unmapped_account(engine)
    with caplog.at_level(logging.WARNING, logger="pendo_core.pendo.sync.retention"):
        daily = _sync(engine, server.url, None)
    after = read_outputs(engine)
    for table, rows in before.items():
        old = {k: v for k, v in rows.items() if k[-1] < restatable}
        assert {k: v for k, v in after[table].items() if k[-1] < restatable} == old, table
    assert daily.metrics_stale == [owner]
    assert "keep their stored figures" in caplog.text
    _assert_matches_reference(engine, subscription, first, last, restatable)
    owner_rows = {k: v for k, v in after["pendo_usage_metrics"].items() if k[0] == owner and k[-1] >= restatable}
    assert owner_rows != {k: v for k, v in before["pendo_usage_metrics"].items()
                          if k[0] == owner and k[-1] >= restatable}  # the remap moved its later days
