"""The benchmark's synthetic store is a store the app and the sync go on using."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, insert, select

from jobs.bench_store import StoreShape, build_store
from pendo_core.store import models
from tests.support.store import running_run

LAST = date(2024, 3, 20)


def test_runs_and_alerts_recorded_after_the_build_get_free_ids(engine: Engine) -> None:
    """The build writes a run and alerts with their own ids; on PostgreSQL a sequence left behind them made
    the next sync's start (and the next alert) collide with id 1."""
    build_store(engine, StoreShape(customers=12, days=10, csms=2), LAST)
    with engine.connect() as conn:
        alerts = conn.scalar(select(func.max(models.UsageAlert.id)))
    assert running_run(engine) == 2
    with engine.begin() as conn:
        added = conn.execute(insert(models.UsageAlert).values(
            customer_id="c", kind="usage_drop", subject="test", status="open", severity="low", triggered_on=LAST,
            last_evaluated_on=LAST, details={}).returning(models.UsageAlert.id)).scalar()
    assert added == (alerts or 0) + 1
