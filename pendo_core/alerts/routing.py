"""Who gets which alert on which channel, once: delivery rows, escalations, digests, sending.

- Every open alert gets one `pendo_alert_deliveries` row per configured channel ("email" to the
  assigned CSM, "webhook" naming the CSM: to the CSM's own webhook when an admin set one, else the
  team's; with no team webhook, only CSMs with their own get webhook rows); the row's key (alert,
  channel) makes it once per channel.
- A CSM with `delivery = 'digest'` gets one message per channel and day holding all their pending
  alerts; everyone else one message per alert, right away.
- An alert still open `escalation_days` after it opened (or after its snooze ended) is escalated
  once to the CSM's manager, when one is set: channels "email_escalation" / "webhook_escalation".
- Sending happens after the evaluation's transaction; each message's outcome is committed on its
  own, so a crash never sends a delivered row twice. A failed row keeps its error and attempts and
  is retried by the next run: never lost. Rows of alerts closed before delivery are "skipped".
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.alerts.delivery import (
    AlertNote,
    Channel,
    Message,
    alert_message,
    digest_message,
    escalation_message,
    send_with_retry,
)
from pendo_core.alerts.repo import SYSTEM, record_event
from pendo_core.store.models import AlertDelivery, Csm, Customer, UsageAlert

ESCALATION = "_escalation"
UNASSIGNED = "(no CSM assigned)"


@dataclass
class DeliveryStats:
    """What one delivery pass did (rows, not messages, except `messages`)."""

    delivered: int = 0
    failed: int = 0
    skipped: int = 0
    held: int = 0
    messages: int = 0
    errors: list[str] = field(default_factory=list)


Reaches = Mapping[str, Callable[[str | None], bool]]  # channel -> "has somewhere to send to this recipient"


def plan_deliveries(session: Session, channels: Collection[str], *, reaches: Reaches | None = None) -> int:
    """Add a pending delivery row for every open alert and configured channel that lacks one (and, for
    a channel in `reaches`, can reach the alert's CSM: a webhook only some CSMs have)."""
    alerts = session.execute(select(UsageAlert.id, UsageAlert.assigned_csm_email)
                             .where(UsageAlert.status == "open")).all()
    have = set(session.execute(select(AlertDelivery.alert_id, AlertDelivery.channel)
                               .where(AlertDelivery.channel.in_(list(channels)))).tuples())
    added = 0
    for alert_id, csm in alerts:
        for channel in channels:
            if (alert_id, channel) in have or (channel == "email" and not csm) or not _reaches(reaches, channel, csm):
                continue
            session.add(AlertDelivery(alert_id=alert_id, channel=channel, recipient=csm or UNASSIGNED,
                                      status="pending", attempts=0))
            added += 1
    return added


def plan_escalations(session: Session, channels: Collection[str], *, today: date, now: datetime,
                     days: int | None, reaches: Reaches | None = None) -> int:
    """Escalate open alerts left unacknowledged for `days` to the CSM's manager (once each)."""
    if days is None:
        return 0
    rows = session.execute(select(UsageAlert, Csm.manager_email).join(Csm, Csm.email == UsageAlert.assigned_csm_email)
                           .where(UsageAlert.status == "open", UsageAlert.escalated_at.is_(None),
                                  Csm.manager_email.is_not(None))).all()
    escalated = 0
    for alert, manager in rows:
        since = max(alert.triggered_on, alert.snoozed_until or alert.triggered_on)
        if (today - since).days < days:
            continue
        alert.escalated_at = now
        record_event(session, alert.id, SYSTEM, "escalated", note=f"to {manager} after {days} days unacknowledged",
                     at=now)
        for channel in [c for c in channels if _reaches(reaches, c, manager)]:
            session.add(AlertDelivery(alert_id=alert.id, channel=channel + ESCALATION, recipient=manager,
                                      status="pending", attempts=0))
        escalated += 1
    return escalated


def _reaches(reaches: Reaches | None, channel: str, recipient: str | None) -> bool:
    check = (reaches or {}).get(channel)
    return check is None or check(recipient)


@dataclass
class _Due:
    delivery: AlertDelivery
    alert: UsageAlert
    note: AlertNote
    digest: bool


def deliver(engine: Engine, channels: Mapping[str, Channel], *, now: Callable[[], datetime],
            escalation_days: int | None = None, attempts: int = 3,
            sleep: Callable[[float], None] | None = None) -> DeliveryStats:
    """Send every pending or failed delivery on the configured channels; record each outcome."""
    stats = DeliveryStats()
    with Session(engine, expire_on_commit=False) as session:
        due = _due(session, channels)
        for item in [d for d in due if d.alert.status != "open"]:
            _finish(session, [item], "skipped", attempts=0, error=f"alert {item.alert.status} before delivery",
                    at=now())
            stats.skipped += 1
        batches = _batches([d for d in due if d.alert.status == "open"], session, now(), stats, escalation_days)
        for channel, message, items in batches:
            kwargs: dict[str, Any] = {"attempts": attempts} | ({"sleep": sleep} if sleep else {})
            result = send_with_retry(channels[channel], message, **kwargs)
            status = "delivered" if result.delivered else "failed"
            _finish(session, items, status, attempts=result.attempts, error=result.error, at=now())
            stats.messages += 1
            if result.delivered:
                stats.delivered += len(items)
            else:
                stats.failed += len(items)
                stats.errors.append(f"{channel} to {message.recipient}: {result.error}")
    return stats


def _due(session: Session, channels: Mapping[str, Channel]) -> list[_Due]:
    names = [*channels, *(c + ESCALATION for c in channels)]
    rows = session.execute(
        select(AlertDelivery, UsageAlert, Customer.name, Csm.delivery)
        .join(UsageAlert, UsageAlert.id == AlertDelivery.alert_id)
        .outerjoin(Customer, Customer.customer_id == UsageAlert.customer_id)
        .outerjoin(Csm, Csm.email == UsageAlert.assigned_csm_email)
        .where(AlertDelivery.status.in_(("pending", "failed")), AlertDelivery.channel.in_(names))
        .order_by(AlertDelivery.alert_id, AlertDelivery.channel)).all()
    return [_Due(d, a, _note(a, name), mode == "digest" and not d.channel.endswith(ESCALATION))
            for d, a, name, mode in rows]


def _batches(due: list[_Due], session: Session, now: datetime, stats: DeliveryStats,
             escalation_days: int | None) -> list[tuple[str, Message, list[_Due]]]:
    """(channel, message, rows it carries): digests grouped per channel and CSM, others one each."""
    out: list[tuple[str, Message, list[_Due]]] = []
    digests: dict[tuple[str, str], list[_Due]] = {}
    for item in due:
        channel, recipient = item.delivery.channel, item.delivery.recipient
        if item.digest:
            digests.setdefault((channel, recipient), []).append(item)
        elif channel.endswith(ESCALATION):
            message = escalation_message(recipient, item.note, item.alert.assigned_csm_email, escalation_days or 0)
            out.append((channel.removesuffix(ESCALATION), message, [item]))
        else:
            out.append((channel, alert_message(recipient, item.note), [item]))
    for (channel, recipient), items in digests.items():
        if _digest_sent_today(session, channel, recipient, now):
            stats.held += len(items)
            continue
        out.append((channel, digest_message(recipient, now.date().isoformat(), [i.note for i in items]), items))
    return out


def _digest_sent_today(session: Session, channel: str, recipient: str, now: datetime) -> bool:
    last = session.execute(select(AlertDelivery.delivered_at).where(
        AlertDelivery.channel == channel, AlertDelivery.recipient == recipient,
        AlertDelivery.status == "delivered").order_by(AlertDelivery.delivered_at.desc()).limit(1)).scalar()
    return last is not None and _utc(last).date() == _utc(now).date()


def _finish(session: Session, items: list[_Due], status: str, *, attempts: int, error: str | None,
            at: datetime) -> None:
    for item in items:
        row = item.delivery
        row.status, row.attempts, row.last_error = status, row.attempts + attempts, error
        if status == "delivered":
            row.delivered_at = at
    session.commit()


def _note(alert: UsageAlert, customer_name: str | None) -> AlertNote:
    return AlertNote(alert.id, customer_name or alert.customer_id, alert.kind, alert.severity,
                     alert.triggered_on.isoformat(), alert.suggested_action, dict(alert.details or {}))


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
