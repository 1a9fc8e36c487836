"""The Account usage headline deltas: like with like (7 days against the 4 weeks before), unsynced days
never counted as zero, and a colour that follows direction and meaning (a declining customer never green)."""

from __future__ import annotations

import math

import pytest

from pendo_core.usage.kpis import (
    Change,
    days_since_active,
    declining,
    delta_color,
    login_change,
    mean_change,
    ratio_change,
    weekly_change,
)

NAN = math.nan


def _days(prior: float, recent: float, *, prior_days: int = 28) -> list[float]:
    return [prior] * prior_days + [recent] * 7


@pytest.mark.parametrize(("daily", "now", "before", "relative"), [
    (_days(10, 5), 5.0, 10.0, -0.5),
    (_days(4, 6), 6.0, 4.0, 0.5),
    ([10.0] * 27 + [40.0] + [10.0] * 7, 10.0, 11.0714, -0.0968),  # one spike in the baseline moves it little
    ([NAN] * 14 + [10.0] * 14 + [5.0] * 7, 5.0, 10.0, -0.5),  # 14 synced days of 28 are enough
    ([NAN] * 15 + [10.0] * 13 + [5.0] * 7, 5.0, None, None),  # 13 are not
    ([*_days(10, 5)[:-1], NAN], None, 10.0, None),  # the week needs all 7 days
    (_days(0, 3), 3.0, 0.0, None),  # growth from nothing has no ratio
    ([5.0] * 7, 5.0, None, None),  # no history before the week
], ids=["halved", "up-half", "spike-in-baseline", "half-synced-baseline", "baseline-too-thin", "week-incomplete",
        "from-zero", "no-baseline"])
def test_mean_change(daily: list[float], now: float | None, before: float | None, relative: float | None) -> None:
    """The last 7 days' mean against the 28 days before them, synced days only."""
    got = mean_change(daily)
    assert (got.now, got.before) == (now, pytest.approx(before, abs=1e-3) if before is not None else None)
    assert got.relative == (pytest.approx(relative, abs=1e-3) if relative is not None else None)


@pytest.mark.parametrize(("values", "now", "before"), [
    ([0.2] * 28 + [0.3], 0.3, 0.2),
    ([0.1, 0, 0, 0, 0, 0, 0, 0.2, 0, 0, 0, 0, 0, 0, 0.3, 0, 0, 0, 0, 0, 0, 0.4, 0, 0, 0, 0, 0, 0, 0.5], 0.5, 0.25),
    ([NAN] * 21 + [0.2] * 7 + [0.3], 0.3, None),  # only d-7 known: one week is not a baseline
    ([NAN] * 14 + [0.2] * 14 + [0.3], 0.3, 0.2),
    ([0.3], 0.3, None),
    ([], None, None),
], ids=["flat-then-up", "same-weekdays-only", "one-week-known", "two-weeks-known", "one-day", "empty"])
def test_weekly_change(values: list[float], now: float | None, before: float | None) -> None:
    """A 7-day measure on the last day against its mean 7, 14, 21 and 28 days before (2 known at least)."""
    got = weekly_change(values)
    assert (got.now, got.before) == (now, pytest.approx(before) if before is not None else None)


def test_ratio_change_sums_before_dividing() -> None:
    """Minutes per session over a window is total minutes ÷ total sessions, not a mean of daily ratios."""
    minutes = [30.0] * 28 + [100.0, 0, 0, 0, 0, 0, 20.0]
    sessions = [3.0] * 28 + [10.0, 0, 0, 0, 0, 0, 2.0]
    assert ratio_change(minutes, sessions) == Change(10.0, 10.0)
    assert ratio_change([1.0] * 7, [0.0] * 7) == Change(None, None)


@pytest.mark.parametrize(("change", "better", "falling", "color"), [
    (0.2, "higher", False, "normal"),
    (-0.2, "higher", False, "normal"),
    (0.2, "higher", True, "off"),
    (-0.2, "higher", True, "normal"),
    (3.0, "lower", False, "inverse"),
    (3.0, "lower", True, "inverse"),
    (-3.0, "lower", True, "off"),
    (-3.0, "lower", False, "inverse"),
    (0.2, "neither", False, "off"),
    (None, "higher", True, "normal"),
], ids=["dau-up", "dau-down", "dau-up-while-declining", "dau-down-while-declining", "days-since-login-up",
        "days-since-login-up-declining", "days-since-login-down-declining", "days-since-login-down",
        "session-length", "no-change"])
def test_delta_color(change: float | None, better: str, falling: bool, color: str) -> None:
    """Up is green where higher is better, red where lower is; never green for a declining customer."""
    assert delta_color(change, better, is_declining=falling) == color  # type: ignore[arg-type]


def _green(change: float | None, better: str, falling: bool) -> bool:
    color = delta_color(change, better, is_declining=falling)  # type: ignore[arg-type]
    return change is not None and ((color == "normal" and change > 0) or (color == "inverse" and change < 0))


@pytest.mark.parametrize("change", [-0.5, -0.01, 0.0, 0.01, 0.5], ids=str)
@pytest.mark.parametrize("better", ["higher", "lower", "neither"])
def test_a_declining_customer_never_shows_green(change: float, better: str) -> None:
    """Whatever the measure and its move, a declining customer's delta is never green."""
    assert not _green(change, better, True)


@pytest.mark.parametrize(("changes", "falling"), [
    ((-0.3, 0.1, 2.0), True), ((0.1, -0.02, 2.0), True), ((0.1, 0.1, -5.0), True), ((0.1, 0.0, 0.0), False),
    ((None, None, None), False), ((NAN, 0.2, None), False),
], ids=["usage-down", "trend-down", "health-down", "all-up", "nothing-known", "nan-is-unknown"])
def test_declining(changes: tuple[float | None, ...], falling: bool) -> None:
    """Declining: usage against its baseline, the 28-day trend or the health score's change below zero."""
    assert declining(*changes) is falling


@pytest.mark.parametrize(("daily", "lag", "days"), [
    ([3.0, 0.0, 2.0], 0, 0.0),
    ([3.0, 0.0, 0.0], 0, 2.0),
    ([3.0, NAN, 0.0], 0, 2.0),  # an unsynced day is not activity
    ([0.0, 0.0], 0, None),
    ([3.0, 0.0, 0.0, 0.0], 2, 1.0),
    ([], 0, None),
], ids=["active-last-day", "quiet-two-days", "gap-counts-as-a-day", "never", "a-week-before", "empty"])
def test_days_since_active(daily: list[float], lag: int, days: float | None) -> None:
    """Calendar days back to the last day with anyone active; None when nobody was."""
    assert days_since_active(daily, lag) == days


def test_login_change_is_a_week_on_a_week() -> None:
    """Ten silent days: 10 now, 3 a week before: another silent week, +7."""
    got = login_change([5.0] * 20 + [0.0] * 10)
    assert (got.now, got.before, got.difference) == (10.0, 3.0, 7.0)
