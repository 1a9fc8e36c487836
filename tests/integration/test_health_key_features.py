"""Health's key-feature days read from the stored feature metrics (where they stand for the raw rows)
equal those read from the raw rows alone, on a simulated world synced over HTTP; and the metrics are
passed over whenever they may not stand for the raw rows."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.alerts import inputs as alert_inputs
from pendo_core.alerts import rules
from pendo_core.alerts.settings import AlertSettings
from pendo_core.health import inputs
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.runner import METRICS_STALE_FROM
from pendo_core.store import models
from pendo_core.usage import recency
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer
from tests.support.store import each_statement
from tests.support.sync import import_demo_customers, run_sync

TZ = "America/New_York"
AS_OF = date(2024, 3, 20)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=5, accounts=24, days=150, as_of=AS_OF, tz=TZ)


def _key_days(engine: Engine, first: date, last: date, keys: list[str], *, raw: bool,
              monkeypatch: pytest.MonkeyPatch) -> tuple[np.ndarray, np.ndarray]:
    with monkeypatch.context() as patch:
        if raw:
            patch.setattr(recency, "feature_metrics_from", lambda *_args: None)
        loaded = inputs.load_inputs(engine, first, last, keys=keys)
    return loaded.key_used, loaded.key_recent


def test_key_feature_days_from_the_metrics_equal_the_raw_rows(engine: Engine, subscription: Subscription,
                                                             server: SimServer,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """After a backfill and a daily run: every scored day, from the backfill's first (whose 30-day window
    reaches into the raw rows before the metrics' range) to the last, counts the same key features."""
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF - timedelta(days=1), 21)
    summary = run_sync(engine, server.url, TZ, AS_OF, None)
    first, last = summary.report_first, summary.report_last
    with engine.connect() as conn:
        keys = sorted(conn.execute(select(models.PendoFeature.feature_id)).scalars())[:8]
    assert recency.feature_metrics_from(engine, last, False) == first
    for scored_from in (first, last - timedelta(days=3)):
        fast = _key_days(engine, scored_from, last, keys, raw=False, monkeypatch=monkeypatch)
        slow = _key_days(engine, scored_from, last, keys, raw=True, monkeypatch=monkeypatch)
        for got, expected in zip(fast, slow, strict=True):
            np.testing.assert_array_equal(got, expected)
        assert np.nanmax(slow[0]) > np.nanmin(slow[0][:, -1])  # customers differ: not a count every row shares


def test_the_metrics_are_passed_over_when_they_may_not_stand_for_the_raw_rows(
        engine: Engine, subscription: Subscription, server: SimServer) -> None:
    """Another last day, the other visitor rule, a window written since, an account mapped since: raw rows."""
    import_demo_customers(engine, subscription)
    summary = run_sync(engine, server.url, TZ, AS_OF, 21)
    last = summary.report_last
    assert recency.feature_metrics_from(engine, last, False) == summary.report_first
    assert recency.feature_metrics_from(engine, last - timedelta(days=1), False) is None
    assert recency.feature_metrics_from(engine, last, True) is None
    with Session(engine) as session, session.begin():
        store.lower_date_watermark(session, METRICS_STALE_FROM, last)
    assert recency.feature_metrics_from(engine, last, False) is None
    with Session(engine) as session, session.begin():
        store.clear_watermark(session, METRICS_STALE_FROM)
    assert recency.feature_metrics_from(engine, last, False) == summary.report_first
    with Session(engine) as session, session.begin():
        session.execute(models.AccountMapping.__table__.delete().where(
            models.AccountMapping.pendo_account_id == session.scalars(
                select(models.AccountMapping.pendo_account_id).limit(1)).one()))
    assert recency.feature_metrics_from(engine, last, False) is None


def test_the_alerts_key_feature_findings_from_the_metrics_equal_the_raw_rows(
        engine: Engine, subscription: Subscription, server: SimServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """After a 60-day backfill and a daily run, every feature a key one: the abandonment findings read
    through the feature metrics (the raw rows only for features unused lately) equal those read from the
    raw rows alone, fired and clear, with their details; some fire, and the metrics' path was taken."""
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF - timedelta(days=1), 60)
    last = run_sync(engine, server.url, TZ, AS_OF, None).report_last
    with engine.connect() as conn:
        keys = sorted(conn.execute(select(models.PendoFeature.feature_id)).scalars())
    cfg = AlertSettings()
    findings = {}
    for raw in (False, True):
        with monkeypatch.context() as patch:
            if raw:
                patch.setattr(recency, "feature_metrics_from", lambda *_args: None)
            else:  # the metrics' path reads the raw rows only for the features unused in the recent window
                patch.setattr(alert_inputs, "_from_raw_rows", None)
            loaded = alert_inputs.load_alert_inputs(engine, last, cfg, key_features=keys).customers
        findings[raw] = {customer: rules.feature_abandonment(data.features, True, cfg.feature_abandonment, last)
                         for customer, data in loaded.items()}
    assert findings[False] == findings[True]
    statuses = [f.status for found in findings[True].values() for f in found]
    assert statuses.count("fire") > 0, statuses
    assert statuses.count("clear") > statuses.count("fire")


def test_sqlite_reads_the_key_feature_days_from_an_index_alone(sqlite_engine: Engine, subscription: Subscription,
                                                               server: SimServer) -> None:
    """SQLite plans without statistics: given a day index alone it looked up every row of the range in the
    table (1.3 s of a 2,000-account daily run's health step). The health scores' and the alerts' reads of the
    key-feature days answer from the (day, customer, feature) index alone (migration 0020)."""
    import_demo_customers(sqlite_engine, subscription)
    run_sync(sqlite_engine, server.url, TZ, AS_OF - timedelta(days=1), 60)
    last = run_sync(sqlite_engine, server.url, TZ, AS_OF, None).report_last
    with sqlite_engine.connect() as conn:
        keys = sorted(conn.execute(select(models.PendoFeature.feature_id)).scalars())
    plans: list[list[str]] = []

    def explain(cursor: Any, statement: str, parameters: Any) -> None:
        if "FROM pendo_feature_usage" in statement:
            steps = cursor.connection.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
            plans.append([step[3] for step in steps if "pendo_feature_usage" in step[3]])

    with each_statement(sqlite_engine, explain):
        inputs.load_inputs(sqlite_engine, last - timedelta(days=3), last, keys=keys)
        alert_inputs.load_alert_inputs(sqlite_engine, last, AlertSettings(), key_features=keys)
    assert len(plans) >= 2, plans
    for steps in plans:
        assert steps, plans
        assert all("USING COVERING INDEX ix_pendo_feature_usage_day_customer_feature" in step for step in steps), plans
