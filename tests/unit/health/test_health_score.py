"""The health score's pure parts: each component's mapping, the weighted mean, bands, explanations."""

from __future__ import annotations

import math

import pytest

from pendo_core.health import score
from pendo_core.health.score import ScoreParts

NAN = float("nan")


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b)


@pytest.mark.parametrize(("stickiness", "expected"), [
    pytest.param(0.0, 0.0, id="nobody"), pytest.param(0.2, 50.0, id="half-of-full"),
    pytest.param(0.4, 100.0, id="full"), pytest.param(0.9, 100.0, id="capped"), pytest.param(NAN, NAN, id="no-data"),
])
def test_engagement_mapping(stickiness: float, expected: float) -> None:
    """Engagement = 100 * min(1, stickiness / 0.4)."""
    assert _same(float(score.engagement(stickiness)), expected)


@pytest.mark.parametrize(("breadth", "expected"), [
    pytest.param(0.0, 0.0, id="none"), pytest.param(0.4, 50.0, id="half"), pytest.param(0.8, 100.0, id="full"),
    pytest.param(1.0, 100.0, id="capped"), pytest.param(NAN, NAN, id="no-key-feature"),
])
def test_adoption_mapping(breadth: float, expected: float) -> None:
    """Adoption = 100 * min(1, breadth / 0.8)."""
    assert _same(float(score.adoption(breadth)), expected)


@pytest.mark.parametrize(("recent", "prior", "expected"), [
    pytest.param(10, 10, 75.0, id="flat"), pytest.param(12, 10, 100.0, id="up-20pct"),
    pytest.param(8, 10, 50.0, id="down-20pct"), pytest.param(4, 10, 0.0, id="down-60pct"),
    pytest.param(0, 10, 0.0, id="stopped"), pytest.param(5, 0, 100.0, id="from-nothing"),
    pytest.param(0, 0, NAN, id="never-used"), pytest.param(NAN, 10, NAN, id="not-enough-days"),
])
def test_trajectory_mapping(recent: float, prior: float, expected: float) -> None:
    """Trajectory = clip(75 + 125 * (recent / prior - 1), 0, 100)."""
    assert _same(float(score.trajectory(recent, prior)), expected)


@pytest.mark.parametrize(("components", "overall", "coverage"), [
    pytest.param({"engagement": 80, "adoption": 40, "trajectory": 60}, 0.5 * 80 + 0.25 * 40 + 0.25 * 60, 1.0,
                 id="all-present"),
    pytest.param({"engagement": 80, "adoption": NAN, "trajectory": 60}, (0.5 * 80 + 0.25 * 60) / 0.75, 0.75,
                 id="missing-renormalised"),
    pytest.param({"engagement": NAN, "adoption": 40, "trajectory": NAN}, NAN, 0.25, id="below-floor"),
    pytest.param({"engagement": NAN, "adoption": NAN, "trajectory": NAN}, NAN, 0.0, id="nothing"),
])
def test_overall_is_the_renormalised_weighted_mean(components: dict[str, float], overall: float,
                                                    coverage: float) -> None:
    """Components without data drop out, the rest are renormalised; below the floor there is no score."""
    weights = {"engagement": 0.5, "adoption": 0.25, "trajectory": 0.25, "onboarding": 0.0}
    got, cov = score.combine(components, weights, coverage_floor=0.5)
    assert _same(float(got), overall)
    assert float(cov) == pytest.approx(coverage)


def test_zero_weights_are_refused() -> None:
    """Weights that sum to zero raise instead of dividing by zero."""
    with pytest.raises(ValueError, match="sum to 0"):
        score.combine({"engagement": 1.0}, {"engagement": 0.0}, 0.5)


@pytest.mark.parametrize(("overall", "band"), [
    pytest.param(0.0, "red", id="zero"), pytest.param(49.99, "red", id="just-red"),
    pytest.param(50.0, "yellow", id="yellow-from-50"), pytest.param(74.99, "yellow", id="just-yellow"),
    pytest.param(75.0, "green", id="green-from-75"), pytest.param(NAN, "insufficient data", id="no-score"),
])
def test_bands(overall: float, band: str) -> None:
    """red < 50 <= yellow < 75 <= green; no score is "insufficient data"."""
    assert str(score.bands(overall, 50.0, 75.0)) == band


def test_explanation_gives_value_weight_contribution_and_changes() -> None:
    """Each component's value, renormalised weight and points, with its change since 7 and 28 days."""
    weights = {"engagement": 0.5, "adoption": 0.0, "trajectory": 0.5, "onboarding": 0.0}
    today = ScoreParts({"engagement": 60.0, "adoption": 90.0, "trajectory": 20.0, "onboarding": None}, weights, 40.0)
    week = ScoreParts({"engagement": 70.0, "adoption": 90.0, "trajectory": 50.0, "onboarding": None}, weights, 60.0)
    month = ScoreParts({"engagement": 80.0, "adoption": 90.0, "trajectory": 80.0, "onboarding": None}, weights, 80.0)
    got = score.explain(today, week, month)
    rows = {c.name: c for c in got.components}
    assert set(rows) == {"engagement", "trajectory", "adoption"}  # adoption has data, even at weight 0
    assert (rows["trajectory"].weight, rows["trajectory"].contribution) == (0.5, 10.0)
    assert (rows["trajectory"].change_7d, rows["trajectory"].change_28d) == (-15.0, -30.0)
    assert rows["adoption"].contribution is None
    assert (got.change_7d, got.change_28d, got.biggest_mover_28d) == (-20.0, -40.0, "trajectory")


def test_explanation_without_history_has_no_changes() -> None:
    """A first score explains itself with no change figures."""
    weights = {"engagement": 1.0, "adoption": 0.0, "trajectory": 0.0, "onboarding": 0.0}
    got = score.explain(ScoreParts({"engagement": 55.0}, weights, 55.0), None, None)
    assert got.change_7d is None
    assert got.components[0].change_28d is None
    assert got.components[0].contribution == 55.0
