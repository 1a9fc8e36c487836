"""The alert rules as pure functions over plain values: each says fire, clear or unknown.

Days are calendar days; `last_day` is the last complete day (today is never looked at). A day
missing from a history was not synced: it is never read as zero, and a rule that needs it answers
"unknown", which leaves any existing alert as it is.

- **usage_drop** fires on a sudden decline (the last 7 days against the same weekdays of the weeks
  before, held for `hold_days`) or a sustained one (the last 28 days against the 28 before), each
  more than `drop_pct` and beyond the counting noise of the team's size; see `decline.py`.
- **no_login** fires when every one of the last `days` days is synced with DAU 0.
- **feature_abandonment** fires per key feature with at least `min_prior_users` distinct users in
  the `prior_days` before the last `recent_days`, and no use at all in the last `recent_days`
  (which must all be synced).
- **guide_dismissal** fires per guide dismissed by at least `min_share` of at least `min_seen`
  visitors who saw it in the 30 days ending on the last day.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

from pendo_core.alerts import decline
from pendo_core.alerts.settings import (
    AbandonmentSettings,
    GuideDismissalSettings,
    NoLoginSettings,
    UsageDropSettings,
)

Status = Literal["fire", "clear", "unknown"]

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


def usage_drop(dau: Mapping[date, int], last_day: date, cfg: UsageDropSettings) -> Finding:
    """Fire on a sudden or a sustained decline beyond noise (the rules are in decline.py)."""
    params = decline.Params(cfg.drop_pct, cfg.baseline_weeks, cfg.hold_days, cfg.sustained_days, cfg.confidence,
                            cfg.min_daily_users)
    verdict = decline.assess(dau, last_day, params)
    if verdict.status != "fire" or verdict.decline is None:
        return Finding("usage_drop", verdict.status)
    d = verdict.decline
    drop = -d.change
    details = d.details()
    if d.rule == "sudden":  # the figures the sudden rule has always stored
        details.update(visitor_days=round(d.after), baseline_visitor_days=round(d.before, 1),
                       drop_pct=round(100 * drop, 1), baseline_weeks=cfg.baseline_weeks, held_days=cfg.hold_days)
    severity = "high" if drop >= 0.5 else "medium" if drop >= 0.35 else "low"
    action = f"Usage fell {100 * drop:.0f}% ({d.summary()}). {USAGE_DROP_ACTION}"
    return Finding("usage_drop", "fire", "", severity, details, action)


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
    """A usage_drop alert's numbers in one line a CSM can read: which rule fired, window, before, after,
    change and how sure (older alerts, stored before the rules named themselves, in their own words)."""
    if d.get("summary"):
        rule = {"sudden": "Sudden drop", "sustained": "Sustained decline"}.get(str(d.get("rule")), "Decline")
        return f"{rule}: {d['summary']}; window {d.get('window', '?')}"
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
