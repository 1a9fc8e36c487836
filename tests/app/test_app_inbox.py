"""The Alerts inbox that scales, through the real frame, for each role: one compact table grouped by
customer with health, ARR and renewal, weighted by priority; filters by kind, severity, status, CSM
and customer; acknowledge or snooze the selected rows at once; links to the customer and from its
header."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select, update
from streamlit.testing.v1 import AppTest

from pages.ui import alert_card
from pendo_core.admin.users import User
from pendo_core.store.models import AlertEvent, Customer, UsageAlert
from tests.support.app import TODAY, app, labels, open_page, texts
from tests.support.app_data import ACME, ADMIN, CSM, GLOBEX, INITECH, LAST, LEADER, ME, OTHER_CSM, THEM
from tests.support.health_alerts import table_insert
from tests.support.inbox import select_alerts, table_ids, table_key

PAGE = "pages/alerts.py"
ROLES = {"csm": CSM, "other_csm": OTHER_CSM, "leader": LEADER, "admin": ADMIN}


@pytest.fixture
def inbox_store(store: Engine) -> Engine:
    """The hand-built store with ARR and renewals, and two more alerts: four alerts on three customers.

    Priorities (ARR ranks among the three known ARRs: Acme 0, Globex 0.5, Initech 1):
    #3 Initech usage_drop medium, renewal in 60 days: 30 + 25 + 20 = 75, high;
    #2 Globex usage_drop medium, renewal in 20 days: 30 + 12.5 + 25 = 67.5, high;
    #4 Globex guide_dismissal low: 10 + 12.5 + 25 = 47.5, medium;
    #1 Acme no_login high, smallest ARR, no renewal: 50, medium.
    """
    engine, today = store, TODAY
    facts = {ACME: (50_000.0, None, "SMB"), GLOBEX: (300_000.0, today + timedelta(days=20), "Enterprise"),
             INITECH: (900_000.0, today + timedelta(days=60), "Enterprise")}
    with engine.begin() as conn:
        for customer, (arr, renewal, segment) in facts.items():
            conn.execute(update(Customer).where(Customer.customer_id == customer)
                         .values(arr=arr, renewal_date=renewal, segment=segment))
    base = {"status": "open", "triggered_on": LAST, "last_evaluated_on": LAST, "status_by": "system"}
    table_insert(engine, "pendo_usage_alerts", [
        {**base, "id": 3, "customer_id": INITECH, "kind": "usage_drop", "subject": "", "severity": "medium",
         "assigned_csm_email": ME, "suggested_action": "Offer a usage review.",
         "details": {"drop_pct": 30.0, "avg_daily_users": 7.0, "baseline_avg_daily_users": 10.0}},
        {**base, "id": 4, "customer_id": GLOBEX, "kind": "guide_dismissal", "subject": "tour", "severity": "low",
         "assigned_csm_email": THEM, "suggested_action": "Review the guide.",
         "details": {"guide_name": "Tour", "seen_visitors": 10, "dismissed_visitors": 6, "dismissal_rate": 0.6}}])
    return engine


def _statuses(engine: Engine) -> dict[int, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(UsageAlert.id, UsageAlert.status)).tuples().all())


@pytest.mark.parametrize(("role", "ids"), [
    ("csm", [3, 1]), ("other_csm", [2, 4]), ("leader", [3, 2, 4, 1]), ("admin", [3, 2, 4, 1]),
], ids=str)
def test_a_compact_table_grouped_by_customer_most_urgent_first(inbox_store: Engine, role: str, ids: list[int]) -> None:
    """One row per alert, a customer's alerts together, the customer with the most at stake first."""
    at = open_page(PAGE, ROLES[role])
    assert not at.exception
    assert table_ids(at) == ids
    assert len(at.dataframe) == 1
    assert "Acknowledge" not in labels(at.button)  # no card until a row is selected
    assert at.button(key="alerts_bulk_ack").disabled


def test_the_table_shows_each_customers_health_arr_and_renewal(inbox_store: Engine) -> None:
    """Each row carries its customer's health, 28-day change, ARR and days to renewal, and the weighted severity."""
    frame = open_page(PAGE, LEADER).dataframe[0].value.set_index("id")
    assert frame.loc[2, ["customer", "health", "band", "health_change", "arr", "days_to_renewal"]].tolist() == [
        "Globex", 40.0, "red", 0.0, 300_000.0, 20]
    assert frame.loc[3, ["customer", "arr", "days_to_renewal"]].tolist() == ["Initech", 900_000.0, 60]
    assert frame["severity"].to_dict() == {3: "high", 2: "high", 4: "medium", 1: "medium"}
    assert frame["rule_severity"].to_dict() == {3: "medium", 2: "medium", 4: "low", 1: "high"}


@pytest.mark.parametrize(("numbers", "limit", "expected"), [
    ("19 days, nobody active (last active 2026-11-14)", 61,
     "No login · 19 days, nobody active (last active 2026-11-14)"),
    ("In 27 days (2026-12-31); health 17.5 (red)", 40, "No login · In 27 days (2026-12-31)"),
    ("“Tour”: 6 of 10 viewers dismissed it (60%) in 30 days", 40, "No login · “Tour”: 6 of 10 viewers…"),
    ("x" * 80, 40, "No login · " + "x" * 28 + "…"),
], ids=["fits", "first-clause", "cut-at-a-word", "one-long-word"])
def test_headline_is_one_line_of_the_kind_and_its_first_numbers(numbers: str, limit: int, expected: str) -> None:
    """The inbox's one-line alert: the kind, the numbers up to the first "; ", cut with "…" within the limit."""
    got = alert_card.headline("No login", numbers, limit)
    assert got == expected
    assert len(got) <= limit


def test_each_row_is_one_line_and_the_card_has_all_the_numbers(inbox_store: Engine) -> None:
    """Rows are one line tall: the alert's kind and the start of its numbers; a selected alert's card holds them all."""
    at = open_page(PAGE, LEADER)
    assert at.dataframe[0].proto.row_height == 35  # one line of text (the grid wraps only above 64 px)
    frame = at.dataframe[0].value.set_index("id")
    for alert_id, row in frame.iterrows():
        assert row["alert"] == alert_card.headline(str(row["kind"]), str(row["numbers"])), alert_id
        assert len(row["alert"]) <= alert_card.HEADLINE_CHARS
    assert frame.loc[3, "alert"].endswith("…")  # the usage drop's numbers are longer than a line
    full = str(frame.loc[3, "numbers"])
    assert full.startswith(frame.loc[3, "alert"].removesuffix("…").removeprefix("Usage drop · "))
    at = select_alerts(at, [3])
    assert any(f"**Numbers:** {full}" in t for t in texts(at.markdown))


@pytest.mark.parametrize(("role", "picked"), [
    ("csm", [3, 1]), ("other_csm", [2, 4]), ("leader", [3, 2]), ("admin", [4, 1]),
], ids=str)
def test_bulk_acknowledge_of_two_alerts(inbox_store: Engine, role: str, picked: list[int]) -> None:
    """Selecting two rows and one click acknowledges both, each recorded with who did it."""
    user = ROLES[role]
    at = select_alerts(open_page(PAGE, user), picked)
    at.button(key="alerts_bulk_ack").click().run()
    assert not at.exception
    assert {i: s for i, s in _statuses(inbox_store).items() if i in picked} == dict.fromkeys(picked, "acknowledged")
    assert texts(at.success) == [f"2 alert(s) acknowledged by {user.email}: {', '.join(f'#{i}' for i in picked)}."]
    with inbox_store.connect() as conn:
        events = conn.execute(select(AlertEvent.alert_id, AlertEvent.actor, AlertEvent.action)).all()
    assert sorted(events) == sorted((i, user.email, "acknowledged") for i in picked)
    assert "Acknowledge" not in labels(at.button)  # the selection is cleared: no card open
    assert at.button(key="alerts_bulk_ack").disabled


def test_bulk_snooze_until_a_date(inbox_store: Engine) -> None:
    """The selected alerts are snoozed together until the chosen date."""
    until = TODAY + timedelta(days=14)
    at = select_alerts(open_page(PAGE, LEADER), [2, 4])
    at.date_input(key="alerts_bulk_until").set_value(until)
    at.button(key="alerts_bulk_snooze").click().run()
    with inbox_store.connect() as conn:
        rows = conn.execute(select(UsageAlert.id, UsageAlert.status, UsageAlert.snoozed_until)
                            .where(UsageAlert.id.in_([2, 4]))).all()
    assert sorted(rows) == [(2, "snoozed", until), (4, "snoozed", until)]


def test_bulk_snooze_picker_stops_a_year_ahead(inbox_store: Engine) -> None:
    """The bulk picker has the same limits as the card's and the lifecycle's: tomorrow to a year ahead."""
    picker = select_alerts(open_page(PAGE, LEADER), [2, 4]).date_input(key="alerts_bulk_until")
    assert (picker.min, picker.max) == (TODAY + timedelta(days=1), TODAY + timedelta(days=365))


def test_bulk_acts_only_on_what_the_csm_may_act_on(inbox_store: Engine) -> None:
    """A CSM showing all customers may select a colleague's alert, but only theirs is acknowledged."""
    at = select_alerts(open_page(PAGE, CSM, frame_show_all=True), [3, 2])
    assert any("2 selected, 1 not yours to act on" in t for t in texts(at.caption))
    at.button(key="alerts_bulk_ack").click().run()
    assert (_statuses(inbox_store)[3], _statuses(inbox_store)[2]) == ("acknowledged", "open")


def test_bulk_acknowledge_is_off_when_nothing_selected_is_actionable(inbox_store: Engine) -> None:
    """Nothing open among the rows picked that is the CSM's: the button cannot be pressed."""
    at = select_alerts(open_page(PAGE, CSM, frame_show_all=True), [2, 4])
    assert at.button(key="alerts_bulk_ack").disabled


def _filtered(at: AppTest, key: str, value: list[object]) -> list[int]:
    at.multiselect(key=key).set_value(value).run()
    return table_ids(at)


@pytest.mark.parametrize(("key", "value", "ids"), [
    ("alerts_kinds", ["usage_drop"], [3, 2]),
    ("alerts_severities", ["high"], [3, 2]),
    ("alerts_severities", ["medium"], [4, 1]),
    ("alerts_owners", [THEM], [2, 4]),
    ("alerts_customers", [ACME], [1]),
    ("alerts_statuses", ["open"], [3, 2, 4, 1]),
], ids=["kind", "severity-high", "severity-medium", "csm", "customer", "status"])
def test_filters(inbox_store: Engine, key: str, value: list[object], ids: list[int]) -> None:
    """Kind, weighted severity, CSM, customer and status each narrow the table."""
    assert _filtered(open_page(PAGE, LEADER), key, value) == ids


def test_the_counts_follow_the_filters(inbox_store: Engine) -> None:
    """The cards above the filters count the alerts the filters leave: four open, then Acme's one."""
    at = open_page(PAGE, LEADER)
    assert next(m.value for m in at.metric if m.label == "Open") == "4"
    at.multiselect(key="alerts_customers").set_value([ACME]).run()
    assert next(m.value for m in at.metric if m.label == "Open") == "1"


def test_status_filter_finds_acknowledged_alerts(inbox_store: Engine) -> None:
    """After an acknowledgement the status filter lists it apart; combined filters narrow further."""
    at = select_alerts(open_page(PAGE, LEADER), [3])
    at.button(key="alerts_ack_3").click().run()
    assert _filtered(at, "alerts_statuses", ["acknowledged"]) == [3]
    at.multiselect(key="alerts_kinds").set_value(["no_login"]).run()
    assert any("No alert matches" in t for t in texts(at.info))


@pytest.mark.parametrize(("user", "enabled"), [(CSM, False), (LEADER, True), (ADMIN, True)], ids=str)
def test_the_csm_filter_is_for_those_who_see_several_csms(inbox_store: Engine, user: User, enabled: bool) -> None:
    """A CSM's own inbox has one CSM; leaders and admins filter by CSM."""
    assert at_disabled(open_page(PAGE, user), "alerts_owners") is not enabled


def at_disabled(at: AppTest, key: str) -> bool:
    return bool(at.multiselect(key=key).disabled)


@pytest.mark.parametrize("user", [CSM, LEADER, ADMIN], ids=["csm", "leader", "admin"])
def test_the_header_link_opens_the_inbox_filtered_to_the_customer(inbox_store: Engine, user: User) -> None:
    """A customer header links its open alerts to the inbox with the customer's id; opened so, the
    inbox shows that customer's alerts only."""
    health = open_page("pages/health.py", user, frame_customer=ACME)
    (link,) = health.get("page_link")
    assert (link.proto.label, link.proto.query_string) == ("1 open alert(s): see Alerts", f"customer={ACME}")
    at = _with_query(user, customer=ACME)
    assert table_ids(at) == [1]
    assert at.multiselect(key="alerts_customers").value == [ACME]


def _with_query(user: User, **params: str) -> AppTest:
    at = app("app.py", user).run()
    at.query_params.update(params)
    return at.switch_page(PAGE).run()


@pytest.mark.parametrize(("user", "alert_id", "customer"), [
    (CSM, 3, "Initech"), (OTHER_CSM, 2, "Globex"), (LEADER, 2, "Globex"), (ADMIN, 1, "Acme Corp"),
], ids=["csm", "other-csm", "leader", "admin"])
def test_a_selected_alert_links_to_its_customer(inbox_store: Engine, user: User, alert_id: int, customer: str) -> None:
    """From the card, one click opens the customer's Account usage, with its header."""
    at = select_alerts(open_page(PAGE, user), [alert_id])
    at.button(key=f"alerts_open_{alert_id}").click().run()
    assert not at.exception
    assert texts(at.title) == [f"Account usage · {customer}"]
    assert f"**{customer}**" in " ".join(texts(at.markdown))


def test_the_selection_follows_the_rows_shown(inbox_store: Engine) -> None:
    """A filter that changes the rows gives the table a new key, so an old selection never acts on other rows."""
    at = open_page(PAGE, LEADER)
    before = table_key(at)
    at.multiselect(key="alerts_kinds").set_value(["usage_drop"]).run()
    assert table_key(at) != before


def test_many_alerts_are_one_table_that_scrolls(inbox_store: Engine) -> None:
    """However many alerts, one table holds them all (12 rows in view, the rest scrolled inside), so a
    sort from a column header orders every alert, not one page of them."""
    base = {"status": "open", "triggered_on": LAST, "last_evaluated_on": LAST, "kind": "feature_abandonment",
            "severity": "low", "customer_id": ACME, "assigned_csm_email": ME, "details": {}}
    table_insert(inbox_store, "pendo_usage_alerts", [{**base, "id": 100 + i, "subject": f"f{i}"} for i in range(60)])
    at = open_page(PAGE, CSM)
    assert len(table_ids(at)) == 62
    assert not [box for box in at.selectbox if box.key == "alerts_page"]


def test_renewal_dates_count_from_the_apps_today(inbox_store: Engine) -> None:
    """Days to renewal are counted from today in the subscription's timezone."""
    frame = open_page(PAGE, LEADER).dataframe[0].value.set_index("id")
    assert isinstance(frame.loc[2, "renewal_date"], date)
    assert (frame.loc[2, "renewal_date"] - TODAY).days == frame.loc[2, "days_to_renewal"]
