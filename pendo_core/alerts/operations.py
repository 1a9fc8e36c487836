"""Operations alerts for admins: the last sync run failed, the data is older than it should be, or usage
windows are held back as suspect.

The customer usage alerts (pendo_core/alerts) are about one customer each; these are about the
pipeline, so they live in their own small table, `pendo_ops_alerts`: at most one open alert per
kind, refreshed while its condition holds, resolved when it clears. `check_operations` decides;
`notify_admins` sends each newly opened alert once to the admins on the configured channels (an
alert whose message could not be delivered is tried again on the next check); the app shows
`open_ops_alerts` to admins. The kinds, their rules, labels and messages are the registry's
(`kinds.OPERATIONS_KINDS`, rules in `ops_rules.py`).

Freshness: the data is as fresh as the start of the last successful run; it is stale once that is
more than `freshness_max_hours` (24 by default) ago. A customer is behind when its newest metric day
is older than the newest day the store holds.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from pendo_core.alerts.delivery import Channel, Message, send_with_retry
from pendo_core.alerts.kinds import OPERATIONS_KINDS, evaluate_operations, label, message
from pendo_core.alerts.ops_rules import DATA_STALE, SYNC_FAILED, SYNC_SUSPECT, Freshness, Suspect, SuspectWindow
from pendo_core.alerts.rules import Finding
from pendo_core.alerts.settings import DataStaleSettings
from pendo_core.pendo.sync.store import SUSPECT, parse_suspect
from pendo_core.store import models

__all__ = ["DATA_STALE", "KINDS", "SYNC_FAILED", "SYNC_SUSPECT", "CustomerFreshness", "Freshness", "OpsCheck",
           "admin_emails", "check_operations", "customer_freshness", "freshness", "notify_admins", "open_ops_alerts",
           "operations_step"]

KINDS = tuple(k.key for k in OPERATIONS_KINDS)
WEBHOOK_RECIPIENT = "admins"
STOPPED_PREFIX = "StopRequested"  # how the runner records a run stopped between windows


@dataclass(frozen=True)
class CustomerFreshness:
    """One customer's newest metric day, and whether it lags the store's newest day."""

    customer_id: str
    name: str
    data_through: date | None
    behind_days: int | None
    stale: bool


@dataclass(frozen=True)
class OpsCheck:
    """What one check changed: kinds opened and resolved, and every alert still open."""

    opened: list[str]
    resolved: list[str]
    open: list[models.OpsAlert]


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def freshness(engine: Engine, now: datetime, max_age_hours: float = 24.0) -> Freshness:
    """The store's data age (since the last successful run started) and the newest finished run."""
    runs = models.SyncRun
    with Session(engine) as session:
        success = session.scalar(select(func.max(runs.started_at)).where(runs.status == "success"))
        latest = session.execute(select(runs.id, runs.status, runs.error)
                                 .where(runs.status != "running", _not_stopped(runs.error))
                                 .order_by(runs.id.desc()).limit(1)).first()
        suspect = _held_back(session)
    age = None if success is None else (now - _aware(success)).total_seconds() / 3600
    stale = age is None or age > max_age_hours
    run_id, status, error = tuple(latest) if latest else (None, None, None)
    return Freshness(None if success is None else _aware(success), age, stale, run_id, status, error, suspect)


def _held_back(session: Session) -> Suspect | None:
    """The windows the newest run that withheld any held back as suspect, unless a run succeeded after it."""
    runs, issues = models.SyncRun, models.DataQualityIssue
    succeeded = session.scalar(select(func.max(runs.id)).where(runs.status == "success")) or 0
    run_id = session.scalar(select(func.max(issues.run_id)).where(issues.reason.startswith(f"{SUSPECT} "),
                                                                   issues.run_id > succeeded))
    if run_id is None:
        return None
    rows = session.execute(select(issues.stream, issues.reason).where(issues.run_id == run_id)
                           .order_by(issues.stream, issues.reason)).all()
    windows = [SuspectWindow(stream, *parsed) for stream, reason in rows if (parsed := parse_suspect(reason))]
    return Suspect(run_id, tuple(windows)) if windows else None


def _not_stopped(error: Any) -> Any:
    """A run the scheduler stopped on purpose (SIGTERM) is not a failure to alert on."""
    return or_(error.is_(None), ~error.startswith(STOPPED_PREFIX))


def customer_freshness(engine: Engine, now: datetime, max_age_hours: float = 24.0) -> list[CustomerFreshness]:
    """Every customer's data age: its newest metric day and how far it lags the store's newest."""
    overall = freshness(engine, now, max_age_hours)
    um, c = models.UsageMetric, models.Customer
    with Session(engine) as session:
        newest = session.scalar(select(func.max(um.metric_date)))
        rows = session.execute(select(c.customer_id, c.name, func.max(um.metric_date))
                               .outerjoin(um, um.customer_id == c.customer_id)
                               .group_by(c.customer_id, c.name).order_by(c.name)).all()
    result = []
    for customer_id, name, through in rows:
        behind = None if through is None or newest is None else (newest - through).days
        result.append(CustomerFreshness(customer_id, name, through, behind,
                                        overall.stale or through is None or bool(behind)))
    return result


def check_operations(engine: Engine, now: datetime, *, max_age_hours: float = 24.0) -> OpsCheck:
    """Open, refresh or resolve the operations alerts from the sync history; commits."""
    state = freshness(engine, now, max_age_hours)
    findings = evaluate_operations(state, {DATA_STALE: DataStaleSettings(max_age_hours=max_age_hours)})
    opened, resolved = [], []
    with Session(engine, expire_on_commit=False) as session, session.begin():
        current = {a.kind: a for a in session.scalars(select(models.OpsAlert).where(models.OpsAlert.status == "open"))}
        for finding in findings:
            alert = current.get(finding.kind)
            if finding.status != "fire" and alert is not None:
                alert.status, alert.resolved_at = "resolved", now
                resolved.append(finding.kind)
            elif finding.status == "fire":
                opened += [finding.kind] if alert is None else []
                _refresh(session, alert, finding, now)
        still_open = list(session.scalars(select(models.OpsAlert).where(models.OpsAlert.status == "open")
                                          .order_by(models.OpsAlert.id)))
    return OpsCheck(opened, resolved, still_open)


def _refresh(session: Session, alert: models.OpsAlert | None, finding: Finding, now: datetime) -> None:
    text, details = message(finding), dict(finding.details)
    if alert is None:
        session.add(models.OpsAlert(kind=finding.kind, status="open", message=text, details=details, opened_at=now,
                                    last_seen_at=now))
        return
    alert.message, alert.details, alert.last_seen_at = text, details, now


def open_ops_alerts(engine: Engine) -> list[models.OpsAlert]:
    """The operations alerts open now, oldest first (for the admin's banner)."""
    with Session(engine, expire_on_commit=False) as session:
        return list(session.scalars(select(models.OpsAlert).where(models.OpsAlert.status == "open")
                                    .order_by(models.OpsAlert.id)))


def admin_emails(engine: Engine) -> list[str]:
    """Who gets operations alerts by e-mail: every user with the admin role."""
    with Session(engine) as session:
        return sorted(session.scalars(select(models.AppUser.email).where(models.AppUser.role == "admin")))


def notify_admins(engine: Engine, channels: Mapping[str, Channel], *, now: datetime,
                  sleep: Callable[[float], None] = time.sleep) -> int:
    """Send each open, not yet notified alert to the admins on every channel; returns alerts notified."""
    if not channels:
        return 0
    admins = admin_emails(engine)
    notified = 0
    with Session(engine) as session, session.begin():
        pending = session.scalars(select(models.OpsAlert).where(models.OpsAlert.status == "open",
                                                                 models.OpsAlert.notified_at.is_(None)))
        for alert in pending:
            errors = _send(alert, channels, admins, sleep)
            alert.notify_error = "; ".join(errors) or None
            if not errors:
                alert.notified_at = now
                notified += 1
    return notified


def _send(alert: models.OpsAlert, channels: Mapping[str, Channel], admins: list[str],
          sleep: Callable[[float], None]) -> list[str]:
    subject = f"[CSCX operations] {label(alert.kind)}"
    errors = []
    for name, channel in sorted(channels.items()):
        recipients = admins if name == "email" else [WEBHOOK_RECIPIENT]
        for recipient in recipients:
            result = send_with_retry(channel, Message(recipient, subject, alert.message), sleep=sleep)
            if not result.delivered:
                errors.append(f"{name} to {recipient}: {result.error}")
    return errors


def operations_step(engine: Engine, channels: Mapping[str, Channel], *, clock: Callable[[], datetime],
                    max_age_hours: float = 24.0) -> OpsCheck:
    """Check, then notify: what the scheduler runs after each sync and every hour."""
    check = check_operations(engine, clock(), max_age_hours=max_age_hours)
    notify_admins(engine, channels, now=clock())
    return check
