"""The alert rules as pure functions over plain values: each says fire, clear or unknown.

Days are calendar days; `last_day` is the last complete day (today is never looked at). A day
missing from a history was not synced: it is never read as zero, and a rule that needs it answers
"unknown", which leaves any existing alert as it is.

- **usage_drop** compares visitor-days (the sum of DAU) of the 7 days ending on an anchor day with
  the same weekdays of the `baseline_weeks` weeks before: each day's baseline is the median of its
  weekday's synced values (at least half of them must be synced), so one holiday or odd week in the
  baseline moves nothing. A week is "down" when its visitor-days are more than `drop_pct` below
  the baseline, the baseline averages at least `min_daily_users` a day, the shortfall exceeds
  counting noise (2 * sqrt(baseline): active-visitor counts vary at most like a Poisson count), and
  the median of its 7 daily ratios (day / its baseline) is below the limit too, so a holiday or
  two inside the week cannot make it "down". It fires when the weeks ending on each of the last
  `hold_days` days are down and the latest days (at least `hold_days`, back far enough to carry 40%
  of a usual week's use, so a weekend alone never decides) are still more than `drop_pct` below
  their baseline: a dip that has recovered does not fire.
- **no_login** fires when every one of the last `days` days is synced with DAU 0.
- **feature_abandonment** fires per key feature with at least `min_prior_users` distinct users in
  the `prior_days` before the last `recent_days`, and no use at all in the last `recent_days`
  (which must all be synced).
- **guide_dismissal** fires per guide dismissed by at least `min_share` of at least `min_seen`
  visitors who saw it in the 30 days ending on the last day.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from pendo_core.alerts.settings import (
    AbandonmentSettings,
    GuideDismissalSettings,
    NoLoginSettings,
    UsageDropSettings,
)

Status = Literal["fire", "clear", "unknown"]
NOISE_Z = 2.0
NOISE_VARIANCE = 1.0  # counts of active visitors vary at most like a Poisson count (variance <= mean)
RECENT_SHARE = 0.4  # the latest days checked for a recovery carry at least 40% of a usual week's use

# The suggested actions; each alert says its situation with its numbers, then the kind's action.
USAGE_DROP_ACTION = ("Call the champion to learn what changed (team, tooling, priorities) and offer a usage "
                     "review.")
NO_LOGIN_ACTION = ("Reach out to the champion and the sponsor now: confirm the account is still in use and offer "
                   "a re-onboarding session.")
ABANDONMENT_ACTION = ("Send the people who used it enablement content (a short how-to or a training session) and "
                      "ask why they stopped.")
DISMISSAL_ACTION = "Review the guide with the customer's admin: shorten it, retarget it or change when it shows."


@dataclass(frozen=True)
class Finding:
    """A rule's verdict on one subject (a feature or guide id; "" for the customer as a whole)."""

    kind: str
    status: Status
    subject: str = ""
    severity: str = "medium"
    details: dict[str, Any] = field(default_factory=dict)
    action: str | None = None


@dataclass(frozen=True)
class FeatureWindow:
    """A key feature's use by one customer: distinct users before the recent window, last use."""

    feature_id: str
    name: str | None
    prior_users: int
    recent_uses: int
    last_used: date | None = None


@dataclass(frozen=True)
class GuideWindow:
    """A guide's 30-day counts for one customer on the last day."""

    guide_id: str
    name: str | None
    seen: int
    dismissed: int


# --- usage_drop ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekCompare:
    """Visitor-days of some days against their weekdays' baseline, and the median daily ratio."""

    current: int
    baseline: float
    typical_ratio: float


def compare_days(dau: Mapping[date, int], days: Sequence[date], weeks: int) -> WeekCompare | None:
    """Sum of DAU over `days` vs the sum of each day's same-weekday median over `weeks` weeks before;
    None when a day, or more than half of a day's baseline, is not synced."""
    current, baseline, ratios = 0, 0.0, []
    for day in days:
        if day not in dau:
            return None
        past = [dau[p] for p in (day - timedelta(weeks=k) for k in range(1, weeks + 1)) if p in dau]
        if len(past) * 2 < weeks:
            return None
        usual = statistics.median(past)
        current, baseline = current + dau[day], baseline + usual
        ratios.append(dau[day] / usual if usual else 1.0)
    return WeekCompare(current, baseline, statistics.median(ratios) if ratios else 1.0)


def usage_drop(dau: Mapping[date, int], last_day: date, cfg: UsageDropSettings) -> Finding:
    """Fire when usage stayed more than drop_pct below its same-weekday baseline for hold_days."""
    limit = 1 - cfg.drop_pct / 100
    anchors = [last_day - timedelta(days=k) for k in range(cfg.hold_days)]
    weeks = [compare_days(dau, [a - timedelta(days=i) for i in range(7)], cfg.baseline_weeks) for a in anchors]
    if any(w is None for w in weeks):
        return Finding("usage_drop", "unknown")
    now = weeks[0]
    assert now is not None
    held = all(w is not None and _dropped(w, limit, cfg.min_daily_users) for w in weeks)
    if not held or _recovered(dau, last_day, now.baseline, limit, cfg):
        return Finding("usage_drop", "clear")
    drop = 1 - now.current / now.baseline
    details = {"window": f"{last_day - timedelta(days=6)}..{last_day}", "visitor_days": now.current,
               "baseline_visitor_days": round(now.baseline, 1), "avg_daily_users": round(now.current / 7, 1),
               "baseline_avg_daily_users": round(now.baseline / 7, 1), "drop_pct": round(100 * drop, 1),
               "baseline_weeks": cfg.baseline_weeks, "held_days": cfg.hold_days}
    severity = "high" if drop >= 0.5 else "medium" if drop >= 0.35 else "low"
    action = (f"Usage fell {100 * drop:.0f}% against the same weekdays of the {cfg.baseline_weeks} weeks before "
              f"({now.baseline / 7:.1f} -> {now.current / 7:.1f} daily users). {USAGE_DROP_ACTION}")
    return Finding("usage_drop", "fire", "", severity, details, action)


def _dropped(week: WeekCompare, limit: float, min_daily: float) -> bool:
    if week.baseline < 7 * min_daily or week.baseline <= 0:
        return False
    noise = NOISE_Z * math.sqrt(NOISE_VARIANCE * week.baseline)
    broad = week.typical_ratio < limit  # most days are down, not a few holidays
    return week.current < limit * week.baseline and week.baseline - week.current > noise and broad


def _recovered(dau: Mapping[date, int], last_day: date, weekly: float, limit: float,
               cfg: UsageDropSettings) -> bool:
    """True when the latest days are back above the limit: at least hold_days days, extended back
    until they carry RECENT_SHARE of a usual week (so a weekend alone never decides)."""
    days: list[date] = []
    tail = WeekCompare(0, 0.0, 1.0)
    while len(days) < 7 and (len(days) < cfg.hold_days or tail.baseline < RECENT_SHARE * weekly):
        days.append(last_day - timedelta(days=len(days)))
        tail = compare_days(dau, days, cfg.baseline_weeks) or tail
    return tail.current > limit * tail.baseline


# --- no_login --------------------------------------------------------------------------------


def no_login(dau: Mapping[date, int], last_day: date, cfg: NoLoginSettings) -> Finding:
    """Fire when every one of the last `days` days is synced and nobody was active."""
    window = [last_day - timedelta(days=i) for i in range(cfg.days)]
    if any(dau.get(day, 0) > 0 for day in window):
        return Finding("no_login", "clear")
    if any(day not in dau for day in window):
        return Finding("no_login", "unknown")
    active = [day for day, n in dau.items() if n > 0 and day <= last_day]
    last_active = max(active) if active else None
    quiet = (last_day - last_active).days if last_active else None
    details: dict[str, Any] = {"window_days": cfg.days, "days_without_login": quiet,
                               "last_active_day": last_active.isoformat() if last_active else None}
    if last_active is None:
        details["synced_days_read"] = len(dau)  # nobody active in any of them
    since = f"since {last_active.isoformat()} ({quiet} days)" if last_active else f"in the {len(dau)} synced days"
    action = f"No one has logged in {since}. {NO_LOGIN_ACTION}"
    return Finding("no_login", "fire", "", "high", details, action)


# --- feature_abandonment ---------------------------------------------------------------------


def feature_abandonment(features: Sequence[FeatureWindow], recent_synced: bool,
                        cfg: AbandonmentSettings) -> list[Finding]:
    """One finding per key feature: fire when used by enough people before and by nobody lately."""
    if not recent_synced:
        return [Finding("feature_abandonment", "unknown")]  # for the whole kind: absent features prove nothing
    return [_abandonment(f, cfg) for f in features]


def _abandonment(f: FeatureWindow, cfg: AbandonmentSettings) -> Finding:
    if f.prior_users < cfg.min_prior_users or f.recent_uses > 0:
        return Finding("feature_abandonment", "clear", f.feature_id)
    name = f.name or f.feature_id
    details = {"feature_id": f.feature_id, "feature_name": f.name, "prior_users": f.prior_users,
               "prior_days": cfg.prior_days, "recent_days": cfg.recent_days,
               "last_used": f.last_used.isoformat() if f.last_used else None}
    severity = "high" if f.prior_users >= 10 else "medium" if f.prior_users >= 5 else "low"
    action = (f"{f.prior_users} people used the key feature \"{name}\" and nobody has in {cfg.recent_days} days. "
              f"{ABANDONMENT_ACTION}")
    return Finding("feature_abandonment", "fire", f.feature_id, severity, details, action)


# --- guide_dismissal -------------------------------------------------------------------------


def guide_dismissal(guides: Sequence[GuideWindow], day_synced: bool, cfg: GuideDismissalSettings) -> list[Finding]:
    """One finding per guide: fire when enough of the visitors who saw it dismissed it."""
    if not day_synced:
        return [Finding("guide_dismissal", "unknown")]
    return [_dismissal(g, cfg) for g in guides]


def _dismissal(g: GuideWindow, cfg: GuideDismissalSettings) -> Finding:
    share = g.dismissed / g.seen if g.seen else 0.0
    if g.seen < cfg.min_seen or share < cfg.min_share:
        return Finding("guide_dismissal", "clear", g.guide_id)
    name = g.name or g.guide_id
    details = {"guide_id": g.guide_id, "guide_name": g.name, "seen_visitors": g.seen,
               "dismissed_visitors": g.dismissed, "dismissal_rate": round(share, 3), "window_days": 30}
    action = (f"{100 * share:.0f}% of the {g.seen} people who saw the guide \"{name}\" in 30 days dismissed it. "
              f"{DISMISSAL_ACTION}")
    return Finding("guide_dismissal", "fire", g.guide_id, "medium" if share >= 0.8 else "low", details, action)


# --- the numbers in words ---------------------------------------------------------------------


def usage_drop_numbers(d: Mapping[str, Any]) -> str:
    """A usage_drop alert's numbers in one line a CSM can read."""
    if "drop_pct" not in d:
        return ""
    return (f"Daily users {d.get('baseline_avg_daily_users')} → {d.get('avg_daily_users')} "
            f"(−{d['drop_pct']:.0f}%) in {d.get('window', 'the last 7 days')} vs the same weekdays of the "
            f"{d.get('baseline_weeks', 4)} weeks before; held {d.get('held_days', 1)} days")


def no_login_numbers(d: Mapping[str, Any]) -> str:
    """A no_login alert's numbers in one line."""
    if d.get("last_active_day"):
        return f"Nobody active for {d.get('days_without_login')} days (last active {d['last_active_day']})"
    return f"Nobody active in any of the {d.get('synced_days_read', d.get('window_days'))} synced days"


def abandonment_numbers(d: Mapping[str, Any]) -> str:
    """A feature_abandonment alert's numbers in one line."""
    last = f"; last used {d['last_used']}" if d.get("last_used") else ""
    return (f"“{d.get('feature_name') or d.get('feature_id')}”: {d.get('prior_users')} users in the "
            f"{d.get('prior_days')} days before, none in the last {d.get('recent_days')} days{last}")


def dismissal_numbers(d: Mapping[str, Any]) -> str:
    """A guide_dismissal alert's numbers in one line."""
    return (f"“{d.get('guide_name') or d.get('guide_id')}”: {d.get('dismissed_visitors')} of "
            f"{d.get('seen_visitors')} viewers dismissed it ({float(d.get('dismissal_rate') or 0):.0%}) "
            f"in {d.get('window_days', 30)} days")
