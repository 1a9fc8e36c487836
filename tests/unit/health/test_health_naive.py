"""The naive single signals, one definition for `jobs evaluate` and the admin back-test."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import Engine

from pendo_core.health.backtest import load_backtest, run_backtest
from pendo_core.health.naive import naive_signals
from tests.support.health_alerts import add_customer, add_usage, table_insert
from tests.unit.health.test_health_backtest import OUTCOME

NAN = np.nan


def _one(dau: list[float], mau: list[float], day: int) -> dict[str, float]:
    signals = naive_signals(np.array([dau], float), np.array([mau], float), np.array([day]))
    return {name: float(values[0]) for name, values in signals.items()}


def test_signals_by_hand() -> None:
    """56 days: DAU 4 for the first 28, then 2 with the last 5 days at 0; MAU 10 then 6."""
    dau = [4.0] * 28 + [2.0] * 23 + [0.0] * 5
    mau = [10.0] * 26 + [6.0] * 30
    signals = _one(dau, mau, 55)
    assert signals["dau_recent_vs_baseline"] == pytest.approx((46 / 28 - 4) / 4)
    assert signals["dau_last_week"] == pytest.approx(4 / 7)
    assert signals["mau_change_30d"] == pytest.approx((6 - 10) / 10)
    assert signals["days_since_login"] == 5.0


@pytest.mark.parametrize(("dau", "mau", "day", "expected"), [
    pytest.param([NAN] * 3 + [2.0] * 4, [5.0] * 7, 6, {"dau_last_week": 2.0}, id="unsynced-days-are-not-zeros"),
    pytest.param([0.0] * 7, [NAN] * 7, 6, {"mau_change_30d": 0.0, "days_since_login": 90.0, "dau_last_week": 0.0},
                 id="never-active"),
    pytest.param([2.0] * 7, [3.0] * 7, 6, {"dau_recent_vs_baseline": 0.0, "mau_change_30d": 3.0},
                 id="no-baseline-reads-0-and-mau-from-0"),
    pytest.param([2.0] * 7, [3.0] * 7, -1, {"dau_last_week": NAN}, id="no-day-no-signal"),
])
def test_signal_edges(dau: list[float], mau: list[float], day: int, expected: dict[str, float]) -> None:
    """Windows count stored days only; a missing MAU reads 0; a negative day gives no signal."""
    signals = _one(dau, mau, day)
    for name, value in expected.items():
        assert signals[name] == pytest.approx(value, nan_ok=True), name


def test_days_since_login_looks_back_90_days() -> None:
    """Active 90 days before the day is out of the window: 90, as for never active."""
    dau = [1.0] + [0.0] * 90
    assert _one(dau, [1.0] * 91, 89)["days_since_login"] == 89.0
    assert _one(dau, [1.0] * 91, 90)["days_since_login"] == 90.0


def test_backtest_reads_the_naive_signals_from_stored_usage(engine: Engine) -> None:
    """Two churners whose DAU fell, two renewals whose DAU held: every DAU signal ranks them perfectly."""
    lead_day = OUTCOME - timedelta(days=30)
    scores, outcomes = [], []
    for name, churned in (("c1", True), ("c2", True), ("r1", False), ("r2", False)):
        add_customer(engine, name)
        add_usage(engine, name, {lead_day - timedelta(days=k): (1 if churned and k < 28 else 5) for k in range(60)})
        scores.append({"customer_id": name, "score_date": lead_day, "engagement": 50.0, "overall": 50.0,
                       "band": "yellow", "coverage": 1.0, "settings_version": 0, "weights": {}, "inputs": None})
        outcomes.append({"customer_id": name, "outcome_date": OUTCOME, "outcome": "churned" if churned else "renewed"})
    table_insert(engine, "pendo_health_scores", scores)
    table_insert(engine, "customer_outcomes", outcomes)
    report = run_backtest(load_backtest(engine), {"engagement": 1.0}, lead_days=30)
    assert report.naive_aucs["dau_recent_vs_baseline"] == report.naive_aucs["dau_last_week"] == 1.0
    assert report.best_naive is not None
    assert report.best_naive[1] == 1.0
    assert report.auc == 0.5  # every score ties
