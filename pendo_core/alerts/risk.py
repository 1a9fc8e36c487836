"""The two risk rules over the health score and the renewal date, as pure functions.

Both read a customer's health score on the last complete day and 28 days before it (`HealthWindow`,
the 28-day change every screen shows) and answer fire, clear or unknown like the usage
rules: a missing score is "unknown", which leaves an existing alert as it is. The earlier score counts
only when it was computed alike (`comparable`: the same settings version and the same share of the
weights with data); otherwise an admin's new weights or bands, or a component that had no data yet
(a young customer's trajectory), would read as a rise or a fall for every customer at once.

- **health_drop** fires when the score fell at least `points` (15) in 28 days, or crossed into red
  (red now, yellow or green 28 days before). Severity: high when the score is red now, medium otherwise.
- **renewal_risk** fires when the renewal is 0 to `days` (90) days ahead (counted from the day after
  the last complete day: the run's date) while the score is red, or declining: down at least
  `decline_points` (5) in 28 days. A customer without a renewal date, or whose date has passed,
  clears. Severity: high when red, medium when only declining.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from pendo_core.alerts.rules import Finding
from pendo_core.alerts.settings import HealthDropSettings, RenewalRiskSettings

RED = "red"
# The health_drop alert's window: pendo_core.health.score.CHANGE_DAYS, the one health-change window of every
# screen. Repeated here because the alert rules stay pure (they import only each other); a test holds the two
# equal (tests/unit/alerts/test_kinds.py).
CHANGE_DAYS = 28
COVERAGE_TOLERANCE = 0.005  # coverage is a share of the weights: equal up to rounding
SCORED_NOT_RED = ("yellow", "green")  # "crossed into red" starts from a score, not from insufficient data

HEALTH_DROP_ACTION = ("Open the Health page to see which component moved, then call the champion to learn what "
                      "changed before it shows in the renewal.")
RENEWAL_RISK_ACTION = ("Plan the renewal now: agree a recovery plan with the champion and the sponsor (usage review, "
                       "enablement, an executive check-in) before the renewal conversation.")


def comparable(coverage: float, version: int, coverage_before: float, version_before: int) -> bool:
    """True when two scores were computed alike: one settings version, the same share of weight with data."""
    return version == version_before and abs(coverage - coverage_before) < COVERAGE_TOLERANCE


@dataclass(frozen=True)
class HealthWindow:
    """A customer's health score on `day` and 28 days before (None: not scored, insufficient data, or the
    earlier one not `comparable`)."""

    day: date
    score: float | None
    band: str | None
    score_before: float | None = None
    band_before: str | None = None

    @property
    def change(self) -> float | None:
        """Points gained (negative: lost) in 28 days; None without both scores."""
        if self.score is None or self.score_before is None:
            return None
        return round(self.score - self.score_before, 1)


def health_drop(health: HealthWindow | None, last_day: date, cfg: HealthDropSettings) -> Finding:
    """Fire when the score fell `points` or more in 28 days, or crossed into red."""
    if health is None or health.day != last_day or health.score is None:
        return Finding("health_drop", "unknown")
    crossed = health.band == RED and health.band_before in SCORED_NOT_RED
    change = health.change
    fell = change is not None and -change >= cfg.points
    if not (fell or crossed):
        return Finding("health_drop", "clear" if change is not None else "unknown")
    details = _health_details(health) | {"drop_points": cfg.points, "crossed_into_red": crossed}
    severity = "high" if health.band == RED else "medium"
    why = (f"Health fell {-change:.1f} points in {CHANGE_DAYS} days ({health.score_before:.1f} → {health.score:.1f})"
           if change is not None and change < 0 else f"Health is now {health.score:.1f}")
    into_red = ", into red" if crossed else ""
    return Finding("health_drop", "fire", "", severity, details, f"{why}{into_red}. {HEALTH_DROP_ACTION}")


def renewal_risk(health: HealthWindow | None, renewal_date: date | None, last_day: date,
                 cfg: RenewalRiskSettings) -> Finding:
    """Fire when the renewal is within `days` while the score is red or declining."""
    today = last_day + timedelta(days=1)
    days_left = (renewal_date - today).days if renewal_date is not None else None
    if days_left is None or not 0 <= days_left <= cfg.days:
        return Finding("renewal_risk", "clear")
    if health is None or health.day != last_day or health.score is None:
        return Finding("renewal_risk", "unknown")
    red = health.band == RED
    change = health.change
    declining = change is not None and -change >= cfg.decline_points
    if not (red or declining):
        return Finding("renewal_risk", "clear" if change is not None else "unknown")
    assert renewal_date is not None  # days_left is set only with a date
    details = _health_details(health) | {"renewal_date": renewal_date.isoformat(), "days_to_renewal": days_left,
                                         "window_days": cfg.days, "red": red, "declining": declining}
    state = "red" if red else f"down {-(change or 0):.1f} points in {CHANGE_DAYS} days"
    action = f"Renewal on {renewal_date:%d %b %Y} ({days_left} days) while health is {state}. {RENEWAL_RISK_ACTION}"
    return Finding("renewal_risk", "fire", "", "high" if red else "medium", details, action)


def _health_details(health: HealthWindow) -> dict[str, Any]:
    return {"score": health.score, "band": health.band, "score_before": health.score_before,
            "band_before": health.band_before, "change_points": health.change, "day": health.day.isoformat(),
            "change_days": CHANGE_DAYS}


# --- the numbers in words ---------------------------------------------------------------------


def health_drop_numbers(d: Mapping[str, Any]) -> str:
    """A health_drop alert's numbers in one line a CSM can read, the fall first (the inbox shows the first
    clause)."""
    if d.get("score") is None:
        return ""
    now = f"{float(d['score']):.1f} ({d.get('band')})"
    if d.get("score_before") is None:
        return f"Into red; health {now}"
    before = f"{float(d['score_before']):.1f} ({d.get('band_before')})"
    change = float(d.get("change_points") or 0)
    return f"{change:+.1f} in {d.get('change_days', CHANGE_DAYS)} days; health {before} → {now}"


def renewal_risk_numbers(d: Mapping[str, Any]) -> str:
    """A renewal_risk alert's numbers in one line; it starts with the days left, as the kind already says "Renewal"."""
    if d.get("renewal_date") is None:
        return ""
    health = f"health {float(d['score']):.1f} ({d.get('band')})" if d.get("score") is not None else "health unknown"
    change = d.get("change_points")
    moved = f", {float(change):+.1f} points in {d.get('change_days', CHANGE_DAYS)} days" if change is not None else ""
    return f"In {d.get('days_to_renewal')} days ({d['renewal_date']}); {health}{moved}"
