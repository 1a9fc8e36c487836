"""Read-side queries for the portfolio page (every customer at once). No Streamlit here.

Each query reads the stored daily rows with an aggregate in SQL, so the page moves a few thousand
rows at most whatever the store's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, func, select

from pendo_core.store import models
from pendo_core.usage import measures, portfolio_days
from pendo_core.usage.queries import customer_measures

BANDS = portfolio_days.BANDS
HEALTH_COLUMNS = ["customer_id", "score_date", "overall", "band", "engagement", "adoption", "trajectory", "coverage",
                  "breadth"]

_usage = models.UsageMetric
_health = models.HealthScore


def daily_totals(engine: Engine, first: date, last: date) -> pd.DataFrame:
    """Per day: DAU, WAU and MAU summed over customers, customers with a row, and the portfolio's
    `pooled_dau_mau` (summed DAU ÷ summed MAU: not a stickiness). Days without any row are absent."""
    if portfolio_days.filled(engine):  # the sync's read model (portfolio_days.py)
        frame = portfolio_days.stored_usage(engine, first, last)
    else:
        frame = portfolio_days.usage_by_day(engine, _usage.metric_date.between(first, last))
    frame = frame.rename(columns={"day": "metric_date"})
    frame["metric_date"] = pd.to_datetime(frame["metric_date"])
    frame[["dau", "wau", "mau"]] = frame[["dau", "wau", "mau"]].astype(float)
    frame["pooled_dau_mau"] = measures.pooled_dau_mau(frame["dau"], frame["mau"])
    return frame


def customer_trends(engine: Engine, last: date) -> pd.DataFrame:
    """Per customer: the last day's DAU, WAU and MAU, stickiness, and the 28-day trend with its mean
    DAU of the 28 days ending `last` (dau_28d) and of the 28 before (dau_prior_28d): `customer_measures`."""
    frame = customer_measures(engine, last)
    return frame.rename(columns={"recent_mean": "dau_28d", "prior_mean": "dau_prior_28d"})


def top_drops(table: pd.DataFrame, limit: int = 10) -> pd.DataFrame:
    """The customers whose 28-day mean DAU fell most (`measures.ranks_as_drop`), largest fall first."""
    falling = table[measures.ranks_as_drop(table["dau_28d"], table["dau_prior_28d"])]
    return falling.sort_values("trend").head(limit)


def health_on(engine: Engine, days: Sequence[date]) -> pd.DataFrame:
    """Stored health scores of the given days: overall, band, components and the key-feature breadth
    the score was computed from (its inputs)."""
    h = _health
    query = select(h.customer_id, h.score_date, h.overall, h.band, h.engagement, h.adoption, h.trajectory,
                   h.coverage, h.inputs["breadth"].as_float()).where(h.score_date.in_(list(days)))
    frame = _frame(engine, query, HEALTH_COLUMNS)
    frame["score_date"] = pd.to_datetime(frame["score_date"])
    return frame


def no_health() -> pd.DataFrame:
    """An empty frame shaped like health_on's, for a store without scores."""
    return pd.DataFrame({c: pd.Series(dtype="datetime64[ns]" if c == "score_date" else object)
                         for c in HEALTH_COLUMNS})


def latest_health_day(engine: Engine, last: date) -> date | None:
    """The newest day up to `last` that has health scores, or None when nothing is scored."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(_health.score_date)).where(_health.score_date <= last)).scalar()


def weekly_health(engine: Engine, last: date, weeks: int) -> pd.DataFrame:
    """Per week end (every 7th day back from `last`): customers per band, mean score and mean
    key-feature breadth (adoption) over the scored customers."""
    days = [last - timedelta(days=7 * k) for k in range(weeks)]
    if portfolio_days.filled(engine):  # the sync's read model (portfolio_days.py)
        frame = portfolio_days.stored_health(engine, days)
    else:
        frame = portfolio_days.health_by_day(engine, _health.score_date.in_(days))
    frame = frame.rename(columns={"day": "score_date"})
    frame["score_date"] = pd.to_datetime(frame["score_date"])
    frame[["overall", "breadth"]] = frame[["overall", "breadth"]].astype(float)
    return frame


def no_weekly_health() -> pd.DataFrame:
    """An empty frame shaped like weekly_health's."""
    return pd.DataFrame(columns=["score_date", "overall", "breadth", *BANDS])


def portfolio_table(customers: pd.DataFrame, trends: pd.DataFrame, health_now: pd.DataFrame,
                    health_before: pd.DataFrame) -> pd.DataFrame:
    """One row per customer: who owns it, usage now, trend, health now and its change in points."""
    now = health_now.set_index("customer_id")[["overall", "band"]]
    before = health_before.set_index("customer_id")["overall"].rename("overall_before")
    table = (customers[["customer_id", "name", "segment", "csm_name", "csm_email", "arr", "renewal_date"]]
             .merge(trends, on="customer_id", how="left")
             .merge(now, left_on="customer_id", right_index=True, how="left")
             .merge(before, left_on="customer_id", right_index=True, how="left"))
    table[["overall", "overall_before"]] = table[["overall", "overall_before"]].astype(float)
    table["health_change"] = table["overall"] - table["overall_before"]
    table["band"] = table["band"].fillna("not scored")
    return table.sort_values("name", key=lambda names: names.str.casefold(), kind="stable", ignore_index=True)


def by_csm(table: pd.DataFrame) -> pd.DataFrame:
    """Customers per CSM: count, ARR, MAU, median stickiness and trend, customers per band."""
    grouped = table.assign(csm=table["csm_name"].fillna(table["csm_email"]).fillna("Unassigned"))
    summary = grouped.groupby("csm").agg(customers=("customer_id", "count"), arr=("arr", "sum"),
                                         mau=("mau", "sum"), stickiness=("stickiness", "median"),
                                         trend=("trend", "median"))
    bands = pd.crosstab(grouped["csm"], grouped["band"]).reindex(columns=[*BANDS, "not scored"], fill_value=0)
    return summary.join(bands).reset_index().sort_values("customers", ascending=False)


def by_segment(table: pd.DataFrame) -> pd.DataFrame:
    """Per segment: customers, median key-feature breadth, median stickiness, total MAU."""
    summary = table.groupby("segment").agg(customers=("customer_id", "count"), breadth=("breadth", "median"),
                                           stickiness=("stickiness", "median"), mau=("mau", "sum"))
    return summary.reset_index()


def _frame(engine: Engine, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)
