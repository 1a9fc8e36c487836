"""A customer against its peers: the same segment (every customer when it has none), itself left out.

Peers are the group's customers with a stored usage row on the day and MAU above 0 (accounts in
use); each measure is compared with `pendo_core.usage.peer_summary` (percentile rank, median).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, Select, select

from pendo_core.chat.facts import health_inputs_on
from pendo_core.chat.model import CustomerRef
from pendo_core.store.models import Customer, UsageMetric
from pendo_core.usage import peer_summary
from pendo_core.usage.measures import STICKINESS_DEFINITION, TREND_DAYS, trend_definition
from pendo_core.usage.queries import customer_measures


def _in_group(stmt: Select[Any], customer: CustomerRef) -> Select[Any]:
    """Restrict a statement joined to `customers` to the customer's peer group, itself excluded."""
    stmt = stmt.where(Customer.customer_id != customer.customer_id)
    return stmt if customer.segment is None else stmt.where(Customer.segment == customer.segment)


def active_peers(engine: Engine, customer: CustomerRef, day: date) -> list[str]:
    """Ids of the peers with MAU above 0 on `day`."""
    u = UsageMetric
    stmt = (select(u.customer_id).join(Customer, Customer.customer_id == u.customer_id)
            .where(u.metric_date == day, u.mau > 0))
    with engine.connect() as conn:
        return sorted(conn.execute(_in_group(stmt, customer)).scalars())


@dataclass(frozen=True)
class PeerMeasure:
    """One measure of the customer against its peers (percentile 0-100; None without peers)."""

    key: str
    label: str
    value: float | None
    percentile: float | None
    median: float | None
    peers: int
    definition: str


@dataclass(frozen=True)
class PeerFacts:
    """The customer's peer group and its measures against it."""

    customer: CustomerRef
    day: date
    segment: str | None
    peers: int
    measures: tuple[PeerMeasure, ...]


MEASURES: tuple[tuple[str, str, str], ...] = (
    ("mau", "Monthly active users (MAU)", "MAU = distinct visitors active in the 30 days ending on the day."),
    ("stickiness", "Stickiness", STICKINESS_DEFINITION),
    ("trend", "DAU trend, 28 days", trend_definition(TREND_DAYS)),
    ("breadth", "Key-feature breadth",
     "Breadth = share of the key features used by at least one visitor in the 30 days ending on the day "
     "(as stored with the health score)."),
    ("overall", "Health score", "The stored overall health score (0–100) of the day."),
)


def peer_values(engine: Engine, customer: CustomerRef, day: date) -> dict[str, dict[str, float | None]]:
    """customer_id -> measure -> value, for the customer and its active peers."""
    ids = [customer.customer_id, *active_peers(engine, customer, day)]
    windows = customer_measures(engine, day, ids).set_index("customer_id").reindex(ids)
    stored = health_inputs_on(engine, ids, day)
    out: dict[str, dict[str, float | None]] = {}
    for cid in ids:
        row, score = windows.loc[cid], stored.get(cid, {})
        out[cid] = {"mau": _value(row["mau"]), "stickiness": _value(row["stickiness"]),
                    "trend": _value(row["trend"]), "breadth": _value(score.get("breadth")),
                    "overall": _value(score.get("overall"))}
    return out


def _value(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def peer_facts(engine: Engine, customer: CustomerRef, day: date) -> PeerFacts:
    """Each measure's value, percentile rank among the active peers, and the peers' median."""
    values = peer_values(engine, customer, day)
    mine = values.pop(customer.customer_id)
    measures = []
    for key, label, definition in MEASURES:
        others = [v[key] for v in values.values() if v[key] is not None]
        value = mine[key]
        rank, median = peer_summary(value, others) if value is not None else (None, None)
        measures.append(PeerMeasure(key, label, value, rank, median, len(others), definition))
    return PeerFacts(customer, day, customer.segment, len(values), tuple(measures))

