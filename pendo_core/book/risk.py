"""The risk order of a book of business: which customer a CSM should look at first.

Pure: plain values in, plain values out. The My customers page, its CSV export and the chat's
"which of my customers are at risk?" all sort with `risk_key`, so they agree. The order (also in
`ORDER_HELP`, the page's help and the README):

1. **Band**: red, then yellow, then no score (insufficient data or not scored yet), then green.
2. Within a band, a customer with more at stake first, in this order of weight:
   a. **renewal soon**: the renewal date is 0 to `RENEWAL_SOON_DAYS` (90) days ahead;
   b. **falling**: the health score fell `FALLING_POINTS` (5) points or more in 28 days, or usage
      (mean DAU of the last 28 days against the 28 before) fell `FALLING_USAGE` (20%) or more;
   c. **a high-severity alert** open or acknowledged, by the weighted severity the Alerts inbox and the
      customer header show (`pendo_core.alerts.priority`: the rule's severity weighed with ARR and renewal).
   So red, renewing soon and falling comes first; red and renewing soon before red and only falling.
3. Then the lower health score, the sooner renewal, the larger ARR, and the name (A to Z, ignoring case).

A renewal date in the past counts as no renewal ahead (the outcome is known, or the import is stale).
**At risk** (what the chat lists) = red, or yellow with at least one of a, b, c.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

RENEWAL_SOON_DAYS = 90
FALLING_POINTS = 5.0
FALLING_USAGE = 0.20
NOT_SCORED = "not scored"  # the book's band for a customer without a health score yet
BAND_RANK = {"red": 0, "yellow": 1, "insufficient data": 2, NOT_SCORED: 2, "green": 3}
NO_SCORE_RANK = 2  # not scored yet: as unknown as insufficient data

ORDER_HELP = (
    "Most at risk first: **red**, then **yellow**, then **no score**, then **green**. Within a band, first a "
    f"renewal in the next {RENEWAL_SOON_DAYS} days, then **falling** (health down {FALLING_POINTS:.0f}+ points in "
    f"28 days, or usage down {FALLING_USAGE:.0%}+ against the 28 days before), then a **high-severity alert** "
    "open (severity as on Alerts: the rule's weighed with ARR and renewal). Then the lower health score, the "
    "sooner renewal, the larger ARR, and the name A–Z."
)
AT_RISK_HELP = "At risk = red, or yellow and renewing within 90 days, falling, or with a high-severity alert open."


@dataclass(frozen=True)
class RiskFacts:
    """What the order reads of one customer; None means unknown."""

    customer_id: str
    name: str
    band: str | None = None  # red | yellow | green | insufficient data; None: not scored
    score: float | None = None
    health_change: float | None = None  # points over 28 days
    usage_change: float | None = None  # 28-day trend: recent mean DAU ÷ prior mean DAU - 1
    days_to_renewal: int | None = None
    high_alerts: int = 0  # open or acknowledged alerts of weighted severity high (`priority.weighted_counts`)
    arr: float | None = None


def _num(value: float | int | None) -> float | None:
    """The value as a float; None when unknown (None or NaN, as frames hand it over)."""
    return None if value is None or math.isnan(value) else float(value)


def renewal_soon(facts: RiskFacts) -> bool:
    """True when the renewal is 0 to RENEWAL_SOON_DAYS days ahead."""
    days = _num(facts.days_to_renewal)
    return days is not None and 0 <= days <= RENEWAL_SOON_DAYS


def health_falling(facts: RiskFacts) -> bool:
    """True when the health score fell FALLING_POINTS or more in 28 days."""
    change = _num(facts.health_change)
    return change is not None and change <= -FALLING_POINTS


def usage_falling(facts: RiskFacts) -> bool:
    """True when usage fell FALLING_USAGE or more (28 days against the 28 before)."""
    change = _num(facts.usage_change)
    return change is not None and change <= -FALLING_USAGE


def falling(facts: RiskFacts) -> bool:
    """True when health or usage is falling."""
    return health_falling(facts) or usage_falling(facts)


def high_alert(facts: RiskFacts) -> bool:
    """True when a high-severity alert is open or acknowledged."""
    return facts.high_alerts > 0


def band_rank(band: str | None) -> int:
    """0 for red, 1 yellow, 2 no score, 3 green."""
    return BAND_RANK.get(band or "", NO_SCORE_RANK)


def risk_key(facts: RiskFacts) -> tuple[int, bool, bool, bool, float, float, float, str, str]:
    """The sort key of the risk order: smaller is more at risk (see the module docstring)."""
    score, arr = _num(facts.score), _num(facts.arr)
    soon = renewal_soon(facts)
    days = float(facts.days_to_renewal) if soon and facts.days_to_renewal is not None else math.inf
    return (band_rank(facts.band), not soon, not falling(facts), not high_alert(facts),
            math.inf if score is None else score, days, -(arr or 0.0), facts.name.casefold(), facts.customer_id)


def risk_order(customers: Iterable[RiskFacts]) -> list[RiskFacts]:
    """The customers, most at risk first."""
    return sorted(customers, key=risk_key)


def at_risk(facts: RiskFacts) -> bool:
    """Red, or yellow with a renewal soon, falling, or a high-severity alert."""
    rank = band_rank(facts.band)
    return rank == 0 or (rank == 1 and (renewal_soon(facts) or falling(facts) or high_alert(facts)))


def reasons(facts: RiskFacts) -> list[str]:
    """Why a customer sits where it does, in words ("renewal in 42 days", "falling", ...)."""
    out = []
    if renewal_soon(facts):
        out.append(f"renewal in {facts.days_to_renewal} days")
    if health_falling(facts):
        out.append(f"health {facts.health_change:+.0f} points in 28 days".replace("-", "−"))
    if usage_falling(facts):
        out.append(f"usage {facts.usage_change:+.0%} in 28 days".replace("-", "−"))
    if high_alert(facts):
        out.append(f"{facts.high_alerts} high-severity alert{'s' if facts.high_alerts != 1 else ''}")
    return out
