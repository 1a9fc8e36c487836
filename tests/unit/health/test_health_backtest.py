"""The health back-test: AUC by hand, churn per band, decile lift, live re-weighting speed."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from sqlalchemy import Engine

from pendo_core.health import score
from pendo_core.health.backtest import (
    BacktestData,
    BacktestReport,
    BandRate,
    auc,
    deciles,
    load_backtest,
    run_backtest,
    score_warnings,
)
from tests.support.health_alerts import add_customer, table_insert

OUTCOME = date(2026, 6, 30)


@pytest.mark.parametrize(("risk", "churned", "expected"), [
    # pairs (churned, renewed): (.9,.8) yes, (.9,.1) yes, (.3,.8) no, (.3,.1) yes -> 3 of 4
    pytest.param([0.9, 0.8, 0.3, 0.1], [True, False, True, False], 0.75, id="three-of-four-pairs"),
    pytest.param([0.5, 0.5], [True, False], 0.5, id="tie-counts-half"),
    pytest.param([1, 2, 3], [False, False, True], 1.0, id="perfect"),
    pytest.param([3, 2, 1], [False, False, True], 0.0, id="reversed"),
    pytest.param([0.2, 0.4, 0.4, 0.9], [False, True, False, True], (1 + 0.5 + 1 + 1) / 4, id="tie-inside"),
])
def test_auc_is_the_share_of_correctly_ordered_pairs(risk: list[float], churned: list[bool], expected: float) -> None:
    """AUC = P(a churned customer is riskier than a renewed one), ties half."""
    assert auc(np.array(risk), np.array(churned)) == pytest.approx(expected)


def test_auc_needs_both_outcomes() -> None:
    """Without a churned (or a renewed) customer there is no AUC."""
    assert auc(np.array([1.0, 2.0]), np.array([False, False])) is None


def test_deciles_sort_riskiest_first_with_lift() -> None:
    """Twenty scores in ten groups of two, lowest first; lift = group churn rate / overall rate."""
    overall = np.arange(20, dtype=float)
    churned = overall < 4  # the four lowest scores churned: overall rate 0.2
    rows = deciles(overall, churned)
    assert [r.customers for r in rows] == [2] * 10
    assert [r.churned for r in rows[:3]] == [2, 2, 0]
    assert rows[0].lift == pytest.approx(5.0)
    assert (rows[0].min_score, rows[9].max_score) == (0.0, 19.0)


def _score(customer: str, day: date, engagement: float | None, trajectory: float | None) -> dict[str, object]:
    return {"customer_id": customer, "score_date": day, "engagement": engagement, "adoption": None,
            "trajectory": trajectory, "onboarding": None, "overall": None, "band": "red", "coverage": 1.0,
            "settings_version": 0, "weights": {}, "inputs": None}


def test_backtest_on_a_known_portfolio(engine: Engine) -> None:
    """Four outcomes with stored components; the AUC follows the candidate weights and lead time."""
    # engagement ranks the churners lowest; trajectory ranks one churner above a renewal.
    portfolio = {"c1": ("churned", 20, 70), "c2": ("churned", 30, 10), "r1": ("renewed", 60, 40),
                 "r2": ("renewed", 80, 90)}
    lead_day = OUTCOME - timedelta(days=30)
    rows = []
    for customer, (_outcome, engagement, trajectory) in portfolio.items():
        add_customer(engine, customer)
        rows.append(_score(customer, lead_day - timedelta(days=2), engagement, trajectory))  # within tolerance
        rows.append(_score(customer, OUTCOME, 0.0, 0.0))  # the day itself is not the lead time
    table_insert(engine, "pendo_health_scores", rows)
    table_insert(engine, "customer_outcomes", [{"customer_id": c, "outcome_date": OUTCOME, "outcome": o}
                                               for c, (o, _, _) in portfolio.items()])
    data = load_backtest(engine)
    engagement_only = run_backtest(data, {"engagement": 1.0}, lead_days=30)
    assert (engagement_only.auc, engagement_only.scored, engagement_only.churned) == (1.0, 4, 2)
    trajectory_only = run_backtest(data, {"trajectory": 1.0}, lead_days=30)
    assert trajectory_only.auc == pytest.approx(0.75)  # c1 (70) outranks r1 (40): 3 of 4 pairs
    by_band = {b.band: b for b in engagement_only.bands}
    assert (by_band["red"].customers, by_band["red"].churn_rate) == (2, 1.0)
    assert (by_band["yellow"].customers, by_band["green"].customers) == (1, 1)
    assert run_backtest(data, {"engagement": 1.0}, lead_days=0).auc == 0.5  # every score ties at 0
    too_early = run_backtest(data, {"engagement": 1.0}, lead_days=60)
    assert (too_early.scored, too_early.skipped, too_early.auc) == (0, 4, None)
    assert too_early.no_score == 4  # nothing stored 60 days before: in no band, not "insufficient data"
    assert all(b.customers == 0 for b in too_early.bands)
    assert engagement_only.no_score == 0


def test_empty_store_backtests_to_nothing(sqlite_engine: Engine) -> None:
    """No outcomes: an empty report, not an error."""
    report = run_backtest(load_backtest(sqlite_engine), {"engagement": 1.0})
    assert (report.outcomes, report.auc, report.deciles) == (0, None, [])


def test_reweighting_five_thousand_customers_scores_them() -> None:
    """Once loaded, each candidate set of weights is evaluated over all 5,000 outcomes (its speed is
    measured by `python -m jobs.bench_backtest` in `make bench`, not by a timed test)."""
    rng = np.random.default_rng(3)
    n, days = 5_000, 200
    churned = rng.random(n) < 0.15
    components = {name: np.where(rng.random((n, days)) < 0.05, np.nan, rng.uniform(0, 100, (n, days)))
                  for name in score.COMPONENTS}
    data = BacktestData([f"c{i}" for i in range(n)], [date(2026, 1, 1)] * n, churned,
                        rng.integers(120, days, n), date(2025, 6, 1), components, np.ones((n, days), bool),
                        rng.integers(10, 50, (n, days)).astype(float), rng.integers(0, 10, (n, days)).astype(float))
    for weights in ({"engagement": 0.5, "trajectory": 0.5}, {"engagement": 0.2, "adoption": 0.8}):
        report = run_backtest(data, weights, lead_days=30)
        assert report.scored > 4_000
        assert report.auc is not None


def _report(rates: dict[str, tuple[int, int]], health_auc: float | None, naive_auc: float | None) -> BacktestReport:
    bands = [BandRate(b, n, c, c / n if n else None) for b, (n, c) in rates.items()]
    return BacktestReport(30, 100, 100, 0, 30, health_auc, {"dau_last_week": naive_auc, "days_since_login": None},
                          bands, [])


@pytest.mark.parametrize(("rates", "health_auc", "naive_auc", "expected"), [
    pytest.param({"red": (23, 2), "yellow": (67, 14), "green": (10, 1)}, 0.7, 0.6, ["bands"],
                 id="demo-red-below-yellow"),
    pytest.param({"red": (20, 10), "yellow": (40, 8), "green": (40, 2)}, 0.7, 0.75, ["naive"], id="naive-ranks-better"),
    pytest.param({"red": (20, 10), "yellow": (40, 8), "green": (40, 2)}, 0.8, 0.75, [], id="good-score"),
    pytest.param({"red": (0, 0), "yellow": (40, 8), "green": (40, 8)}, 0.8, None, ["bands"], id="equal-is-not-falling"),
    pytest.param({"red": (0, 0), "yellow": (40, 8), "green": (60, 2)}, None, 0.6, [], id="empty-band-skipped"),
])
def test_warnings_name_wrong_bands_and_a_better_naive_signal(rates: dict[str, tuple[int, int]],
                                                              health_auc: float | None, naive_auc: float | None,
                                                              expected: list[str]) -> None:
    """Churn must fall strictly red > yellow > green (empty bands skipped); the AUC must reach the best naive one."""
    warnings = score_warnings(_report(rates, health_auc, naive_auc))
    found = [kind for kind, words in (("bands", "bands do not mean"), ("naive", "naive signal"))
             if any(words in w for w in warnings)]
    assert found == expected


def test_many_customers_load_as_a_few_do(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Outcomes of more customers than an IN list holds are read as one range of days and sorted out in
    memory; the loaded grids are the same as read by their ids, on both stores (customers without an
    outcome, and days outside the outcomes' reach, are in the store and left out)."""
    from sqlalchemy import delete

    from jobs.bench_store import StoreShape, add_outcomes, build_store
    from pendo_core.health import backtest
    from pendo_core.store.models import HealthScore, Outcome

    last = date(2026, 3, 18)
    build_store(engine, StoreShape(customers=24, days=100, csms=2, features_per_customer=2), last)
    add_outcomes(engine, last)
    with engine.begin() as conn:  # a third of the customers without an outcome, and holes in the scores
        conn.execute(delete(Outcome).where(Outcome.customer_id < "5"))
        conn.execute(delete(HealthScore).where(HealthScore.score_date == last - timedelta(days=40)))
    by_ids = load_backtest(engine)
    monkeypatch.setattr(backtest, "IN_CHUNK", 3)
    by_range = load_backtest(engine)
    assert 3 < len(set(by_range.customer_ids)) < 24
    assert by_range.customer_ids == by_ids.customer_ids
    assert by_range.start == by_ids.start
    for name in ("churned", "outcome_col", "has_score"):
        assert np.array_equal(getattr(by_range, name), getattr(by_ids, name)), name
    for name in ("mau", "dau"):
        assert np.array_equal(getattr(by_range, name), getattr(by_ids, name), equal_nan=True), name
    assert np.isfinite(by_range.dau).sum() > 0
    for name, grid in by_ids.components.items():
        assert np.array_equal(by_range.components[name], grid, equal_nan=True), name
