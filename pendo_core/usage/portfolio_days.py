"""The Portfolio's per-day totals: a read model kept by every sync after the health scores.

The Portfolio's daily chart sums DAU, WAU and MAU over every customer for each of 90 days, and its
health trend averages 12 days of scores over every customer: at 5,000 customers half a million rows
read on each cold visit. The sync's portfolio step (`refresh_moved_days`, in `pipeline.run.STEPS` after
health) runs the same grouped queries (`usage_by_day`, `health_by_day`) and keeps one row per day in
`pendo_portfolio_days`: over the days whose metrics or scores moved since its last rebuild
(`read_models.stale_since`; a daily run's few re-read days), every day when the table is empty.
`portfolio_queries.daily_totals` and `weekly_health` read it once it has rows, else the live queries
(a store no sync has refreshed since the upgrade).
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, case, delete, func, insert, select

from pendo_core.common.config import Settings
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest
from pendo_core.pendo.sync.store import Fence, run_fence, unfenced
from pendo_core.store import models
from pendo_core.usage import read_models

TABLE = models.PortfolioDay
BANDS = ("red", "yellow", "green", "insufficient data")
BAND_COLUMNS = ("red", "yellow", "green", "insufficient")  # the table's column per band
USAGE_COLUMNS = ["day", "dau", "wau", "mau", "customers"]
HEALTH_COLUMNS = ["day", "overall", "breadth", *BANDS]


def filled(engine: Engine) -> bool:
    """True once a sync has written the read model and no metrics or scores were replaced since (the
    readers then use it; see read_models.py)."""
    with engine.connect() as conn:
        if read_models.is_stale(conn, read_models.PORTFOLIO):
            return False
        return conn.execute(select(TABLE.day).limit(1)).first() is not None


def usage_by_day(engine: Engine, where: ColumnElement[bool] | None = None) -> pd.DataFrame:
    """Live: per day with usage rows (in `where`), DAU, WAU and MAU summed over customers and the customers."""
    t = models.UsageMetric
    # ix_pendo_usage_metrics_day_customer answers it alone, in day order (no table row, no sort).
    query = select(t.metric_date, func.sum(t.dau), func.sum(t.wau), func.sum(t.mau), func.count())
    query = query if where is None else query.where(where)
    return _frame(engine, query.group_by(t.metric_date).order_by(t.metric_date), USAGE_COLUMNS)


def health_by_day(engine: Engine, where: ColumnElement[bool] | None = None) -> pd.DataFrame:
    """Live: per day with scores (in `where`), the mean score, the mean key-feature breadth, customers per band."""
    h = models.HealthScore
    bands = [func.sum(case((h.band == band, 1), else_=0)) for band in BANDS]
    query = select(h.score_date, func.avg(h.overall), func.avg(h.inputs["breadth"].as_float()), *bands)
    query = query if where is None else query.where(where)
    return _frame(engine, query.group_by(h.score_date).order_by(h.score_date), HEALTH_COLUMNS)


def stored_usage(engine: Engine, first: date, last: date) -> pd.DataFrame:
    """`usage_by_day` of [first, last] from the read model."""
    t = TABLE
    query = (select(t.day, t.dau, t.wau, t.mau, t.usage_customers)
             .where(t.day.between(first, last), t.usage_customers > 0).order_by(t.day))
    return _frame(engine, query, USAGE_COLUMNS)


def stored_health(engine: Engine, days: list[date]) -> pd.DataFrame:
    """`health_by_day` of the given days from the read model."""
    t = TABLE
    query = (select(t.day, t.overall, t.breadth, *(getattr(t, c) for c in BAND_COLUMNS))
             .where(t.day.in_(days), t.scored > 0).order_by(t.day))
    return _frame(engine, query, HEALTH_COLUMNS)


def refresh_portfolio_days(engine: Engine, since: date | None = None, *, fence: Fence = unfenced) -> int:
    """Rewrite the rows of every day from `since` on (None: every day) from the live queries; returns
    the days written. `fence` (a sync run's): called first in the writing transaction, it refuses the
    write once a newer run has started."""
    usage_rows = usage_by_day(engine, None if since is None else models.UsageMetric.metric_date >= since)
    health_rows = health_by_day(engine, None if since is None else models.HealthScore.score_date >= since)
    usage = {r["day"]: r for r in usage_rows.to_dict("records")}
    health = {r["day"]: r for r in health_rows.to_dict("records")}
    rows = [_row(day, usage.get(day), health.get(day)) for day in sorted(usage.keys() | health.keys())]
    with engine.begin() as conn:
        fence(conn)
        conn.execute(delete(TABLE) if since is None else delete(TABLE).where(TABLE.day >= since))
        if rows:
            conn.execute(insert(TABLE), rows)
        read_models.mark_fresh(conn, read_models.PORTFOLIO)
    return len(rows)


def refresh_moved_days(engine: Engine, *, fence: Fence = unfenced) -> int:
    """Rewrite the days whose metrics or scores moved since the last rebuild (every day when the table is
    empty or a write did not say which days); none when nothing moved. Returns the days written."""
    with engine.connect() as conn:
        since = read_models.stale_since(conn, read_models.PORTFOLIO)
        empty = conn.execute(select(TABLE.day).limit(1)).first() is None
    if empty or since == read_models.EVERY_DAY:
        return refresh_portfolio_days(engine, fence=fence)
    return 0 if since is None else refresh_portfolio_days(engine, since, fence=fence)


def portfolio_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
    """Post-health sync step: `refresh_moved_days`."""
    refresh_moved_days(engine, fence=run_fence(summary.run_id))


def make_portfolio_step(settings: Settings) -> PostStep:
    """portfolio_step (it reads only stored metrics and scores: no setting changes it)."""
    return portfolio_step


def _row(day: Any, usage: dict[str, Any] | None, health: dict[str, Any] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"day": day, "usage_customers": int(usage["customers"]) if usage else 0,
                           "scored": sum(int(health[b]) for b in BANDS) if health else 0}
    row.update({c: _number(usage[c], int) if usage else None for c in ("dau", "wau", "mau")})
    row.update({c: _number(health[c], float) if health else None for c in ("overall", "breadth")})
    row.update({c: int(health[b]) if health else None for c, b in zip(BAND_COLUMNS, BANDS, strict=True)})
    return row


def _number(value: Any, kind: type[int] | type[float]) -> int | float | None:
    return None if value is None or pd.isna(value) else kind(value)


def _frame(engine: Engine, query: Any, columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)
