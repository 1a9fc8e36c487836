"""An alert's priority: its rule's severity weighed with what is at stake (ARR) and when (renewal).

Pure: plain values in, plain values out. The Alerts inbox sorts and filters by it, and the customer
header, My customers and its risk order count open alerts by its severity (`weighted_counts`), so
every screen that says high, medium or low for an alert says the same. The rule that fired still grades
the situation itself (`kinds.py`, each kind's `severity`); the stored alert keeps that grade as its
rule severity. The weighting (also in `WEIGHTING_HELP`, the inbox's help and the README):

    priority = severity points + ARR points + renewal points          (0 to 100)

- **severity points**: the rule's severity, high 50, medium 30, low 10;
- **ARR points**: 25 times the customer's ARR rank among all customers (0 for the smallest ARR, 25 for
  the largest; `arr_rank`, half the ties counted), 12.5 when the ARR is unknown;
- **renewal points**: 25 when the renewal is 0 to 30 days ahead, falling linearly to 0 at 180 days;
  0 when there is no renewal date or it has passed (the outcome is known, or the import is stale).

The weighted severity is **high** from 60 points, **medium** from 35, **low** below, and moves at
most one step from the rule's: a guide most people dismiss stays at most medium on the largest
account renewing next week, and a customer nobody logs in to stays at least medium on the smallest.
Ties keep the rule's order: a higher rule severity first.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

SEVERITIES = ("high", "medium", "low")
SEVERITY_POINTS = {"high": 50.0, "medium": 30.0, "low": 10.0}
ARR_POINTS = 25.0
UNKNOWN_ARR_RANK = 0.5  # an unknown ARR weighs like the median customer's: neither raised nor lowered
RENEWAL_POINTS = 25.0
RENEWAL_NEAR_DAYS = 30
RENEWAL_FAR_DAYS = 180
HIGH_FROM = 60.0
MEDIUM_FROM = 35.0

WEIGHTING_HELP = (
    "Severity weighs the rule's severity with what is at stake: priority = the rule's severity (high 50, medium "
    "30, low 10 points) + up to 25 points for ARR (by its rank among all customers) + up to 25 points for the "
    f"renewal (full within {RENEWAL_NEAR_DAYS} days, none from {RENEWAL_FAR_DAYS}). High from {HIGH_FROM:.0f} "
    f"points, medium from {MEDIUM_FROM:.0f}; at most one step away from the rule's severity."
)


@dataclass(frozen=True)
class Priority:
    """An alert's weighted severity and the points behind it (higher is more urgent)."""

    points: float
    severity: str
    rule_severity: str


def arr_rank(arr: float | None, all_arr: Sequence[float]) -> float | None:
    """The share of customers (by `all_arr`, sorted ascending) with a smaller ARR, half the ties
    counted, from 0 to 1; None when the ARR is unknown or there is nothing to rank against."""
    if arr is None or math.isnan(arr) or not all_arr:
        return None
    below = bisect.bisect_left(all_arr, arr)
    ties = bisect.bisect_right(all_arr, arr) - below
    others = len(all_arr) - 1 if ties else len(all_arr)
    if others <= 0:
        return UNKNOWN_ARR_RANK  # the only customer with an ARR: nobody to be larger or smaller than
    return (below + max(ties - 1, 0) / 2) / others


def renewal_weight(days_to_renewal: int | None) -> float:
    """1 when the renewal is 0 to RENEWAL_NEAR_DAYS days ahead, falling linearly to 0 at
    RENEWAL_FAR_DAYS; 0 when unknown or passed."""
    if days_to_renewal is None or days_to_renewal < 0 or days_to_renewal >= RENEWAL_FAR_DAYS:
        return 0.0
    if days_to_renewal <= RENEWAL_NEAR_DAYS:
        return 1.0
    return (RENEWAL_FAR_DAYS - days_to_renewal) / (RENEWAL_FAR_DAYS - RENEWAL_NEAR_DAYS)


def priority(rule_severity: str, *, arr_rank: float | None, days_to_renewal: int | None) -> Priority:
    """The alert's priority points and weighted severity (see the module docstring)."""
    rule = rule_severity if rule_severity in SEVERITY_POINTS else "medium"
    rank = UNKNOWN_ARR_RANK if arr_rank is None or math.isnan(arr_rank) else min(max(arr_rank, 0.0), 1.0)
    points = SEVERITY_POINTS[rule] + ARR_POINTS * rank + RENEWAL_POINTS * renewal_weight(days_to_renewal)
    return Priority(round(points, 1), _within_one_step(_tier(points), rule), rule)


def weighted_counts(rule_severities: Iterable[str], *, arr_rank: float | None,
                    days_to_renewal: int | None) -> dict[str, int]:
    """One customer's alerts counted by weighted severity, high to low (severities with none left out):
    what the customer header, My customers, the risk order and the inbox's filter all count by."""
    counts: dict[str, int] = {}
    for rule in rule_severities:
        weighted = priority(rule, arr_rank=arr_rank, days_to_renewal=days_to_renewal).severity
        counts[weighted] = counts.get(weighted, 0) + 1
    return {s: counts[s] for s in SEVERITIES if s in counts}


def _tier(points: float) -> str:
    return "high" if points >= HIGH_FROM else "medium" if points >= MEDIUM_FROM else "low"


def _within_one_step(tier: str, rule: str) -> str:
    """The tier, moved back to one step from the rule's severity when it strayed further."""
    at, home = SEVERITIES.index(tier), SEVERITIES.index(rule)
    return SEVERITIES[min(max(at, home - 1), home + 1)]


def severity_rank(severity: str) -> int:
    """0 for high, 1 for medium, 2 for low, 3 for anything else: the order the screens sort by."""
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)
