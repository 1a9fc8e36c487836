"""An alert's priority: the rule's severity weighed with ARR and renewal proximity, at most one step away."""

from __future__ import annotations

import pytest

from pendo_core.alerts.priority import arr_rank, priority, renewal_weight, severity_rank

ARRS = [10_000.0, 50_000.0, 50_000.0, 120_000.0, 900_000.0]


@pytest.mark.parametrize(("arr", "all_arr", "rank"), [
    (10_000.0, ARRS, 0.0),
    (900_000.0, ARRS, 1.0),
    (120_000.0, ARRS, 0.75),
    (50_000.0, ARRS, 0.375),  # one smaller, one tie counted half, of the 4 others
    (None, ARRS, None),
    (float("nan"), ARRS, None),
    (70_000.0, [], None),
    (70_000.0, [70_000.0], 0.5),
    (70_000.0, ARRS, 0.6),  # not among them (a customer added since): 3 of 5 are smaller
], ids=["smallest", "largest", "fourth", "tie", "unknown", "nan", "nobody", "alone", "not-listed"])
def test_arr_rank(arr: float | None, all_arr: list[float], rank: float | None) -> None:
    """The share of the other customers with a smaller ARR, ties counted half."""
    assert arr_rank(arr, all_arr) == rank


@pytest.mark.parametrize(("days", "weight"), [
    (None, 0.0), (-3, 0.0), (0, 1.0), (30, 1.0), (105, 0.5), (179, 1 / 150), (180, 0.0), (400, 0.0),
], ids=["unknown", "passed", "today", "in-30", "in-105", "in-179", "in-180", "next-year"])
def test_renewal_weight(days: int | None, weight: float) -> None:
    """Full within 30 days, linear to nothing at 180; nothing when unknown or passed."""
    assert renewal_weight(days) == pytest.approx(weight)


@pytest.mark.parametrize(("rule", "rank", "days", "points", "severity"), [
    ("high", 0.5, None, 62.5, "high"),
    ("high", None, None, 62.5, "high"),
    ("high", 0.0, None, 50.0, "medium"),
    ("high", 0.0, 400, 50.0, "medium"),
    ("medium", 0.5, None, 42.5, "medium"),
    ("medium", 1.0, 20, 80.0, "high"),
    ("medium", 0.2, 30, 60.0, "high"),
    ("medium", 0.0, None, 30.0, "low"),
    ("low", 0.5, None, 22.5, "low"),
    ("low", 1.0, 10, 60.0, "medium"),
    ("low", 1.0, None, 35.0, "medium"),
    ("unknown", 0.5, None, 42.5, "medium"),
], ids=["high-median", "high-arr-unknown", "high-smallest", "high-smallest-renewal-far", "medium-median",
        "medium-largest-renewing", "medium-small-renewing", "medium-smallest", "low-median",
        "low-largest-renewing-capped", "low-largest", "unknown-rule-as-medium"])
def test_priority(rule: str, rank: float | None, days: int | None, points: float, severity: str) -> None:
    """Severity points + 25 x ARR rank + 25 x renewal weight; high from 60, medium from 35, one step at most."""
    got = priority(rule, arr_rank=rank, days_to_renewal=days)
    assert (got.points, got.severity) == (points, severity)


def test_a_bigger_customer_renewing_sooner_ranks_first() -> None:
    """Of two alerts of one rule severity, the larger account renewing sooner has more points."""
    small = priority("medium", arr_rank=0.1, days_to_renewal=300)
    big = priority("medium", arr_rank=0.9, days_to_renewal=45)
    assert big.points > small.points


@pytest.mark.parametrize(("severity", "rank"), [("high", 0), ("medium", 1), ("low", 2), ("other", 3)], ids=str)
def test_severity_rank(severity: str, rank: int) -> None:
    """High sorts first; anything unknown last."""
    assert severity_rank(severity) == rank
