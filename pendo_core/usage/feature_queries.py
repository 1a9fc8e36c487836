"""Read-side queries for the feature adoption and guides pages. No Streamlit here.

Definitions follow metrics-spec.md ("Feature usage", "Guides"). A row of pendo_feature_usage
exists only for a day of use (pendo_core.usage.features), so counting rows counts days of use.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Date, Engine, Integer, Select, cast, distinct, func, literal, select

from pendo_core.store import models
from pendo_core.store.scope import chunks, keep_visitors
from pendo_core.usage import measures, snapshot
from pendo_core.usage.adoption import feature_adoption, key_features, percentile_rank
from pendo_core.usage.measures import WINDOW_DAYS
from pendo_core.usage.queries import NO_SEGMENT, held_or_live

WEEK = 7
HEATMAP_CUSTOMERS = 25

_fvd = models.FeatureVisitorDay.__table__
_mapping = models.AccountMapping.__table__
_fu = models.FeatureUsage
DAYS_COLUMNS = ["customer_id", "feature_id", "days_used"]


def features(engine: Engine) -> pd.DataFrame:
    """The feature catalogue: id, name (the id when unnamed), key (`adoption.key_features`: the admin's
    list when set, else the Pendo Core Events)."""
    t = models.PendoFeature
    query = select(t.feature_id, t.name).order_by(t.name, t.feature_id)
    frame = _frame(engine, query, ["feature_id", "name"])
    frame["name"] = frame["name"].fillna(frame["feature_id"])
    frame["is_key"] = frame["feature_id"].isin(key_features(engine)).astype(bool)
    return frame


def feature_list(engine: Engine, customer_id: str, as_of: date) -> pd.DataFrame:
    """Per feature over the 30 days ending `as_of`: users, adoption (users ÷ MAU of as_of), clicks,
    days used, minutes (visitor-minutes) and seconds per user-day; used features and every key feature."""
    rows = feature_adoption(engine, customer_id, as_of)
    frame = pd.DataFrame([r.__dict__ for r in rows],
                         columns=["feature_id", "name", "is_key", "users", "adoption_pct", "clicks"])
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    seconds = _fu.avg_time_seconds * _fu.unique_visitors
    query = (select(_fu.feature_id, func.count(), func.sum(seconds), func.sum(_fu.unique_visitors))
             .where(_fu.customer_id == customer_id, _fu.metric_date.between(since, as_of))
             .group_by(_fu.feature_id))
    time = _frame(engine, query, ["feature_id", "days_used", "seconds", "user_days"])
    frame = frame.merge(time, on="feature_id", how="left")
    frame["days_used"] = pd.to_numeric(frame["days_used"]).fillna(0).astype(int)  # object dtype when nothing was used
    frame["minutes"] = frame["seconds"].astype(float).fillna(0.0) / 60
    frame["seconds_per_user_day"] = frame["seconds"].astype(float) / frame["user_days"].where(frame["user_days"] > 0)
    frame["name"] = frame["name"].fillna(frame["feature_id"])
    return frame.drop(columns=["seconds", "user_days"])


def feature_days(engine: Engine, as_of: date, segment: str | None = None) -> pd.DataFrame:
    """Days of use per (customer, feature) in the 30 days ending `as_of`, for the customers of one
    segment (NO_SEGMENT: those without one) or, without a segment, for every customer; from the sync's
    snapshot when it is of `as_of` (`snapshot.py`), else `feature_days_live`."""
    return held_or_live(engine, as_of, lambda: _snapshot_days(engine, as_of, segment),
                        lambda: feature_days_live(engine, as_of, segment))


def feature_days_live(engine: Engine, as_of: date, segment: str | None = None) -> pd.DataFrame:
    """`feature_days` from the daily rows of pendo_feature_usage.

    The read walks the primary key (customer, feature, day), which covers it; without a segment,
    `customer_id > ''` keeps SQLite's planner off the date index, which would need a lookup per row.
    """
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    who: Any = _fu.customer_id > ""
    if segment is not None:  # IN (subquery): the planner seeks each customer's rows in the key
        who = _fu.customer_id.in_(_members(segment))
    query = (select(_fu.customer_id, _fu.feature_id, func.count())
             .where(who, _fu.metric_date.between(since, as_of)).group_by(_fu.customer_id, _fu.feature_id))
    return _frame(engine, query, DAYS_COLUMNS)


def _snapshot_days(engine: Engine, as_of: date, segment: str | None) -> pd.DataFrame:
    s = snapshot.FEATURES
    query = select(s.customer_id, s.feature_id, s.days_used).where(s.as_of == as_of)
    if segment is not None:
        query = query.where(s.customer_id.in_(_members(segment)))
    return _frame(engine, query, DAYS_COLUMNS)


def _members(segment: str) -> Select[Any]:
    """The ids of the segment's customers (NO_SEGMENT: those without one)."""
    c = models.Customer
    return select(c.customer_id).where(c.segment.is_(None) if segment == NO_SEGMENT else c.segment == segment)


def peer_features(days: pd.DataFrame, customers: pd.DataFrame, catalogue: pd.DataFrame,
                  customer_id: str) -> pd.DataFrame:
    """Per feature: the customer's days of use, the share of its peers (same segment, itself
    excluded) that used the feature, their median days, and the customer's percentile rank."""
    segment_of = customers.set_index("customer_id")["segment"]
    segment = segment_of.get(customer_id)
    peers = [c for c in customers.loc[customers["segment"] == segment, "customer_id"] if c != customer_id]
    grid = days[days["customer_id"].isin(peers)].pivot_table(index="customer_id", columns="feature_id",
                                                             values="days_used", fill_value=0)
    grid = grid.reindex(index=peers, columns=catalogue["feature_id"], fill_value=0)
    mine = days[days["customer_id"] == customer_id].set_index("feature_id")["days_used"]
    rows = []
    for feature_id, name, is_key in catalogue[["feature_id", "name", "is_key"]].itertuples(index=False):
        column = grid[feature_id] if peers else pd.Series(dtype=float)
        value = int(mine.get(feature_id, 0))
        rank = percentile_rank(value, column.tolist()) if len(column) else None
        rows.append({"feature_id": feature_id, "name": name, "is_key": is_key, "days_used": value,
                     "peer_share": round(float((column > 0).mean()), 2) if len(column) else None,
                     "peer_median_days": float(column.median()) if len(column) else None, "percentile": rank})
    return pd.DataFrame(rows, columns=["feature_id", "name", "is_key", "days_used", "peer_share",
                                       "peer_median_days", "percentile"])


def breadth(days: pd.DataFrame, catalogue: pd.DataFrame, customer_ids: Sequence[str]) -> pd.DataFrame:
    """Per customer: key features used in the window, their share of all key features
    (`measures.breadth`) and the number of features used at all; NaN breadth without keys."""
    keys = set(catalogue.loc[catalogue["is_key"], "feature_id"])
    scoped = days[days["customer_id"].isin(set(customer_ids))]
    scoped = scoped.assign(key=scoped["feature_id"].isin(keys))  # one row per (customer, feature)
    used = scoped.groupby("customer_id").agg(features_used=("feature_id", "count"), key_used=("key", "sum"))
    frame = used.reindex(list(customer_ids), fill_value=0).rename_axis("customer_id").reset_index()
    frame["breadth"] = measures.breadth(frame["key_used"], len(keys))
    return frame


def weekly_feature_users(engine: Engine, customer_id: str, last: date, weeks: int,
                         include_anonymous: bool = False) -> pd.DataFrame:
    """Distinct users per feature and week, for the `weeks` whole weeks ending `last` (week 0 is
    the newest); the week_end column is that week's last day."""
    first = last - timedelta(days=weeks * WEEK - 1)
    week = _days_before(engine, last, _fvd.c.day) // WEEK
    query = (select(_fvd.c.feature_id, week.label("week"), func.count(distinct(_fvd.c.visitor_id)),
                    func.sum(_fvd.c.num_events))
             .join(_mapping, _mapping.c.pendo_account_id == _fvd.c.account_id)
             .where(_mapping.c.customer_id == customer_id, _fvd.c.day.between(first, last))
             .group_by(_fvd.c.feature_id, week))
    frame = _frame(engine, keep_visitors(query, _fvd.c.visitor_id, include_anonymous),
                   ["feature_id", "week", "users", "clicks"])
    frame["week"] = frame["week"].astype(int)
    frame["week_end"] = pd.to_datetime([last - timedelta(days=WEEK * int(w)) for w in frame["week"]])
    return frame


def feature_users_by_customer(engine: Engine, customer_ids: Sequence[str], as_of: date,
                              include_anonymous: bool = False) -> pd.DataFrame:
    """Distinct users per (customer, feature) in the 30 days ending `as_of`, with adoption = users
    ÷ the customer's MAU of `as_of` (metrics-spec.md), for a handful of customers (a heatmap)."""
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    frames = []
    for chunk in chunks(list(customer_ids)):
        query = (select(_mapping.c.customer_id, _fvd.c.feature_id, func.count(distinct(_fvd.c.visitor_id)))
                 .join(_mapping, _mapping.c.pendo_account_id == _fvd.c.account_id)
                 .where(_mapping.c.customer_id.in_(chunk), _fvd.c.day.between(since, as_of))
                 .group_by(_mapping.c.customer_id, _fvd.c.feature_id))
        frames.append(_frame(engine, keep_visitors(query, _fvd.c.visitor_id, include_anonymous),
                             ["customer_id", "feature_id", "users"]))
    used = pd.concat(frames) if frames else pd.DataFrame(columns=["customer_id", "feature_id", "users"])
    t = models.UsageMetric
    mau = _frame(engine, select(t.customer_id, t.mau).where(t.metric_date == as_of,
                                                           t.customer_id.in_(list(customer_ids))),
                 ["customer_id", "mau"])
    used = used.merge(mau, on="customer_id", how="left")
    used["adoption_pct"] = measures.adoption(used["users"], used["mau"])
    return used


def feature_daily(engine: Engine, customer_id: str, feature_id: str, first: date, last: date) -> pd.DataFrame:
    """One feature's daily clicks, users, views and seconds per user for [first, last]; a day
    without a row is 0 (no use), NaN columns are left for the page to blank out-of-sync days."""
    query = (select(_fu.metric_date, _fu.clicks, _fu.unique_visitors, _fu.views, _fu.avg_time_seconds)
             .where(_fu.customer_id == customer_id, _fu.feature_id == feature_id,
                    _fu.metric_date.between(first, last)))
    frame = _frame(engine, query, ["metric_date", "clicks", "unique_visitors", "views", "avg_time_seconds"])
    frame["metric_date"] = pd.to_datetime(frame["metric_date"])
    days = pd.DataFrame({"metric_date": pd.date_range(first, last, freq="D")})
    return days.merge(frame, on="metric_date", how="left")


def guide_table(engine: Engine, customer_id: str, as_of: date) -> pd.DataFrame:
    """Per guide, over the 30 days ending `as_of`: visitors who saw, completed and dismissed it,
    with the completion and dismissal rates (metrics-spec.md, "Guides")."""
    g, m = models.PendoGuide, models.GuideMetric
    query = (select(m.guide_id, g.name, g.group_name, g.is_multi_step, m.seen_visitors, m.completed_visitors,
                    m.dismissed_visitors, m.completion_rate, m.dismissal_rate)
             .outerjoin(g, g.guide_id == m.guide_id)
             .where(m.customer_id == customer_id, m.metric_date == as_of)
             .order_by(m.seen_visitors.desc(), g.name))
    frame = _frame(engine, query, ["guide_id", "name", "group", "multi_step", "seen", "completed", "dismissed",
                                   "completion_rate", "dismissal_rate"])
    frame["name"] = frame["name"].fillna(frame["guide_id"])
    return frame


def onboarding_series(engine: Engine, customer_id: str, first: date, last: date) -> pd.DataFrame:
    """Daily onboarding progress (share of onboarding guides completed) for [first, last]."""
    t = models.OnboardingProgress
    query = (select(t.metric_date, t.onboarding_guides, t.completed_guides, t.progress)
             .where(t.customer_id == customer_id, t.metric_date.between(first, last)).order_by(t.metric_date))
    frame = _frame(engine, query, ["metric_date", "onboarding_guides", "completed_guides", "progress"])
    frame["metric_date"] = pd.to_datetime(frame["metric_date"])
    return frame


def _days_before(engine: Engine, last: date, column: Any) -> Any:
    """Whole days from `column` to `last` (SQLite keeps dates as text)."""
    if engine.dialect.name == "sqlite":
        return cast(func.julianday(last.isoformat()) - func.julianday(column), Integer)
    return cast(literal(last, Date) - column, Integer)


def _frame(engine: Engine, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)
