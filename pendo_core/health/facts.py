"""A customer's newest health score as the chat and the API explain it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from pendo_core.access.rules import CustomerRef
from pendo_core.health import queries as health_view
from pendo_core.health.queries import explain_score
from pendo_core.health.score import Explanation


@dataclass(frozen=True)
class HealthFacts:
    """A customer's newest health score (on or before the day) and what moved it."""

    customer: CustomerRef
    detail: health_view.ScoreDetail | None
    explanation: Explanation | None
    components: pd.DataFrame
    moved: tuple[str, ...]


def health_facts(engine: Engine, customer: CustomerRef, day: date) -> HealthFacts:
    """The stored score, its components with their measurements, and the 7- and 28-day movement."""
    detail = health_view.latest_score(engine, customer.customer_id, on_or_before=day)
    explanation = explain_score(engine, customer.customer_id, detail.day) if detail else None
    if detail is None or explanation is None:
        return HealthFacts(customer, detail, None, pd.DataFrame(), ())
    weekly = health_view.weekly_visitor_days(engine, customer.customer_id, detail.day)
    return HealthFacts(customer, detail, explanation, health_view.component_table(explanation, detail, weekly),
                       tuple(health_view.what_moved(explanation)))
