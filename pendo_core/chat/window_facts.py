"""The facts of the questions about a window of days and a customer's status, read from the store:
sessions over a window, the last login, dismissed guides, health with its 28-day change and the
active alerts. Plain values out; the answers are built in window_answers.py."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import replace as dataclass_replace
from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine, case, func, select

from pendo_core.chat import facts
from pendo_core.chat.model import CustomerRef, Viewer
from pendo_core.chat.periods import Period
from pendo_core.customers import people
from pendo_core.customers.people import PersonRow
from pendo_core.customers.people_queries import LOOKBACK_DAYS
from pendo_core.health import queries as health_view
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.store.models import UsageMetric
from pendo_core.store.scope import chunks
from pendo_core.usage import feature_queries
from pendo_core.usage.facts import UsageFacts, number, usage_facts
from pendo_core.usage.queries import customer_measures

HEALTH_CHANGE_DAYS = CHANGE_DAYS  # the one health-change window (pendo_core.health.score)
MAX_LAST_SEEN = 5


@dataclass(frozen=True)
class SessionFacts:
    """Sessions over a window: their count, mean length (minutes) and how many days were synced."""

    period: Period
    customers: int
    sessions: int
    average_minutes: float | None
    synced_days: int


def sessions(engine: Engine, customer_ids: Sequence[str], period: Period) -> SessionFacts:
    """Sum of the stored daily session counts over the window; the mean length weighs each day's
    average by its sessions (so it is the mean over all the window's sessions)."""
    u = UsageMetric
    total, weighted, weight, days = 0, 0.0, 0, set()
    with engine.connect() as conn:
        for chunk in chunks(sorted(set(customer_ids))):
            stmt = (select(u.metric_date, func.sum(u.session_count),
                           func.sum(u.session_count * func.coalesce(u.avg_session_minutes, 0)),
                           func.sum(case((u.avg_session_minutes.is_not(None), u.session_count), else_=0)))
                    .where(u.customer_id.in_(chunk), u.metric_date.between(period.first, period.last))
                    .group_by(u.metric_date))
            for day, count, minutes, counted in conn.execute(stmt):
                days.add(day)
                total += int(count or 0)
                weighted += float(minutes or 0)
                weight += int(counted or 0)
    return SessionFacts(period, len(set(customer_ids)), total, weighted / weight if weight else None, len(days))


@dataclass(frozen=True)
class LastLogin:
    """A customer's last active day in the people lookback and the visitors active on it."""

    customer: CustomerRef
    day: date
    last_active: date | None
    who: tuple[PersonRow, ...]
    lookback_days: int = LOOKBACK_DAYS


def last_login(engine: Engine, customer: CustomerRef, day: date, *, include_anonymous: bool = False) -> LastLogin:
    """The newest active day of any of the customer's visitors (the People list, newest first)."""
    rows, _ = people.visitor_rows(engine, customer.customer_id, day, limit=MAX_LAST_SEEN, sort="-last_active",
                                  include_anonymous=include_anonymous)
    last = rows[0].last_active if rows else None
    return LastLogin(customer, day, last, tuple(r for r in rows if last and r.last_active == last))


@dataclass(frozen=True)
class GuideFacts:
    """The guides a customer's visitors dismissed in the 30 days ending `day` (stored per 30 days)."""

    customer: CustomerRef
    day: date
    guides: pd.DataFrame  # guide_table rows with dismissed > 0, most dismissals first
    seen_guides: int
    window_days: int = 30


def guide_dismissals(engine: Engine, customer: CustomerRef, day: date) -> GuideFacts:
    """Guides with at least one dismissing visitor, as the Guides page counts them."""
    table = feature_queries.guide_table(engine, customer.customer_id, day)
    dismissed = table[table["dismissed"] > 0].sort_values(["dismissed", "name"], ascending=[False, True])
    return GuideFacts(customer, day, dismissed.reset_index(drop=True), len(table))


@dataclass(frozen=True)
class Status:
    """A customer's newest health score, its change over 28 days, and its active alerts."""

    score: health_view.ScoreDetail | None
    change: float | None
    alerts: pd.DataFrame  # facts.open_alerts rows of the customer


def status(engine: Engine, viewer: Viewer, customer: CustomerRef, day: date) -> Status:
    """The score on or before `day`, the points it moved since 28 days before, and the alerts."""
    now = health_view.latest_score(engine, customer.customer_id, on_or_before=day)
    before = (health_view.latest_score(engine, customer.customer_id,
                                       on_or_before=now.day - timedelta(days=HEALTH_CHANGE_DAYS)) if now else None)
    change = (now.overall - before.overall if now and before and now.overall is not None
              and before.overall is not None else None)
    return Status(now, change, facts.open_alerts(engine, viewer, customer.customer_id,
                                                 today=day + timedelta(days=1)))


def usage_over(engine: Engine, customer: CustomerRef, period: Period, *,
               include_anonymous: bool = False) -> UsageFacts:
    """The usage facts of the window's last day, with the trend over windows of the window's length
    (its mean DAU against the same number of days before it)."""
    found = usage_facts(engine, customer, period.last, include_anonymous=include_anonymous)
    values = customer_measures(engine, period.last, [customer.customer_id], trend_days=period.days)
    row = values.set_index("customer_id").reindex([customer.customer_id]).iloc[0]
    return dataclass_replace(found, recent_mean=number(row["recent_mean"]), prior_mean=number(row["prior_mean"]),
                             trend=number(row["trend"]), days=period.days)
