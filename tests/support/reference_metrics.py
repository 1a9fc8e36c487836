"""The metrics spec as plain loops over plain rows: slow, simple, and obviously right.

Written from metrics-spec.md and the brief, independently of the DuckDB SQL: no islands, no
running sums, no day-range pruning (it always looks at all the history it is given).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import date, timedelta

from tests.support.metrics import Activity, GEvent, Key, Outputs

HOUR_MS = 3_600_000
Keep = Callable[[str], bool]


def reference_metrics(act: Activity, first_day: date, *, last_day: date, include_anonymous: bool = False,
                      customer_ids: Collection[str] | None = None,
                      onboarding_guide_ids: Collection[str] | None = None) -> Outputs:
    """What compute_metrics must write for these rows: table -> {key: values}."""

    def keep(visitor: str) -> bool:
        return include_anonymous or not visitor.startswith("_PENDO_T_")

    owners = set(act.mapping.values())
    customers = sorted(owners if customer_ids is None else owners & set(customer_ids))
    days = [first_day + timedelta(days=i) for i in range((last_day - first_day).days + 1)]
    out: Outputs = {name: {} for name in ("pendo_usage_metrics", "pendo_feature_usage",
                                          "pendo_guide_metrics", "pendo_onboarding_progress")}
    onboarding = _onboarding_guides(act, onboarding_guide_ids)
    for customer in customers:
        accounts = {a for a, owner in act.mapping.items() if owner == customer}
        for day in days:
            out["pendo_usage_metrics"][(customer, day)] = _usage(act, accounts, day, keep)
            out["pendo_feature_usage"].update(_features(act, customer, accounts, day, keep))
            out["pendo_guide_metrics"].update(_guides(act, customer, accounts, day, keep))
            out["pendo_onboarding_progress"][(customer, day)] = _onboarding(act, accounts, day, keep, onboarding)
    return out


def _active(act: Activity, accounts: set[str], since: date, until: date, keep: Keep) -> set[str]:
    return {r.visitor_id for r in act.visitor_days
            if r.account_id in accounts and since <= r.day <= until and r.num_events > 0 and keep(r.visitor_id)}


def _usage(act: Activity, accounts: set[str], day: date, keep: Keep) -> tuple[object, ...]:
    def window(days: int) -> int:
        return len(_active(act, accounts, day - timedelta(days=days - 1), day, keep))

    minutes = sum(r.num_minutes for r in act.visitor_days
                  if r.account_id in accounts and r.day == day and keep(r.visitor_id))
    sessions = _session_start_days(act, accounts, keep).count(day)
    page_views = sum(r.num_events for r in act.page_days if r.account_id in accounts and r.day == day)
    feature_events = sum(r.num_events for r in act.feature_visitor_days
                         if r.account_id in accounts and r.day == day and keep(r.visitor_id))
    return (";".join(sorted(accounts)), window(1), window(7), window(30), window(90), sessions,
            minutes / sessions if sessions else None, page_views, feature_events, minutes)


def _session_start_days(act: Activity, accounts: set[str], keep: Keep) -> list[date]:
    """The day of every session: an active hour whose previous hour (same visitor and account) is not."""
    active: dict[tuple[str, str], dict[int, date]] = {}
    for r in act.visitor_hours:
        if r.account_id in accounts and r.num_events > 0 and keep(r.visitor_id):
            active.setdefault((r.account_id, r.visitor_id), {})[r.hour_start] = r.day
    return [day for hours in active.values() for hour, day in hours.items() if hour - HOUR_MS not in hours]


def _features(act: Activity, customer: str, accounts: set[str], day: date,
              keep: Keep) -> dict[Key, tuple[object, ...]]:
    rows = [r for r in act.feature_visitor_days if r.account_id in accounts and r.day == day and keep(r.visitor_id)]
    catalogue = {f.feature_id: f for f in act.features}
    out: dict[Key, tuple[object, ...]] = {}
    for feature_id in {r.feature_id for r in rows}:
        mine = [r for r in rows if r.feature_id == feature_id]
        visitors = {r.visitor_id for r in mine}
        feature = catalogue.get(feature_id)
        page = feature.page_id if feature else None
        views = None if not page else sum(p.num_events for p in act.page_days
                                          if p.account_id in accounts and p.day == day and p.page_id == page)
        avg = 60 * sum(r.num_minutes for r in mine) / len(visitors)
        out[(customer, feature_id, day)] = (feature.name if feature else None, views,
                                            sum(r.num_events for r in mine), len(visitors), avg)
    return out


def _completes(act: Activity, event: GEvent) -> bool:
    steps = [s for s in act.guide_steps if s.guide_id == event.guide_id]
    if len(steps) == 1:
        return event.event_type == "guideAdvanced" and event.step_id == steps[0].step_id
    if not steps:
        return False
    last_rank = max(s.rank for s in steps)
    last_steps = {s.step_id for s in steps if s.rank == last_rank}
    return event.event_type in ("guideSeen", "guideAdvanced") and event.step_id in last_steps


def _guides(act: Activity, customer: str, accounts: set[str], day: date,
            keep: Keep) -> dict[Key, tuple[object, ...]]:
    window = [e for e in act.guide_events if e.account_id in accounts and keep(e.visitor_id)
              and day - timedelta(days=29) <= e.day <= day]
    out: dict[Key, tuple[object, ...]] = {}
    for guide_id in {e.guide_id for e in window}:
        events = [e for e in window if e.guide_id == guide_id]
        seen = {e.visitor_id for e in events if e.event_type == "guideSeen"}
        completed = {e.visitor_id for e in events if _completes(act, e)}
        dismissed = {e.visitor_id for e in events if e.event_type == "guideDismissed"}
        if seen or completed or dismissed:
            rates = (len(completed) / len(seen), len(dismissed) / len(seen)) if seen else (None, None)
            out[(customer, guide_id, day)] = (len(seen), len(completed), len(dismissed), *rates)
    return out


def _onboarding_guides(act: Activity, given: Collection[str] | None) -> set[str]:
    if given is not None:
        return set(given)
    return {g.guide_id for g in act.guides
            if "onboarding" in (g.name or "").lower() or "onboarding" in (g.group_name or "").lower()}


def _onboarding(act: Activity, accounts: set[str], day: date, keep: Keep,
                onboarding: set[str]) -> tuple[object, ...]:
    done = {e.guide_id for e in act.guide_events
            if e.account_id in accounts and keep(e.visitor_id) and e.day <= day
            and e.guide_id in onboarding and _completes(act, e)}
    return len(onboarding), len(done), len(done) / len(onboarding) if onboarding else None
