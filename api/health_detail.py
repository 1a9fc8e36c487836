"""A customer's newest stored health score with its components, as an API body."""

from __future__ import annotations

import math
from datetime import date

from sqlalchemy import Engine

from api import schemas
from pendo_core.access.rules import CustomerRef
from pendo_core.health.facts import health_facts


def _number(value: object) -> float | None:
    if value is None:
        return None
    number = float(value)  # type: ignore[arg-type]
    return None if math.isnan(number) else number


def health_detail(engine: Engine, customer: CustomerRef, day: date) -> schemas.HealthDetail | None:
    """The newest score on or before `day` with each component's weight, points and measurement."""
    facts = health_facts(engine, customer, day)
    detail = facts.detail
    if detail is None:
        return None
    components = [schemas.HealthComponent(name=str(r["component"]), score=_number(r["score"]),
                                          weight=_number(r["weight"]), points=_number(r["points"]),
                                          measured=str(r["measured"]))
                  for r in facts.components.to_dict("records")]
    return schemas.HealthDetail(customer_id=customer.customer_id, day=detail.day, overall=detail.overall,
                                band=detail.band, coverage=detail.coverage,
                                settings_version=detail.settings_version, components=components,
                                moved=list(facts.moved))
