"""Read stored health scores back: one score with its explanation (for the app and the REST API)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.health.score import COMPONENTS, Explanation, ScoreParts, explain
from pendo_core.store.models import HealthScore


def score_parts(row: HealthScore) -> ScoreParts:
    """The parts of a stored score the explanation needs."""
    components = {name: getattr(row, name) for name in COMPONENTS}
    weights = {name: float(row.weights.get(name, 0.0)) for name in COMPONENTS}
    return ScoreParts(components, weights, row.overall)


def explain_score(engine: Engine, customer_id: str, day: date) -> Explanation | None:
    """The explanation of a customer's score on `day` (changes against 7 and 28 days before); None
    when the day has no score."""
    wanted = [day, day - timedelta(days=7), day - timedelta(days=28)]
    stmt = select(HealthScore).where(HealthScore.customer_id == customer_id, HealthScore.score_date.in_(wanted))
    with Session(engine) as session:
        rows = {r.score_date: score_parts(r) for r in session.execute(stmt).scalars()}
    if day not in rows:
        return None
    return explain(rows[day], rows.get(wanted[1]), rows.get(wanted[2]))
