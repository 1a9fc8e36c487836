"""The one definition of each window measure (pendo_core.usage.measures): stickiness, the 28-day
trend, key-feature breadth and feature adoption, with their guards (unsynced days, zero MAU,
short windows), on scalars and on arrays alike."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest

from pendo_core.usage import measures

NAN = float("nan")
Days = Sequence[float | None]


def _window(days: Days) -> tuple[float, int]:
    """(sum, synced days) of a window given day by day (None: not synced)."""
    known = [d for d in days if d is not None]
    return float(sum(known)), len(known)


def _same(got: object, expected: float | None) -> bool:
    value = measures.number(got)  # type: ignore[arg-type]
    return value is None if expected is None else value == pytest.approx(expected)


@pytest.mark.parametrize(("week", "mau", "active", "expected"), [
    pytest.param([2, 3, 2, 3, 2, 3, 2], 10, 12, 17 / 7 / 10, id="whole-week"),
    pytest.param([0] * 7, 5, 5, 0.0, id="nobody-today-but-monthly-users"),
    pytest.param([2, 3, None, 3, 2, 3, 2], 10, 12, None, id="one-unsynced-day"),
    pytest.param([2, 3, 2, 3, 2, 3], 10, 12, None, id="six-days-only"),
    pytest.param([0] * 7, 0, 4, 0.0, id="zero-mau-after-earlier-use"),
    pytest.param([0] * 7, 0, 0, None, id="zero-mau-never-used"),
    pytest.param([1] * 7, None, 4, None, id="mau-unknown"),
    pytest.param([1] * 7, 4, None, None, id="actives-unknown"),
])
def test_stickiness(week: Days, mau: float | None, active: float | None, expected: float | None) -> None:
    """Stickiness = mean DAU of 7 days ÷ MAU, only with all 7 synced; 0 after use, none before any."""
    total, synced = _window(week)
    assert _same(measures.stickiness(total, synced, mau, active), expected)


@pytest.mark.parametrize(("recent", "prior", "expected"), [
    pytest.param([5] * 28, [10] * 28, -0.5, id="halved"),
    pytest.param([4] * 28, [4] * 28, 0.0, id="flat"),
    pytest.param([4] * 14 + [None] * 14, [2] * 28, 1.0, id="half-synced-is-enough"),
    pytest.param([4] * 13 + [None] * 15, [2] * 28, None, id="recent-13-synced"),
    pytest.param([4] * 28, [2] * 13 + [None] * 15, None, id="prior-13-synced"),
    pytest.param([4] * 28, [None] * 28, None, id="no-history"),
    pytest.param([4] * 28, [0] * 28, None, id="growth-from-nothing"),
    pytest.param([0] * 28, [0] * 28, None, id="never-used"),
    pytest.param([0] * 28, [3] * 28, -1.0, id="stopped"),
])
def test_trend(recent: Days, prior: Days, expected: float | None) -> None:
    """Trend = recent mean DAU ÷ prior mean - 1 over synced days, 14 of each 28 synced, prior above 0."""
    means = measures.trend_means(*_window(recent), *_window(prior))
    assert _same(measures.trend(*means), expected)


@pytest.mark.parametrize(("days", "synced", "kept"), [
    pytest.param(28, 14, True, id="28-needs-14"), pytest.param(28, 13, False, id="28-short"),
    pytest.param(7, 3, True, id="7-needs-3"), pytest.param(7, 2, False, id="7-short"),
    pytest.param(1, 1, True, id="1-needs-1"),
])
def test_trend_windows_need_half_their_days(days: int, synced: int, kept: bool) -> None:
    """A window of any length needs half of its days synced for its mean."""
    recent, prior = measures.trend_means(2.0 * synced, synced, 1.0 * synced, synced, days)
    assert (not math.isnan(float(recent)), not math.isnan(float(prior))) == (kept, kept)
    assert str(days // 2 or 1) in measures.trend_definition(days)


@pytest.mark.parametrize(("dau", "mau", "stickiness", "trend"), [
    pytest.param([10] * 28 + [5] * 28, 20, 0.25, -0.5, id="halved"),
    pytest.param([4] * 56, 0, 0.0, 0.0, id="mau-zero"),
    pytest.param([4] * 20, 8, 0.5, None, id="short-history"),
    pytest.param([4] * 50 + [None] + [4] * 5, 8, None, 0.0, id="gap-in-the-last-week"),
])
def test_measures_of_a_daily_series(dau: Days, mau: float, stickiness: float | None, trend: float | None) -> None:
    """Over a series ending on the day (as the pages and the health grid read it): stickiness from its
    last 7 days, the trend from its last 56."""
    series = np.array([NAN if d is None else d for d in dau], dtype=float)
    week = measures.trailing_window(series, measures.STICKINESS_DAYS)
    recent = measures.trailing_window(series, measures.TREND_DAYS)
    prior = measures.trailing_window(series, measures.TREND_DAYS, end_lag=measures.TREND_DAYS)
    assert _same(measures.stickiness(week[0][0, -1], week[1][0, -1], mau, 10), stickiness)
    means = measures.trend_means(recent[0][0, -1], recent[1][0, -1], prior[0][0, -1], prior[1][0, -1])
    assert _same(measures.trend(*means), trend)


def test_trailing_window_sums_only_synced_days() -> None:
    """Rolling sums and counts skip missing (NaN) days and can end some days back."""
    values = np.array([[1.0, NAN, 3.0, 4.0, 5.0]])
    total, count = measures.trailing_window(values, 3)
    assert total.tolist() == [[1.0, 1.0, 4.0, 7.0, 12.0]]
    assert count.tolist() == [[1, 1, 2, 2, 3]]
    lagged, lag_count = measures.trailing_window(values, 2, end_lag=2)
    assert lagged.tolist() == [[0.0, 0.0, 1.0, 1.0, 3.0]]
    assert lag_count.tolist() == [[0, 0, 1, 1, 1]]


@pytest.mark.parametrize(("used", "keys", "expected"), [
    pytest.param(2, 4, 0.5, id="half"), pytest.param(0, 3, 0.0, id="none-used"),
    pytest.param(3, 3, 1.0, id="all"), pytest.param(0, 0, None, id="no-key-feature"),
    pytest.param(None, 3, None, id="unknown"),
])
def test_breadth(used: float | None, keys: int, expected: float | None) -> None:
    """Breadth = key features used ÷ key features; none without a key feature."""
    assert _same(measures.breadth(used, keys), expected)


@pytest.mark.parametrize(("users", "active", "expected"), [
    pytest.param(3, 6, 0.5, id="half"), pytest.param(0, 6, 0.0, id="unused"),
    pytest.param(3, 0, None, id="zero-mau"), pytest.param(3, None, None, id="mau-unknown"),
])
def test_adoption_and_the_daily_ratios(users: float, active: float | None, expected: float | None) -> None:
    """Adoption = users ÷ active visitors of the window; a day's DAU ÷ MAU and the pooled ratio divide
    the same way, and none of them divides by 0."""
    for ratio in (measures.adoption, measures.dau_mau, measures.pooled_dau_mau):
        assert _same(ratio(users, active), expected)


@pytest.mark.parametrize(("recent", "prior", "ranked"), [
    pytest.param(1.0, 6.0, True, id="fell"), pytest.param(0.5, 1.0, True, id="fell-from-one-user"),
    pytest.param(0.2, 0.8, False, id="fell-from-under-one-user"), pytest.param(6.0, 3.0, False, id="rose"),
    pytest.param(NAN, 3.0, False, id="recent-unknown"), pytest.param(3.0, 3.0, False, id="flat"),
])
def test_ranks_as_drop(recent: float, prior: float, ranked: bool) -> None:
    """A drop is listed only when the mean fell from at least one daily user."""
    assert bool(measures.ranks_as_drop(recent, prior)) is ranked


def test_arrays_give_the_scalar_answers() -> None:
    """One call over customers x days equals the calls for each value (the health grid's way)."""
    totals = np.array([[14.0, 0.0], [7.0, 21.0]])
    synced = np.array([[7, 7], [6, 7]])
    mau, active = np.array([[7.0, 0.0], [2.0, 0.0]]), np.array([[9.0, 3.0], [2.0, 0.0]])
    grid = measures.stickiness(totals, synced, mau, active)
    for i, j in np.ndindex(grid.shape):
        one = measures.number(measures.stickiness(totals[i, j], synced[i, j], mau[i, j], active[i, j]))
        assert _same(grid[i, j], one)
    assert measures.number(grid[0, 0]) == pytest.approx(2 / 7)
