"""Usage alerts: the kind registry, pure rules and lifecycle, the store, routing and delivery, the job.

The job's names load on first use: the admin settings import this package's pure settings models,
and the job imports the admin settings, so loading the job here would make the two circular.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pendo_core.alerts.kinds import KINDS
from pendo_core.alerts.lifecycle import AlertTransitionError, latest_snooze, snooze_date_problem
from pendo_core.alerts.repo import act_on_alert, alert_events, list_alerts

if TYPE_CHECKING:
    from pendo_core.alerts.job import AlertRun, alerts_step, evaluate_alerts, make_alerts_step

__all__ = [
    "KINDS",
    "AlertRun",
    "AlertTransitionError",
    "act_on_alert",
    "alert_events",
    "alerts_step",
    "evaluate_alerts",
    "latest_snooze",
    "list_alerts",
    "make_alerts_step",
    "snooze_date_problem",
]
_FROM_JOB = ("AlertRun", "alerts_step", "evaluate_alerts", "make_alerts_step")


def __getattr__(name: str) -> Any:
    """The job's names, imported when first asked for."""
    if name in _FROM_JOB:
        from pendo_core.alerts import job

        return getattr(job, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
