"""Alerts in the store: reconcile rule verdicts, record people's actions, list and audit.

Functions take a Session and never commit; the caller owns the transaction. Every change of
status is written to `pendo_alert_events` with who and when ("system" for the evaluator).

A person's action is one conditional UPDATE (`WHERE status = <the state it was decided on>`): of
two people acting at once, exactly one succeeds and records its event; the other is told the alert
changed (or that it is already in the state they wanted).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pendo_core.alerts.kinds import KINDS
from pendo_core.alerts.lifecycle import ACTIVE, AlertState, AlertTransitionError, on_action, on_evaluation
from pendo_core.alerts.rules import Finding
from pendo_core.store.models import AlertEvent, UsageAlert
from pendo_core.store.scope import chunks

SYSTEM = "system"
AlertKey = tuple[str, str, str]


@dataclass
class ReconcileCounts:
    """What one evaluation did to the stored alerts."""

    opened: int = 0
    resolved: int = 0
    reopened: int = 0
    refreshed: int = 0


def active_alerts(session: Session, customer_ids: Collection[str] | None = None) -> dict[AlertKey, UsageAlert]:
    """The alert of each (customer, kind, subject) that is not resolved."""
    stmt = select(UsageAlert).where(UsageAlert.status.in_(ACTIVE))
    if customer_ids is None:
        rows = list(session.execute(stmt).scalars())
    else:
        rows = [a for chunk in chunks(sorted(customer_ids))
                for a in session.execute(stmt.where(UsageAlert.customer_id.in_(chunk))).scalars()]
    return {(a.customer_id, a.kind, a.subject): a for a in rows}


def record_event(session: Session, alert_id: int, actor: str, action: str, *, note: str | None,
                 at: datetime) -> None:
    """Append one line to an alert's audit trail."""
    session.add(AlertEvent(alert_id=alert_id, actor=actor, action=action, note=note, at=at))


def reconcile(session: Session, verdicts: Mapping[str, Sequence[Finding]], *, today: date, now: datetime,
              csm_of: Mapping[str, str | None]) -> ReconcileCounts:
    """Apply each evaluated customer's findings: open, refresh, reopen after a snooze, or resolve.

    Every customer kind (KINDS) is taken to have run for each customer given; a kind is known unless
    it has an "unknown" finding for the customer as a whole (subject ""): an "unknown" for one subject
    keeps only that subject's alert as it is. An active alert of a known kind whose subject has no
    finding any more is resolved (its condition, or its subject, is gone). Other kinds are left alone.
    """
    counts = ReconcileCounts()
    opened: list[tuple[UsageAlert, str | None]] = []  # inserted together below, then their "opened" events
    current: dict[str, dict[AlertKey, UsageAlert]] = {}
    for key, alert in active_alerts(session, verdicts.keys()).items():
        current.setdefault(key[0], {})[key] = alert
    for customer, findings in verdicts.items():
        mine = current.get(customer, {})
        known = set(KINDS) - {f.kind for f in findings if f.status == "unknown" and not f.subject}
        for finding in findings:
            key = (customer, finding.kind, finding.subject)
            _apply(session, mine.pop(key, None), finding, counts, opened, customer=customer, today=today,
                   now=now, csm=csm_of.get(customer))
        for key, alert in mine.items():  # active alerts no finding speaks for any more
            if key[1] in known:
                _apply(session, alert, Finding(key[1], "clear", key[2]), counts, opened, customer=customer,
                       today=today, now=now, csm=None)
    session.add_all(alert for alert, _ in opened)
    session.flush()  # one batch of INSERTs (RETURNING their ids) instead of a round trip per new alert
    for alert, note in opened:
        record_event(session, alert.id, SYSTEM, "opened", note=note, at=now)
    return counts


def _apply(session: Session, alert: UsageAlert | None, finding: Finding, counts: ReconcileCounts,
           opened: list[tuple[UsageAlert, str | None]], *, customer: str, today: date, now: datetime,
           csm: str | None) -> None:
    state = AlertState(alert.status, alert.snoozed_until) if alert else None
    step = on_evaluation(state, finding.status, today)
    if step.create:
        opened.append((_new_alert(finding, customer=customer, today=today, now=now, csm=csm), _note(finding)))
        counts.opened += 1
        return
    if alert is None:
        return
    if finding.status == "fire":
        _refresh(alert, finding, today, csm)
        counts.refreshed += 1
    if step.status is not None and step.event is not None:
        _set_status(session, alert, step.status, by=SYSTEM, now=now, event=step.event, note=_note(finding))
        if step.status == "resolved":
            alert.resolved_on, alert.last_evaluated_on = today, today
            counts.resolved += 1
        else:
            counts.reopened += 1


def _new_alert(finding: Finding, *, customer: str, today: date, now: datetime, csm: str | None) -> UsageAlert:
    return UsageAlert(customer_id=customer, kind=finding.kind, subject=finding.subject, status="open",
                      severity=finding.severity, triggered_on=today, last_evaluated_on=today,
                      assigned_csm_email=csm, details=finding.details, suggested_action=finding.action,
                      status_by=SYSTEM, status_at=now)


def _refresh(alert: UsageAlert, finding: Finding, today: date, csm: str | None) -> None:
    alert.severity, alert.details, alert.suggested_action = finding.severity, finding.details, finding.action
    alert.last_evaluated_on = today
    if csm:
        alert.assigned_csm_email = csm


def _set_status(session: Session, alert: UsageAlert, status: str, *, by: str, now: datetime, event: str,
                note: str | None) -> None:
    alert.status, alert.status_by, alert.status_at = status, by, now
    record_event(session, alert.id, by, event, note=note, at=now)


def _note(finding: Finding) -> str | None:
    if finding.details.get("suppressed_by"):
        return f"suppressed by {finding.details['suppressed_by']}"
    return finding.action if finding.status == "fire" else None


# --- people's actions ------------------------------------------------------------------------

_EVENTS = {"acknowledge": "acknowledged", "dismiss": "dismissed", "snooze": "snoozed", "reopen": "reopened"}


def act_on_alert(session: Session, alert_id: int, action: str, by: str, *, today: date, now: datetime,
                 reason: str | None = None, until: date | None = None) -> UsageAlert:
    """Acknowledge, dismiss (with a reason), snooze (until a date) or reopen an alert, recorded."""
    alert = session.get(UsageAlert, alert_id)
    if alert is None:
        raise AlertTransitionError(f"alert {alert_id} does not exist")
    if not by.strip():
        raise AlertTransitionError("an action on an alert needs who takes it")
    before = AlertState(alert.status, alert.snoozed_until)
    state = on_action(before, action, today, reason=reason, until=until)
    dismissed = (reason or "").strip() if action == "dismiss" else alert.dismiss_reason
    changes = {"status": state.status, "snoozed_until": state.snoozed_until, "dismiss_reason": dismissed,
               "status_by": by.strip(), "status_at": now}
    if not _claim(session, alert_id, before, changes):
        session.refresh(alert)  # someone acted first: say what they did, in the lifecycle's words if it applies
        on_action(AlertState(alert.status, alert.snoozed_until), action, today, reason=reason, until=until)
        raise AlertTransitionError(f"the alert changed while you acted on it (now {alert.status}); look again")
    session.refresh(alert)
    note = dismissed if action == "dismiss" else f"until {until.isoformat()}" if until else None
    record_event(session, alert_id, by.strip(), _EVENTS[action], note=note, at=now)
    return alert


def _claim(session: Session, alert_id: int, before: AlertState, changes: dict[str, Any]) -> bool:
    """Apply `changes` only if the alert is still in the state they were decided on; True when it was.

    The row's lock (PostgreSQL) or the write lock (SQLite) makes a second, simultaneous claim wait and
    then find the state changed, so exactly one of them wins."""
    still = (UsageAlert.id == alert_id, UsageAlert.status == before.status,
             UsageAlert.snoozed_until.is_not_distinct_from(before.snoozed_until))
    stmt = update(UsageAlert).where(*still).values(**changes).execution_options(synchronize_session=False)
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class EventView:
    """One line of an alert's audit trail."""

    at: datetime
    actor: str
    action: str
    note: str | None


def alert_events(session: Session, alert_id: int) -> list[EventView]:
    """An alert's audit trail, oldest first."""
    stmt = select(AlertEvent).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.at, AlertEvent.id)
    return [EventView(e.at, e.actor, e.action, e.note) for e in session.execute(stmt).scalars()]


def list_alerts(session: Session, *, statuses: Collection[str] = ACTIVE, csm_email: str | None = None,
                customer_id: str | None = None, kinds: Collection[str] | None = None) -> list[UsageAlert]:
    """Alerts for the in-app panel, newest first, filtered by status, CSM, customer and kind."""
    stmt = select(UsageAlert).where(UsageAlert.status.in_(list(statuses)))
    filters: dict[str, Any] = {"assigned_csm_email": csm_email, "customer_id": customer_id}
    for column, value in filters.items():
        if value is not None:
            stmt = stmt.where(getattr(UsageAlert, column) == value)
    if kinds is not None:
        stmt = stmt.where(UsageAlert.kind.in_(list(kinds)))
    return list(session.execute(stmt.order_by(UsageAlert.triggered_on.desc(), UsageAlert.id.desc())).scalars())
