"""The questions about a window and a customer's status, on the shared store (SQLite and PostgreSQL):
each number an answer quotes is checked against the stored rows; a named window is used or said."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.alerts.kinds import label
from pendo_core.chat import Answer, Viewer, respond
from pendo_core.chat.intents import GUIDE_DISMISSALS, LAST_LOGIN, SESSIONS, TOP_DROPS, USAGE_SUMMARY, USAGE_TREND
from pendo_core.store.models import HealthScore, UsageAlert, UsageMetric
from tests.support.chat_api import ACME, ANA, AS_OF, LABS, LAST, LEE, UMBRELLA, SharedStore

ANA_VIEWER = Viewer(ANA, "csm")


@pytest.fixture
def store(shared_store: SharedStore) -> Engine:
    """The shared built store (read-only tests)."""
    return shared_store.fresh().engine


def _ask(store: Engine, question: str, viewer: Viewer = ANA_VIEWER) -> Answer:
    return respond(store, viewer, question, today=AS_OF)


def _facts(answer: Answer) -> dict[str, Any]:
    return {f.label: f.value for f in answer.facts}


def _sessions(store: Engine, customers: list[str], first: date, last: date) -> tuple[int, float]:
    u = UsageMetric
    with store.connect() as conn:
        rows = conn.execute(select(u.session_count, u.avg_session_minutes).where(
            u.customer_id.in_(customers), u.metric_date.between(first, last))).all()
    total = sum(r[0] for r in rows)
    return total, sum(r[0] * r[1] for r in rows if r[1] is not None) / total


@pytest.mark.parametrize(("question", "customers", "first", "last"), [
    pytest.param("Sessions last week?", [ACME, LABS, UMBRELLA],
                 date(2026, 3, 9), date(2026, 3, 15), id="last-week-all-my-customers"),
    pytest.param("sessions at umbrella in the last 2 weeks", [UMBRELLA], LAST - timedelta(days=13), LAST,
                 id="one-customer-two-weeks"),
    pytest.param("How many sessions did Acme Corp have since 1 March?", [ACME], date(2026, 3, 1), LAST,
                 id="since-a-date"),
    pytest.param("sessions at umbrella", [UMBRELLA], LAST - timedelta(days=6), LAST, id="default-7-days"),
])
def test_sessions_sum_the_stored_days_of_the_window(store: Engine, question: str, customers: list[str],
                                                    first: date, last: date) -> None:
    """Sessions = sum of the stored daily counts; the mean length weighs each day by its sessions."""
    answer = _ask(store, question)
    total, average = _sessions(store, customers, first, last)
    assert answer.intent == SESSIONS
    assert (_facts(answer)["Sessions"], _facts(answer)["Average session (min)"]) == (total, pytest.approx(average))
    assert f"{first.isoformat()} → {last.isoformat()}" in (answer.window or "")


@pytest.mark.parametrize(("question", "customer", "expected"), [
    pytest.param("When did Acme Corp last log in?", ACME, "Acme Corp", id="acme-corp-not-acme-labs"),
    pytest.param("when was umbrella last active", UMBRELLA, "Umbrella Corp", id="last-active"),
    pytest.param("last login at umbrella", UMBRELLA, "Umbrella Corp", id="last-login"),
])
def test_last_login_is_the_newest_active_day(store: Engine, question: str, customer: str, expected: str) -> None:
    """The last active day is the newest stored day with activity; the answer names who was active."""
    answer = _ask(store, question)
    with store.connect() as conn:
        newest = conn.execute(select(func.max(UsageMetric.metric_date)).where(
            UsageMetric.customer_id == customer, UsageMetric.dau > 0)).scalar()
    assert (answer.intent, answer.customer.name if answer.customer else None) == (LAST_LOGIN, expected)
    assert _facts(answer)["Last active day"] == newest.isoformat()
    assert f"was last active on **{newest}**" in answer.text


def test_umbrella_was_last_active_by_its_one_remaining_user(store: Engine) -> None:
    """Only u1 stayed active at Umbrella: the answer names u1 alone."""
    answer = _ask(store, "When did Umbrella last log in?")
    assert _facts(answer)["Visitors active that day"] == 1
    assert "by u1." in answer.text


def test_dismissed_guides_are_the_stored_30_day_counts(store: Engine) -> None:
    """One of Acme's two viewers of the Welcome tour dismissed it."""
    answer = _ask(store, "Which guides did Acme Corp dismiss?")
    assert answer.intent == GUIDE_DISMISSALS
    assert [(r["name"], r["dismissed"], r["seen"]) for r in answer.table] == [("Welcome tour", 1, 2)]
    assert "Welcome tour: 1 of 2 visitors dismissed it" in answer.text


def test_no_dismissal_says_so(store: Engine) -> None:
    """A customer whose visitors dismissed nothing gets a plain no."""
    answer = _ask(store, "which guides did umbrella dismiss")
    assert answer.table == ()
    assert "No visitor at **Umbrella Corp** dismissed a guide" in answer.text


@pytest.mark.parametrize(("question", "customer", "alerts"), [
    pytest.param("How is Umbrella using the product?", UMBRELLA, 1, id="red-with-a-usage-drop"),
    pytest.param("How is Acme Corp using the product?", ACME, 0, id="without-alerts"),
    pytest.param("How is Acme Labs using the product?", LABS, 1, id="with-an-abandonment-alert"),
])
def test_how_is_x_adds_health_with_its_28_day_change_and_active_alerts(store: Engine, question: str, customer: str,
                                                                       alerts: int) -> None:
    """The summary quotes the stored score, its change since 28 days before, and each active alert's kind
    by its label (alerts/kinds.py)."""
    answer = _ask(store, question)
    with store.connect() as conn:
        scores = dict(conn.execute(select(HealthScore.score_date, HealthScore.overall).where(
            HealthScore.customer_id == customer)).all())
        kinds = conn.execute(select(UsageAlert.kind).where(
            UsageAlert.customer_id == customer,
            UsageAlert.status.in_(("open", "acknowledged", "snoozed")))).scalars().all()
    facts = _facts(answer)
    assert answer.intent == USAGE_SUMMARY
    assert facts["Health score"] == scores[LAST]
    assert facts["Health change, 28 days"] == pytest.approx(scores[LAST] - scores[LAST - timedelta(days=28)])
    assert facts["Active alerts"] == len(kinds) == alerts
    assert all(label(kind) in answer.text for kind in kinds)
    assert ("No active alerts." in answer.text) == (alerts == 0)


@pytest.mark.parametrize(("question", "intent", "days"), [
    pytest.param("How is Acme Corp using the product in the last 90 days?", USAGE_SUMMARY, 90, id="summary-90"),
    pytest.param("How is Acme Corp doing in the last 14 days?", USAGE_SUMMARY, 14, id="summary-14"),
    pytest.param("Show usage trend for Umbrella over the last 14 days", USAGE_TREND, 14, id="trend-14-days"),
])
def test_a_named_window_is_the_one_answered(store: Engine, question: str, intent: str, days: int) -> None:
    """The trend and its means are over the named window, and the answer's window starts with it."""
    answer = _ask(store, question)
    assert answer.intent == intent
    assert f"Mean DAU, last {days} days" in _facts(answer)
    assert "Mean DAU, last 28 days" not in _facts(answer)
    assert (answer.window or "").startswith(f"last {days} ")


def test_drops_use_the_named_window(store: Engine) -> None:
    """'in the last 14 days' compares 14 days against the 14 before."""
    answer = _ask(store, "Which accounts dropped the most in the last 14 days?", Viewer(LEE, "leader"))
    assert answer.intent == TOP_DROPS
    assert "(14 days) vs" in (answer.window or "")


def test_a_window_an_answer_cannot_use_is_said(store: Engine) -> None:
    """Health is not per window: the answer says which window was asked and which it covers."""
    answer = _ask(store, "Why is umbrella's health score low since 1 March?")
    assert "_You asked about since 1 march: 2026-03-01 → 2026-03-18 (18 days)" in answer.text


def test_a_window_after_the_last_synced_day_has_no_data(store: Engine) -> None:
    """A window that starts after the last synced day is answered as not synced yet."""
    answer = respond(store, ANA_VIEWER, "sessions at umbrella yesterday", today=AS_OF + timedelta(days=5))
    assert "No usage is synced for yesterday yet" in answer.text
