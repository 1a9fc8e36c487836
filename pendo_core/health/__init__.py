"""Health scores: pure scoring (score.py), the daily job, the back-test and explanations."""

from __future__ import annotations

from pendo_core.health.backtest import BacktestData, BacktestReport, load_backtest, run_backtest
from pendo_core.health.job import HealthResult, compute_health, health_step, make_health_step
from pendo_core.health.queries import explain_score
from pendo_core.health.score import Explanation

__all__ = [
    "BacktestData",
    "BacktestReport",
    "Explanation",
    "HealthResult",
    "compute_health",
    "explain_score",
    "health_step",
    "load_backtest",
    "make_health_step",
    "run_backtest",
]
