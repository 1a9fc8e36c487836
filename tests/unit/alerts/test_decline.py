"""decline.py on hand-built histories: sudden and sustained declines fire at every team size; noise,
seasonality, holidays and unsynced days stay quiet (a day missing from the history is unknown, not 0)."""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable
from datetime import date, timedelta

import pytest

from pendo_core.alerts import decline
from pendo_core.alerts.decline import (
    Decline,
    Params,
    assess,
    rebounded,
    sudden,
    sustained,
    weekly_totals,
)
from tests.support.health_alerts import LAST, history, month_end_peak, slide, step

P = Params()
WOBBLE = (2, 3, 4, 3, 2, 4, 3, 2, 4, 3, 3, 2, 4, 2, 3, 4, 2, 3, 4, 3, 2)  # a 3-user team, day after day


def _weekdays(value: Callable[[int, date], int]) -> Callable[[int, date], int]:
    """A change that sets weekdays with `value(i, day)` and keeps weekends empty."""
    return lambda i, d: 0 if d.weekday() >= 5 else value(i, d)


def _holidays(weekday: int, weekend: int, days_ago: set[int]) -> Callable[[int, date], int]:
    return lambda i, d: 0 if i in days_ago else (weekend if d.weekday() >= 5 else weekday)


def _without(dau: dict[date, int], days_ago: set[int] | range) -> dict[date, int]:
    """The history with some days not synced (missing, not zero)."""
    gone = {LAST - timedelta(days=i) for i in days_ago}
    return {d: n for d, n in dau.items() if d not in gone}


@pytest.mark.parametrize(("dau", "status"), [
    pytest.param(history(70, 4, 0, change=_weekdays(lambda i, d: 1 if i < 28 else 4)), "fire", id="4-users-fall-to-1"),
    pytest.param(history(70, 4, 0, change=_weekdays(lambda i, d: 1 if i < 10 else 4)), "fire",
                 id="4-users-fall-to-1-ten-days-ago"),
    pytest.param(history(70, 3, 0, change=_weekdays(lambda i, d: WOBBLE[i % len(WOBBLE)])), "clear",
                 id="3-users-wobble-2-to-4"),
    pytest.param(history(70, 1, 0, change=_weekdays(lambda i, d: 1 if i % 3 else 0)), "clear",
                 id="1-user-most-days"),
    pytest.param(history(70, 40, 6, change=slide(40, 6, days=42, to=0.6)), "fire", id="40pct-slide-over-6-weeks"),
    pytest.param(history(70, 40, 6, change=slide(40, 6, days=56, to=0.6)), "fire", id="40pct-slide-over-8-weeks"),
    pytest.param(history(70, 200, 30, change=slide(200, 30, days=56, to=0.5)), "fire", id="big-team-halves-in-8-weeks"),
    pytest.param(history(70, 6, 1, change=slide(6, 1, days=42, to=0.5)), "fire", id="6-users-halve-over-6-weeks"),
    pytest.param(history(70, 40, 6, change=slide(40, 6, days=56, to=0.9)), "clear", id="10pct-slide-below-threshold"),
    pytest.param(history(70, 40, 6, change=step(40, 6, days=21, to=0.5)), "fire", id="halved-3-weeks-ago"),
    pytest.param(history(70, 40, 6), "clear", id="steady"),
    pytest.param(history(70, 200, 30, change=lambda i, d: (0 if d.weekday() >= 5 else 1) * (220 if (i // 7) % 2
                                                                                            else 180)),
                 "clear", id="big-team-swings-10pct-week-to-week"),
])
def test_team_sizes(dau: dict[date, int], status: str) -> None:
    """Declines fire for a team of 4 as for a team of 200; a small team's noise stays quiet."""
    assert assess(dau, LAST, P).status == status


@pytest.mark.parametrize("dau", [
    pytest.param(history(70, 40, 6, change=_holidays(40, 6, set(range(14, 21)))), id="holiday-week-recovered"),
    pytest.param(history(70, 40, 6, change=_holidays(40, 6, {0, 1})), id="holidays-in-the-last-days"),
    pytest.param(history(70, 40, 6, change=_holidays(40, 6, set(range(8, 17)))), id="nine-day-shutdown-recovered"),
    pytest.param(history(70, 40, 6, change=_holidays(40, 6, {30, 31, 32, 33, 34, 40, 41})), id="holidays-before"),
    pytest.param(history(70, 40, 0), id="weekday-only-team"),
    pytest.param(history(70, 30, 4, change=month_end_peak(30, 4)), id="month-end-peak"),
    pytest.param(history(70, 30, 4, last=date(2026, 3, 3), change=month_end_peak(30, 4)),
                 id="month-end-peak-falling-back"),
    pytest.param(history(70, 40, 6, change=step(40, 6, days=21, to=0.5, back_after=10)), id="dip-that-recovered"),
    pytest.param(history(70, 12, 2, change=step(12, 2, days=14, to=0.5, back_after=7)), id="small-dip-recovered"),
])
def test_hard_negatives_stay_silent(dau: dict[date, int]) -> None:
    """Holidays, weekend rhythm, month-end peaks and dips that recovered are not declines."""
    last = max(dau)
    assert assess(dau, last, P).status == "clear"


@pytest.mark.parametrize(("dau", "status"), [
    pytest.param(_without(history(70, 40, 6), {3, 9, 12, 20, 26, 30, 41}), "unknown", id="steady-with-gaps"),
    pytest.param(_without(history(70, 40, 6), {9, 12, 20, 26, 30, 41, 44}), "clear", id="gaps-before-the-last-week"),
    pytest.param(_without(history(70, 40, 6, change=slide(40, 6, days=56, to=0.6)), {9, 12, 20, 30, 44}), "fire",
                 id="slide-with-gaps-still-fires"),
    pytest.param(_without(history(70, 40, 6), range(8, 30)), "unknown", id="most-of-the-month-unsynced"),
    pytest.param(history(40, 40, 6), "unknown", id="too-little-history-for-either"),
])
def test_unsynced_days_are_unknown_never_zero(dau: dict[date, int], status: str) -> None:
    """Missing days are filled from their weekday, or make the verdict unknown; never read as 0."""
    assert assess(dau, LAST, P).status == status


def test_sustained_finding_carries_its_numbers() -> None:
    """A sustained decline names its rule, windows, levels, change and how sure, in one line too."""
    dau = history(60, 6, 0, change=_weekdays(lambda i, d: 4 if i < 28 else 6))
    verdict = sustained(dau, LAST, P)
    assert verdict.status == "fire"
    d = verdict.decline
    assert d is not None
    assert (d.rule, d.window, d.before, d.after) == ("sustained", (LAST - timedelta(days=27), LAST), 30.0, 20.0)
    assert d.baseline == (LAST - timedelta(days=55), LAST - timedelta(days=28))  # 60 days: the 28 before
    assert d.change == pytest.approx(-1 / 3)
    assert d.sure > 0.99
    assert d.summary().startswith("30 visitor-days a week → 20, −33%, 28 days vs the 28 before (")
    assert d.details()["rule"] == "sustained"


def test_sudden_finding_compares_with_the_same_weekdays() -> None:
    """A sudden drop reports the last 7 days against the same weekdays of the 4 weeks before."""
    dau = history(70, 40, 6, change=step(40, 6, days=10, to=0.5))
    verdict = sudden(dau, LAST, P)
    assert verdict.status == "fire"
    assert verdict.decline is not None
    assert "the last 7 days vs the same weekdays of the 4 weeks before" in verdict.decline.summary()


@pytest.mark.parametrize(("sure", "text"), [(0.9996, "99.9%"), (0.982, "98%"), (0.5, "50%")],
                         ids=["never-rounds-to-certain", "whole-percent", "even"])
def test_how_sure_reads_as_a_percentage(sure: float, text: str) -> None:
    """How sure is shown without rounding up to a certainty the numbers do not have."""
    d = Decline("sustained", (LAST, LAST), (LAST, LAST), 30.0, 19.0, sure)
    assert d.summary().endswith(f"({text} sure)")


def test_confidence_and_threshold_are_settings() -> None:
    """A fall fires only when at least `confidence` sure; a 16% slide fires once the limit is 10%."""
    before, after = (3, 3, 2, 3, 3), (2, 3, 2, 2, 2)  # 14 visitor-days a week, then 11 (-21%)
    small = history(70, 1, 0, change=_weekdays(lambda i, d: (after if i < 28 else before)[d.weekday()]))
    found = sustained(small, LAST, P).decline
    assert found is not None
    assert 0.9 < found.sure < 0.99
    assert assess(small, LAST, Params(confidence=found.sure - 0.01)).status == "fire"
    assert assess(small, LAST, Params(confidence=found.sure + 0.01)).status == "clear"
    slight = history(70, 200, 30, change=slide(200, 30, days=56, to=0.7))
    assert assess(slight, LAST, P).status == "clear"
    assert assess(slight, LAST, Params(drop_pct=10)).status == "fire"


def _shutdown_coming_back(i: int, day: date) -> int:
    """Two weeks at a fifth of the usual use (a long shutdown), then the last week back at 75%."""
    base = 6 if day.weekday() >= 5 else 40
    return round(base * (0.75 if i < 7 else 0.2 if i < 21 else 1.0))


@pytest.mark.parametrize(("weeks", "expected"), [
    pytest.param([212, 42, 42, 159], True, id="back-from-a-trough"),
    pytest.param([200, 170, 150, 120], False, id="a-slide-ends-at-its-lowest"),
    pytest.param([20, 14, 4, 10], False, id="small-team-within-noise"),
    pytest.param([20, 14, 2, 19], True, id="small-team-clearly-back"),
    pytest.param([5], False, id="one-week"),
])
def test_rebounded(weeks: list[float], expected: bool) -> None:
    """The last week clearly above the recent trough (3 Poisson standard deviations) is a recovery."""
    assert rebounded(weeks) is expected


def test_a_shutdown_coming_back_is_not_a_slide(monkeypatch: pytest.MonkeyPatch) -> None:
    """28 days 46% down, the last week still under the limit, but well up from the shutdown: quiet.
    Without the rebound check the sustained rule would fire."""
    dau = history(70, 40, 6, change=_shutdown_coming_back)
    assert assess(dau, LAST, P).status == "clear"
    monkeypatch.setattr(decline, "REBOUND_Z", 1e9)
    assert sustained(dau, LAST, P).status == "fire"


def test_weekly_totals_fill_a_missing_day_from_its_weekday() -> None:
    """An unsynced Monday counts as the mean of the window's synced Mondays, not as 0."""
    dau = history(14, 10, 2)
    first, second = sorted(d for d in dau if d.weekday() == 0)
    dau[second] = 20
    del dau[first]
    assert weekly_totals(dau, LAST, 2) == [5 * 10 + 2 * 2 + 10, 5 * 10 + 2 * 2 + 10]


# --- the sustained rule's eight weeks before -------------------------------------------------

LONG = 90  # days: the 28 of the window, the 56 before it, the days the rule is held on, and spare


def _weekday_levels(levels: tuple[int, int, int]) -> Callable[[int, date], int]:
    """Weekday-only DAU: levels[0] in weeks 12-9 back, levels[1] in weeks 8-5, levels[2] in the last 4."""
    return _weekdays(lambda i, d: levels[0] if i >= 56 else levels[1] if i >= 28 else levels[2])


def test_sustained_compares_with_eight_weeks_before_when_synced() -> None:
    """With 12 weeks synced the level before is the mean of the 8 weeks before the window, and says so."""
    dau = history(LONG, 6, 0, change=_weekday_levels((6, 5, 4)))
    d = sustained(dau, LAST, P).decline
    assert d is not None
    assert d.baseline == (LAST - timedelta(days=83), LAST - timedelta(days=28))
    assert (d.before, d.after) == (27.5, 20.0)
    assert d.summary().startswith("28 visitor-days a week → 20, −27%, 28 days vs the 56 before (")


def test_a_slide_that_began_before_the_four_weeks_before_fires() -> None:
    """6 → 5 → 4 daily users over 12 weeks: only 20% below the 4 weeks before (not more than the limit),
    27% below the 8 weeks before: fires; with a 4-week baseline it does not."""
    dau = history(LONG, 6, 0, change=_weekday_levels((6, 5, 4)))
    assert assess(dau, LAST, P).status == "fire"
    assert assess(dau, LAST, Params(sustained_baseline_weeks=4)).status == "clear"


@pytest.mark.parametrize(("dau", "weeks"), [
    pytest.param(history(60, 6, 0, change=_weekday_levels((6, 6, 4))), 4, id="young-history-60-days"),
    pytest.param(history(70, 6, 0, change=_weekday_levels((6, 6, 4))), 8, id="three-quarters-of-8-weeks-synced"),
    pytest.param(_without(history(LONG, 6, 0, change=_weekday_levels((6, 6, 4))), range(60, 75)), 4,
                 id="weeks-9-to-12-half-unsynced"),
    pytest.param(_without(history(LONG, 6, 0, change=_weekday_levels((6, 6, 4))), {33, 47, 61, 75}), 8,
                 id="a-few-old-days-unsynced"),
])
def test_a_short_or_gappy_history_falls_back_to_the_28_days_before(dau: dict[date, int], weeks: int) -> None:
    """Under three quarters of the 8 weeks before the window synced (as for any window, the rest is
    filled from its weekdays): the 4 weeks before it instead, never unknown for that alone."""
    verdict = sustained(dau, LAST, P)
    assert verdict.status == "fire"
    assert verdict.decline is not None
    assert verdict.decline.baseline == (LAST - timedelta(days=27 + 7 * weeks), LAST - timedelta(days=28))


@pytest.mark.parametrize(("dau", "status"), [
    pytest.param(history(LONG, 4, 0, change=_weekdays(lambda i, d: 1 if i < 28 else 4)), "fire",
                 id="4-users-fall-to-1"),
    pytest.param(history(LONG, 3, 0, change=_weekdays(lambda i, d: WOBBLE[i % len(WOBBLE)])), "clear",
                 id="3-users-wobble-2-to-4"),
    pytest.param(history(LONG, 1, 0, change=_weekdays(lambda i, d: 1 if i % 3 else 0)), "clear",
                 id="1-user-most-days"),
    pytest.param(history(LONG, 200, 30, change=slide(200, 30, days=56, to=0.5)), "fire", id="big-team-halves"),
    pytest.param(history(LONG, 40, 6, change=slide(40, 6, days=84, to=0.9)), "clear", id="10pct-slide-in-12-weeks"),
    pytest.param(history(LONG, 40, 6, change=_holidays(40, 6, set(range(14, 21)))), "clear",
                 id="holiday-week-recovered"),
    pytest.param(history(LONG, 40, 6, change=_holidays(40, 6, set(range(60, 67)) | set(range(35, 40)))), "clear",
                 id="holiday-weeks-in-the-weeks-before"),
    pytest.param(history(LONG, 40, 0), "clear", id="weekday-only-team"),
    pytest.param(history(LONG, 30, 4, last=date(2026, 3, 3), change=month_end_peak(30, 4)), "clear",
                 id="month-end-peak-falling-back"),
    pytest.param(history(LONG, 40, 6, change=step(40, 6, days=21, to=0.5, back_after=10)), "clear",
                 id="dip-that-recovered"),
    pytest.param(_without(history(LONG, 40, 6), {3, 9, 12, 20, 26, 30, 41}), "unknown", id="recent-gaps-unknown"),
])
def test_edges_with_twelve_weeks_of_history(dau: dict[date, int], status: str) -> None:
    """Sizes, seasonality and unsynced days give the same verdicts with the longer history as with 10 weeks."""
    assert assess(dau, max(dau), P).status == status


def _weekly_totals_by_definition(dau: dict[date, int], last: date, weeks: int) -> list[float] | None:
    """weekly_totals spelled out day by day: each unsynced day filled with the mean of its weekday's
    synced days of the window."""
    days = [last - timedelta(days=k) for k in range(7 * weeks - 1, -1, -1)]
    synced = [d for d in days if d in dau]
    by_weekday = {wd: [dau[d] for d in synced if d.weekday() == wd] for wd in range(7)}
    if len(synced) < 0.75 * len(days) or not all(by_weekday.values()):
        return None
    filled = [float(dau[d]) if d in dau else statistics.fmean(by_weekday[d.weekday()]) for d in days]
    return [sum(filled[7 * w : 7 * w + 7]) for w in range(weeks)]


def test_weekly_totals_match_their_definition_on_gappy_histories() -> None:
    """Random histories with unsynced days, every window length and end the rules use."""
    rng = random.Random(11)
    for _ in range(200):
        dau = {LAST - timedelta(days=k): rng.randrange(0, 60) for k in range(120) if rng.random() > 0.2}
        for weeks in (1, 2, 4, 8, 12):
            for back in (0, 1, 2, 7, 30):
                end = LAST - timedelta(days=back)
                assert weekly_totals(dau, end, weeks) == _weekly_totals_by_definition(dau, end, weeks)


def test_weekly_totals_match_their_definition_on_synced_histories() -> None:
    """Every day synced (weekly_totals' short way), counts small and past 2**31."""
    rng = random.Random(12)
    for _ in range(100):
        top = rng.choice((5, 60, 10**4, 2**40))
        dau = {LAST - timedelta(days=k): rng.randrange(0, top) for k in range(120)}
        for weeks in (1, 2, 4, 8, 12):
            for back in (0, 1, 2, 7, 30):
                end = LAST - timedelta(days=back)
                assert weekly_totals(dau, end, weeks) == _weekly_totals_by_definition(dau, end, weeks)


def test_the_sudden_rule_reads_each_days_baseline_once_with_the_same_answers() -> None:
    """`compare_days` keeps each day's baseline in `seen` for the rule's later calls: the same comparisons
    as computed afresh, on histories with gaps (an unsynced day's "none" is kept too)."""
    rng = random.Random(5)
    for _ in range(40):
        dau = _without(history(70, rng.randint(1, 60), rng.randint(0, 8)), set(rng.sample(range(70), 6)))
        seen: decline.DayBaselines = {}
        for end in range(10):
            days = [LAST - timedelta(days=end + i) for i in range(rng.randint(1, 7))]
            assert decline.compare_days(dau, days, P.baseline_weeks, seen) == \
                decline.compare_days(dau, days, P.baseline_weeks)
