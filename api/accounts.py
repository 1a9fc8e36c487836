"""One Pendo account's usage, features and guides, read from the synced activity rows.

The stored metric tables are per CSCX customer (the union of its accounts); these are the same
definitions (metrics-spec.md) applied to one account's rows:

- a day is **synced** when its window of the stream committed (`pendo_sync_coverage`); an unsynced
  day reads as null, a synced day without activity as 0;
- `active_visitors` (DAU) = distinct visitors with an events row with numEvents > 0 on the day;
  `wau` / `mau` = distinct over the 7 / 30 days ending on it (null unless all those days are
  synced); `events`, `minutes` = sums of the events rows; `page_views` = sum of pageEvents;
  `feature_events` = sum of featureEvents;
- features: clicks = sum of featureEvents numEvents, users = distinct visitors, days used;
- guides: seen / completed / dismissed visitors as in "Guides" of the spec, over the range.

Anonymous visitors (`_PENDO_T_…`) are left out unless `include_anonymous`.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, func, or_, select
from sqlalchemy.orm import Session

from api.params import Paging
from pendo_core.access.rules import Viewer
from pendo_core.access.sql import customer_filter
from pendo_core.common.timeutil import days_between
from pendo_core.pendo.sync.retention import kept_from_day
from pendo_core.store.models import (
    AccountMapping,
    Customer,
    FeatureVisitorDay,
    GuideEvent,
    PageDay,
    PendoAccount,
    PendoFeature,
    PendoGuide,
    PendoGuideStep,
    SyncCoverage,
    VisitorDay,
)
from pendo_core.store.scope import keep_visitors

MONTH = 30
WEEK = 7
# Table columns (not ORM attributes) for the visitor filter, which works on SQL column expressions.
_VISITOR = {"vd": VisitorDay.__table__.c.visitor_id, "fvd": FeatureVisitorDay.__table__.c.visitor_id,
            "ge": GuideEvent.__table__.c.visitor_id}


def _frame(engine: Engine, stmt: Select[Any], columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(stmt).all(), columns=columns)


# --- the account list --------------------------------------------------------------------------


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def account_list(engine: Engine, viewer: Viewer, paging: Paging, *, mapped: bool | None = None,
                 search: str | None = None) -> tuple[list[dict[str, Any]], int]:
    """(accounts on the page, total): each with its owning customer, by name then id."""
    a, m, c = PendoAccount, AccountMapping, Customer
    stmt = (select(a.account_id, a.name, a.domain, a.first_visit, a.last_visit, m.customer_id,
                   c.name.label("customer_name"))
            .outerjoin(m, m.pendo_account_id == a.account_id).outerjoin(c, c.customer_id == m.customer_id)
            .where(customer_filter(viewer, c.csm_email)))
    if mapped is not None:
        stmt = stmt.where(m.customer_id.is_not(None) if mapped else m.customer_id.is_(None))
    if search and search.strip():
        pattern = _like(search.strip())
        stmt = stmt.where(or_(func.lower(a.name).like(pattern, escape="\\"),
                              func.lower(a.account_id).like(pattern, escape="\\")))
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        page = stmt.order_by(a.name, a.account_id).limit(paging.limit).offset(paging.offset)
        rows = [dict(r) for r in conn.execute(page).mappings()]
    return rows, int(total)


# --- usage ---------------------------------------------------------------------------------------


def synced_days(engine: Engine, stream: str, first: date, last: date) -> set[date]:
    """Days of [first, last] whose window of `stream` committed and whose raw rows were not purged since
    (RAW_RETENTION_DAYS): a purged day is unknown here, not a day without activity."""
    stmt = select(SyncCoverage.day).where(SyncCoverage.stream == stream, SyncCoverage.day.between(first, last))
    with Session(engine) as session:
        kept_from = kept_from_day(session)
        days = set(session.execute(stmt).scalars())
    return days if kept_from is None else {d for d in days if d >= kept_from}


def _daily_sum(engine: Engine, stmt: Select[Any]) -> dict[date, int]:
    with engine.connect() as conn:
        return {day: int(total or 0) for day, total in conn.execute(stmt)}


def _distinct_over(active: dict[date, set[str]], synced: set[date], day: date, width: int) -> int | None:
    days = [day - timedelta(days=i) for i in range(width)]
    if not all(d in synced for d in days):
        return None
    return len(set().union(*(active.get(d, set()) for d in days)))


def account_usage(engine: Engine, account_id: str, first: date, last: date, *,
                  include_anonymous: bool = False) -> list[dict[str, Any]]:
    """One row per day of [first, last] (see the module docstring for each column)."""
    since = first - timedelta(days=MONTH - 1)
    v = VisitorDay
    rows = _frame(engine, keep_visitors(select(v.day, v.visitor_id, v.num_events, v.num_minutes)
                                        .where(v.account_id == account_id, v.day.between(since, last)),
                                        _VISITOR["vd"], include_anonymous),
                  ["day", "visitor_id", "num_events", "num_minutes"])
    used = rows[rows["num_events"] > 0]
    active = {d: set(group) for d, group in used.groupby("day")["visitor_id"]}
    sums = rows.groupby("day")[["num_events", "num_minutes"]].sum()
    synced = synced_days(engine, "visitor_days", since, last)
    pages = _daily_sum(engine, select(PageDay.day, func.sum(PageDay.num_events))
                       .where(PageDay.account_id == account_id, PageDay.day.between(first, last)).group_by(PageDay.day))
    f = FeatureVisitorDay
    feature_stmt = keep_visitors(select(f.day, func.sum(f.num_events))
                                 .where(f.account_id == account_id, f.day.between(first, last)),
                                 _VISITOR["fvd"], include_anonymous).group_by(f.day)
    features = _daily_sum(engine, feature_stmt)
    page_synced = synced_days(engine, "page_days", first, last)
    feature_synced = synced_days(engine, "feature_days", first, last)
    return [_usage_row(d, active, sums, synced, pages=pages if d in page_synced else None,
                       features=features if d in feature_synced else None) for d in days_between(first, last)]


def _usage_row(day: date, active: dict[date, set[str]], sums: pd.DataFrame, synced: set[date], *,
               pages: dict[date, int] | None, features: dict[date, int] | None) -> dict[str, Any]:
    row: dict[str, Any] = {"date": day, "synced": day in synced}
    if day not in synced:
        return {**row, "active_visitors": None, "wau": None, "mau": None, "events": None, "minutes": None,
                "page_views": None if pages is None else pages.get(day, 0),
                "feature_events": None if features is None else features.get(day, 0)}
    events, minutes = (int(x) for x in sums.loc[day]) if day in sums.index else (0, 0)
    return {**row, "active_visitors": len(active.get(day, set())),
            "wau": _distinct_over(active, synced, day, WEEK), "mau": _distinct_over(active, synced, day, MONTH),
            "events": events, "minutes": minutes, "page_views": None if pages is None else pages.get(day, 0),
            "feature_events": None if features is None else features.get(day, 0)}


# --- features and guides -------------------------------------------------------------------------


def account_features(engine: Engine, account_id: str, first: date, last: date, *,
                     include_anonymous: bool = False) -> list[dict[str, Any]]:
    """Per feature used in [first, last]: clicks, users, minutes and days used, most users first."""
    f, p = FeatureVisitorDay, PendoFeature
    stmt = (select(f.feature_id, p.name, p.is_core_event, func.sum(f.num_events), func.count(f.visitor_id.distinct()),
                   func.sum(f.num_minutes), func.count(f.day.distinct()))
            .outerjoin(p, p.feature_id == f.feature_id)
            .where(f.account_id == account_id, f.day.between(first, last)))
    stmt = keep_visitors(stmt, _VISITOR["fvd"], include_anonymous).group_by(f.feature_id, p.name, p.is_core_event)
    frame = _frame(engine, stmt, ["feature_id", "name", "is_key", "clicks", "users", "minutes", "days_used"])
    records = [{"feature_id": r.feature_id, "name": r.name, "is_key": bool(r.is_key), "clicks": int(r.clicks),
                "users": int(r.users), "minutes": int(r.minutes), "days_used": int(r.days_used)}
               for r in frame.itertuples()]
    return sorted(records, key=lambda r: (-r["users"], -r["clicks"], r["feature_id"]))


def completing_events(engine: Engine, guide_ids: Collection[str]) -> set[tuple[str, str, str]]:
    """(guide, step, event type) that complete each guide: guideAdvanced on a one-step guide's step,
    guideSeen or guideAdvanced on a multi-step guide's last step (highest rank)."""
    s = PendoGuideStep
    steps = _frame(engine, select(s.guide_id, s.step_id, s.rank).where(s.guide_id.in_(list(guide_ids))),
                   ["guide_id", "step_id", "rank"])
    out: set[tuple[str, str, str]] = set()
    for guide, group in steps.groupby("guide_id"):
        if len(group) == 1:
            out.add((str(guide), str(group["step_id"].iloc[0]), "guideAdvanced"))
            continue
        for step in group.loc[group["rank"] == group["rank"].max(), "step_id"]:
            out |= {(str(guide), str(step), "guideSeen"), (str(guide), str(step), "guideAdvanced")}
    return out


def account_guides(engine: Engine, account_id: str, first: date, last: date, *,
                   include_anonymous: bool = False) -> list[dict[str, Any]]:
    """Per guide with activity in [first, last]: visitors who saw, completed and dismissed it, and rates."""
    e = GuideEvent
    stmt = keep_visitors(select(e.guide_id, e.step_id, e.event_type, e.visitor_id)
                         .where(e.account_id == account_id, e.day.between(first, last)), _VISITOR["ge"],
                         include_anonymous)
    events = _frame(engine, stmt, ["guide_id", "step_id", "event_type", "visitor_id"])
    if events.empty:
        return []
    completing = completing_events(engine, set(events["guide_id"]))
    with engine.connect() as conn:
        names: dict[str, str | None] = {str(g): n for g, n in conn.execute(
            select(PendoGuide.guide_id, PendoGuide.name).where(PendoGuide.guide_id.in_(list(set(events["guide_id"])))))}
    events["completes"] = [(g, s, t) in completing for g, s, t in events[["guide_id", "step_id", "event_type"]]
                           .itertuples(index=False)]
    rows = [_guide_row(str(guide), names.get(guide), group) for guide, group in events.groupby("guide_id")]
    return sorted(rows, key=lambda r: (-r["seen"], r["guide_id"]))


def _guide_row(guide_id: str, name: str | None, group: pd.DataFrame) -> dict[str, Any]:
    seen = group.loc[group["event_type"] == "guideSeen", "visitor_id"].nunique()
    completed = group.loc[group["completes"], "visitor_id"].nunique()
    dismissed = group.loc[group["event_type"] == "guideDismissed", "visitor_id"].nunique()
    return {"guide_id": guide_id, "name": name, "seen": int(seen), "completed": int(completed),
            "dismissed": int(dismissed), "completion_rate": completed / seen if seen else None,
            "dismissal_rate": dismissed / seen if seen else None}
