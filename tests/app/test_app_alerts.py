"""The Alerts page, through the real frame: who sees which alerts (a compact table), the numbers and
suggested action of a selected alert, and acknowledge, dismiss and snooze in one click each on its
card, recorded with who and when. The inbox's filters, bulk actions and links: test_app_inbox.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from streamlit.testing.v1 import AppTest

from pendo_core.admin.users import User
from pendo_core.store.models import AlertEvent, UsageAlert
from tests.support.app import TODAY, labels, open_page, texts
from tests.support.app_data import ADMIN, CSM, LEADER, OTHER_CSM
from tests.support.inbox import select_alerts, table_customers

PAGE = "pages/alerts.py"


def _alert(engine: Engine, alert_id: int) -> UsageAlert:
    with engine.connect() as conn:
        return conn.execute(select(UsageAlert).where(UsageAlert.id == alert_id)).one()  # type: ignore[return-value]


def _cards(at: AppTest) -> str:
    return " ".join(texts(at.markdown))


def _opened(user: User, alert_id: int = 1, **state: object) -> AppTest:
    """The Alerts page as `user` with one alert selected, so its card is open."""
    return select_alerts(open_page(PAGE, user, **state), [alert_id])


@pytest.mark.parametrize(("user", "customers", "hidden"), [
    (CSM, ["Acme Corp"], ["Globex"]),
    (OTHER_CSM, ["Globex"], ["Acme Corp"]),
    (LEADER, ["Acme Corp", "Globex"], []),
    (ADMIN, ["Acme Corp", "Globex"], []),
], ids=["csm-own", "other-csm-own", "leader-all", "admin-all"])
def test_each_role_sees_its_alerts_with_numbers_and_action(store: Engine, user: User, customers: list[str],
                                                           hidden: list[str]) -> None:
    """A CSM sees alerts on their customers; leaders and admins see all; selected, each shows its numbers
    and suggested action on a card."""
    at = open_page(PAGE, user)
    assert not at.exception
    assert table_customers(at) == customers
    assert not set(hidden) & set(table_customers(at))
    assert [m.label for m in at.metric] == ["Open", "Open, high severity", "Acknowledged", "Snoozed"]
    assert labels(at.button).count("Acknowledge") == 0  # no card until a row is selected
    ids = [int(i) for i in at.dataframe[0].value["id"]]
    at = select_alerts(at, ids)
    cards = _cards(at)
    assert all(f"**{name}**" in cards for name in customers)
    assert cards.count("**Numbers:**") == cards.count("**Suggested action:**") == len(customers)
    assert labels(at.button).count("Acknowledge") == len(customers)


def test_acknowledge_is_one_click_and_recorded(store: Engine) -> None:
    """One click acknowledges; the alert and its trail record who did it."""
    at = _opened(CSM)
    at.button(key="alerts_ack_1").click().run()
    alert = _alert(store, 1)
    assert (alert.status, alert.status_by) == ("acknowledged", CSM.email)
    assert alert.status_at is not None
    assert texts(at.success) == [f"Alert 1 acknowledged by {CSM.email}."]
    with store.connect() as conn:
        assert conn.execute(select(AlertEvent.actor, AlertEvent.action)).all() == [(CSM.email, "acknowledged")]


def test_dismiss_records_the_reason(store: Engine) -> None:
    """Dismissing with a chosen reason (and details) stores both."""
    at = _opened(CSM)
    at.selectbox(key="alerts_reason_1").set_value("Known: the customer told us")
    at.text_input(key="alerts_reason_text_1").input("on holiday until April")
    at.button(key="alerts_dismiss_1").click().run()
    alert = _alert(store, 1)
    assert (alert.status, alert.dismiss_reason) == ("dismissed", "Known: the customer told us: on holiday until April")


def test_dismiss_as_other_without_details_is_refused(store: Engine) -> None:
    """"Other" needs words; the page says so and the alert stays open."""
    at = _opened(CSM)
    at.selectbox(key="alerts_reason_1").set_value("Other (write below)")
    at.button(key="alerts_dismiss_1").click().run()
    assert _alert(store, 1).status == "open"
    assert any("needs a reason" in t for t in texts(at.error))


def test_snooze_until_a_date(store: Engine) -> None:
    """Snoozing keeps the chosen date and shows it on the card."""
    until = TODAY + timedelta(days=10)
    at = _opened(CSM)
    at.date_input(key="alerts_until_1").set_value(until)
    at.button(key="alerts_snooze_1").click().run()
    alert = _alert(store, 1)
    assert (alert.status, alert.snoozed_until) == ("snoozed", until)
    at = select_alerts(at, [1])
    assert any(f"Snoozed until {until:%d %b %Y} by {CSM.email}" in t for t in texts(at.caption))


def test_the_snooze_picker_offers_tomorrow_to_a_year_ahead(store: Engine) -> None:
    """The card's date picker stops where the lifecycle does: a date beyond a year cannot be picked."""
    picker = _opened(CSM).date_input(key="alerts_until_1")
    assert (picker.min, picker.value, picker.max) == (TODAY + timedelta(days=1), TODAY + timedelta(days=7),
                                                      TODAY + timedelta(days=365))


def test_csm_viewing_everyone_cannot_act_on_a_colleagues_alert(store: Engine) -> None:
    """With "show all customers" a CSM sees colleagues' alerts but gets no buttons for them."""
    at = open_page(PAGE, CSM, frame_show_all=True)
    assert "Globex" in table_customers(at)
    at = select_alerts(at, [1, 2])
    assert "**Globex**" in _cards(at)
    assert labels(at.button).count("Acknowledge") == 1
    assert any("Only the customer's CSM or a leader" in t for t in texts(at.caption))


def test_no_alerts_explains_itself(store: Engine) -> None:
    """A person with nothing to act on is told what alerts are and when they appear."""
    at = open_page(PAGE, User("new@cscx.io", "New CSM", "csm"))
    assert not at.exception
    assert any("No alerts" in t for t in texts(at.info))


def test_closed_alerts_show_on_request(store: Engine) -> None:
    """A dismissed alert leaves the inbox, and comes back with "show closed alerts"."""
    at = _opened(CSM)
    at.selectbox(key="alerts_reason_1").set_value("Not actionable")
    at.button(key="alerts_dismiss_1").click().run()
    assert any("No alerts" in t for t in texts(at.info))
    at.toggle(key="alerts_include_closed").set_value(True).run()
    assert list(at.dataframe[0].value["status"]) == ["Dismissed"]
    at = select_alerts(at, [1])
    assert "Dismissed" in _cards(at)
    assert any("Dismissed by maya@cscx.io" in t for t in texts(at.caption))
