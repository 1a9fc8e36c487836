"""Read-side queries shared by the pages (and later the REST API). No Streamlit here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import pandas as pd
from sqlalchemy import Engine, func, select

from pendo_core.db import models

USAGE_COLUMNS = ["dau", "wau", "mau", "active_visitors", "session_count", "avg_session_minutes",
                 "page_views", "feature_events", "time_in_app_minutes"]


@dataclass(frozen=True)
class Freshness:
    """How current the store is: the last good sync and the last attempt."""

    last_success_at: datetime | None
    data_through: date | None
    last_status: str | None
    last_error: str | None


def customers(engine: Engine) -> pd.DataFrame:
    """Customers with their CSM and how many Pendo accounts they own."""
    accounts = (select(models.AccountMapping.customer_id, func.count().label("accounts"))
                .group_by(models.AccountMapping.customer_id).subquery())
    query = (
        select(models.Customer.customer_id, models.Customer.name, models.Customer.segment,
               models.Customer.csm_email, func.coalesce(accounts.c.accounts, 0).label("accounts"))
        .outerjoin(accounts, accounts.c.customer_id == models.Customer.customer_id)
        .order_by(models.Customer.name)
    )
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).mappings().all(),
                            columns=["customer_id", "name", "segment", "csm_email", "accounts"])


def usage_series(engine: Engine, customer_id: str, first: date, last: date) -> pd.DataFrame:
    """One row per day of [first, last]; days the store has no row for stay NaN (gaps, not zeros)."""
    table = models.UsageMetric
    query = (select(table.metric_date, *[getattr(table, c) for c in USAGE_COLUMNS])
             .where(table.customer_id == customer_id, table.metric_date.between(first, last)))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(query).mappings().all(), columns=["metric_date", *USAGE_COLUMNS])
    frame["metric_date"] = pd.to_datetime(frame["metric_date"])
    days = pd.DataFrame({"metric_date": pd.date_range(first, last, freq="D")})
    frame = days.merge(frame, on="metric_date", how="left")
    frame["dau_mau"] = frame["dau"] / frame["mau"].where(frame["mau"] > 0)
    return frame


def freshness(engine: Engine) -> Freshness:
    """The last successful run, what day the data reaches, and how the last attempt went."""
    runs = models.SyncRun
    with engine.connect() as conn:
        ok = conn.execute(select(runs.finished_at, runs.stats).where(runs.status == "success")
                          .order_by(runs.id.desc()).limit(1)).first()
        last = conn.execute(select(runs.status, runs.error).order_by(runs.id.desc()).limit(1)).first()
    through = date.fromisoformat(ok.stats["report_last"]) if ok and ok.stats and ok.stats.get("report_last") else None
    return Freshness(ok.finished_at if ok else None, through, last.status if last else None,
                     last.error if last else None)
