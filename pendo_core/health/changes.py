"""The health components that measure change, for every customer and day at once (see score.py).

Inputs are the day grids of `HealthInputs` (customers * days, NaN where no row was synced); outputs
are grids of the scored days (columns from `cut` on). Pure numpy: no I/O.

- **sustained trend**: the least-squares slope of the last 8 weekly visitor-day totals (weeks ending on d,
  d-7, ...), as the change over 4 weeks relative to their mean: the line the usage_drop alert's
  sustained rule tests (`pendo_core.alerts.decline`). A week with fewer than 5 synced days is
  filled from its synced days' mean; with fewer, the trend has no data.
- **breadth lost**: the net share of the key features used in the 14 days ending 28 days before d
  that are no longer used in the 14 days ending on d: (used then - used now) / used then, at least
  0 (counts, so a feature picked up meanwhile offsets one dropped). Two-week windows, so a feature
  dropped two weeks ago already counts (a 30-day window would still show it for a month).
- **attrition**: the share of the last quarter's active visitors (the 90-day base,
  `active_visitors`) not active in the last 30 days: (active - MAU) / active.
"""

from __future__ import annotations

import numpy as np

from pendo_core.health import score
from pendo_core.health.inputs import BREADTH_LAG, HealthInputs

TREND_WEEKS = 8
MIN_WEEK_DAYS = 5


def change_components(inputs: HealthInputs, cut: slice) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(components, raw inputs) of the change components for the scored days."""
    change = trend_change(inputs.dau)[:, cut]
    lost = breadth_lost(inputs.key_recent, BREADTH_LAG)[:, cut]
    gone = attrition_share(inputs.mau, inputs.active)[:, cut]
    components = {"sustained_trend": score.sustained_trend(change), "breadth_change": score.breadth_change(lost),
                  "attrition": score.attrition(gone)}
    return components, {"trend_4w": change, "breadth_lost": lost, "attrition_share": gone}


def trend_change(dau: np.ndarray, weeks: int = TREND_WEEKS) -> np.ndarray:
    """Per customer and day: 4 weeks of the least-squares slope of the weekly totals, over their mean."""
    totals = weekly_totals(dau, weeks)
    t = np.arange(weeks) - (weeks - 1) / 2
    level = totals.mean(axis=0)
    slope = np.tensordot(t, totals, axes=1) / (t * t).sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(level > 0, 4 * slope / level, np.where(level == 0, 0.0, np.nan))


def weekly_totals(dau: np.ndarray, weeks: int = TREND_WEEKS) -> np.ndarray:
    """weeks x customers x days: the weekly visitor-day totals the trend is fitted to, oldest week first."""
    return np.stack([_week_total(dau, 7 * k) for k in range(weeks - 1, -1, -1)])


def _week_total(values: np.ndarray, lag: int) -> np.ndarray:
    """Sum over the 7 days ending `lag` days before each column, unsynced days filled with the week's
    mean; NaN when fewer than MIN_WEEK_DAYS are synced (or the week starts before the grid)."""
    present = ~np.isnan(values)
    pad = 7 + lag
    total = np.concatenate([np.zeros((values.shape[0], pad + 1)), np.cumsum(np.nan_to_num(values), axis=1)], axis=1)
    count = np.concatenate([np.zeros((values.shape[0], pad + 1)), np.cumsum(present, axis=1)], axis=1)
    hi = np.arange(values.shape[1]) + pad + 1 - lag
    s, n = total[:, hi] - total[:, hi - 7], count[:, hi] - count[:, hi - 7]
    inside = np.arange(values.shape[1]) - lag - 6 >= 0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where((n >= MIN_WEEK_DAYS) & inside, s * 7 / n, np.nan)


def breadth_lost(key_used: np.ndarray, lag: int) -> np.ndarray:
    """Net share of the key features used `lag` days ago no longer used now; NaN when none was."""
    then = np.full(key_used.shape, np.nan)
    then[:, lag:] = key_used[:, :-lag]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(then > 0, np.maximum(then - key_used, 0.0) / then, np.nan)


def attrition_share(mau: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Share of the 90-day active visitors not active in the last 30 days; NaN without actives."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(active > 0, (active - mau) / active, np.nan)
