"""Alert lifecycle: pure transitions, and people's actions recorded with who and when."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.alerts.lifecycle import (
    AlertState,
    AlertTransitionError,
    Transition,
    latest_snooze,
    on_action,
    on_evaluation,
    snooze_date_problem,
)
from pendo_core.alerts.repo import act_on_alert, alert_events, list_alerts, reconcile
from pendo_core.alerts.rules import Finding
from tests.support.store import each_statement

TODAY = date(2026, 3, 19)
NOW = datetime(2026, 3, 19, 7, 0, tzinfo=UTC)


@pytest.mark.parametrize(("state", "verdict", "expected"), [
    pytest.param(None, "fire", Transition("open", "opened", create=True), id="new-condition-opens"),
    pytest.param(None, "clear", Transition(None, None), id="nothing-to-do"),
    pytest.param(AlertState("open"), "fire", Transition(None, None), id="still-holding-no-duplicate"),
    pytest.param(AlertState("acknowledged"), "fire", Transition(None, None), id="acknowledged-stays"),
    pytest.param(AlertState("dismissed"), "fire", Transition(None, None), id="dismissed-does-not-come-back"),
    pytest.param(AlertState("snoozed", TODAY + timedelta(days=1)), "fire", Transition(None, None),
                 id="snoozed-until-tomorrow"),
    pytest.param(AlertState("snoozed", TODAY), "fire", Transition("open", "snooze_ended"), id="snooze-ends"),
    pytest.param(AlertState("open"), "clear", Transition("resolved", "resolved"), id="clears-resolves"),
    pytest.param(AlertState("dismissed"), "clear", Transition("resolved", "resolved"), id="dismissed-clears"),
    pytest.param(AlertState("snoozed", TODAY + timedelta(days=9)), "clear", Transition("resolved", "resolved"),
                 id="snoozed-clears"),
    pytest.param(AlertState("resolved"), "fire", Transition("open", "opened", create=True), id="returns-as-new"),
    pytest.param(AlertState("open"), "unknown", Transition(None, None), id="missing-data-changes-nothing"),
])
def test_evaluation_transitions(state: AlertState | None, verdict: str, expected: Transition) -> None:
    """What a rule's verdict does to an alert in each state."""
    assert on_evaluation(state, verdict, TODAY) == expected


@pytest.mark.parametrize(("state", "action", "kwargs", "expected"), [
    pytest.param(AlertState("open"), "acknowledge", {}, AlertState("acknowledged"), id="acknowledge"),
    pytest.param(AlertState("open"), "dismiss", {"reason": "seasonal"}, AlertState("dismissed"), id="dismiss"),
    pytest.param(AlertState("open"), "snooze", {"until": TODAY + timedelta(days=7)},
                 AlertState("snoozed", TODAY + timedelta(days=7)), id="snooze"),
    pytest.param(AlertState("snoozed", TODAY), "acknowledge", {}, AlertState("acknowledged"), id="ack-snoozed"),
    pytest.param(AlertState("dismissed"), "reopen", {}, AlertState("open"), id="reopen-dismissed"),
])
def test_actions(state: AlertState, action: str, kwargs: dict[str, object], expected: AlertState) -> None:
    """A person's action moves the alert to its new state."""
    assert on_action(state, action, TODAY, **kwargs) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(("state", "action", "kwargs", "message"), [
    pytest.param(AlertState("open"), "dismiss", {"reason": " "}, "needs a reason", id="dismiss-without-reason"),
    pytest.param(AlertState("open"), "snooze", {"until": TODAY}, "date after today", id="snooze-to-today"),
    pytest.param(AlertState("open"), "snooze", {}, "date after today", id="snooze-without-date"),
    pytest.param(AlertState("open"), "snooze", {"until": TODAY + timedelta(days=366)},
                 "at most a year, until 2027-03-19", id="snooze-a-year-and-a-day"),
    pytest.param(AlertState("resolved"), "acknowledge", {}, "is resolved", id="resolved-is-final"),
    pytest.param(AlertState("acknowledged"), "acknowledge", {}, "already acknowledged", id="twice"),
    pytest.param(AlertState("open"), "delete", {}, "unknown action", id="unknown-action"),
])
def test_actions_that_do_not_apply(state: AlertState, action: str, kwargs: dict[str, object], message: str) -> None:
    """Actions that do not fit the state are refused with a one-line reason."""
    with pytest.raises(AlertTransitionError, match=message):
        on_action(state, action, TODAY, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("until", "problem"), [
    (None, "date after today"), (TODAY, "date after today"), (TODAY + timedelta(days=1), None),
    (date(2027, 3, 19), None), (date(2027, 3, 20), "at most a year, until 2027-03-19"),
    (date(9999, 12, 31), "at most a year, until 2027-03-19"),
], ids=["none", "today", "tomorrow", "a-year", "a-year-and-a-day", "9999-12-31"])
def test_the_snooze_date_rule(until: date | None, problem: str | None) -> None:
    """A snooze ends after today and at most a year away (latest_snooze); the reason names the last day."""
    found = snooze_date_problem(TODAY, until)
    assert found is None if problem is None else (found is not None and problem in found)
    assert latest_snooze(TODAY) == date(2027, 3, 19)
    assert latest_snooze(date(2028, 2, 29)) == date(2029, 2, 28)  # 365 days, across a leap day


def _open_one(session: Session) -> int:
    fire = Finding("usage_drop", "fire", "", "high", {"drop_pct": 40.0}, "Call them")
    reconcile(session, {"cust": [fire]}, today=TODAY, now=NOW, csm_of={"cust": "csm@cscx.io"})
    (alert,) = list_alerts(session)
    return alert.id


def test_actions_are_recorded_with_who_and_when(engine: Engine) -> None:
    """Acknowledge, snooze and dismiss each land in the audit trail with the actor, time and note."""
    with Session(engine) as session, session.begin():
        alert_id = _open_one(session)
    steps = [("acknowledge", "ada@cscx.io", {}), ("snooze", "ada@cscx.io", {"until": TODAY + timedelta(days=3)}),
             ("dismiss", "bo@cscx.io", {"reason": "renewal signed"})]
    for i, (action, who, kwargs) in enumerate(steps, start=1):
        with Session(engine) as session, session.begin():
            act_on_alert(session, alert_id, action, who, today=TODAY, now=NOW + timedelta(minutes=i), **kwargs)
    with Session(engine) as session:
        events = alert_events(session, alert_id)
        (alert,) = list_alerts(session, statuses=["dismissed"])
    assert [(e.action, e.actor) for e in events] == [
        ("opened", "system"), ("acknowledged", "ada@cscx.io"), ("snoozed", "ada@cscx.io"),
        ("dismissed", "bo@cscx.io")]
    assert events[2].note == f"until {(TODAY + timedelta(days=3)).isoformat()}"
    assert (alert.dismiss_reason, alert.status_by) == ("renewal signed", "bo@cscx.io")
    assert alert.status_at is not None
    assert alert.assigned_csm_email == "csm@cscx.io"


def test_refused_action_changes_nothing(sqlite_engine: Engine) -> None:
    """A refused action leaves the alert and its trail as they were."""
    with Session(sqlite_engine) as session, session.begin():
        alert_id = _open_one(session)
    with Session(sqlite_engine) as session, pytest.raises(AlertTransitionError):
        act_on_alert(session, alert_id, "dismiss", "ada@cscx.io", today=TODAY, now=NOW)
    with Session(sqlite_engine) as session:
        assert [e.action for e in alert_events(session, alert_id)] == ["opened"]
        assert list_alerts(session)[0].status == "open"


def test_new_alerts_are_inserted_together_each_with_its_opened_event(engine: Engine) -> None:
    """On PostgreSQL a run that opens many alerts inserts them in one batch (not a round trip each: thousands
    a day at 20,000 accounts); on both stores each gets its own "opened" event with its note. (SQLAlchemy
    inserts row by row on SQLite, whose RETURNING it cannot tie to a batch's rows; there is no round trip.)"""
    verdicts = {f"cust-{i:03}": [Finding("key_feature_abandoned", "fire", f"feat-{j}", "medium", {"j": j},
                                         f"Ask about feat-{j}") for j in range(3)] for i in range(40)}
    inserts: list[str] = []

    def count(_cursor: object, statement: str, _parameters: object) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO PENDO_USAGE_ALERTS"):
            inserts.append(statement)

    with each_statement(engine, count), Session(engine) as session, session.begin():
        counts = reconcile(session, verdicts, today=TODAY, now=NOW, csm_of={})
    assert counts.opened == 120
    if engine.dialect.name == "postgresql":
        assert len(inserts) == 1, f"{len(inserts)} INSERT statements for 120 new alerts"
    with Session(engine) as session:
        alerts = list_alerts(session)
        trails = {a.id: [(e.action, e.note) for e in alert_events(session, a.id)] for a in alerts}
    assert len(alerts) == 120
    assert all(trails[a.id] == [("opened", f"Ask about {a.subject}")] for a in alerts)
