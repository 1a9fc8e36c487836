"""Suggest health weights from renewal outcomes: the weights on the simplex that rank churners first.

Pure numpy over a loaded back-test (`backtest.load_backtest`), at one lead time:

- **What is fitted**: non-negative weights summing to 1 over the components that have data for
  some outcome at the lead time (the others get 0), maximising the churn AUC of the overall score
  (the weighted mean of the components with data, renormalised, as `score.combine`). A row whose
  candidate score has no data at all reads as the median score, so no weighting can drop its hard
  cases from the count.
- **How**: every point of a coarse simplex grid (weights in quarters), then local refinement from
  the best one: move 0.1, then 0.05, 0.02 and 0.01 of weight from one component to another while
  the AUC improves (so every weight is a whole percent). The AUC is a step function of the
  weights, so a gradient would not help.
- **Cross-validated**: customers (all of a customer's outcomes together) are split into k folds,
  stratified by churn; each fold is scored with weights fitted on the others, and the AUC of those
  held-out scores, pooled, is the suggestion's expected AUC. The saved weights are not fitted, so
  their AUC on the same outcomes is already out of sample. The weights offered are fitted on all.
- **Refused** below `MIN_CHURNED` churned (or renewed) outcomes with a score at the lead time: with
  fewer, the fit follows the handful of churners rather than what churn looks like.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from pendo_core.health import score
from pendo_core.health.backtest import BacktestData, auc, components_at

__all__ = ["MIN_CHURNED", "Suggestion", "fit_weights", "simplex_grid", "suggest_weights"]

MIN_CHURNED = 10  # and as many renewed
BOOTSTRAP_DRAWS = 200  # for the gain's interval: its 2.5% quantile moves about 0.005 between seeds
FOLDS = 5
GRID_STEPS = 4  # the coarse grid's weights are multiples of 1/4
REFINE_STEPS = (0.1, 0.05, 0.02, 0.01)  # so every weight is a whole percent, as the sliders show
MAX_MOVES = 40  # per refinement step, a bound that is never reached in practice
NEUTRAL = 50.0  # the score of a row without any data when every row lacks it

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class Suggestion:
    """Weights fitted to the outcomes (None when refused, with the reason) and both cross-validated AUCs."""

    weights: dict[str, float] | None
    refused: str | None
    churned: int
    renewed: int
    current_auc: float | None
    suggested_auc: float | None
    folds: int
    gain_interval: tuple[float, float] | None = None  # 95% bootstrap interval of suggested - current AUC

    @property
    def within_noise(self) -> bool:
        """True when the gain's interval reaches 0: on other customers the suggestion may do no better."""
        return self.gain_interval is not None and self.gain_interval[0] <= 0.0


def suggest_weights(data: BacktestData, current: Mapping[str, float], lead_days: int, *,
                    folds: int = FOLDS, seed: int = 0) -> Suggestion:
    """Fit weights to the outcomes at a lead time; refused below MIN_CHURNED churned or renewed outcomes."""
    x, names, churned, customers = _table(data, lead_days)
    n_churned, n_renewed = int(churned.sum()), int((~churned).sum())
    if min(n_churned, n_renewed) < MIN_CHURNED:
        why = (f"Suggesting weights needs at least {MIN_CHURNED} churned and {MIN_CHURNED} renewed customers with a "
               f"score {lead_days} days before their outcome; there are {n_churned} churned and {n_renewed} renewed.")
        return Suggestion(None, why, n_churned, n_renewed, None, None, 0)
    fold = assign_folds(customers, churned, folds, seed)
    held_out = np.full(len(churned), np.nan)
    for k in range(folds):
        test = fold == k
        held_out[test] = scores(x[test], fit_weights(x[~test], churned[~test])[None, :])[:, 0]
    now = np.array([[max(0.0, current.get(n, 0.0)) for n in names]])
    fitted = fit_weights(x, churned)
    weights = dict.fromkeys(score.COMPONENTS, 0.0) | {n: round(float(w), 4) for n, w in zip(names, fitted, strict=True)}
    current_scores = scores(x, now)[:, 0]
    return Suggestion(weights, None, n_churned, n_renewed, auc(-current_scores, churned), auc(-held_out, churned),
                      folds, gain_interval(current_scores, held_out, churned, seed=seed))


def gain_interval(current: Floats, suggested: Floats, churned: NDArray[np.bool_], *, draws: int = BOOTSTRAP_DRAWS,
                  seed: int = 0) -> tuple[float, float] | None:
    """The 95% interval of AUC(suggested) - AUC(current) over customers drawn again with replacement (both
    scored on the same draw, so what the two share cancels); None when too few draws have both outcomes."""
    rng = np.random.default_rng(seed)
    gains = []
    for _ in range(draws):
        pick = rng.integers(0, len(churned), len(churned))
        now, new = auc(-current[pick], churned[pick]), auc(-suggested[pick], churned[pick])
        if now is not None and new is not None:
            gains.append(new - now)
    if len(gains) < draws // 2:
        return None
    low, high = np.quantile(gains, [0.025, 0.975])
    return float(low), float(high)


def fit_weights(x: Floats, churned: NDArray[np.bool_]) -> Floats:
    """The weights on the simplex (one per column of `x`) with the highest churn AUC: grid, then local moves."""
    grid = simplex_grid(x.shape[1], GRID_STEPS)
    values = aucs(x, churned, grid)
    best, best_auc = grid[int(np.argmax(values))], float(values.max())
    for step in REFINE_STEPS:
        for _ in range(MAX_MOVES):
            moves = _moves(best, step)
            if not len(moves):
                break
            values = aucs(x, churned, moves)
            if values.max() <= best_auc + 1e-12:
                break
            best, best_auc = moves[int(np.argmax(values))], float(values.max())
    return np.asarray(best, dtype=float)


def simplex_grid(k: int, steps: int) -> Floats:
    """Every weight vector of k non-negative multiples of 1/steps summing to 1 (stars and bars)."""
    rows = []
    for bars in itertools.combinations(range(steps + k - 1), k - 1):
        edges = np.array([-1, *bars, steps + k - 1])
        rows.append(np.diff(edges) - 1)
    return np.array(rows, dtype=float) / steps


def scores(x: Floats, weights: Floats) -> Floats:
    """Overall scores (rows of x) for each weight vector (rows of `weights`); no data reads as the median."""
    has = ~np.isnan(x)
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = (np.nan_to_num(x) @ weights.T) / (has.astype(float) @ weights.T)
    overall = np.round(overall, 9)  # equal scores reached by different sums stay ties
    missing = np.isnan(overall)
    if missing.any():
        with np.errstate(all="ignore"):
            median = np.nan_to_num(np.nanmedian(np.where(missing, np.nan, overall), axis=0), nan=NEUTRAL)
        overall = np.where(missing, median[None, :], overall)
    return np.asarray(overall, dtype=float)


def aucs(x: Floats, churned: NDArray[np.bool_], weights: Floats) -> Floats:
    """The churn AUC (lower score = riskier, ties half) of each weight vector, all at once."""
    risk = -scores(x, weights)
    n_pos, n_neg = int(churned.sum()), int((~churned).sum())
    ranks = _column_ranks(risk)
    return np.asarray((ranks[churned].sum(axis=0) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg), dtype=float)


def assign_folds(customers: NDArray[np.str_], churned: NDArray[np.bool_], folds: int, seed: int) -> NDArray[np.int_]:
    """A fold per row: customers shuffled, churners and renewers dealt round the folds apart."""
    rng = np.random.default_rng(seed)
    ids, inverse = np.unique(customers, return_inverse=True)
    ever = np.zeros(len(ids), bool)
    np.logical_or.at(ever, inverse, churned)
    of = np.empty(len(ids), int)
    for group in (ever, ~ever):
        members = rng.permutation(np.flatnonzero(group))
        of[members] = np.arange(len(members)) % folds
    return of[inverse]


def _table(data: BacktestData, lead_days: int) -> tuple[Floats, list[str], NDArray[np.bool_], NDArray[np.str_]]:
    """(components of the outcomes scored at the lead time, their names, churned, customer ids)."""
    cols, picked = components_at(data, lead_days)
    names = [n for n in score.COMPONENTS if n in picked and not np.isnan(picked[n][cols >= 0]).all()]
    x = np.column_stack([picked[n] for n in names]) if names else np.zeros((len(cols), 0))
    rows = (cols >= 0) & (~np.isnan(x).all(axis=1) if names else np.zeros(len(cols), bool))
    return x[rows], names, data.churned[rows], np.asarray(data.customer_ids, dtype=str)[rows]


def _moves(weights: Floats, step: float) -> Floats:
    """Every neighbour that moves `step` of weight (or what is left) from one component to another."""
    out = []
    for give, take in itertools.permutations(range(len(weights)), 2):
        amount = min(step, weights[give])
        if amount > 0:
            moved = weights.copy()
            moved[give] -= amount
            moved[take] += amount
            out.append(moved)
    return np.array(out)


def _column_ranks(values: Floats) -> Floats:
    """1-based ranks down each column, tied values sharing their average rank."""
    n = len(values)
    order = np.argsort(values, axis=0, kind="stable")
    ordered = np.take_along_axis(values, order, axis=0)
    index = np.broadcast_to(np.arange(n)[:, None], values.shape)
    starts = np.ones(values.shape, bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    ends = np.ones(values.shape, bool)
    ends[:-1] = starts[1:]
    first = np.maximum.accumulate(np.where(starts, index, 0), axis=0)
    last = np.minimum.accumulate(np.where(ends, index, n - 1)[::-1], axis=0)[::-1]
    ranks = np.empty(values.shape)
    np.put_along_axis(ranks, order, (first + last) / 2.0 + 1.0, axis=0)
    return ranks
