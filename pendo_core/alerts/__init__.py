"""Usage alerts: pure rules and lifecycle, the store, routing and delivery, the evaluation job."""

from __future__ import annotations

from pendo_core.alerts.job import AlertRun, alerts_step, evaluate_alerts, make_alerts_step
from pendo_core.alerts.lifecycle import AlertTransitionError
from pendo_core.alerts.repo import act_on_alert, alert_events, list_alerts
from pendo_core.alerts.rules import KINDS

__all__ = [
    "KINDS",
    "AlertRun",
    "AlertTransitionError",
    "act_on_alert",
    "alert_events",
    "alerts_step",
    "evaluate_alerts",
    "list_alerts",
    "make_alerts_step",
]
