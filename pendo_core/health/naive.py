"""The naive single signals a CSM could read off the usage table, the yardstick of the health score.

One definition each, for every customer and day at once, from day grids (rows: customers, columns:
consecutive days; NaN where no usage row is stored, i.e. the day was not synced). Windows end on
the day ``t`` a signal is read on and count stored days only:

- **30-day MAU change**: ``(MAU of t - MAU of t-30) / max(MAU of t-30, 1)`` (a missing day reads 0);
- **recent-vs-baseline DAU**: mean DAU of [t-27, t] ÷ mean DAU of [t-55, t-28] - 1 (0 when the
  earlier mean is 0; a window without a stored day has mean 0);
- **last week's DAU**: mean DAU of [t-6, t];
- **days since last login**: days from the last day with DAU > 0 in [t-89, t] to t (90 when none).

`RISK_SIGN` turns each into a risk (higher = likelier to churn) for an AUC. `jobs evaluate` and the
admin back-test both read these, so "the best naive signal" means the same on both.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["HISTORY_DAYS", "LABELS", "RISK_SIGN", "naive_signals"]

LABELS = {
    "mau_change_30d": "30-day MAU change",
    "dau_recent_vs_baseline": "recent-vs-baseline DAU",
    "dau_last_week": "last week's DAU",
    "days_since_login": "days since last login",
}
RISK_SIGN = {"mau_change_30d": -1.0, "dau_recent_vs_baseline": -1.0, "dau_last_week": -1.0, "days_since_login": 1.0}
HISTORY_DAYS = 90  # the longest look-back of a signal (days since last login)
MAU_LAG, RECENT_DAYS, WEEK_DAYS = 30, 28, 7

Floats = NDArray[np.float64]


def naive_signals(dau: Floats, mau: Floats, day: NDArray[np.int_]) -> dict[str, Floats]:
    """Each signal per row, read on column `day[row]` (a negative column gives NaN)."""
    ok = day >= 0
    t = np.where(ok, day, 0)
    recent, prior = _window_mean(dau, t, 0, RECENT_DAYS), _window_mean(dau, t, RECENT_DAYS, RECENT_DAYS)
    mau_now, mau_then = _at(mau, t), _at(mau, t - MAU_LAG)
    with np.errstate(divide="ignore", invalid="ignore"):
        trend = np.where(prior > 0, (recent - prior) / prior, 0.0)
    signals = {"mau_change_30d": (mau_now - mau_then) / np.maximum(mau_then, 1.0),
               "dau_recent_vs_baseline": trend,
               "dau_last_week": _window_mean(dau, t, 0, WEEK_DAYS),
               "days_since_login": _days_since_active(dau, t)}
    return {name: np.where(ok, values, np.nan) for name, values in signals.items()}


def _at(grid: Floats, col: NDArray[np.int_]) -> Floats:
    """The grid's value at each row's column; 0 outside the grid or where no row is stored."""
    inside = (col >= 0) & (col < grid.shape[1])
    out = np.zeros(len(col))
    out[inside] = np.nan_to_num(grid[np.flatnonzero(inside), col[inside]])
    return out


def _window_mean(grid: Floats, t: NDArray[np.int_], lag: int, days: int) -> Floats:
    """Mean of the stored values in [t-lag-days+1, t-lag] per row; 0 when none is stored."""
    stored = ~np.isnan(grid)
    sums = np.concatenate([np.zeros((len(grid), 1)), np.cumsum(np.where(stored, grid, 0.0), axis=1)], axis=1)
    counts = np.concatenate([np.zeros((len(grid), 1)), np.cumsum(stored, axis=1)], axis=1)
    rows = np.arange(len(t))
    end = np.clip(t - lag + 1, 0, grid.shape[1])
    start = np.clip(t - lag - days + 1, 0, grid.shape[1])
    n = counts[rows, end] - counts[rows, start]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(n > 0, (sums[rows, end] - sums[rows, start]) / n, 0.0)


def _days_since_active(dau: Floats, t: NDArray[np.int_]) -> Floats:
    """Days from the last column with DAU > 0 up to t, at most HISTORY_DAYS (also when none)."""
    cols = np.arange(dau.shape[1])
    last_active = np.maximum.accumulate(np.where(dau > 0, cols, -1), axis=1) if dau.size else np.full((len(t), 1), -1)
    last = last_active[np.arange(len(t)), np.minimum(t, last_active.shape[1] - 1)]
    since = (t - last).astype(float)
    return np.where((last >= 0) & (since < HISTORY_DAYS), since, float(HISTORY_DAYS))
