"""Alert states and their transitions, as pure functions.

    (none) --fire--> open --acknowledge--> acknowledged
    open | acknowledged --snooze(until)--> snoozed --(until reached, still firing)--> open
    open | acknowledged | snoozed --dismiss(reason)--> dismissed
    any active state --clear--> resolved (final; a later fire opens a new alert)

While the condition holds, the alert stays whatever it is (one alert per customer, kind and
subject): a dismissed alert stays dismissed and a snoozed one snoozed until its date. "unknown"
(data missing) changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

ACTIVE = ("open", "acknowledged", "dismissed", "snoozed")
STATUSES = (*ACTIVE, "resolved")
ACTIONS = ("acknowledge", "dismiss", "snooze", "reopen")
MAX_SNOOZE = timedelta(days=365)  # longer is a typo (9999-12-31) or a dismissal in disguise


class AlertTransitionError(ValueError):
    """A user action that does not apply to the alert's state; the message says why in one line."""


@dataclass(frozen=True)
class AlertState:
    """The part of an alert the lifecycle looks at."""

    status: str
    snoozed_until: date | None = None


@dataclass(frozen=True)
class Transition:
    """What an evaluation does to an alert: its new status (None: unchanged) and the event to record."""

    status: str | None
    event: str | None
    create: bool = False


NOTHING = Transition(None, None)


def on_evaluation(state: AlertState | None, verdict: str, today: date) -> Transition:
    """The transition for a rule's verdict ("fire", "clear" or "unknown") on an alert's key."""
    if verdict == "unknown":
        return NOTHING
    if state is None or state.status not in ACTIVE:
        return Transition("open", "opened", create=True) if verdict == "fire" else NOTHING
    if verdict == "clear":
        return Transition("resolved", "resolved")
    if state.status == "snoozed" and (state.snoozed_until is None or today >= state.snoozed_until):
        return Transition("open", "snooze_ended")
    return NOTHING


def on_action(state: AlertState, action: str, today: date, *, reason: str | None = None,
              until: date | None = None) -> AlertState:
    """The state after a person's action; AlertTransitionError when it does not apply."""
    if state.status not in ACTIVE:
        raise AlertTransitionError(f"the alert is {state.status}; a new alert opens if its condition returns")
    if action == "acknowledge":
        return _acknowledge(state)
    if action == "dismiss":
        return _dismiss(state, reason)
    if action == "snooze":
        return _snooze(state, today, until)
    if action == "reopen":
        return _reopen(state)
    raise AlertTransitionError(f"unknown action {action!r}; use one of {', '.join(ACTIONS)}")


def _acknowledge(state: AlertState) -> AlertState:
    if state.status in ("acknowledged", "dismissed"):
        raise AlertTransitionError(f"the alert is already {state.status}")
    return AlertState("acknowledged")


def _dismiss(state: AlertState, reason: str | None) -> AlertState:
    if not (reason and reason.strip()):
        raise AlertTransitionError("dismissing an alert needs a reason (e.g. 'seasonal, expected')")
    if state.status == "dismissed":
        raise AlertTransitionError("the alert is already dismissed")
    return AlertState("dismissed")


def latest_snooze(today: date) -> date:
    """The last day a snooze started today may run to: a year from today."""
    return today + MAX_SNOOZE


def snooze_date_problem(today: date, until: date | None) -> str | None:
    """Why `until` cannot end a snooze started today, in one line; None when it can (after today, at most
    a year away). The one rule: the lifecycle, the API's validation and the pages' date pickers use it."""
    if until is None or until <= today:
        return f"snooze needs a date after today ({today.isoformat()})"
    if until > latest_snooze(today):
        return (f"snooze at most a year, until {latest_snooze(today).isoformat()}; dismiss the alert (with a "
                "reason) to silence it for longer")
    return None


def _snooze(state: AlertState, today: date, until: date | None) -> AlertState:
    problem = snooze_date_problem(today, until)
    if problem:
        raise AlertTransitionError(problem)
    if state.status == "dismissed":
        raise AlertTransitionError("the alert is dismissed; reopen it before snoozing it")
    return AlertState("snoozed", until)


def _reopen(state: AlertState) -> AlertState:
    if state.status not in ("dismissed", "snoozed", "acknowledged"):
        raise AlertTransitionError(f"the alert is already {state.status}")
    return AlertState("open")
