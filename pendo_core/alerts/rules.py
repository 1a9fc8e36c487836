"""The alert rules as pure functions over plain values: each says fire, clear or unknown.

Days are calendar days; `last_day` is the last complete day (today is never looked at). A day
missing from a history was not synced: it is never read as zero, and a rule that needs it answers
"unknown", which leaves any existing alert as it is.

- **usage_drop** fires on a sudden decline (the last 7 days against the same weekdays of the weeks
  before, held for `hold_days`) or a sustained one (the last 28 days against the 8 weeks before), each
  more than `drop_pct` and beyond the counting noise of the team's size; see `decline.py`.
- **no_login** fires when every one of the last `days` days is synced with DAU 0.
- **feature_abandonment** fires per key feature with at least `min_prior_users` distinct users in
  the `prior_days` before the last `recent_days`, no use at all in the last `recent_days` (which
  must all be synced), and a silence its own prior use makes unlikely: if nothing had changed, its
  n visitor-days of use would be spread evenly over the prior and recent days (T days), and the
  chance that all n fall before the silence of S days since its last use is (1 - S/T)^n. It fires
  when that chance is at most 1 - `confidence`: a feature used on 20 visitor-days that stops is news,
  one used on 4 that has not been used for 14 days is not (a Poisson process's events, given
  their number, are uniform in time; so the test needs no rate).
- **guide_dismissal** fires per guide when this customer's users reject it more than other customers'
  do: of at least `min_seen` visitors who saw it in the 30 days ending on the last day, at least
  `min_share` dismissed it, that share is at least `min_excess` above the guide's usual share, and it
  is at least `confidence` sure to be above it (a binomial test). The usual share is the guide's
  dismissal share across the other customers (their dismissers over their viewers), leaving out the
  other customers who reject it themselves (`counts_elsewhere`), or even odds when fewer than
  `min_seen` visitors of other customers saw it. A guide everyone dismisses is the guide's problem,
  not one customer's: it alerts nobody.
"""

from __future__ import annotations

import math
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
    """A key feature's use by one customer: distinct users before the recent window, last use. Read through the
    feature metrics (alerts/inputs.py), a feature used in the recent window has its days of use there as
    `recent_uses` and no prior counts: the rule clears it whatever they are."""

    feature_id: str
    name: str | None
    prior_users: int
    recent_uses: int
    last_used: date | None = None
    prior_uses: int = 0  # visitor-days of use in the prior window


@dataclass(frozen=True)
class GuideWindow:
    """A guide's 30-day counts for one customer on the last day, and the same counts at the other customers."""

    guide_id: str
    name: str | None
    seen: int
    dismissed: int
    others_seen: int = 0  # viewers at the other customers (per customer: a visitor of two counts in both)
    others_dismissed: int = 0  # dismissers at the other customers


# --- usage_drop ------------------------------------------------------------------------------


def usage_drop(dau: Mapping[date, int], last_day: date, cfg: UsageDropSettings) -> Finding:
    """Fire on a sudden or a sustained decline beyond noise (the rules are in decline.py)."""
    params = decline.Params(cfg.drop_pct, cfg.baseline_weeks, cfg.hold_days, cfg.sustained_days, cfg.confidence,
                            cfg.min_daily_users, cfg.sustained_baseline_weeks)
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


def feature_abandonment(features: Sequence[FeatureWindow], recent_synced: bool, cfg: AbandonmentSettings,
                        last_day: date | None = None) -> list[Finding]:
    """One finding per key feature: fire when used by enough people before, by nobody lately, and that
    silence is unlikely by chance (`last_day` dates the silence from the last use; without it, or
    without a last use, the silence is the recent window)."""
    if not recent_synced:
        return [Finding("feature_abandonment", "unknown")]  # for the whole kind: absent features prove nothing
    return [_abandonment(f, cfg, last_day) for f in features]


def silent_days(f: FeatureWindow, cfg: AbandonmentSettings, last_day: date | None) -> int:
    """Days without use up to last_day: since the last use, at least the recent window, at most both windows."""
    if last_day is None or f.last_used is None:
        return cfg.recent_days
    return min(cfg.prior_days + cfg.recent_days, max(cfg.recent_days, (last_day - f.last_used).days))


def silence_chance(uses: int, silent: int, cfg: AbandonmentSettings) -> float:
    """The chance that `uses` visitor-days spread evenly over the prior and recent windows all miss the
    last `silent` days: (1 - silent / (prior_days + recent_days)) ** uses."""
    return float((1 - silent / (cfg.prior_days + cfg.recent_days)) ** uses)


def _abandonment(f: FeatureWindow, cfg: AbandonmentSettings, last_day: date | None) -> Finding:
    if f.prior_users < cfg.min_prior_users or f.recent_uses > 0:
        return Finding("feature_abandonment", "clear", f.feature_id)
    silent = silent_days(f, cfg, last_day)
    chance = silence_chance(f.prior_uses, silent, cfg)
    if chance > 1 - cfg.confidence:
        return Finding("feature_abandonment", "clear", f.feature_id)
    name = f.name or f.feature_id
    details = {"feature_id": f.feature_id, "feature_name": f.name, "prior_users": f.prior_users,
               "prior_visitor_days": f.prior_uses, "prior_days": cfg.prior_days, "recent_days": cfg.recent_days,
               "silent_days": silent, "chance": round(chance, 4),
               "last_used": f.last_used.isoformat() if f.last_used else None}
    severity = "high" if f.prior_users >= 10 else "medium" if f.prior_users >= 5 else "low"
    action = (f"{f.prior_users} people used the key feature \"{name}\" on {f.prior_uses} visitor-days in the "
              f"{cfg.prior_days} days before, and nobody has in {silent} days ({_chance(chance)} likely by chance). "
              f"{ABANDONMENT_ACTION}")
    return Finding("feature_abandonment", "fire", f.feature_id, severity, details, action)


# --- guide_dismissal -------------------------------------------------------------------------


def guide_dismissal(guides: Sequence[GuideWindow], day_synced: bool, cfg: GuideDismissalSettings) -> list[Finding]:
    """One finding per guide: fire when this customer's viewers dismiss it clearly more than other customers'."""
    if not day_synced:
        return [Finding("guide_dismissal", "unknown")]
    return [_dismissal(g, cfg) for g in guides]


def binomial_tail(k: int, n: int, p: float) -> float:
    """P(X >= k) for X ~ Binomial(n, p), summed in log space (no overflow for large n)."""
    if k <= 0:
        return 1.0
    if p <= 0 or k > n:
        return 0.0
    if p >= 1:
        return 1.0
    terms = (math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * math.log(p)
             + (n - i) * math.log1p(-p) for i in range(k, n + 1))
    return min(1.0, sum(math.exp(t) for t in terms))


@dataclass(frozen=True)
class DismissalTest:
    """One customer's dismissals of a guide against the share elsewhere: the figures and the verdict."""

    share: float  # this customer's dismissers / viewers
    usual: float  # the share it is compared with (even odds when too few viewers elsewhere)
    compared: bool  # False: too few viewers elsewhere, judged against even odds
    sure: float  # 1 - P(at least this many dismissers if each viewer dismissed with the usual share)
    fires: bool


def dismissal_test(seen: int, dismissed: int, others_seen: int, others_dismissed: int,
                   cfg: GuideDismissalSettings) -> DismissalTest:
    """The guide_dismissal test for one customer's counts against the other customers' (see the module doc)."""
    share = dismissed / seen if seen else 0.0
    compared = others_seen >= cfg.min_seen
    usual = others_dismissed / others_seen if compared else 0.5
    sure = 1 - binomial_tail(dismissed, seen, usual)
    fires = (seen >= cfg.min_seen and share >= cfg.min_share and share - usual >= cfg.min_excess
             and sure >= cfg.confidence)
    return DismissalTest(share, usual, compared, sure, fires)


def counts_elsewhere(counts: Mapping[str, tuple[int, int]],
                     cfg: GuideDismissalSettings) -> dict[str, tuple[int, int]]:
    """Per customer, the guide's (viewers, dismissers) at the other customers, leaving out those others
    who reject it themselves (whose own test against everyone else fires), so that two or three
    rejecting customers do not lift the share each of them is compared with. `counts` is customer ->
    (viewers, dismissers) of one guide. A guide everyone dismisses has no such customers: it stays the
    guide's share everywhere, and alerts nobody."""
    viewers = sum(s for s, _ in counts.values())
    dismissers = sum(d for _, d in counts.values())
    rejecting = {c: (s, d) for c, (s, d) in counts.items()
                 if dismissal_test(s, d, viewers - s, dismissers - d, cfg).fires}
    left_s = viewers - sum(s for s, _ in rejecting.values())
    left_d = dismissers - sum(d for _, d in rejecting.values())
    return {c: (left_s - (0 if c in rejecting else s), left_d - (0 if c in rejecting else d))
            for c, (s, d) in counts.items()}


def _dismissal(g: GuideWindow, cfg: GuideDismissalSettings) -> Finding:
    t = dismissal_test(g.seen, g.dismissed, g.others_seen, g.others_dismissed, cfg)
    if not t.fires:
        return Finding("guide_dismissal", "clear", g.guide_id)
    details = {"guide_id": g.guide_id, "guide_name": g.name, "seen_visitors": g.seen,
               "dismissed_visitors": g.dismissed, "dismissal_rate": round(t.share, 3), "window_days": 30,
               "others_seen_visitors": g.others_seen if t.compared else 0,
               "others_dismissed_visitors": g.others_dismissed if t.compared else 0,
               "others_dismissal_rate": round(t.usual, 3), "sure": round(t.sure, 4)}
    action = f"{dismissal_numbers(details)}. {DISMISSAL_ACTION}"
    return Finding("guide_dismissal", "fire", g.guide_id, "medium" if t.share >= 0.8 else "low", details, action)


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
    """A no_login alert's numbers in one line, the days first (the inbox shows its start)."""
    if d.get("last_active_day"):
        return f"{d.get('days_without_login')} days, nobody active (last active {d['last_active_day']})"
    return f"Nobody active in any of the {d.get('synced_days_read', d.get('window_days'))} synced days"


def abandonment_numbers(d: Mapping[str, Any]) -> str:
    """A feature_abandonment alert's numbers in one line (older alerts without the use and chance, without them)."""
    last = f"; last used {d['last_used']}" if d.get("last_used") else ""
    uses = f" on {d['prior_visitor_days']} visitor-days" if d.get("prior_visitor_days") is not None else ""
    chance = f" ({_chance(float(d['chance']))} likely by chance)" if d.get("chance") is not None else ""
    return (f"“{d.get('feature_name') or d.get('feature_id')}”: {d.get('prior_users')} users{uses} in the "
            f"{d.get('prior_days')} days before, none in the last {d.get('recent_days')} days{last}{chance}")


def _chance(p: float) -> str:
    """0.0123 reads "1.2%", 0.00004 "<0.1%"."""
    return "<0.1%" if p < 0.001 else f"{100 * p:.1f}%"


def dismissal_numbers(d: Mapping[str, Any]) -> str:
    """A guide_dismissal alert's numbers in one line: "7 of 9 viewers dismissed “Setup tour” in 30 days
    (78%), against 28% across the other customers (412 viewers)" (older alerts without the comparison)."""
    name, share = d.get("guide_name") or d.get("guide_id"), float(d.get("dismissal_rate") or 0)
    if d.get("others_dismissal_rate") is None:
        return (f"“{name}”: {d.get('dismissed_visitors')} of {d.get('seen_visitors')} viewers dismissed it "
                f"({share:.0%}) in {d.get('window_days', 30)} days")
    text = (f"{d.get('dismissed_visitors')} of {d.get('seen_visitors')} viewers dismissed “{name}” in "
            f"{d.get('window_days', 30)} days ({share:.0%})")
    if not d.get("others_seen_visitors"):
        return f"{text}; too few viewers at other customers to compare, so judged against even odds"
    return (f"{text}, against {float(d['others_dismissal_rate']):.0%} across the other customers "
            f"({d['others_seen_visitors']} viewers)")
