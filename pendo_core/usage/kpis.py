"""The Account usage headline deltas: each compares like with like, and how its colour reads.

Pure arithmetic over a customer's daily series ending on its last day with data (NaN on unsynced
days), built on `measures` (its windows, synced-day rules and stickiness):

- a **daily count** (DAU, sessions) compares its mean over the last 7 days (all 7 synced, as the
  7-day mean DAU of stickiness) with its mean over the 28 days before them (at least 14 synced, as
  a trend window): `mean_change`;
- a **7-day measure** (WAU, stickiness) compares its value on the last day with its mean on the same
  weekday of the 4 weeks before (d-7, d-14, d-21, d-28; at least 2 known): `weekly_change`;
- a **ratio of sums** (minutes per session) compares the last 7 days' sums with the 28 days
  before: `ratio_change`;
- **days since anyone was active** compares the last day with the same day a week before
  (`login_change`): up a week means another silent week.

Colour (`delta_color`, Streamlit's `st.metric(delta_color=...)`) follows the direction *and* its
meaning: for a measure where higher is better a rise is green and a fall red (`"normal"`); where
lower is better (days since anyone logged in) a rise is red (`"inverse"`); a measure with no good
direction (session length) stays grey (`"off"`). And a declining customer never shows green: when
usage or health is falling (`declining`), a delta that would be green is grey instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike

from pendo_core.usage import measures

WEEK = measures.STICKINESS_DAYS
BASELINE_DAYS = 4 * WEEK
BASELINE_MIN_SYNCED = measures.min_synced(BASELINE_DAYS)
WEEKS_BEFORE = 4
WEEKS_MIN_KNOWN = 2
Better = Literal["higher", "lower", "neither"]
DeltaColor = Literal["normal", "inverse", "off"]

COMPARE_HELP = (f"Deltas compare like with like: a daily count's mean over the last {WEEK} days against its mean "
                f"over the {BASELINE_DAYS} days before them; a 7-day measure (WAU, stickiness) against its mean on "
                f"the same weekday of the {WEEKS_BEFORE} weeks before; days since login against a week before. "
                "Green means better, red worse; grey when the direction means neither, or when the customer is "
                "declining (usage, trend or health down).")


@dataclass(frozen=True)
class Change:
    """A measure now and its baseline (None: not enough synced days)."""

    now: float | None
    before: float | None

    @property
    def difference(self) -> float | None:
        """now - before (None when either is unknown)."""
        return None if self.now is None or self.before is None else self.now - self.before

    @property
    def relative(self) -> float | None:
        """now / before - 1 (None when either is unknown or the baseline is 0)."""
        if self.now is None or self.before is None or self.before == 0:
            return None
        return self.now / self.before - 1


def mean_change(daily: ArrayLike) -> Change:
    """Mean of the last 7 days (all synced) against the mean of the 28 days before (>= 14 synced)."""
    values = np.asarray(daily, dtype=float)
    recent, recent_n = measures.trailing_window(values, WEEK)
    prior, prior_n = measures.trailing_window(values, BASELINE_DAYS, end_lag=WEEK)
    now = measures.synced_mean(recent[0, -1:], recent_n[0, -1:], WEEK)
    before = measures.synced_mean(prior[0, -1:], prior_n[0, -1:], BASELINE_MIN_SYNCED)
    return Change(measures.number(now), measures.number(before))


def weekly_change(values: ArrayLike) -> Change:
    """The last value against the mean of the values 7, 14, 21 and 28 days before (>= 2 known)."""
    series = np.asarray(values, dtype=float)
    if series.size == 0:
        return Change(None, None)
    past = [series[-1 - WEEK * k] for k in range(1, WEEKS_BEFORE + 1) if series.size > WEEK * k]
    known = [v for v in past if not np.isnan(v)]
    before = float(np.mean(known)) if len(known) >= WEEKS_MIN_KNOWN else None
    return Change(measures.number(series[-1]), before)


def ratio_change(numerator: ArrayLike, denominator: ArrayLike) -> Change:
    """Sum of `numerator` ÷ sum of `denominator` over the last 7 days against the 28 days before
    (synced days as in `mean_change`; None when the denominator's sum is 0)."""
    top, bottom = np.asarray(numerator, dtype=float), np.asarray(denominator, dtype=float)
    top = np.where(np.isnan(bottom), np.nan, top)  # a day counts when both are synced
    parts = []
    for width, lag, needed in ((WEEK, 0, WEEK), (BASELINE_DAYS, WEEK, BASELINE_MIN_SYNCED)):
        t, n = measures.trailing_window(top, width, end_lag=lag)
        b, _ = measures.trailing_window(bottom, width, end_lag=lag)
        parts.append(float(t[0, -1] / b[0, -1]) if n[0, -1] >= needed and b[0, -1] > 0 else None)
    return Change(parts[0], parts[1])


def days_since_active(daily: ArrayLike, lag: int = 0) -> float | None:
    """Calendar days from the day `lag` days before the series' end back to its last day with anyone
    active (0: someone was active that day); None when nobody was active in the series up to it."""
    values = np.asarray(daily, dtype=float)
    values = values[: values.size - lag] if lag else values
    active = np.flatnonzero(values > 0)  # NaN (unsynced) is never "active"
    return float(values.size - 1 - active[-1]) if active.size else None


def login_change(daily: ArrayLike) -> Change:
    """Days since anyone was active, on the last day against the same day a week before."""
    return Change(days_since_active(daily), days_since_active(daily, WEEK))


def declining(*changes: float | None) -> bool:
    """True when any of the given changes (usage against its baseline, the 28-day trend, the health
    score's 28-day change) is below zero."""
    return any(c is not None and not np.isnan(c) and c < 0 for c in changes)


def delta_color(change: float | None, better: Better, *, is_declining: bool) -> DeltaColor:
    """The colour of a delta: green for better, red for worse, grey when direction means neither or
    when a declining customer's delta would be green."""
    if better == "neither":
        return "off"
    color: DeltaColor = "normal" if better == "higher" else "inverse"
    good = change is not None and ((change > 0) if better == "higher" else (change < 0))
    return "off" if is_declining and good else color
