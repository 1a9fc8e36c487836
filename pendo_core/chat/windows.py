"""Window measures over stored daily usage rows, as pure pandas: stickiness and the DAU trend.

Definitions (metrics-spec.md, and the health score's, so the chat, the API and the Health page
quote the same numbers):

- **stickiness** = mean DAU of the 7 days ending on the day ÷ MAU of the day; all 7 days synced.
- **trend** = mean DAU of the last N days ÷ mean DAU of the N days before, minus 1 (N = 28 unless
  asked for a week), each mean over the synced days only, with at least half of each window
  synced; none when the earlier mean is 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

STICKY_DAYS = 7
TREND_DAYS = 28

STICKINESS_DEFINITION = "Stickiness = mean DAU of the last 7 days ÷ MAU (distinct visitors active in 30 days)."


def trend_definition(days: int) -> str:
    """The trend's definition in words, for a window of `days`."""
    return (f"Trend = mean DAU of the last {days} days ÷ mean DAU of the {days} days before − 1 "
            f"(synced days only; at least {min_days(days)} synced days in each window).")


def min_days(days: int) -> int:
    """Synced days a trend window needs (half of it)."""
    return max(1, days // 2)


@dataclass(frozen=True)
class Span:
    """A window of days [first, last], for quoting."""

    first: date
    last: date

    @property
    def text(self) -> str:
        """`2026-10-29 → 2026-11-25 (28 days)`."""
        return f"{self.first.isoformat()} → {self.last.isoformat()} ({(self.last - self.first).days + 1} days)"


def recent_span(day: date, days: int) -> Span:
    """The last `days` days ending on `day`."""
    return Span(day - timedelta(days=days - 1), day)


def prior_span(day: date, days: int) -> Span:
    """The `days` days before the recent window."""
    return Span(day - timedelta(days=2 * days - 1), day - timedelta(days=days))


def window_values(frame: pd.DataFrame, day: date, days: int = TREND_DAYS,
                  min_synced: int | None = None) -> pd.DataFrame:
    """Per customer: mau, stickiness, recent/prior mean DAU, synced days of each, trend.

    `frame` holds stored usage rows (customer_id, metric_date as date, dau, mau) covering at least
    [day - 2*days + 1, day]; customers without a row on `day` get NaN for mau and stickiness.
    Each window needs `min_synced` synced days (default: half of it) for its mean.
    """
    dates = pd.to_datetime(frame["metric_date"])
    at = pd.Timestamp(day)
    recent = _mean_dau(frame, dates, recent_span(day, days), "recent")
    prior = _mean_dau(frame, dates, prior_span(day, days), "prior")
    week = _mean_dau(frame, dates, recent_span(day, STICKY_DAYS), "week")
    mau = frame.loc[dates == at].set_index("customer_id")["mau"].astype(float).rename("mau")
    out = pd.concat([mau, week, recent, prior], axis=1)
    full_week = out["week_days"] == STICKY_DAYS
    # MAU 0 means nobody active for 30 days: stickiness 0, as the health score reads it.
    out["stickiness"] = (out["week_mean"] / out["mau"].where(out["mau"] > 0)).fillna(0.0).where(
        full_week & out["mau"].notna())
    needed = min_days(days) if min_synced is None else min_synced
    enough = (out["recent_days"] >= needed) & (out["prior_days"] >= needed)
    out["recent_mean"] = out["recent_mean"].where(enough)
    out["prior_mean"] = out["prior_mean"].where(enough)
    out["trend"] = (out["recent_mean"] / out["prior_mean"] - 1.0).where(out["prior_mean"] > 0)
    return out


def _mean_dau(frame: pd.DataFrame, dates: pd.Series, span: Span, prefix: str) -> pd.DataFrame:
    inside = frame.loc[(dates >= pd.Timestamp(span.first)) & (dates <= pd.Timestamp(span.last))]
    grouped = inside.groupby("customer_id")["dau"]
    return pd.DataFrame({f"{prefix}_mean": grouped.mean().astype(float), f"{prefix}_days": grouped.count()})
