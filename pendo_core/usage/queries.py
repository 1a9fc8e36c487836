"""Read-side queries shared by the pages (and later the REST API). No Streamlit here.

Usage, customers and freshness live here; features and guides in `read_features`, the portfolio
in `read_portfolio`. Every function takes an Engine and returns plain frames or values; the pages
cache them. Queries that span every customer are shaped so SQLite can answer them from an index
in a fraction of a second on 5,000 customers (see jobs/bench_pages.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, case, func, select

from pendo_core.store import models
from pendo_core.store.scope import customer_chunks, unindexed
from pendo_core.usage import measures, snapshot

USAGE_COLUMNS = ["dau", "wau", "mau", "active_visitors", "session_count", "avg_session_minutes",
                 "page_views", "feature_events", "time_in_app_minutes"]
CUSTOMER_COLUMNS = ["customer_id", "name", "domain", "segment", "arr", "renewal_date", "csm_email", "csm_name",
                    "accounts"]
WEEK_DAYS = measures.STICKINESS_DAYS
WEEKS = 12  # week ends of My customers' usage sparkline
ACTIVE_DAYS = 90  # how far back "last active" looks (the store keeps the 90-day active base)
# Narrows a query to the customers a viewer sees, given the query's customer column (the access rule).
Keep = Callable[[Select[Any], Any], Select[Any]]
MEASURE_COLUMNS = ["customer_id", "dau", "wau", "mau", "active_visitors", "dau_7d", "stickiness", "recent_mean",
                   "prior_mean", "trend"]
NO_SEGMENT = "No segment"  # how customers() labels a customer without a segment
# Per-active-user rates compared between a customer, its segment and the portfolio (week means).
RATES = {
    "stickiness": "Stickiness (DAU ÷ MAU)",
    "sessions_per_user": "Sessions per active user a day",
    "session_minutes": "Minutes per session",
    "minutes_per_user": "Minutes in app per active user a day",
    "page_views_per_user": "Page views per active user a day",
    "feature_events_per_user": "Feature events per active user a day",
}


@dataclass(frozen=True)
class Freshness:
    """How current the store is: the last good sync and the last attempt."""

    last_success_at: datetime | None
    data_through: date | None
    last_status: str | None
    last_error: str | None
    stamp: int = 0  # id of the last successful run: caches keyed on it refresh after every sync


def customers(engine: Engine) -> pd.DataFrame:
    """Customers with their CSM and how many Pendo accounts they own, by name ignoring case (Acme before
    AMBER), as every list and picker shows them."""
    accounts = (select(models.AccountMapping.customer_id, func.count().label("accounts"))
                .group_by(models.AccountMapping.customer_id).subquery())
    c = models.Customer
    query = (
        select(c.customer_id, c.name, c.domain, c.segment, c.arr, c.renewal_date, c.csm_email,
               models.Csm.name.label("csm_name"), func.coalesce(accounts.c.accounts, 0).label("accounts"))
        .outerjoin(accounts, accounts.c.customer_id == c.customer_id)
        .outerjoin(models.Csm, models.Csm.email == c.csm_email)
        .order_by(func.lower(c.name), c.name, c.customer_id)
    )
    frame = _frame(engine, query, CUSTOMER_COLUMNS)
    frame["csm_email"] = frame["csm_email"].str.strip().str.lower()
    frame["segment"] = frame["segment"].fillna(NO_SEGMENT)
    return frame


def usage_series(engine: Engine, customer_id: str, first: date, last: date) -> pd.DataFrame:
    """One row per day of [first, last]; days the store has no row for stay NaN (gaps, not zeros).

    Beside the stored columns: `dau_mau` (the day's DAU ÷ MAU) and `stickiness` (measures.stickiness
    of each day, from the 6 days before `first` too).
    """
    table = models.UsageMetric
    lead = first - timedelta(days=measures.STICKINESS_DAYS - 1)
    query = (select(table.metric_date, *[getattr(table, c) for c in USAGE_COLUMNS])
             .where(table.customer_id == customer_id, table.metric_date.between(lead, last)))
    frame = _frame(engine, query, ["metric_date", *USAGE_COLUMNS])
    frame["metric_date"] = pd.to_datetime(frame["metric_date"])
    days = pd.DataFrame({"metric_date": pd.date_range(lead, last, freq="D")})
    frame = days.merge(frame, on="metric_date", how="left")
    frame[USAGE_COLUMNS] = frame[USAGE_COLUMNS].astype(float)
    frame["dau_mau"] = measures.dau_mau(frame["dau"], frame["mau"])
    week, synced = measures.trailing_window(frame["dau"], measures.STICKINESS_DAYS)
    frame["stickiness"] = measures.stickiness(week[0], synced[0], frame["mau"], frame["active_visitors"])
    return frame[frame["metric_date"] >= pd.Timestamp(first)].reset_index(drop=True)


SUM_COLUMNS = ["customer_id", "dau", "wau", "mau", "active_visitors", "week_sum", "week_n", "recent_sum", "recent_n",
               "prior_sum", "prior_n"]
WEEK_COLUMNS = ["customer_id", "dau", "wau", "mau", "active_visitors", "user_days", "sessions", "minutes",
                "page_views", "feature_events", "days"]


def customer_measures(engine: Engine, day: date, customer_ids: Collection[str] | None = None, *,
                      trend_days: int = measures.TREND_DAYS) -> pd.DataFrame:
    """Per customer (None: every customer with a row in the windows): the stored DAU, WAU, MAU and
    90-day actives of `day`, and the window measures ending on it (`measures`): the 7-day mean DAU
    and stickiness, the trend's recent and prior mean DAU (windows of `trend_days`) and the trend.

    The window sums of every customer come from the sync's snapshot when it is of `day`
    (`snapshot.py`), else from `measure_sums`; the arithmetic is measures'.
    """
    wide = customer_ids is None and trend_days == measures.TREND_DAYS
    frame = held_or_live(engine, day, lambda: _snapshot_sums(engine, day),
                          lambda: measure_sums(engine, day, customer_ids, trend_days=trend_days), usable=wide)
    return _with_measures(frame, trend_days)


def held_or_live(engine: Engine, day: date, stored: Callable[[], pd.DataFrame], live: Callable[[], pd.DataFrame],
                  *, usable: bool = True) -> pd.DataFrame:
    """`stored()` (the snapshot's rows) when the snapshot holds `day`, else `live()`; also live when the
    stored read is empty, as when a sync moved the snapshot on to the next day after `holds` said yes.
    Every reader of the snapshot (here and in feature_queries) decides through this one function."""
    frame = stored() if usable and snapshot.holds(engine, day) else None
    return live() if frame is None or frame.empty else frame


def measure_sums(engine: Engine, day: date, customer_ids: Collection[str] | None = None, *,
                 trend_days: int = measures.TREND_DAYS) -> pd.DataFrame:
    """The live window sums of `customer_measures` (SUM_COLUMNS): one grouped read of the rows of
    [day - 2 * trend_days + 1, day]."""
    t = models.UsageMetric
    split = day - timedelta(days=trend_days)
    prior_first = split - timedelta(days=trend_days - 1)
    first = min(prior_first, day - timedelta(days=WEEK_DAYS - 1))
    windows = (t.metric_date > day - timedelta(days=WEEK_DAYS), t.metric_date > split,
               t.metric_date.between(prior_first, split))
    on_day = [func.max(_when(t.metric_date == day, c)) for c in (t.dau, t.wau, t.mau, t.active_visitors)]
    sums = [f(_when(w, t.dau)) for w in windows for f in (func.sum, func.count)]
    query = (select(t.customer_id, *on_day, *sums).where(unindexed(t.metric_date).between(first, day))
             .group_by(t.customer_id))
    parts = [_frame(engine, query.where(t.customer_id.in_(chunk)) if chunk else query, SUM_COLUMNS)
             for chunk in customer_chunks(customer_ids)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SUM_COLUMNS)


def _snapshot_sums(engine: Engine, day: date) -> pd.DataFrame:
    s = snapshot.TABLE
    query = (select(s.customer_id, s.dau, s.wau, s.mau, s.active_visitors, s.week_sum, s.week_n, s.recent_sum,
                    s.recent_n, s.prior_sum, s.prior_n)
             .where(s.as_of == day, s.in_measures).order_by(s.customer_id))
    return _frame(engine, query, SUM_COLUMNS)


def _with_measures(frame: pd.DataFrame, trend_days: int) -> pd.DataFrame:
    numbers = [c for c in frame.columns if c != "customer_id"]
    frame[numbers] = frame[numbers].astype(float)
    frame["dau_7d"] = measures.synced_mean(frame["week_sum"], frame["week_n"], measures.STICKINESS_DAYS)
    frame["stickiness"] = measures.stickiness(frame["week_sum"], frame["week_n"], frame["mau"],
                                              frame["active_visitors"])
    recent, prior = measures.trend_means(frame["recent_sum"], frame["recent_n"], frame["prior_sum"],
                                         frame["prior_n"], trend_days)
    frame["recent_mean"], frame["prior_mean"] = recent, prior
    frame["trend"] = measures.trend(recent, prior)
    return frame[MEASURE_COLUMNS]


def customer_week(engine: Engine, last: date) -> pd.DataFrame:
    """Per customer, means over the 7 days ending `last` and the per-user rates of RATES.

    Stickiness is `measures.stickiness` of `last`; rates are NaN for a customer with no active user
    that week. The sums are the sync's snapshot when it is of `last` (`snapshot.py`), else `week_sums`.
    """
    frame = held_or_live(engine, last, lambda: _snapshot_week(engine, last), lambda: week_sums(engine, last))
    numbers = WEEK_COLUMNS[1:]
    frame[numbers] = frame[numbers].astype(float)
    return add_rates(frame)


def week_sums(engine: Engine, last: date) -> pd.DataFrame:
    """The live sums of `customer_week` (WEEK_COLUMNS): one indexed read of 7 x customers rows."""
    t = models.UsageMetric
    first = last - timedelta(days=WEEK_DAYS - 1)
    on_last = [func.max(_when(t.metric_date == last, c)) for c in (t.mau, t.active_visitors)]
    query = (select(t.customer_id, func.avg(t.dau), func.avg(t.wau), *on_last, func.sum(t.dau),
                    func.sum(t.session_count), func.sum(t.time_in_app_minutes), func.sum(t.page_views),
                    func.sum(t.feature_events), func.count())
             .where(t.metric_date.between(first, last)).group_by(t.customer_id))
    return _frame(engine, query, WEEK_COLUMNS)


def _snapshot_week(engine: Engine, last: date) -> pd.DataFrame:
    s = snapshot.TABLE
    query = (select(s.customer_id, s.week_dau, s.week_wau, s.mau, s.active_visitors, s.week_sum, s.sessions,
                    s.minutes, s.page_views, s.feature_events, s.week_n)
             .where(s.as_of == last, s.in_week).order_by(s.customer_id))
    return _frame(engine, query, WEEK_COLUMNS)


def weekly_wau(engine: Engine, day: date, keep: Keep | None = None) -> pd.DataFrame:
    """Per customer with a row on one of the week ends: MAU on `day` and `usage_weeks`, the WAU of the
    WEEKS week ends (`day` and every 7th day before; oldest first, days not stored left out).

    `keep` narrows the customers (the access rule's filter); from the snapshot when it is of `day`."""
    return held_or_live(engine, day, lambda: _snapshot_weeks(engine, day, keep),
                         lambda: weekly_wau_live(engine, day, keep))


def _snapshot_weeks(engine: Engine, day: date, keep: Keep | None) -> pd.DataFrame:
    s = snapshot.TABLE
    query = (keep or _all)(select(s.customer_id, s.mau, s.usage_weeks).where(s.as_of == day, s.in_weeks),
                            s.customer_id)
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(s.customer_id)).all()
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "mau": [r[1] for r in rows],
                         "usage_weeks": [json.loads(r[2]) for r in rows]})


def weekly_wau_live(engine: Engine, day: date, keep: Keep | None = None
                    ) -> pd.DataFrame:
    """`weekly_wau` from the daily rows: only the week ends' rows are read, one row per customer."""
    t = models.UsageMetric
    ends = [day - timedelta(days=7 * k) for k in reversed(range(WEEKS))]
    weeks = [func.max(case((t.metric_date == end, t.wau))) for end in ends]
    query = (keep or _all)(select(t.customer_id, func.max(case((t.metric_date == day, t.mau))), *weeks), t.customer_id)
    # One scan in key order reads the 12 days' rows faster on SQLite than 12 index lookups per customer.
    query = query.where(unindexed(t.metric_date).in_(ends)).group_by(t.customer_id)
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return pd.DataFrame({"customer_id": [r[0] for r in rows], "mau": [r[1] for r in rows],
                         "usage_weeks": [[float(v) for v in r[2:] if v is not None] for r in rows]})


def last_active_days(engine: Engine, day: date, keep: Keep | None = None
                     ) -> pd.DataFrame:
    """Per customer active in the ACTIVE_DAYS days ending `day`: the newest day anyone was active
    (`keep` narrows the customers; from the snapshot when it is of `day`)."""
    frame = held_or_live(engine, day, lambda: _snapshot_last_active(engine, day, keep),
                          lambda: last_active_live(engine, day, keep))
    frame["last_active"] = pd.to_datetime(frame["last_active"]).dt.date
    return frame


def _snapshot_last_active(engine: Engine, day: date, keep: Keep | None) -> pd.DataFrame:
    s = snapshot.TABLE
    query = (keep or _all)(select(s.customer_id, s.last_active).where(s.as_of == day, s.last_active.is_not(None)),
                            s.customer_id)
    return _frame(engine, query.order_by(s.customer_id), ["customer_id", "last_active"])


def last_active_live(engine: Engine, day: date, keep: Keep | None = None
                     ) -> pd.DataFrame:
    """`last_active_days` from the daily rows (the day as the driver returns it)."""
    t = models.UsageMetric
    first = day - timedelta(days=ACTIVE_DAYS - 1)
    query = (keep or _all)(select(t.customer_id, func.max(t.metric_date)), t.customer_id)
    query = query.where(t.dau > 0, unindexed(t.metric_date).between(first, day)).group_by(t.customer_id)
    return _frame(engine, query, ["customer_id", "last_active"])


def _all(query: Select[Any], _customer_column: Any) -> Select[Any]:
    return query


def add_rates(frame: pd.DataFrame) -> pd.DataFrame:
    """The RATES columns from week sums (user_days = sum of DAU over `days` synced days, `mau` and
    `active_visitors` of the last day); NaN where undefined."""
    users = frame["user_days"].where(frame["user_days"] > 0)
    frame["stickiness"] = measures.stickiness(frame["user_days"], frame["days"], frame["mau"],
                                              frame["active_visitors"])
    frame["sessions_per_user"] = frame["sessions"] / users
    frame["session_minutes"] = frame["minutes"] / frame["sessions"].where(frame["sessions"] > 0)
    frame["minutes_per_user"] = frame["minutes"] / users
    frame["page_views_per_user"] = frame["page_views"] / users
    frame["feature_events_per_user"] = frame["feature_events"] / users
    return frame


def compare_rates(week: pd.DataFrame, customers_frame: pd.DataFrame, customer_id: str) -> pd.DataFrame:
    """One row per rate: the customer's value, its segment's median and the portfolio's median,
    and the customer's percentile rank among its segment (0-100)."""
    from pendo_core.usage.adoption import peer_summary

    joined = week.merge(customers_frame[["customer_id", "segment"]], on="customer_id", how="left")
    mine = joined[joined["customer_id"] == customer_id]
    if mine.empty:
        return pd.DataFrame(columns=["rate", "label", "customer", "segment", "portfolio", "percentile"])
    segment = mine["segment"].iloc[0]
    peers = joined[(joined["segment"] == segment) & (joined["customer_id"] != customer_id)]
    rows = []
    for rate, label in RATES.items():
        value = mine[rate].iloc[0]
        known = None if pd.isna(value) else float(value)
        rank, median = peer_summary(known, _values(peers[rate])) if known is not None else (None, None)
        rows.append({"rate": rate, "label": label, "customer": known,
                     "segment": median if median is not None else _median(peers[rate]),
                     "portfolio": _median(joined[rate]), "percentile": rank})
    return pd.DataFrame(rows)


def last_mapped_at(engine: Engine, customer_id: str) -> datetime | None:
    """When the customer's newest Pendo account mapping was made (None without any)."""
    m = models.AccountMapping
    with engine.connect() as conn:
        return conn.execute(select(func.max(m.mapped_at)).where(m.customer_id == customer_id)).scalar()


def freshness(engine: Engine) -> Freshness:
    """The last successful run, what day the data reaches, and how the last attempt went."""
    runs = models.SyncRun
    with engine.connect() as conn:
        ok = conn.execute(select(runs.id, runs.finished_at, runs.stats).where(runs.status == "success")
                          .order_by(runs.id.desc()).limit(1)).first()
        last = conn.execute(select(runs.status, runs.error).order_by(runs.id.desc()).limit(1)).first()
    through = date.fromisoformat(ok.stats["report_last"]) if ok and ok.stats and ok.stats.get("report_last") else None
    return Freshness(ok.finished_at if ok else None, through, last.status if last else None,
                     last.error if last else None, int(ok.id) if ok else 0)


def data_day(engine: Engine) -> date | None:
    """The newest day with stored usage metrics (what "as of" means for answers and API defaults)."""
    with engine.connect() as conn:
        return conn.execute(select(func.max(models.UsageMetric.metric_date))).scalar()


def _values(series: pd.Series) -> list[float | None]:
    return [None if pd.isna(v) else float(v) for v in series]


def _median(series: pd.Series) -> float | None:
    known = series.dropna()
    return float(known.median()) if not known.empty else None


def _when(condition: Any, value: Any) -> Any:
    return case((condition, value))


def _frame(engine: Engine, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    """Run `query` and name its columns."""
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)
