"""What the Alerts screen reads and writes, without Streamlit: the alerts a person may see, the
numbers behind each in words, people's actions (recorded with who and when) and the audit trail.

Who sees and may act on which alert is the access rule (`pendo_core.access.rules`) applied to both the
customer's CSM and the CSM the alert is routed to: a CSM sees the alerts routed to them or raised on
their customers (every alert, read-only, when they show all customers); leaders and admins all.
The lifecycle and its rules are `pendo_core.alerts` (this module only calls it).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.access.rules import Viewer
from pendo_core.access.sql import customer_filter
from pendo_core.alerts import AlertTransitionError, act_on_alert, alert_events
from pendo_core.alerts.kinds import numbers_text
from pendo_core.store.models import Customer, UsageAlert

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}
OPEN_STATUSES = ("open", "acknowledged", "snoozed")
CLOSED_STATUSES = ("dismissed", "resolved")
RECENT_DAYS = 30
COLUMNS = ["id", "customer", "kind", "severity", "status", "triggered_on", "numbers", "suggested_action",
           "csm", "status_by", "status_at", "snoozed_until", "dismiss_reason", "customer_id", "customer_csm"]


def visible_alerts(engine: Engine, viewer: Viewer, *, include_closed: bool = False,
                   today: date | None = None) -> pd.DataFrame:
    """The viewer's active alerts (plus those closed in the last 30 days when asked), most urgent first."""
    statuses = OPEN_STATUSES + (CLOSED_STATUSES if include_closed else ())
    stmt = (select(UsageAlert, Customer.name, Customer.csm_email)
            .outerjoin(Customer, Customer.customer_id == UsageAlert.customer_id).where(UsageAlert.status.in_(statuses))
            .where(customer_filter(viewer, Customer.csm_email, UsageAlert.assigned_csm_email)))
    with Session(engine) as session:
        rows = [_row(alert, name, owner) for alert, name, owner in session.execute(stmt)]
    frame = pd.DataFrame(rows, columns=[*COLUMNS, "_active", "_closed_on"])
    if include_closed:
        since = (today or datetime.now(UTC).date()) - timedelta(days=RECENT_DAYS)
        frame = frame[frame["_active"] | (frame["_closed_on"] >= since)]
    frame = frame.assign(_rank=frame["severity"].map(SEVERITY_ORDER).fillna(3))
    frame = frame.sort_values(["_active", "_rank", "triggered_on", "id"], ascending=[False, True, False, False])
    return frame.drop(columns=["_active", "_closed_on", "_rank"]).reset_index(drop=True)


def _row(alert: UsageAlert, customer_name: str | None, owner: str | None) -> dict[str, Any]:
    closed_on = alert.resolved_on or (alert.status_at.date() if alert.status_at else alert.triggered_on)
    return {"id": alert.id, "customer": customer_name or alert.customer_id, "kind": alert.kind,
            "severity": alert.severity, "status": alert.status, "triggered_on": alert.triggered_on,
            "numbers": numbers_text(alert.kind, alert.details or {}), "suggested_action": alert.suggested_action or "",
            "csm": alert.assigned_csm_email or "", "status_by": alert.status_by or "", "status_at": alert.status_at,
            "snoozed_until": alert.snoozed_until, "dismiss_reason": alert.dismiss_reason or "",
            "customer_id": alert.customer_id, "customer_csm": owner or "",
            "_active": alert.status in OPEN_STATUSES, "_closed_on": closed_on}


def open_alert_count(engine: Engine, customer_id: str) -> int:
    """How many alerts on the customer still need someone (open or acknowledged)."""
    stmt = select(func.count()).select_from(UsageAlert).where(
        UsageAlert.customer_id == customer_id, UsageAlert.status.in_(("open", "acknowledged")))
    with engine.connect() as conn:
        return int(conn.execute(stmt).scalar() or 0)


def may_act(engine: Engine, alert_id: int, viewer: Viewer) -> bool:
    """True when the viewer may act on the alert ("show all customers" is read-only); leaders and admins
    may act on every alert, so for them it is not looked up."""
    if viewer.acting.sees_all:
        return True
    stmt = (select(UsageAlert.id).outerjoin(Customer, Customer.customer_id == UsageAlert.customer_id)
            .where(UsageAlert.id == alert_id,
                   customer_filter(viewer.acting, Customer.csm_email, UsageAlert.assigned_csm_email)))
    with engine.connect() as conn:
        return conn.execute(stmt).first() is not None


def act(engine: Engine, alert_id: int, action: str, viewer: Viewer, *, today: date, reason: str | None = None,
        until: date | None = None, now: datetime | None = None) -> str:
    """Acknowledge, dismiss (reason), snooze (until) or reopen an alert as the viewer (recorded by
    normalised e-mail); returns what happened in words.

    Raises AlertTransitionError (one line) when the action does not apply or is not the viewer's to take.
    """
    if not may_act(engine, alert_id, viewer):
        raise AlertTransitionError("this alert is not on one of your customers; ask its CSM or a leader")
    by = viewer.key
    with Session(engine) as session, session.begin():
        alert = act_on_alert(session, alert_id, action, by, today=today, now=now or datetime.now(UTC),
                             reason=reason, until=until)
        status = alert.status
    suffix = f" until {until.isoformat()}" if action == "snooze" and until else ""
    return f"Alert {alert_id} {status}{suffix} by {by}."


def alert_trail(engine: Engine, alert_id: int) -> pd.DataFrame:
    """An alert's audit trail (who did what, when), oldest first."""
    with Session(engine) as session:
        events = alert_events(session, alert_id)
    return pd.DataFrame([{"at": e.at, "who": e.actor, "action": e.action, "note": e.note or ""} for e in events],
                        columns=["at", "who", "action", "note"])
