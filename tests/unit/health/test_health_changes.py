"""The health components that measure change: their measures on day grids and their 0-100 mappings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pendo_core.health import changes, score

NAN = float("nan")


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-6)


def _weeks(*totals: float, days_synced: int = 7) -> np.ndarray:
    """One customer's DAU grid: each week's total spread over its days (unsynced days NaN)."""
    days = []
    for total in totals:
        week = [total / days_synced] * days_synced + [NAN] * (7 - days_synced)
        days.extend(week)
    return np.array([days])


@pytest.mark.parametrize(("grid", "expected"), [
    pytest.param(_weeks(70, 70, 70, 70, 70, 70, 70, 70), 0.0, id="flat"),
    pytest.param(_weeks(80, 75, 70, 65, 60, 55, 50, 45), -4 * 5 / 62.5, id="sliding"),
    pytest.param(_weeks(45, 50, 55, 60, 65, 70, 75, 80), 4 * 5 / 62.5, id="growing"),
    pytest.param(_weeks(0, 0, 0, 0, 0, 0, 0, 0), 0.0, id="nobody-no-change"),
    pytest.param(_weeks(70, 70, 70, 70, 70, 70, 70, 70, days_synced=5), 0.0, id="five-synced-days-a-week"),
    pytest.param(_weeks(70, 70, 70, 70, 70, 70, 70, 70, days_synced=4), NAN, id="four-synced-days-no-data"),
    pytest.param(_weeks(70, 70, 70, 70, 70, 70, 70), NAN, id="seven-weeks-no-data"),
])
def test_trend_change_is_the_8_week_line_over_4_weeks(grid: np.ndarray, expected: float) -> None:
    """The least-squares slope of 8 weekly totals, times 4 weeks, over their mean; unsynced days are not 0."""
    assert _same(float(changes.trend_change(grid)[0, -1]), expected)


def test_one_holiday_week_barely_tilts_the_trend() -> None:
    """A week at a tenth of the usual use moves the 8-week line far less than the 28-day means."""
    holiday = changes.trend_change(_weeks(70, 70, 70, 70, 70, 7, 70, 70))[0, -1]
    assert -0.15 < holiday < 0


@pytest.mark.parametrize(("then", "now", "expected"), [
    pytest.param(4, 4, 0.0, id="all-kept"), pytest.param(4, 2, 0.5, id="half-lost"),
    pytest.param(4, 5, 0.0, id="more-now-is-no-loss"), pytest.param(0, 3, NAN, id="none-then-no-data"),
    pytest.param(NAN, 3, NAN, id="not-synced-then"),
])
def test_breadth_lost_compares_with_four_weeks_before(then: float, now: float, expected: float) -> None:
    """Net share of the key features used `lag` days before that are no longer used."""
    used = np.array([[then] + [NAN] * 27 + [now]])
    assert _same(float(changes.breadth_lost(used, 28)[0, -1]), expected)


@pytest.mark.parametrize(("mau", "active", "expected"), [
    pytest.param(40, 40, 0.0, id="everyone-still-here"), pytest.param(30, 40, 0.25, id="a-quarter-gone"),
    pytest.param(0, 10, 1.0, id="all-gone"), pytest.param(0, 0, NAN, id="nobody-in-90-days"),
])
def test_attrition_share(mau: float, active: float, expected: float) -> None:
    """Share of the 90-day actives not active in the last 30 days."""
    assert _same(float(changes.attrition_share(np.array([mau]), np.array([active]))[0]), expected)


@pytest.mark.parametrize(("component", "value", "expected"), [
    pytest.param(score.breadth_change, 0.0, 100.0, id="breadth-kept"),
    pytest.param(score.breadth_change, 0.25, 50.0, id="breadth-quarter-lost"),
    pytest.param(score.breadth_change, 0.8, 0.0, id="breadth-mostly-lost"),
    pytest.param(score.breadth_change, NAN, NAN, id="breadth-no-data"),
    pytest.param(score.attrition, 0.02, 100.0, id="attrition-occasional-users"),
    pytest.param(score.attrition, 0.20, 50.0, id="attrition-a-fifth"),
    pytest.param(score.attrition, 0.5, 0.0, id="attrition-half"),
    pytest.param(score.sustained_trend, 0.0, 75.0, id="trend-flat"),
    pytest.param(score.sustained_trend, -0.2, 50.0, id="trend-down-20pct"),
    pytest.param(score.sustained_trend, 0.5, 100.0, id="trend-capped"),
    pytest.param(score.sustained_trend, NAN, NAN, id="trend-no-data"),
])
def test_change_mappings(component: object, value: float, expected: float) -> None:
    """Each change component maps its measure onto 0-100 as score.py documents."""
    assert callable(component)
    assert _same(float(component(value)), expected)
