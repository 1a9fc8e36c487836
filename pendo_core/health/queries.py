"""What the Health screen reads, without Streamlit: a customer's score history, the newest score
with its inputs, why a component has no data, and plain-language lines about what moved it.

The numbers come from `pendo_health_scores` (written by `pendo_core.health`); the explanation
itself is `explain_score` below. Definitions are in `pendo_core/health/score.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.health.changes import TREND_WEEKS, weekly_totals
from pendo_core.health.score import CHANGE_DAYS, COMPONENTS, INSUFFICIENT, Explanation, ScoreParts, explain
from pendo_core.store.models import HealthScore, UsageMetric
from pendo_core.usage.measures import stickiness_text

HISTORY_COLUMNS = ["score_date", "overall", "band", "coverage", *COMPONENTS, "settings_version"]
LABELS = {"engagement": "Engagement", "adoption": "Adoption", "trajectory": "Trajectory", "onboarding": "Onboarding",
          "breadth_change": "Breadth change", "attrition": "Attrition", "sustained_trend": "Sustained trend",
          "champion": "Key contacts"}
DEFINITIONS = {
    "engagement": "Stickiness = mean DAU of the last 7 days ÷ MAU; 40% or more scores 100 (linear below).",
    "adoption": "Share of the key features used by anyone in the last 30 days; 80% or more scores 100.",
    "trajectory": "Mean DAU of the last 28 days ÷ the 28 days before: flat scores 75, +20% scores 100, "
                  "−20% scores 50, −60% or worse scores 0.",
    "onboarding": "Share of the onboarding guides completed × 100.",
    "breadth_change": "Net share of the key features used in the 14 days ending 4 weeks ago that nobody used in "
                      "the last 14 days; keeping all scores 100, losing half or more scores 0.",
    "attrition": "Share of the visitors active in the last 90 days not seen in the last 30; 5% or less scores 100, "
                 "35% or more scores 0.",
    "sustained_trend": "Least-squares trend of the last 8 weekly visitor-day totals, as a change over 4 weeks: "
                       "flat scores 75, +20% scores 100, −20% scores 50, −60% or worse scores 0 (a line falling "
                       "faster than that reads as falling to zero).",
    "champion": "Key contacts = the champions and decision makers (from the imported contacts). Share of them "
                "active in the last 14 days × 100; one gone quiet while the team works lowers it, a team all "
                "silent scores 0. A customer without key contacts is scored on the other components.",
}


def health_history(engine: Engine, customer_id: str, first: date, last: date) -> pd.DataFrame:
    """One row per scored day of [first, last], oldest first; unscored days are absent."""
    h = HealthScore
    stmt = (select(*(getattr(h, c) for c in HISTORY_COLUMNS))
            .where(h.customer_id == customer_id, h.score_date.between(first, last)).order_by(h.score_date))
    with engine.connect() as conn:
        frame = pd.DataFrame(conn.execute(stmt).all(), columns=HISTORY_COLUMNS)
    frame["score_date"] = pd.to_datetime(frame["score_date"])
    return frame


def version_changes(history: pd.DataFrame) -> pd.DataFrame:
    """The days whose score used a different settings version than the day before."""
    versions = history["settings_version"]
    changed = history[versions.ne(versions.shift()) & versions.shift().notna()]
    return pd.DataFrame({"score_date": changed["score_date"], "from_version": versions.shift()[changed.index]
                         .astype("Int64"), "to_version": changed["settings_version"].astype("Int64")})


@dataclass(frozen=True)
class ScoreDetail:
    """One stored score with everything the screen explains."""

    day: date
    overall: float | None
    band: str
    coverage: float
    settings_version: int
    components: dict[str, float | None]
    weights: dict[str, float]
    inputs: dict[str, Any]

    @property
    def insufficient(self) -> bool:
        """True when the score is "insufficient data"."""
        return self.band == INSUFFICIENT or self.overall is None


def latest_score(engine: Engine, customer_id: str, on_or_before: date | None = None) -> ScoreDetail | None:
    """The customer's newest score (on or before a day), or None when it was never scored."""
    h = HealthScore
    stmt = select(h).where(h.customer_id == customer_id)
    if on_or_before is not None:
        stmt = stmt.where(h.score_date <= on_or_before)
    with engine.connect() as conn:
        row = conn.execute(stmt.order_by(h.score_date.desc()).limit(1)).mappings().first()
    if row is None:
        return None
    return ScoreDetail(row["score_date"], row["overall"], row["band"], float(row["coverage"]),
                       int(row["settings_version"]), {n: row[n] for n in COMPONENTS},
                       {n: float((row["weights"] or {}).get(n, 0.0)) for n in COMPONENTS}, dict(row["inputs"] or {}))


def missing_reason(name: str, inputs: dict[str, Any]) -> str:
    """Why a component has no value on a day, from the inputs stored with the score."""
    if inputs.get("mau") is None:
        return "the day is not synced"
    if name == "adoption" and not inputs.get("key_features"):
        return "no key feature is defined (mark Core Events in Pendo, or pick key features in Admin → Thresholds)"
    if name in ("engagement", "adoption"):
        unsynced = not inputs.get("mau") and inputs.get("dau_7d") is None
        return ("not all of the last 7 days are synced" if unsynced
                else "nobody was active in the last 90 days (the account is not in use yet)")
    if name == "trajectory":
        short = inputs.get("dau_28d") is None or inputs.get("dau_prior_28d") is None
        return ("fewer than 14 synced days in the last 28 days or in the 28 before" if short
                else "nobody was active in either 28-day window, so there is no trend")
    if name == "champion":
        return (NO_KEY_CONTACTS if not inputs.get("key_contacts")
                else "a day of the last 14 is not synced, so who was quiet is unknown")
    return _CHANGE_MISSING.get(name) or \
        "no onboarding guide is defined (by default, guides whose name or group contains \"onboarding\")"


_CHANGE_MISSING = {
    "breadth_change": "no key feature was used in the 14 days ending 4 weeks ago",
    "attrition": "nobody was active in the last 90 days",
    "sustained_trend": "one of the last 8 weeks has fewer than 5 synced days",
}
NO_KEY_CONTACTS = ("no champion or decision maker on record (or none matches a Pendo visitor), so the score uses "
                   "the other components; an admin adds them in Admin → Imports (contacts CSV)")


def measured(name: str, inputs: dict[str, Any]) -> str:
    """The raw measurement behind a component, in words (empty when it is missing)."""
    def num(key: str) -> float | None:
        value = inputs.get(key)
        return None if value is None else float(value)

    if name == "engagement" and num("stickiness") is not None:
        return (f"stickiness {stickiness_text(num('stickiness'))} (7-day mean DAU {num('dau_7d') or 0:.1f} ÷ "
                f"MAU {num('mau') or 0:.0f})")
    if name == "adoption" and num("breadth") is not None:
        return (f"{num('key_features_used') or 0:.0f} of {inputs.get('key_features', 0)} key features used in 30 "
                f"days ({num('breadth') or 0:.0%})")
    if name == "trajectory" and num("dau_28d") is not None and num("dau_prior_28d") == 0:
        return f"mean DAU {num('dau_28d'):.1f}; nobody was active in the 28 days before (new use scores 100)"
    if name == "trajectory" and num("dau_28d") is not None and num("dau_prior_28d") is not None:
        trend = num("trend")
        change = f" ({trend:+.0%})" if trend is not None else ""
        return f"mean DAU {num('dau_28d'):.1f} vs {num('dau_prior_28d'):.1f} in the 28 days before{change}"
    if name == "onboarding" and num("onboarding_progress") is not None:
        return f"{num('onboarding_progress') or 0:.0%} of onboarding guides completed"
    return _change_measured(name, num)


def _change_measured(name: str, num: Callable[[str], float | None]) -> str:
    lost, gone, trend = num("breadth_lost"), num("attrition_share"), num("trend_4w")
    if name == "breadth_change" and lost is not None:
        return f"{lost:.0%} of the key features used 4 weeks ago not used in the last 14 days"
    if name == "attrition" and gone is not None:
        return f"{gone:.0%} of the last 90 days' active visitors not seen in the last 30 days"
    if name == "sustained_trend" and trend is not None:
        return sustained_trend_text(trend)
    active, contacts = num("key_contacts_active"), num("key_contacts")
    if name == "champion" and active is not None and contacts:
        return f"{active:.0f} of {contacts:.0f} champions and decision makers active in the last 14 days"
    return ""


def sustained_trend_text(trend: float, weekly: Sequence[float | None] = ()) -> str:
    """The sustained trend in words, with the weekly totals the line is fitted to when given (oldest
    first). The score's input is the 8-week least-squares slope x 4 weeks ÷ the weeks' mean (score.py),
    which a steep fall takes below -100%: a change no count can make, so from -100% on it is said as a
    line reaching zero, never as a percentage."""
    if trend <= -1:
        said = ("weekly visitor-days falling to zero: the 8-week least-squares line reaches zero within 4 weeks "
                "(down 100% over 4 weeks, at that pace)")
    else:
        said = f"weekly visitor-days trending {trend:+.0%} over 4 weeks (8-week least-squares line)"
    if not weekly:
        return said
    totals = " → ".join("–" if v is None else f"{v:,.0f}" for v in weekly)
    return f"{said}; visitor-days a week, oldest first: {totals}"


def weekly_visitor_days(engine: Engine, customer_id: str, day: date,
                        weeks: int = TREND_WEEKS) -> list[float | None]:
    """The weekly visitor-day totals the sustained trend is fitted to (weeks ending `day`, `day` - 7, …;
    oldest first): each week's DAU sum, its unsynced days filled with the mean of its synced ones, None
    with fewer than MIN_WEEK_DAYS synced (`changes._week_total`, the score's own rule)."""
    first = day - timedelta(days=7 * weeks - 1)
    u = UsageMetric
    stmt = select(u.metric_date, u.dau).where(u.customer_id == customer_id, u.metric_date.between(first, day))
    with engine.connect() as conn:
        stored = {_day(d): v for d, v in conn.execute(stmt)}
    grid = np.array([[np.nan if (v := stored.get(first + timedelta(days=i))) is None else float(v)
                      for i in range(7 * weeks)]])
    totals = weekly_totals(grid, weeks)[:, 0, -1]
    return [None if np.isnan(v) else float(v) for v in totals]


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value


def component_table(explanation: Explanation, detail: ScoreDetail,
                    weekly: Sequence[float | None] = ()) -> pd.DataFrame:
    """Per component: value, weight, contribution in points, changes, the measurement or why it is missing
    (the sustained trend with its weekly totals when `weekly` is given, `weekly_visitor_days`).

    A component with data carries its renormalised weight; one without has no weight and no points (it is
    left out of the score, so the weights shown add up to 100%), and says what share of the weights went to
    the others. No points at all when there is no score. "nominal" is each component's share of all the
    saved weights, with data or not (what the chat lists by; the page leaves it out).
    """
    nominal_total = sum(w for w in detail.weights.values() if w > 0) or 1.0
    trend = detail.inputs.get("trend_4w")
    rows = []
    for c in explanation.components:
        has = c.value is not None
        share = detail.weights.get(c.name, 0.0) / nominal_total
        given = f"; its {share:.0%} of the weights goes to the others" if share > 0 else ""
        why = measured(c.name, detail.inputs) if has else f"no data: {missing_reason(c.name, detail.inputs)}{given}"
        if has and c.name == "sustained_trend" and trend is not None and weekly:
            why = sustained_trend_text(float(trend), weekly)
        rows.append({
            "component": LABELS.get(c.name, c.name), "score": c.value,
            "weight": c.weight if has else None, "nominal": share,
            "points": c.contribution if has and not detail.insufficient else None,
            "change_7d": c.change_7d, "change_28d": c.change_28d,
            "measured": why})
    return pd.DataFrame(rows, columns=["component", "score", "weight", "points", "change_7d", "change_28d",
                                       "measured", "nominal"])


def what_moved(explanation: Explanation) -> list[str]:
    """Plain lines: the overall change since 7 and 28 days ago and which component drove it (the one whose
    points moved most in the score's direction)."""
    lines = []
    for days, change, attr in ((7, explanation.change_7d, "change_7d"), (28, explanation.change_28d, "change_28d")):
        if change is None:
            lines.append(f"No score {days} days earlier to compare with.")
            continue
        # the component that moved most the way the score moved (a fall is never "mostly" a rising part)
        sign = 1.0 if change > 0 else -1.0
        movers = sorted((c for c in explanation.components if getattr(c, attr) is not None),
                        key=lambda c: -sign * getattr(c, attr))
        driver = ""
        if change and movers and sign * getattr(movers[0], attr) >= 0.5:
            top = movers[0]
            driver = f", mostly {LABELS.get(top.name, top.name).lower()} ({getattr(top, attr):+.1f} points)"
        verb = "Up" if change > 0 else "Down" if change < 0 else "Unchanged"
        amount = f" {abs(change):.1f} points" if change else ""
        lines.append(f"{verb}{amount} since {days} days ago{driver}.")
    return lines


def score_parts(row: HealthScore) -> ScoreParts:
    """The parts of a stored score the explanation needs."""
    components = {name: getattr(row, name) for name in COMPONENTS}
    weights = {name: float(row.weights.get(name, 0.0)) for name in COMPONENTS}
    return ScoreParts(components, weights, row.overall)


def explain_score(engine: Engine, customer_id: str, day: date) -> Explanation | None:
    """The explanation of a customer's score on `day` (changes against 7 and 28 days before); None
    when the day has no score."""
    wanted = [day, day - timedelta(days=7), day - timedelta(days=CHANGE_DAYS)]
    stmt = select(HealthScore).where(HealthScore.customer_id == customer_id, HealthScore.score_date.in_(wanted))
    with Session(engine) as session:
        rows = {r.score_date: score_parts(r) for r in session.execute(stmt).scalars()}
    if day not in rows:
        return None
    return explain(rows[day], rows.get(wanted[1]), rows.get(wanted[2]))
