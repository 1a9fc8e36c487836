"""Read-side adoption measures (metrics-spec.md, "Feature usage"), as plain queries on the store.

"Used" means a featureEvents row (pendo_feature_visitor_days) of the customer's mapped accounts,
as for `unique_visitors` in pendo_feature_usage. Anonymous visitors are left out unless asked for.
Key features are a list of feature ids when one is passed, else `key_features`: the admin's list
when set, else the Pendo Core Events. The arithmetic (breadth, adoption) is `measures`'.
"""

from __future__ import annotations

import statistics
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, Select, case, distinct, func, select
from sqlalchemy.orm import Session

from pendo_core.admin.settings import current_settings
from pendo_core.store.models import AccountMapping, FeatureVisitorDay, PendoFeature, UsageMetric
from pendo_core.store.scope import keep_visitors
from pendo_core.usage import measures
from pendo_core.usage.measures import WINDOW_DAYS

RECENT_DAYS = 14
PRIOR_DAYS = 28
MIN_PRIOR_USERS = 3

_fvd = FeatureVisitorDay.__table__
_features = PendoFeature.__table__


@dataclass(frozen=True)
class FeatureAdoption:
    """One feature's use by a customer over a window (adoption_pct is a ratio in [0, 1])."""

    feature_id: str
    name: str | None
    is_key: bool
    users: int
    adoption_pct: float | None
    clicks: int


@dataclass(frozen=True)
class AbandonedFeature:
    """A key feature used before and not since (prior_users: distinct users in the prior window)."""

    feature_id: str
    name: str | None
    prior_users: int


def feature_adoption(engine: Engine, customer_id: str, as_of: date, window_days: int = WINDOW_DAYS,
                     include_anonymous: bool = False) -> list[FeatureAdoption]:
    """Per feature, over [as_of - window_days + 1, as_of]: users = distinct visitors with a feature
    row, clicks = sum of num_events, adoption_pct = `measures.adoption` (users ÷ stored mau of as_of;
    None when the mau is 0 or not computed), is_key per `key_features`. Lists every used feature plus
    every unused key feature (users 0), most users first, then by name and id."""
    since = as_of - timedelta(days=window_days - 1)
    stmt = _usage(customer_id, since, as_of, include_anonymous).add_columns(func.sum(_fvd.c.num_events))
    catalogue = _catalogue(engine)
    with engine.connect() as conn:
        used = {f: (users, int(clicks or 0)) for f, users, clicks in conn.execute(stmt)}
    mau = _mau(engine, customer_id, as_of)
    keys = key_features(engine)
    rows = [_adoption_row(f, used.get(f, (0, 0)), catalogue.get(f), f in keys, mau) for f in sorted(used.keys() | keys)]
    return sorted(rows, key=lambda r: (-r.users, r.name or "", r.feature_id))


def feature_breadth(engine: Engine, customer_id: str, as_of: date,
                    key_feature_ids: Collection[str] | None = None,
                    include_anonymous: bool = False) -> float | None:
    """Key-feature breadth (`measures.breadth`) over the 30 days ending as_of; None when there is no
    key feature."""
    keys = key_features(engine, key_feature_ids)
    if not keys:
        return None
    since = as_of - timedelta(days=WINDOW_DAYS - 1)
    with engine.connect() as conn:
        used = {row[0] for row in conn.execute(_usage(customer_id, since, as_of, include_anonymous))}
    return measures.number(measures.breadth(len(used & keys), len(keys)))


def abandoned_key_features(engine: Engine, customer_id: str, as_of: date,
                           key_feature_ids: Collection[str] | None = None,
                           include_anonymous: bool = False) -> list[AbandonedFeature]:
    """Key features with >= 3 distinct users in the 28 days [as_of-41, as_of-14] and no feature row
    at all in the last 14 days [as_of-13, as_of]; sorted by feature id."""
    keys = key_features(engine, key_feature_ids)
    recent_from = as_of - timedelta(days=RECENT_DAYS - 1)
    prior_from = recent_from - timedelta(days=PRIOR_DAYS)
    prior_users = func.count(distinct(case((_fvd.c.day < recent_from, _fvd.c.visitor_id))))
    recent_rows = func.count(case((_fvd.c.day >= recent_from, 1)))
    stmt = _scoped(customer_id, prior_from, as_of, include_anonymous).add_columns(prior_users, recent_rows)
    with engine.connect() as conn:
        counts = {f: (int(p), int(r)) for f, p, r in conn.execute(stmt.group_by(_fvd.c.feature_id))}
    catalogue = _catalogue(engine)
    return [AbandonedFeature(f, catalogue.get(f, (None, False))[0], counts[f][0]) for f in sorted(keys)
            if f in counts and counts[f][0] >= MIN_PRIOR_USERS and counts[f][1] == 0]


def percentile_rank(value: float, population: Iterable[float | None]) -> float:
    """Percentile rank of value in population, 0-100: (values below + half the values equal) ÷ n.

    Missing values (None) are skipped; raises ValueError when nothing is left.
    """
    values = [v for v in population if v is not None]
    if not values:
        raise ValueError("percentile_rank needs at least one value in the population")
    below = sum(1 for v in values if v < value)
    equal = sum(1 for v in values if v == value)
    return 100.0 * (below + 0.5 * equal) / len(values)


def peer_summary(value: float, peer_values: Iterable[float | None]) -> tuple[float | None, float | None]:
    """(percentile rank of value among the peers, median of the peers); (None, None) with no peer."""
    peers = [v for v in peer_values if v is not None]
    if not peers:
        return None, None
    return percentile_rank(value, peers), float(statistics.median(peers))


def _adoption_row(feature_id: str, use: tuple[int, int], entry: tuple[str | None, bool] | None, is_key: bool,
                  mau: int | None) -> FeatureAdoption:
    name = entry[0] if entry is not None else None
    users, clicks = use
    pct = measures.number(measures.adoption(users, mau))
    return FeatureAdoption(feature_id, name, is_key, users, pct, clicks)


def _scoped(customer_id: str, since: date, until: date, include_anonymous: bool) -> Select[Any]:
    """Feature rows of the customer's accounts in [since, until], selecting the feature id."""
    mapping = AccountMapping.__table__
    stmt = (select(_fvd.c.feature_id)
            .join(mapping, mapping.c.pendo_account_id == _fvd.c.account_id)
            .where(mapping.c.customer_id == customer_id, _fvd.c.day.between(since, until)))
    return keep_visitors(stmt, _fvd.c.visitor_id, include_anonymous)


def _usage(customer_id: str, since: date, until: date, include_anonymous: bool) -> Select[Any]:
    """(feature_id, distinct users) of the customer in [since, until]."""
    stmt = _scoped(customer_id, since, until, include_anonymous)
    return stmt.add_columns(func.count(distinct(_fvd.c.visitor_id))).group_by(_fvd.c.feature_id)


def _catalogue(engine: Engine) -> dict[str, tuple[str | None, bool]]:
    """feature_id -> (name, is Pendo Core Event)."""
    stmt = select(_features.c.feature_id, _features.c.name, _features.c.is_core_event)
    with engine.connect() as conn:
        return {f: (name, bool(core)) for f, name, core in conn.execute(stmt)}


def key_features(engine: Engine, key_feature_ids: Collection[str] | None = None) -> set[str]:
    """The key features of breadth: `key_feature_ids` when given, else the admin's list (Admin →
    Thresholds) when one is set, else the Pendo Core Events (metrics-spec.md)."""
    if key_feature_ids is not None:
        return set(key_feature_ids)
    with Session(engine) as session:
        _, settings = current_settings(session)
    if settings.health.key_feature_ids is not None:
        return set(settings.health.key_feature_ids)
    return {f for f, (_, core) in _catalogue(engine).items() if core}


def _mau(engine: Engine, customer_id: str, as_of: date) -> int | None:
    table = UsageMetric.__table__
    stmt = select(table.c.mau).where(table.c.customer_id == customer_id, table.c.metric_date == as_of)
    with engine.connect() as conn:
        return conn.execute(stmt).scalar_one_or_none()
