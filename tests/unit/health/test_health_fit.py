"""Suggesting health weights from outcomes: on the simplex, recovers known weights, refuses with too
few churners, cross-validates by customer."""

from __future__ import annotations

from datetime import date
from math import comb

import numpy as np
import pytest

from pendo_core.health import score
from pendo_core.health.backtest import BacktestData, auc
from pendo_core.health.fit import MIN_CHURNED, assign_folds, aucs, fit_weights, simplex_grid, suggest_weights

DAYS = 40
OUTCOME_COL = 35  # a 30-day lead time reads column 5


def _data(components: dict[str, np.ndarray], churned: np.ndarray, customers: list[str] | None = None) -> BacktestData:
    """Back-test data whose every day holds the given components (so any lead time reads them)."""
    n = len(churned)
    grids = {name: np.repeat(components.get(name, np.full(n, np.nan))[:, None], DAYS, axis=1)
             for name in score.COMPONENTS}
    return BacktestData(customers or [f"c{i}" for i in range(n)], [date(2026, 3, 1)] * n, churned,
                        np.full(n, OUTCOME_COL), date(2026, 1, 25), grids, np.ones((n, DAYS), bool),
                        np.full((n, DAYS), 10.0), np.full((n, DAYS), 3.0))


def _synthetic(true: dict[str, float], n: int = 4_000, seed: int = 7) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Uniform components; churn likelier the lower the score with the `true` weights (steep logistic)."""
    rng = np.random.default_rng(seed)
    components = {name: rng.uniform(0, 100, n) for name in ("engagement", "adoption", "attrition",
                                                            "breadth_change", "sustained_trend")}
    truth = sum(w * components[name] for name, w in true.items())
    churned = rng.random(n) < 1 / (1 + np.exp((truth - 45) / 3))
    return components, churned


@pytest.mark.parametrize(("k", "steps"), [(1, 4), (3, 4), (7, 4), (4, 10)])
def test_the_grid_covers_the_simplex(k: int, steps: int) -> None:
    """Every point is non-negative, sums to 1, is a multiple of 1/steps, and none is missing or repeated."""
    grid = simplex_grid(k, steps)
    assert grid.shape == (comb(steps + k - 1, k - 1), k)
    assert (grid >= 0).all()
    assert np.allclose(grid.sum(axis=1), 1.0)
    assert np.allclose(grid * steps, np.round(grid * steps))
    assert len({tuple(row) for row in grid}) == len(grid)


def test_vectorised_aucs_match_the_backtest_auc_with_ties() -> None:
    """The many-weights AUC is the back-test's AUC (ties half) of each weight vector's scores."""
    rng = np.random.default_rng(1)
    x = rng.integers(0, 5, (300, 3)).astype(float) * 25  # many ties
    x[rng.random((300, 3)) < 0.2] = np.nan
    churned = rng.random(300) < 0.3
    weights = simplex_grid(3, 4)
    fast = aucs(x, churned, weights)
    for w, value in zip(weights, fast, strict=True):
        has = ~np.isnan(x)
        with np.errstate(invalid="ignore"):
            overall = (np.nan_to_num(x) @ w) / (has @ w)
        overall[np.isnan(overall)] = np.nanmedian(overall)
        assert value == pytest.approx(auc(-overall, churned))


@pytest.mark.parametrize("true", [
    pytest.param({"engagement": 0.55, "attrition": 0.3, "sustained_trend": 0.15}, id="three-components"),
    pytest.param({"adoption": 0.35, "breadth_change": 0.65}, id="two-components-off-grid"),
])
def test_recovers_known_weights(true: dict[str, float]) -> None:
    """Churn drawn from a known weighting: the fit finds it within 0.06 per component (the grid alone is 0.1 off
    for the second case, so the local refinement is needed)."""
    components, churned = _synthetic(true)
    names = list(components)
    fitted = fit_weights(np.column_stack([components[n] for n in names]), churned)
    for name, weight in zip(names, fitted, strict=True):
        assert weight == pytest.approx(true.get(name, 0.0), abs=0.06), name


def test_suggestion_is_on_the_simplex_and_beats_worse_weights() -> None:
    """Weights >= 0 summing to 1, 0 for components without data, and a better cross-validated AUC."""
    components, churned = _synthetic({"engagement": 0.7, "attrition": 0.3}, n=2_000)
    suggestion = suggest_weights(_data(components, churned), {"adoption": 1.0}, lead_days=30)
    assert suggestion.weights is not None
    assert suggestion.refused is None
    assert set(suggestion.weights) == set(score.COMPONENTS)
    assert all(w >= 0 for w in suggestion.weights.values())
    assert sum(suggestion.weights.values()) == pytest.approx(1.0)
    assert suggestion.weights["onboarding"] == suggestion.weights["trajectory"] == 0.0  # no data
    assert suggestion.suggested_auc is not None
    assert suggestion.current_auc is not None
    assert suggestion.suggested_auc > suggestion.current_auc + 0.2
    assert (suggestion.churned, suggestion.renewed, suggestion.folds) == (int(churned.sum()), int((~churned).sum()), 5)


@pytest.mark.parametrize(("churners", "refused"), [
    pytest.param(MIN_CHURNED - 1, True, id="one-too-few"),
    pytest.param(MIN_CHURNED, False, id="just-enough"),
])
def test_refuses_with_too_few_churners(churners: int, refused: bool) -> None:
    """Below MIN_CHURNED churned outcomes nothing is offered, and the reason says how many there are."""
    rng = np.random.default_rng(2)
    churned = np.arange(60) < churners
    suggestion = suggest_weights(_data({"engagement": rng.uniform(0, 100, 60)}, churned), {"engagement": 1.0}, 30)
    assert (suggestion.weights is None) is refused
    if refused:
        assert suggestion.refused is not None
        assert f"there are {churners} churned" in suggestion.refused


def test_outcomes_without_a_score_at_the_lead_time_do_not_count() -> None:
    """Scores stored only after the lead date leave the outcomes out, so the fit is refused."""
    components, churned = _synthetic({"engagement": 1.0}, n=200)
    data = _data(components, churned)
    data.has_score[:, : OUTCOME_COL - 10] = False  # nothing stored 30 (or 60) days before the outcome
    assert suggest_weights(data, {"engagement": 1.0}, lead_days=30).refused is not None


def test_folds_keep_a_customer_together_and_spread_churners() -> None:
    """All of a customer's outcomes share a fold; churned customers are dealt evenly round the folds."""
    customers = np.array([f"c{i // 2}" for i in range(100)])  # two outcomes each
    churned = np.array([i // 2 < 20 for i in range(100)])
    fold = assign_folds(customers, churned, 5, seed=0)
    for c in np.unique(customers):
        assert len(set(fold[customers == c])) == 1
    assert np.bincount(fold[churned], minlength=5).tolist() == [8] * 5


def test_the_gains_interval_says_when_it_is_noise() -> None:
    """Two scorings alike: the interval of the AUC gain straddles 0 (within noise). A scoring that separates the
    churners against one that does not: the interval sits above 0."""
    from pendo_core.health.fit import gain_interval

    rng = np.random.default_rng(3)
    churned = np.arange(200) < 60
    random = rng.random(200) * 100
    alike = gain_interval(random, random + rng.normal(0, 1, 200), churned)
    assert alike is not None
    assert alike[0] <= 0.0 <= alike[1]
    separating = np.where(churned, 20.0, 80.0) + rng.normal(0, 5, 200)
    better = gain_interval(random, separating, churned)
    assert better is not None
    assert better[0] > 0.2
    assert gain_interval(random[:4], separating[:4], np.array([False] * 4)) is None  # no churner: no AUC at all
