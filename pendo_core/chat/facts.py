"""The facts the chat answers from (and the REST API serves), read from the store.

A small service layer over the stored metrics, health scores and alerts: every function takes
the engine and plain values and returns plain values; answers are built from them elsewhere
(answers.py), so the numbers a reply quotes are exactly the numbers read here. Scope is applied
by the callers through the customer lists they pass (`access_sql.visible_customers`).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from pendo_core.alerts import priority
from pendo_core.alerts import queries as alerts_view
from pendo_core.book.header import customer_headers
from pendo_core.book.inbox import with_customers
from pendo_core.chat.model import CustomerRef, Viewer
from pendo_core.customers import people
from pendo_core.customers.people import ChampionStatus, PersonRow
from pendo_core.store.models import HealthScore
from pendo_core.store.scope import chunks
from pendo_core.usage import AbandonedFeature, abandoned_key_features, measures
from pendo_core.usage.facts import key_features, number
from pendo_core.usage.queries import customer_measures

# --- one customer ----------------------------------------------------------------------------


def usage_history(engine: Engine, customer_id: str, day: date, days: int = 90) -> pd.DataFrame:
    """One row per day of the `days` ending on `day`; days without a stored row stay empty (gaps)."""
    from pendo_core.usage import queries as read

    return read.usage_series(engine, customer_id, day - timedelta(days=days - 1), day)


@dataclass(frozen=True)
class FeatureGap:
    """A feature the customer did not use in the window, and the share of its peers that did."""

    feature_id: str
    name: str
    is_key: bool
    peer_share: float | None


@dataclass(frozen=True)
class GapFacts:
    """What a customer is not using, ranked by how many peers use it, and the key features it dropped."""

    customer: CustomerRef
    day: date
    used: int
    catalogue: int
    peers: int
    gaps: tuple[FeatureGap, ...]
    abandoned: tuple[AbandonedFeature, ...]
    window_days: int = 30


def gap_facts(engine: Engine, customer: CustomerRef, day: date, *, include_anonymous: bool = False) -> GapFacts:
    """Features unused in the 30 days ending `day`, most used by peers first (ties: key, then name).

    The ranking is the Feature adoption page's (`read_features.peer_features`: peers are the same
    segment, the customer left out), so the chat and the page list the same gaps.
    """
    from pendo_core.usage import feature_queries as read_features
    from pendo_core.usage import queries as read

    catalogue = read_features.features(engine)
    everyone = read.customers(engine)
    table = read_features.peer_features(read_features.feature_days(engine, day), everyone, catalogue,
                                        customer.customer_id)
    unused = table[table["days_used"] == 0]
    gaps = [FeatureGap(r.feature_id, r.name, bool(r.is_key), number(r.peer_share)) for r in unused.itertuples()]
    gaps.sort(key=lambda g: (-(g.peer_share or 0.0), not g.is_key, g.name.casefold(), g.feature_id))
    peers = int(((everyone["segment"] == customer.segment) & (everyone["customer_id"] != customer.customer_id)).sum())
    abandoned = abandoned_key_features(engine, customer.customer_id, day, key_feature_ids=key_features(engine),
                                       include_anonymous=include_anonymous)
    return GapFacts(customer, day, len(table) - len(unused), len(table), peers, tuple(gaps), tuple(abandoned))


def health_inputs_on(engine: Engine, customer_ids: Collection[str], day: date) -> dict[str, dict[str, Any]]:
    """customer -> the stored score of `day` (overall, band, breadth): one query per chunk of ids."""
    h = HealthScore
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for chunk in chunks(sorted(set(customer_ids))):
            stmt = select(h.customer_id, h.overall, h.band, h.inputs).where(h.score_date == day,
                                                                              h.customer_id.in_(chunk))
            for cid, overall, band, inputs in conn.execute(stmt):
                out[cid] = {"overall": overall, "band": band, "breadth": (inputs or {}).get("breadth")}
    return out


# --- a portfolio -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Drop:
    """A customer's mean DAU over the recent window against the window before it."""

    customer: CustomerRef
    recent_mean: float
    prior_mean: float
    change: float


def drops(engine: Engine, customers: list[CustomerRef], day: date, days: int, *, all_customers: bool) -> list[Drop]:
    """Customers whose mean DAU fell, largest relative fall first (`measures.ranks_as_drop`).

    The trend over windows of `days` (`customer_measures`): for 28 days the Portfolio page's figures.
    """
    ids = None if all_customers else [c.customer_id for c in customers]
    values = customer_measures(engine, day, ids, trend_days=days).set_index("customer_id")
    by_id = {c.customer_id: c for c in customers}
    falling = values[measures.ranks_as_drop(values["recent_mean"], values["prior_mean"])]
    out = [Drop(by_id[str(cid)], float(row.recent_mean), float(row.prior_mean), float(row.trend))
           for cid, row in falling.iterrows() if cid in by_id]
    return sorted(out, key=lambda d: (d.change, d.customer.name.casefold()))


def open_alerts(engine: Engine, viewer: Viewer, customer_id: str | None = None, *,
                today: date | None = None) -> pd.DataFrame:
    """The alerts the viewer sees that are active (open, acknowledged, snoozed), most urgent first; one
    customer's if given. "severity" is the weighted one the Alerts inbox and the customer header show
    (renewals counted from `today`), the rule's own "rule_severity"."""
    frame = alerts_view.visible_alerts(engine, viewer, today=today)
    if customer_id is not None:
        frame = frame[frame["customer_id"] == customer_id]
    if frame.empty:
        return frame.assign(rule_severity=frame["severity"]).reset_index(drop=True)
    headers = customer_headers(engine, frame["customer_id"].dropna().unique().tolist(), today or date.today())
    weighed = with_customers(frame, headers)
    frame = frame.assign(severity=weighed["severity"], rule_severity=weighed["rule_severity"],
                         _rank=weighed["severity"].map(priority.severity_rank), _points=-weighed["priority"])
    return frame.sort_values(["_rank", "_points"], kind="mergesort").drop(columns=["_rank", "_points"]) \
        .reset_index(drop=True)



# --- people of one customer ------------------------------------------------------------------


@dataclass(frozen=True)
class TopUserFacts:
    """A customer's most active visitors in the 30 days ending on the day (pendo_core.customers.people)."""

    customer: CustomerRef
    day: date
    users: tuple[PersonRow, ...]


def top_user_facts(engine: Engine, customer: CustomerRef, day: date, *, limit: int = 10,
                   include_anonymous: bool = False) -> TopUserFacts:
    """The customer's most active visitors (active days, then minutes), as the People section lists them."""
    found = people.most_active_users(engine, customer.customer_id, day, limit, include_anonymous=include_anonymous)
    return TopUserFacts(customer, day, tuple(found))


@dataclass(frozen=True)
class ChampionFacts:
    """A customer's champions and decision makers, and how many champions were active lately."""

    customer: CustomerRef
    status: ChampionStatus


def champion_facts(engine: Engine, customer: CustomerRef, day: date, *,
                   include_anonymous: bool = False) -> ChampionFacts:
    """Every champion's and decision maker's last activity, as the Health page's champion engagement."""
    return ChampionFacts(customer, people.champion_status(engine, customer.customer_id, day,
                                                          include_anonymous=include_anonymous))
