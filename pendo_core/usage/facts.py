"""One customer's usage on a day as the chat and the API quote it: the stored row and the window measures."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select

from pendo_core.access.rules import CustomerRef
from pendo_core.store.models import UsageMetric
from pendo_core.usage import adoption
from pendo_core.usage.adoption import feature_breadth
from pendo_core.usage.measures import TREND_DAYS
from pendo_core.usage.queries import customer_measures

QUIET_DAYS = 7  # nobody active in the 7 days ending the day (WAU 0): an answer leads with the silence

USAGE_FIELDS = ("dau", "wau", "mau", "active_visitors", "session_count", "avg_session_minutes", "page_views",
                "feature_events", "time_in_app_minutes")



def key_features(engine: Engine) -> list[str]:
    """The key features (the admin's list when set, else Pendo Core Events), as the health score uses."""
    return sorted(adoption.key_features(engine))

@dataclass(frozen=True)
class UsageFacts:
    """A customer's usage on a day: that day's stored row and the window measures ending on it."""

    customer: CustomerRef
    day: date
    row: dict[str, Any] | None  # the stored pendo_usage_metrics row of `day` (None: not synced)
    stickiness: float | None
    recent_mean: float | None
    prior_mean: float | None
    trend: float | None
    breadth: float | None
    key_count: int
    days: int = TREND_DAYS
    last_active: LastActive | None = None  # None: not looked up


@dataclass(frozen=True)
class LastActive:
    """The newest day up to `through` (a synced day) with anyone active (DAU above 0); None: nobody was."""

    day: date | None
    through: date

    @property
    def quiet_days(self) -> int | None:
        """Days from the last active day to `through` (0: someone was active on it); None: nobody ever was."""
        return None if self.day is None else (self.through - self.day).days

    @property
    def is_quiet(self) -> bool:
        """True when nobody was active in the QUIET_DAYS days ending `through`."""
        return self.quiet_days is None or self.quiet_days >= QUIET_DAYS


def last_active(engine: Engine, customer_id: str, through: date) -> LastActive:
    """The customer's newest stored day up to `through` with DAU above 0 (the DAU the answers quote)."""
    u = UsageMetric
    stmt = select(func.max(u.metric_date)).where(u.customer_id == customer_id, u.metric_date <= through, u.dau > 0)
    with engine.connect() as conn:
        found = conn.execute(stmt).scalar()
    return LastActive(_as_date(found), through)


def _as_date(value: Any) -> date | None:
    """A stored date (a datetime on some backends) as a date."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    return date.fromisoformat(value) if isinstance(value, str) else date(value.year, value.month, value.day)


def number(value: Any) -> float | None:
    """A stored or computed value as a float, None for missing or NaN."""
    return None if value is None or pd.isna(value) else float(value)


def usage_facts(engine: Engine, customer: CustomerRef, day: date, *, include_anonymous: bool = False) -> UsageFacts:
    """The customer's stored usage on `day` with stickiness, the 28-day trend and key-feature breadth
    (`customer_measures`, as the pages and the API read them)."""
    values = customer_measures(engine, day, [customer.customer_id]).set_index("customer_id").reindex(
        [customer.customer_id]).iloc[0]
    row = _stored_row(engine, customer.customer_id, day)
    keys = key_features(engine)
    breadth = feature_breadth(engine, customer.customer_id, day, key_feature_ids=keys,
                              include_anonymous=include_anonymous) if keys else None
    return UsageFacts(customer, day, row, number(values["stickiness"]), number(values["recent_mean"]),
                      number(values["prior_mean"]), number(values["trend"]), breadth, len(keys),
                      last_active=last_active(engine, customer.customer_id, day))


def _stored_row(engine: Engine, customer_id: str, day: date) -> dict[str, Any] | None:
    """The customer's stored pendo_usage_metrics row of `day` (None: not synced)."""
    u = UsageMetric
    stmt = select(u.customer_id, u.metric_date, *(getattr(u, name) for name in USAGE_FIELDS)).where(
        u.customer_id == customer_id, u.metric_date == day)
    with engine.connect() as conn:
        found = conn.execute(stmt).mappings().first()
    return None if found is None else {k: _plain(v) for k, v in found.items()}


def _plain(value: Any) -> Any:
    """numpy scalars and NaN to plain Python values."""
    if value is None or (not isinstance(value, str | date) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
