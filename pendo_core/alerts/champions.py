"""The `champion_inactive` alert: a champion or decision maker gone quiet while their team still works.

Rule (pure, per contact of role champion or decision_maker, `last_day` the last complete day):
- **fire** when the contact matches a Pendo visitor, none of its visitors was active in the customer's
  accounts in the last `days` days (default 14), and at least `min_team_active` of the customer's other
  identified visitors were;
- **clear** when the contact was active, when the team is quiet too (that is `no_login`'s to say, and
  when `no_login` fires every champion finding is cleared: never two alerts for one silence), or when
  no visitor carries the contact's e-mail (a data problem, listed by `people.unmatched_contacts`);
- **unknown** (the alert stays as it is) when one of those days is not synced.

The subject is the contact's e-mail. Alerts follow the lifecycle, store and routing of
`pendo_core.alerts`: `evaluate_champion_alerts` reconciles through `alerts.repo.reconcile` (with the
other kinds marked unknown, so their alerts are left alone), resolves alerts of contacts that are no
longer champions or decision makers, and plans and sends deliveries when given channels. Run without
channels just before `evaluate_alerts`, the latter routes, escalates and delivers every new alert at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings, NoLoginSettings, current_settings
from pendo_core.alerts.delivery import Channel
from pendo_core.alerts.lifecycle import ACTIVE
from pendo_core.alerts.repo import ReconcileCounts, active_alerts, reconcile
from pendo_core.alerts.routing import DeliveryStats, deliver, plan_deliveries, plan_escalations
from pendo_core.alerts.rules import KINDS, Finding, no_login
from pendo_core.customers import people
from pendo_core.customers import people_queries as q
from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.store.models import Contact, Customer, UsageAlert, UsageMetric
from pendo_core.store.scope import chunks

if TYPE_CHECKING:
    from pendo_core.config import Settings
    from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest

KIND = "champion_inactive"
ROLE_LABELS = {"champion": "champion", "decision_maker": "decision maker"}


@dataclass(frozen=True)
class ChampionSettings:
    """No activity for `days` complete days while >= `min_team_active` other visitors were active."""

    days: int = 14
    min_team_active: int = 1

    def __post_init__(self) -> None:
        if not 1 <= self.days < q.LOOKBACK_DAYS:
            raise ValueError(f"champion_inactive days must be 1..{q.LOOKBACK_DAYS - 1}, not {self.days}")
        if self.min_team_active < 1:
            raise ValueError("champion_inactive min_team_active must be at least 1")


@dataclass(frozen=True)
class StakeholderWindow:
    """What the rule knows of one champion or decision maker."""

    email: str
    name: str
    role: str
    title: str | None
    matched: bool
    last_active: date | None  # None: not active in the lookback (LOOKBACK_DAYS)
    team_active: int  # the customer's other visitors active in the rule's window


# --- the rule --------------------------------------------------------------------------------


def champion_inactive(person: StakeholderWindow, last_day: date, synced: bool, cfg: ChampionSettings) -> Finding:
    """Fire when a matched champion or decision maker was idle for cfg.days while the team was not."""
    if not person.matched:
        return Finding(KIND, "clear", person.email, details={"unmatched": True})
    if not synced:
        return Finding(KIND, "unknown", person.email)
    since = last_day - timedelta(days=cfg.days - 1)
    if person.last_active is not None and person.last_active >= since:
        return Finding(KIND, "clear", person.email)
    if person.team_active < cfg.min_team_active:
        return Finding(KIND, "clear", person.email, details={"team_quiet": True})
    quiet = (last_day - person.last_active).days if person.last_active else None
    severity = "high" if quiet is None or quiet >= 2 * cfg.days else "medium"
    return Finding(KIND, "fire", person.email, severity, _details(person, quiet, cfg), _action(person, quiet))


def _details(person: StakeholderWindow, quiet: int | None, cfg: ChampionSettings) -> dict[str, Any]:
    return {"contact_name": person.name, "contact_email": person.email, "role": person.role, "title": person.title,
            "last_active_day": person.last_active.isoformat() if person.last_active else None,
            "days_inactive": quiet, "window_days": cfg.days, "team_active_visitors": person.team_active,
            "lookback_days": q.LOOKBACK_DAYS}


def _action(person: StakeholderWindow, quiet: int | None) -> str:
    who = f"{person.name} ({ROLE_LABELS.get(person.role, person.role)}{', ' + person.title if person.title else ''})"
    since = (f"since {person.last_active.isoformat()} ({quiet} days)" if person.last_active
             else f"in the last {q.LOOKBACK_DAYS} days")
    team = f"{person.team_active} colleague{'s' if person.team_active != 1 else ''}"
    return (f"{who} has not used the product {since} while {team} still did. Check in with them: a new role or a "
            f"departure puts the renewal at risk; if they moved on, find and enable a new champion.")


def numbers_text(details: Mapping[str, Any]) -> str:
    """The alert's numbers in one line for the alerts panel."""
    who = f"{details.get('contact_name')} ({ROLE_LABELS.get(str(details.get('role')), details.get('role'))})"
    quiet = (f"no activity for {details['days_inactive']} days (last active {details.get('last_active_day')})"
             if details.get("days_inactive") is not None else f"no activity in {details.get('lookback_days')} days")
    team = f"{details.get('team_active_visitors')} colleague(s) active in the last {details.get('window_days')} days"
    return f"{who}: {quiet}; {team}"


def evaluate_champions(stakeholders: Sequence[StakeholderWindow], dau: Mapping[date, int], last_day: date,
                       cfg: ChampionSettings, no_login_cfg: NoLoginSettings) -> list[Finding]:
    """Every key contact's finding for one customer; all cleared when no_login fires for it."""
    synced = all(last_day - timedelta(days=i) in dau for i in range(cfg.days))
    findings = [champion_inactive(p, last_day, synced, cfg) for p in stakeholders]
    if no_login(dau, last_day, no_login_cfg).status != "fire":
        return findings
    return [Finding(KIND, "clear", f.subject, details={"suppressed_by": "no_login"}) if f.status == "fire" else f
            for f in findings]


# --- the job ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChampionRun:
    """What one evaluation did."""

    last_day: date
    customers: int
    counts: ReconcileCounts
    planned_deliveries: int
    delivery: DeliveryStats | None


def evaluate_champion_alerts(engine: Engine, as_of_day: date, *, cfg: ChampionSettings | None = None,
                             app_settings: AppSettings | None = None, channels: Mapping[str, Channel] | None = None,
                             customer_ids: Collection[str] | None = None, include_anonymous: bool = False,
                             clock: Callable[[], datetime] | None = None,
                             sleep: Callable[[float], None] = time.sleep) -> ChampionRun:
    """Evaluate champion_inactive on the days before `as_of_day` (the run date) and update its alerts."""
    now = clock or (lambda: datetime.now(UTC))
    settings = app_settings or _current(engine)
    last_day, cfg = as_of_day - timedelta(days=1), cfg or settings_of(settings)
    no_login_cfg = settings.alerts.no_login
    targets = _customers(engine, customer_ids)
    dau = _dau(engine, targets, last_day, max(cfg.days, no_login_cfg.days))
    verdicts = {c: evaluate_champions(_windows(engine, c, last_day, cfg, include_anonymous), dau.get(c, {}),
                                      last_day, cfg, no_login_cfg) for c in targets}
    names = sorted(channels or {})
    with Session(engine) as session, session.begin():
        _sweep(session, verdicts)
        guarded = {c: [*f, *(Finding(k, "unknown") for k in KINDS if k != KIND)] for c, f in verdicts.items()}
        counts = reconcile(session, guarded, today=as_of_day, now=now(), csm_of=_csms(session, targets))
        if channels:  # standalone; before evaluate_alerts, that run escalates and plans for every kind
            plan_escalations(session, names, today=as_of_day, now=now(), days=settings.alerts.escalation_days)
        planned = plan_deliveries(session, names)
    stats = (deliver(engine, channels, now=now, escalation_days=settings.alerts.escalation_days, sleep=sleep)
             if channels else None)
    return ChampionRun(last_day, len(verdicts), counts, planned, stats)


def settings_of(settings: AppSettings) -> ChampionSettings:
    """The admin's thresholds when the settings carry `alerts.champion_inactive`, else the defaults."""
    saved = getattr(settings.alerts, "champion_inactive", None)
    if saved is None:
        return ChampionSettings()
    return ChampionSettings(days=int(saved.days), min_team_active=int(getattr(saved, "min_team_active", 1)))


def _sweep(session: Session, verdicts: dict[str, list[Finding]]) -> None:
    """A clear for every active champion alert whose contact has no finding (no longer a key contact)."""
    for (customer, kind, subject), _alert in active_alerts(session, verdicts.keys()).items():
        findings = verdicts[customer]
        if kind == KIND and subject not in {f.subject for f in findings}:
            findings.append(Finding(KIND, "clear", subject, details={"no_longer_key_contact": True}))


def _customers(engine: Engine, customer_ids: Collection[str] | None) -> list[str]:
    """Customers with a champion or decision maker, or with an active champion alert."""
    keyed = select(Contact.customer_id).where(Contact.role.in_(KEY_ROLES))
    alerted = select(UsageAlert.customer_id).where(UsageAlert.kind == KIND, UsageAlert.status.in_(ACTIVE))
    with engine.connect() as conn:
        found = set(conn.execute(keyed.distinct()).scalars()) | set(conn.execute(alerted.distinct()).scalars())
    return sorted(found if customer_ids is None else found & set(customer_ids))


def _windows(engine: Engine, customer_id: str, last_day: date, cfg: ChampionSettings,
             include_anonymous: bool) -> list[StakeholderWindow]:
    found = people.stakeholders(engine, customer_id, last_day, roles=KEY_ROLES, window_days=cfg.days,
                                include_anonymous=include_anonymous)
    scope = q.Scope(customer_id, last_day, None, include_anonymous)
    with engine.connect() as conn:
        active = set(conn.execute(q.active_between(scope, last_day - timedelta(days=cfg.days - 1))).scalars())
    return [StakeholderWindow(s.email, s.name, s.role, s.title, s.matched, s.last_active,
                              len(active - set(s.visitor_ids))) for s in found]


def _dau(engine: Engine, customers: Sequence[str], last_day: date, days: int) -> dict[str, dict[date, int]]:
    t = UsageMetric.__table__
    out: dict[str, dict[date, int]] = {}
    with engine.connect() as conn:
        for chunk in chunks(list(customers)):
            rows = conn.execute(select(t.c.customer_id, t.c.metric_date, t.c.dau).where(
                t.c.customer_id.in_(chunk), t.c.metric_date.between(last_day - timedelta(days=days - 1), last_day)))
            for customer, day, dau in rows:
                out.setdefault(customer, {})[day] = int(dau)
    return out


def _csms(session: Session, customers: Sequence[str]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    for chunk in chunks(list(customers)):
        rows = session.execute(select(Customer.customer_id, Customer.csm_email).where(Customer.customer_id.in_(chunk)))
        out.update(dict(rows.tuples().all()))
    return out


def _current(engine: Engine) -> AppSettings:
    with Session(engine) as session:
        return current_settings(session)[1]


def make_champion_step(settings: Settings, cfg: ChampionSettings | None = None) -> PostStep:
    """The post-metrics sync step; put it before the alerts step, which then routes and delivers."""
    def champion_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        evaluate_champion_alerts(engine, summary.report_last + timedelta(days=1), cfg=cfg,
                                 include_anonymous=settings.include_anonymous)

    return champion_step
