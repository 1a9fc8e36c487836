"""Component values for every customer and day at once, from the day grids (see score.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pendo_core.admin.settings import HealthSettings
from pendo_core.health import score
from pendo_core.health.changes import change_components
from pendo_core.health.inputs import READ_BACK, TREND_DAYS, HealthInputs


@dataclass
class ScoredGrid:
    """Scored days (columns from the first scored day on): components, overall, band and their inputs."""

    components: dict[str, np.ndarray]
    overall: np.ndarray
    coverage: np.ndarray
    band: np.ndarray
    has_row: np.ndarray  # a usage row exists for the customer and day: only those days are scored
    inputs: dict[str, np.ndarray]


def window(values: np.ndarray, width: int, end_lag: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(sum, count of non-NaN) over columns [t - end_lag - width + 1, t - end_lag] for every t."""
    present = ~np.isnan(values)
    pad = width + end_lag
    total = np.concatenate([np.zeros((values.shape[0], pad + 1)), np.cumsum(np.nan_to_num(values), axis=1)], axis=1)
    count = np.concatenate([np.zeros((values.shape[0], pad + 1)), np.cumsum(present, axis=1)], axis=1)
    hi = np.arange(values.shape[1]) + pad + 1 - end_lag
    lo = hi - width
    return total[:, hi] - total[:, lo], count[:, hi] - count[:, lo]


def _mean(total: np.ndarray, count: np.ndarray, minimum: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(count >= minimum, total / count, np.nan)


def score_grid(inputs: HealthInputs, settings: HealthSettings) -> ScoredGrid:
    """Every component, the overall score, coverage and band for the scored days of the grid."""
    cut = slice(READ_BACK, None)
    week_sum, week_n = window(inputs.dau, score.ENGAGEMENT_DAYS)
    recent_sum, recent_n = window(inputs.dau, TREND_DAYS)
    prior_sum, prior_n = window(inputs.dau, TREND_DAYS, end_lag=TREND_DAYS)
    dau_7 = _mean(week_sum, week_n, score.ENGAGEMENT_DAYS)[:, cut]
    recent = _mean(recent_sum, recent_n, score.TREND_MIN_DAYS)[:, cut]
    prior = _mean(prior_sum, prior_n, score.TREND_MIN_DAYS)[:, cut]
    mau = inputs.mau[:, cut]
    in_use = inputs.active[:, cut] > 0  # NaN (no row) compares False too
    with np.errstate(divide="ignore", invalid="ignore"):
        stickiness = np.where(in_use & ~np.isnan(dau_7), np.where(mau > 0, dau_7 / mau, 0.0), np.nan)
        breadth = inputs.key_used[:, cut] / inputs.key_count if inputs.key_count else np.full(mau.shape, np.nan)
        trend = np.where(prior > 0, recent / prior - 1.0, np.nan)
    components = {
        "engagement": score.engagement(stickiness),
        "adoption": np.where(in_use, score.adoption(breadth), np.nan),
        "trajectory": score.trajectory(recent, prior),
        "onboarding": score.onboarding(inputs.onboarding[:, cut]),
    }
    moved, moved_inputs = change_components(inputs, cut)
    components.update(moved)
    overall, coverage = score.combine(components, settings.weights.as_dict(), settings.coverage_floor)
    band = score.bands(overall, settings.red_below, settings.green_from)
    raw = {"stickiness": stickiness, "mau": mau, "dau_7d": dau_7, "dau_28d": recent, "dau_prior_28d": prior,
           "trend": trend, "breadth": breadth, "key_features_used": inputs.key_used[:, cut],
           "onboarding_progress": inputs.onboarding[:, cut], **moved_inputs}
    return ScoredGrid(components, overall, coverage, band, ~np.isnan(mau), raw)
