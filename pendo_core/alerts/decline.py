"""Declines in a customer's use, sudden or sustained, told apart from noise: pure functions over DAU.

The input is DAU per day. A day missing from it was not synced: it is unknown, never zero. Both
rules count visitor-days (the sum of DAU over days), so a week is a week whatever its weekday mix,
and both say "fire", "clear" or "unknown" (not enough synced days to judge).

- **sudden**: the visitor-days of the 7 days ending on an anchor day against the same weekdays of
  the `baseline_weeks` weeks before, each day's baseline the median of its weekday's synced values
  (at least half of them synced), so one holiday or odd week in the baseline moves nothing. A week
  is down when it is more than `drop_pct` below its baseline, the median of its 7 daily ratios is
  below that too (so a holiday or two inside the week cannot make it down), and the shortfall is
  beyond noise (below). It fires when the weeks ending on each of the last `hold_days` days are
  down and the latest days (at least `hold_days`, back far enough to carry 40% of a usual week's
  use, so a weekend alone never decides) are still below the limit: a dip that recovered is quiet.
- **sustained**: the last `sustained_days` (28) complete days against the `sustained_baseline_weeks`
  (8) weeks before them (when under 75% of their days are synced, a young history, the 28 days
  before), as weekly totals, each level the mean of its weeks (a count's most exact estimate: the
  median of four weeks threw away half of them; eight weeks before halve the noise of the level a
  small team is judged against, and a slide that began before the 4 weeks before the window is
  measured against more of the level it fell from; a holiday week before only makes the rule more
  careful; a month-end peak is not big enough to matter, on the labelled worlds). It fires when
  the level now is more than `drop_pct` below the level before, at least half of the recent weeks
  are below that limit (a slide, not one bad week), the last week still is and is not clearly back
  up from the lowest recent week (not recovered, not recovering: `rebounded`), and the fall is
  beyond noise: here, the least-squares
  trend of the last 8 weekly totals (the window and the 4 weeks before it) against its standard
  error, so one odd week (a holiday in either window) barely tilts it. Like the sudden rule, it
  must hold on each of the last `hold_days` days (the windows ending on each), so one noisy day
  does not decide.
- **noise** ("how sure"): a week's visitor-days are a count whose variance is phi times its mean
  (quasi-Poisson). phi comes from the week-to-week variation of weekly totals, read robustly (the
  median absolute deviation of successive differences, so a step, a slide or one odd week is not
  noise): the 8 weeks before the current one for the sudden rule, the 8 weeks of its trend for
  the sustained one. Eight weeks say little about noise, so the estimate is pulled towards Poisson's
  phi = 1 with the weight of 4 weeks. For the sustained trend it may fall to 0.5 and no lower (a
  team's daily users are capped by its size, so they vary less than a Poisson count); the sudden
  rule, judging one week that one person's absence can move, keeps phi >= 1. Its
  z = (before - now) / sqrt(phi * pooled level * (1/4 + 1)); sure = Phi(z). A rule fires only when
  sure >= `confidence` (0.9, chosen on labelled training worlds: `python -m jobs evaluate`): a
  4-user team that falls to 1 is sure, a 3-user team wobbling between 2 and 4 a day is not, and a
  big team's ordinary weekly swings widen phi instead of alerting.
- **unsynced days** inside a window are filled with the mean of their weekday's synced days in that
  window; a window needs 75% of its days synced and every weekday seen, else the rule is unknown.
"""

from __future__ import annotations

import functools
import itertools
import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal, cast

Status = Literal["fire", "clear", "unknown"]
RECENT_SHARE = 0.4  # the latest days checked for a recovery carry at least 40% of a usual week's use
MIN_SYNCED = 0.75  # share of a window's days that must be synced
MAD_TO_SD = 1.4826  # a normal sample's standard deviation from its median absolute deviation
PHI_FLOOR = 0.5  # visitor-days are capped by the team's size, so they can vary less than a Poisson count
PHI_PRIOR_WEEKS = 4  # weight, in weeks, of Poisson's phi = 1 against the weeks' own estimate
NOISE_WEEKS = 8  # weeks of history the sudden rule reads its noise from (fewer when fewer are synced)
REBOUND_Z = 3.0  # a last week this many standard deviations above the recent trough is a recovery


@dataclass(frozen=True)
class Params:
    """The thresholds of both rules (the usage_drop settings, as plain numbers)."""

    drop_pct: float = 20.0
    baseline_weeks: int = 4
    hold_days: int = 3
    sustained_days: int = 28
    confidence: float = 0.9
    min_daily_users: float = 0.0  # an optional floor on the baseline's daily users; 0 lets the test decide
    sustained_baseline_weeks: int = 8  # weeks before the sustained window its level before is read from


@dataclass(frozen=True)
class Decline:
    """The numbers behind a verdict: visitor-days a week before and now, over which windows, how sure."""

    rule: Literal["sudden", "sustained"]
    window: tuple[date, date]
    baseline: tuple[date, date]
    before: float  # visitor-days a week before
    after: float  # visitor-days a week now
    sure: float  # Phi(z), 0.5 when there is no evidence either way

    @property
    def change(self) -> float:
        """Relative change, -0.37 for a fall of 37%."""
        return self.after / self.before - 1.0 if self.before else 0.0

    def compared(self) -> str:
        """Which windows were compared, in words."""
        if self.rule == "sustained":
            days = (self.window[1] - self.window[0]).days + 1
            before = (self.baseline[1] - self.baseline[0]).days + 1
            return f"{days} days vs the {before} before"
        weeks = ((self.baseline[1] - self.baseline[0]).days + 1) // 7
        return f"the last 7 days vs the same weekdays of the {weeks} weeks before"

    def summary(self) -> str:
        """One line, e.g. "30 visitor-days a week → 19, -37%, 28 days vs the 56 before (98% sure)"."""
        return (f"{self.before:.0f} visitor-days a week → {self.after:.0f}, −{-100 * self.change:.0f}%, "
                f"{self.compared()} ({_percent(self.sure)} sure)")

    def details(self) -> dict[str, Any]:
        """The figures an alert stores (JSON-ready)."""
        return {"rule": self.rule, "summary": self.summary(), "window": f"{self.window[0]}..{self.window[1]}",
                "baseline_window": f"{self.baseline[0]}..{self.baseline[1]}",
                "visitor_days_per_week": round(self.after, 1), "baseline_visitor_days_per_week": round(self.before, 1),
                "avg_daily_users": round(self.after / 7, 1), "baseline_avg_daily_users": round(self.before / 7, 1),
                "change_pct": round(100 * self.change, 1), "sure": round(self.sure, 4)}


@dataclass(frozen=True)
class Verdict:
    """A rule's answer and, when it could compare, the numbers behind it."""

    status: Status
    decline: Decline | None = None


UNKNOWN = Verdict("unknown")


def assess(dau: Mapping[date, int], last_day: date, p: Params) -> Verdict:
    """Both rules: the larger firing decline; else unknown when either cannot judge; else clear."""
    verdicts = [sudden(dau, last_day, p), sustained(dau, last_day, p)]
    fired = [v for v in verdicts if v.status == "fire" and v.decline is not None]
    if fired:
        return min(fired, key=lambda v: v.decline.change if v.decline else 0.0)
    if any(v.status == "unknown" for v in verdicts):
        return UNKNOWN
    return Verdict("clear")


def dispersion(weekly_var: float, level: float, weeks: int) -> float:
    """phi, the weekly variance over the weekly mean: the estimate from `weeks` weeks, pulled towards
    Poisson's 1 with the weight of PHI_PRIOR_WEEKS weeks, and never below PHI_FLOOR."""
    if level <= 0:
        return 1.0
    df = max(weeks - 2, 1)
    return max(PHI_FLOOR, (df * weekly_var / level + PHI_PRIOR_WEEKS) / (df + PHI_PRIOR_WEEKS))


def how_sure(before: float, now: float, weeks_before: int, weeks_now: int, phi: float) -> float:
    """Phi(z) for a fall from `before` to `now` visitor-days a week, each level the mean of some weeks."""
    pooled = (before * weeks_before + now * weeks_now) / (weeks_before + weeks_now)
    if pooled <= 0:
        return 0.5
    return _normal_cdf((before - now) / math.sqrt(phi * pooled * (1 / weeks_before + 1 / weeks_now)))


def trend_sure(weeks: Sequence[float]) -> float:
    """Phi(z) that weekly totals fall: the least-squares slope against its standard error, with the
    noise of the weeks themselves (one odd week barely tilts a line through eight)."""
    n = len(weeks)
    level = statistics.fmean(weeks)
    if n < 3 or level <= 0:
        return 0.5
    t = [i - (n - 1) / 2 for i in range(n)]
    sxx = sum(x * x for x in t)
    slope = sum(x * y for x, y in zip(t, weeks, strict=True)) / sxx
    phi = dispersion(weekly_variance(weeks), level, n)
    return _normal_cdf(-slope / math.sqrt(phi * level / sxx))


def _normal_cdf(z: float) -> float:
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def weekly_variance(weeks: Sequence[float]) -> float:
    """The week-to-week variance of weekly totals, robustly: from the median absolute deviation of
    their successive differences, so a step, a slide or one odd week does not count as noise."""
    diffs = [b - a for a, b in itertools.pairwise(weeks)]
    if len(diffs) < 2:
        return 0.0
    center = statistics.median(diffs)
    mad = statistics.median(abs(d - center) for d in diffs)
    return (MAD_TO_SD * mad) ** 2 / 2


def weekly_totals(dau: Mapping[date, int], last: date, weeks: int) -> list[float] | None:
    """Visitor-days of `weeks` weeks ending on `last`, oldest first, unsynced days filled from their
    weekday's synced days; None when under 75% of the days are synced or a weekday never is."""
    span = _span(last, 7 * weeks)
    return _totals(list(map(dau.get, span.days)), span.weekdays, weeks)


def _totals(values: list[int | None], weekdays: tuple[int, ...], weeks: int) -> list[float] | None:
    """`weekly_totals` of the DAU `values` (None: unsynced) of whole weeks, oldest first, on `weekdays`."""
    # The two common cases first, without grouping the days by weekday: every day synced (nothing to fill)
    # and too few synced (a window reaching before the history: most of _phi's tries).
    unsynced = values.count(None)
    if not unsynced:
        synced = cast(list[int], values)
        return [float(sum(synced[7 * w : 7 * w + 7])) for w in range(weeks)]
    if len(values) - unsynced < MIN_SYNCED * len(values):
        return None
    seen: dict[int, list[int]] = {}
    for weekday, value in zip(weekdays, values, strict=True):
        if value is not None:
            seen.setdefault(weekday, []).append(value)
    if len(seen) < 7:
        return None
    usual = {wd: statistics.fmean(v) for wd, v in seen.items()}
    filled = [float(value) if value is not None else usual[weekday]
              for weekday, value in zip(weekdays, values, strict=True)]
    return [sum(filled[7 * w : 7 * w + 7]) for w in range(weeks)]


@dataclass(frozen=True)
class _Span:
    days: tuple[date, ...]  # oldest first
    weekdays: tuple[int, ...]  # of each day


@functools.lru_cache(maxsize=512)
def _span(last: date, days: int) -> _Span:
    """The `days` days ending on `last`, oldest first, and their weekdays. Every customer's rules ask
    for the same few spans: building them once per call was half of the usage-drop rule's time at
    20,000 customers (README, Benchmark)."""
    span = tuple(last - timedelta(days=k) for k in range(days - 1, -1, -1))
    return _Span(span, tuple(day.weekday() for day in span))


@functools.lru_cache(maxsize=512)
def _same_weekdays_before(day: date, weeks: int) -> tuple[date, ...]:
    """The same weekday in each of the `weeks` weeks before `day`, latest first (shared like `_span`)."""
    return tuple(day - timedelta(weeks=k) for k in range(1, weeks + 1))


# --- sustained -------------------------------------------------------------------------------


def sustained(dau: Mapping[date, int], last_day: date, p: Params) -> Verdict:
    """The last `sustained_days` against the same span before, held on each of the last hold_days days."""
    verdicts = [_sustained_on(dau, last_day - timedelta(days=k), p) for k in range(p.hold_days)]
    now = verdicts[0]
    if now.status == "unknown" or all(v.status == "fire" for v in verdicts):
        return now
    return Verdict("clear", now.decline)


def _sustained_on(dau: Mapping[date, int], last_day: date, p: Params) -> Verdict:
    """The sustained comparison for the windows ending on `last_day`."""
    weeks = max(1, p.sustained_days // 7)
    span = timedelta(days=7 * weeks)
    now = weekly_totals(dau, last_day, weeks)
    before = _weeks_before(dau, last_day - span, weeks, max(weeks, p.sustained_baseline_weeks))
    if now is None or before is None:
        return UNKNOWN
    level_before, level_now = statistics.fmean(before), statistics.fmean(now)
    start = last_day - span + timedelta(days=1)
    decline = Decline("sustained", (start, last_day), (start - timedelta(weeks=len(before)), start - timedelta(days=1)),
                      level_before, level_now, trend_sure(before[-weeks:] + now))
    limit = (1 - p.drop_pct / 100) * level_before
    slid = level_now < limit and sum(w < limit for w in now) >= weeks // 2 and now[-1] < limit
    slid = slid and not rebounded(now)
    big_enough = level_before > 0 and level_before >= 7 * p.min_daily_users
    return Verdict("fire" if slid and big_enough and decline.sure >= p.confidence else "clear", decline)


def _weeks_before(dau: Mapping[date, int], last: date, fewest: int, most: int) -> list[float] | None:
    """Weekly totals of the `most` weeks ending on `last` when they are synced enough (weekly_totals:
    75% of their days), else of the `fewest` weeks ending on it (a young history: the span before, as
    long as the window); None when neither is. Nothing in between, so a history a few days short of
    the `most` weeks is judged as it always was."""
    return weekly_totals(dau, last, most) or weekly_totals(dau, last, fewest)


def rebounded(weeks: Sequence[float]) -> bool:
    """True when the last weekly total is clearly above the lowest of the weeks before it (more than
    REBOUND_Z times the Poisson noise of their difference): a dip on its way back, not a slide, whose
    last week is its lowest or near it. On the labelled training worlds this silenced the recovered
    holiday shutdowns (3 of 64 -> 1) at the cost of one real decline in 213."""
    if len(weeks) < 2:
        return False
    last, trough = weeks[-1], min(weeks[:-1])
    return last - trough > REBOUND_Z * math.sqrt(max(last + trough, 1.0))


# --- sudden ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCompare:
    """Visitor-days of some days against their weekdays' baseline, and the median daily ratio."""

    current: int
    baseline: float
    typical_ratio: float


DayBaselines = dict[date, tuple[int, float] | None]  # a day's (DAU, same-weekday median), as compare_days uses


def compare_days(dau: Mapping[date, int], days: Sequence[date], weeks: int,
                 seen: DayBaselines | None = None) -> WeekCompare | None:
    """Sum of DAU over `days` vs the sum of each day's same-weekday median over `weeks` weeks before;
    None when a day, or more than half of a day's baseline, is not synced. `seen` keeps each day's
    baseline for the next call on the same DAU and `weeks` (the sudden rule asks for each day up to
    seven times: its overlapping weeks, then the recovery)."""
    current, baseline, ratios = 0, 0.0, []
    for day in days:
        if seen is None:
            known = _day_baseline(dau, day, weeks)
        elif day in seen:
            known = seen[day]
        else:
            known = seen[day] = _day_baseline(dau, day, weeks)
        if known is None:
            return None
        value, usual = known
        current, baseline = current + value, baseline + usual
        ratios.append(value / usual if usual else 1.0)
    return WeekCompare(current, baseline, statistics.median(ratios) if ratios else 1.0)


def _day_baseline(dau: Mapping[date, int], day: date, weeks: int) -> tuple[int, float] | None:
    """The day's DAU and its same-weekday median over `weeks` weeks before (None: not synced enough)."""
    if day not in dau:
        return None
    past = [dau[p] for p in _same_weekdays_before(day, weeks) if p in dau]
    if len(past) * 2 < weeks:
        return None
    return dau[day], statistics.median(past)


def sudden(dau: Mapping[date, int], last_day: date, p: Params) -> Verdict:
    """Usage more than drop_pct below its same-weekday baseline for hold_days, beyond noise, not recovered."""
    limit = 1 - p.drop_pct / 100
    anchors = [last_day - timedelta(days=k) for k in range(p.hold_days)]
    seen: DayBaselines = {}
    weeks = [compare_days(dau, [a - timedelta(days=i) for i in range(7)], p.baseline_weeks, seen) for a in anchors]
    if any(w is None for w in weeks):
        return UNKNOWN
    verdicts = [_week(dau, a, w, p) for a, w in zip(anchors, weeks, strict=True) if w is not None]
    now = verdicts[0]
    held = all(v.status == "fire" for v in verdicts)
    if not held or _recovered(dau, last_day, now.decline.before if now.decline else 0.0, limit, p, seen=seen):
        return Verdict("clear", now.decline)
    return now


def _week(dau: Mapping[date, int], anchor: date, week: WeekCompare, p: Params) -> Verdict:
    """Whether the week ending on `anchor` is down, with its numbers."""
    # One week is exposed to one person's absence: no credit below Poisson's noise for a regular team.
    phi = max(1.0, _phi(dau, anchor - timedelta(days=7)))
    sure = how_sure(week.baseline, week.current, p.baseline_weeks, 1, phi)
    start = anchor - timedelta(days=6)
    decline = Decline("sudden", (start, anchor), (start - timedelta(weeks=p.baseline_weeks), start - timedelta(days=1)),
                      week.baseline, float(week.current), sure)
    limit = 1 - p.drop_pct / 100
    down = week.current < limit * week.baseline and week.typical_ratio < limit
    big_enough = week.baseline > 0 and week.baseline >= 7 * p.min_daily_users
    return Verdict("fire" if down and big_enough and sure >= p.confidence else "clear", decline)


def _phi(dau: Mapping[date, int], last: date) -> float:
    """phi from the longest run of up to NOISE_WEEKS synced weeks ending on `last` (Poisson's 1 without)."""
    span = _span(last, 7 * NOISE_WEEKS)
    values = list(map(dau.get, span.days))  # read once: each shorter run is its tail
    for weeks in range(NOISE_WEEKS, 2, -1):
        skip = 7 * (NOISE_WEEKS - weeks)
        totals = _totals(values[skip:], span.weekdays[skip:], weeks)
        if totals is not None:
            return dispersion(weekly_variance(totals), statistics.fmean(totals), weeks)
    return 1.0


def _recovered(dau: Mapping[date, int], last_day: date, weekly: float, limit: float, p: Params, *,
               seen: DayBaselines | None = None) -> bool:
    """True when the latest days are back above the limit: at least hold_days days, extended back
    until they carry RECENT_SHARE of a usual week (so a weekend alone never decides)."""
    days: list[date] = []
    tail = WeekCompare(0, 0.0, 1.0)
    while len(days) < 7 and (len(days) < p.hold_days or tail.baseline < RECENT_SHARE * weekly):
        days.append(last_day - timedelta(days=len(days)))
        tail = compare_days(dau, days, p.baseline_weeks, seen) or tail
    return tail.current > limit * tail.baseline


def _percent(sure: float) -> str:
    """99.97% reads "99.9%", 0.982 "98%": never rounds up to a certainty it does not have."""
    if sure >= 0.995:
        return f"{math.floor(sure * 1000) / 10:g}%"
    return f"{math.floor(sure * 100):d}%"
