"""The product's window measures, one definition each: every page, endpoint, chat answer and the
health score calls these functions, so a word shows the same number everywhere.

Pure arithmetic over plain values (scalars or numpy arrays of any shape, broadcast together): the
SQL that reads the inputs stays in the query modules. NaN (or None) means "no data"; a day is
*synced* when the store holds its usage row (a day outside the synced range is missing, not 0).
Windows end on day *d* and count synced days only. Where two screens disagreed before, the health
score's definition won (README, "Metrics"):

- **stickiness** = mean DAU of [d-6, d] ÷ MAU of d, all 7 days synced (`stickiness`);
- **trend** = mean DAU of [d-27, d] ÷ mean DAU of [d-55, d-28] - 1, at least 14 synced days in
  each window (`trend_means`, `trend`);
- **key-feature breadth** = key features used in [d-29, d] ÷ key features (`breadth`);
- **feature adoption** = a feature's users in [d-29, d] ÷ MAU of d (`adoption`).

Two ratios that are *not* stickiness keep their own names: `dau_mau` (one day's DAU ÷ MAU, a
column of the daily rows) and `pooled_dau_mau` (summed over customers, the portfolio's line).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

Floats = NDArray[np.float64]
Values = ArrayLike | None  # None, like NaN, means no data

STICKINESS_DAYS = 7
TREND_DAYS = 28
TREND_MIN_SYNCED = TREND_DAYS // 2
WINDOW_DAYS = 30  # breadth and adoption: the 30 days ending d, as MAU
MIN_PRIOR_DAU = 1.0  # a drop is ranked only with one daily user or more before: below, a % change is noise

STICKINESS_DEFINITION = ("Stickiness = mean DAU of the 7 days ending on the day ÷ MAU of the day (all 7 days synced; "
                         "0 when MAU is 0 after earlier use; none for an account nobody used in 90 days).")
BREADTH_DEFINITION = ("Key-feature breadth = share of the key features (Pendo Core Events unless an admin picked "
                      "others) used by at least one visitor in the 30 days ending on the day.")
ADOPTION_DEFINITION = ("Feature adoption = distinct users of the feature in the 30 days ending on the day ÷ MAU of "
                       "the day.")
STICKINESS_FORMAT = "{:.0%}"  # a share, shown in whole percent on every page and in every answer ("18%")
DAU_MAU_DEFINITION = "DAU ÷ MAU of the day (null when MAU is 0); stickiness is its 7-day form."
POOLED_DAU_MAU_DEFINITION = ("Portfolio DAU ÷ MAU = DAU summed over customers ÷ MAU summed over customers (big "
                             "customers weigh more; not a customer's stickiness).")


def trend_definition(days: int = TREND_DAYS) -> str:
    """The trend's definition in words, for windows of `days`."""
    return (f"Trend = mean DAU of the last {days} days ÷ mean DAU of the {days} days before − 1 (synced days "
            f"only; at least {min_synced(days)} synced days in each window; none when the earlier mean is 0).")


def stickiness_text(value: float | None) -> str:
    """Stickiness as every page and answer shows it (STICKINESS_FORMAT, "18%"); an en dash when missing."""
    return "–" if value is None or math.isnan(value) else STICKINESS_FORMAT.format(value)


def min_synced(days: int) -> int:
    """Synced days a trend window of `days` needs: half of it (14 of 28)."""
    return max(1, days // 2)


def trailing_window(values: Values, width: int, end_lag: int = 0) -> tuple[Floats, Floats]:
    """(sum, synced days) over [t - end_lag - width + 1, t - end_lag] for every t of the last axis.

    `values` is a daily series (or rows of them) with NaN on unsynced days; days before the first
    column count as unsynced.
    """
    v = np.atleast_2d(np.asarray(values, dtype=float))
    pad = np.zeros((v.shape[0], width + end_lag + 1))
    total = np.concatenate([pad, np.cumsum(np.nan_to_num(v), axis=1)], axis=1)
    count = np.concatenate([pad, np.cumsum(~np.isnan(v), axis=1)], axis=1)
    hi = np.arange(v.shape[1]) + width + 1
    lo = hi - width
    return total[:, hi] - total[:, lo], count[:, hi] - count[:, lo]


def synced_mean(total: Values, synced: Values, minimum: int) -> Floats:
    """A window's mean over its synced days (total ÷ synced days); NaN with fewer than `minimum` synced."""
    t, n = np.asarray(total, dtype=float), np.asarray(synced, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(n >= max(1, minimum), t / n, np.nan), dtype=float)


def stickiness(dau_total_7d: Values, synced_7d: Values, mau: Values, active_visitors: Values) -> Floats:
    """Stickiness = mean DAU of the 7 days [d-6, d] ÷ MAU of d (a whole week: weekday-neutral).

    Guards: NaN unless all 7 days are synced; NaN when MAU of d is unknown; NaN when nobody was active
    in the 90 days ending d (`active_visitors` 0: an account not in use yet has no stickiness); 0 when
    MAU is 0 but someone was active in those 90 days (the customer went quiet).
    """
    week = synced_mean(dau_total_7d, synced_7d, STICKINESS_DAYS)
    m, active = np.asarray(mau, dtype=float), np.asarray(active_visitors, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(m > 0, week / m, 0.0)
    in_use = active > 0  # NaN compares False
    return np.asarray(np.where(in_use & ~np.isnan(week) & ~np.isnan(m), ratio, np.nan), dtype=float)


def trend_means(recent_total: Values, recent_synced: Values, prior_total: Values,
                prior_synced: Values, days: int = TREND_DAYS) -> tuple[Floats, Floats]:
    """(recent, prior) mean DAU of the trend's windows [d-days+1, d] and [d-2·days+1, d-days], each
    over its synced days and NaN with fewer than half of the window synced (14 of 28)."""
    needed = min_synced(days)
    return synced_mean(recent_total, recent_synced, needed), synced_mean(prior_total, prior_synced, needed)


def trend(recent_mean: Values, prior_mean: Values) -> Floats:
    """Trend = recent mean DAU ÷ prior mean DAU - 1, from `trend_means`.

    Guards: NaN when either window has too few synced days (its mean is NaN) and when the prior mean
    is 0 (growth from nothing has no ratio; the health score's trajectory scores it 100 itself).
    """
    recent, prior = np.asarray(recent_mean, dtype=float), np.asarray(prior_mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(prior > 0, recent / prior - 1.0, np.nan), dtype=float)


def ranks_as_drop(recent_mean: Values, prior_mean: Values) -> NDArray[np.bool_]:
    """True where usage fell from at least MIN_PRIOR_DAU daily users: the lists of biggest drops."""
    recent, prior = np.asarray(recent_mean, dtype=float), np.asarray(prior_mean, dtype=float)
    return np.asarray((prior >= MIN_PRIOR_DAU) & (recent < prior))


def breadth(key_features_used: Values, key_features: int) -> Floats:
    """Key-feature breadth = key features used by at least one visitor in [d-29, d] ÷ key features.

    Guards: NaN when there is no key feature (nothing to be broad over) or the count is unknown.
    """
    used = np.asarray(key_features_used, dtype=float)
    if key_features <= 0:
        return np.full(used.shape, np.nan)
    return np.asarray(used / key_features, dtype=float)


def adoption(users: Values, active: Values) -> Floats:
    """Feature adoption = distinct users of a feature in a window ÷ the visitors active in it: the
    30 days ending d and MAU of d (metrics-spec.md), or a week and its WAU for weekly adoption.

    Guards: NaN when the active count is 0 or unknown.
    """
    return _ratio(users, active)


def dau_mau(dau: Values, mau: Values) -> Floats:
    """One day's DAU ÷ MAU (the daily rows' `dau_mau`); NaN when MAU is 0 or unknown. Not stickiness."""
    return _ratio(dau, mau)


def pooled_dau_mau(dau_sum: Values, mau_sum: Values) -> Floats:
    """Portfolio DAU ÷ MAU: DAU summed over customers (and days) ÷ MAU summed likewise; NaN when the
    MAU sum is 0. Big customers weigh more: it is not any customer's stickiness."""
    return _ratio(dau_sum, mau_sum)


def _ratio(numerator: Values, denominator: Values) -> Floats:
    top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.asarray(np.where(bottom > 0, top / bottom, np.nan), dtype=float)


def number(value: Values) -> float | None:
    """A one-value result as a float, None for NaN (for answers and JSON)."""
    v = float(np.asarray(value, dtype=float).reshape(-1)[0])
    return None if np.isnan(v) else v
