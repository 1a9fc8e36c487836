"""The risk order as a spec (pendo_core/book/risk.py): band first, then renewal soon, falling and a
high-severity alert, then score, renewal, ARR and name; who counts as at risk; the reasons shown."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest

from pendo_core.book.risk import RiskFacts, at_risk, falling, reasons, renewal_soon, risk_key, risk_order

BASE = RiskFacts("id", "Base", band="yellow", score=60.0)

# (first, second): `first` must come before `second`; each pair shows one rule of the order.
BEFORE = [
    (replace(BASE, band="red"), replace(BASE, band="yellow", days_to_renewal=5, high_alerts=3), "red-before-yellow"),
    (replace(BASE, band="yellow"), replace(BASE, band=None), "yellow-before-not-scored"),
    (replace(BASE, band="insufficient data", score=None), replace(BASE, band="green", days_to_renewal=5),
     "no-score-before-green"),
    (replace(BASE, days_to_renewal=90), replace(BASE, health_change=-30.0, high_alerts=2),
     "renewal-within-90-days-before-falling-and-alert"),
    (replace(BASE, health_change=-5.0), replace(BASE, high_alerts=1), "falling-by-health-before-alert"),
    (replace(BASE, usage_change=-0.2), replace(BASE, high_alerts=1), "falling-by-usage-before-alert"),
    (replace(BASE, high_alerts=1), replace(BASE, score=10.0), "alert-before-a-lower-score"),
    (replace(BASE, score=51.0), replace(BASE, score=52.0), "lower-score-first"),
    (replace(BASE, score=80.0), replace(BASE, score=None), "unknown-score-last"),
    (replace(BASE, days_to_renewal=20, score=10.0), replace(BASE, days_to_renewal=10),
     "both-renewing-the-lower-score-before-the-sooner-date"),
    (replace(BASE, arr=200_000.0), replace(BASE, arr=50_000.0), "larger-arr-first"),
    (replace(BASE, arr=1.0), replace(BASE, arr=float("nan")), "unknown-arr-last"),
    (replace(BASE, name="acme"), replace(BASE, name="Beta"), "name-ignores-case"),
    (replace(BASE, band="red", score=30.0, days_to_renewal=30, health_change=-15.0),
     replace(BASE, band="red", score=20.0, days_to_renewal=60), "red-renewing-and-falling-first"),
    (replace(BASE, days_to_renewal=5), replace(BASE, days_to_renewal=-5), "a-past-renewal-is-not-soon"),
    (replace(BASE, days_to_renewal=90), replace(BASE, days_to_renewal=91), "90-days-is-soon-91-is-not"),
]


@pytest.mark.parametrize(("first", "second"), [(a, b) for a, b, _ in BEFORE], ids=[i for *_, i in BEFORE])
def test_one_rule_of_the_order(first: RiskFacts, second: RiskFacts) -> None:
    """Each pair differs in one rule, and the order puts `first` ahead of `second` whatever the input order."""
    first, second = replace(first, customer_id="a"), replace(second, customer_id="b")
    assert risk_key(first) < risk_key(second)
    assert risk_order([second, first]) == [first, second]


def test_the_renewing_tie_breaks_by_the_sooner_date() -> None:
    """Two red customers renewing soon with the same score: the sooner renewal first."""
    later = replace(BASE, band="red", customer_id="b", days_to_renewal=40)
    sooner = replace(BASE, band="red", customer_id="a", days_to_renewal=12)
    assert risk_order([later, sooner]) == [sooner, later]


@pytest.mark.parametrize(("facts", "expected"), [
    (replace(BASE, band="red"), True),
    (replace(BASE, band="yellow"), False),
    (replace(BASE, band="yellow", days_to_renewal=30), True),
    (replace(BASE, band="yellow", usage_change=-0.25), True),
    (replace(BASE, band="yellow", high_alerts=1), True),
    (replace(BASE, band="green", days_to_renewal=10, health_change=-20.0, high_alerts=1), False),
    (replace(BASE, band=None, days_to_renewal=10), False),
], ids=["red", "yellow-steady", "yellow-renewing", "yellow-falling", "yellow-high-alert", "green-anyway",
        "not-scored"])
def test_who_is_at_risk(facts: RiskFacts, expected: bool) -> None:
    """At risk = red, or yellow with a renewal soon, falling, or a high-severity alert."""
    assert at_risk(facts) is expected


@pytest.mark.parametrize(("facts", "soon", "down"), [
    (replace(BASE, days_to_renewal=0), True, False),
    (replace(BASE, days_to_renewal=None), False, False),
    (replace(BASE, health_change=-4.9), False, False),
    (replace(BASE, health_change=float("nan"), usage_change=-0.21), False, True),
    (replace(BASE, usage_change=-0.19), False, False),
], ids=["renewal-today", "no-renewal-date", "health-down-less-than-5", "usage-down-21pct", "usage-down-19pct"])
def test_the_warnings_thresholds(facts: RiskFacts, soon: bool, down: bool) -> None:
    """Renewal soon is 0 to 90 days; falling is 5 points of health or 20% of usage; NaN is unknown."""
    assert (renewal_soon(facts), falling(facts)) == (soon, down)


def test_the_reasons_name_each_warning() -> None:
    """The words shown beside a customer: renewal days, the health and usage falls, the high alerts."""
    facts = replace(BASE, days_to_renewal=42, health_change=-12.4, usage_change=-0.31, high_alerts=2)
    assert reasons(facts) == ["renewal in 42 days", "health −12 points in 28 days", "usage −31% in 28 days",
                              "2 high-severity alerts"]
    assert reasons(replace(BASE, health_change=math.nan)) == []
