"""People of a customer: per-person figures against hand-built activity, contacts and champions,
sorting, search and paging in SQL, and the Streamlit sections that show them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from pendo_core.customers import people
from tests.support.health_alerts import add_customer, table_insert
from tests.support.people import (
    ACME,
    AS_OF,
    GLOBEX,
    add_contacts,
    add_days,
    add_feature_days,
    add_hours,
    add_visitors,
    days_back,
    rows_of,
)

ANN, BOB, JANE = "ann@acme.com", "bob@acme.com", "u-77"


def _acme(engine: Engine) -> None:
    """Ann works in both Acme accounts (days counted once), Bob only long ago; others must not show."""
    add_customer(engine, ACME, accounts=["acme-eu", "acme-us"])
    add_customer(engine, GLOBEX, accounts=["globex"])
    table_insert(engine, "pendo_features", [{"feature_id": "f-export", "name": "Export"},
                                            {"feature_id": "f-search", "name": "Search"}])
    add_visitors(engine, {ANN: ANN, BOB: BOB, JANE: "jane@acme.com"})
    add_days(engine, "acme-eu", ANN, days_back(0, 1, 2, 40, 41))
    add_days(engine, "acme-us", ANN, days_back(1, 2))
    eu_hours = {30: [23], 29: [0], 1: [23], 0: [0, 9, 10, 14]}  # runs: 30->29 starts before the window; 1->0
    for back, hours in eu_hours.items():
        add_hours(engine, "acme-eu", ANN, AS_OF - timedelta(days=back), hours)
    add_hours(engine, "acme-us", ANN, AS_OF - timedelta(days=1), [9])  # same person, other account: its own session
    add_feature_days(engine, "acme-eu", ANN, "f-export", days_back(0, 1))
    add_feature_days(engine, "acme-us", ANN, "f-search", days_back(5), events=2)
    add_days(engine, "acme-us", BOB, days_back(35), events=1, minutes=2)
    add_days(engine, "acme-eu", "cat@acme.com", days_back(3), events=0, minutes=4)  # a row, but not active
    add_days(engine, "acme-eu", "_PENDO_T_abc", days_back(0))
    add_days(engine, "globex", "gil@globex.com", days_back(0))


def _with_contacts(engine: Engine) -> None:
    _acme(engine)
    add_contacts(engine, ACME, [("Ann Lee", ANN, "decision_maker", "VP Ops"),
                                ("Jane Doe", "Jane@Acme.com", "champion"), ("Typo", "jnae@acme.com", "user")])


def test_per_person_figures_match_hand_built_activity(engine: Engine) -> None:
    """Last active day, active days (once across accounts), minutes, events, sessions (a run across
    midnight once; a run started before the window not at all), features, trend and daily events."""
    _acme(engine)
    rows, total = people.visitor_rows(engine, ACME, AS_OF)
    assert total == 2
    ann, bob = rows
    assert (ann.visitor_id, ann.last_active, ann.active_days, ann.minutes, ann.events, ann.sessions) == (
        ANN, AS_OF, 3, 50, 25, 4)
    assert (ann.features, ann.top_features, ann.days_28, ann.days_prior_28, ann.trend) == (
        2, ("Export", "Search"), 3, 2, 0.5)
    assert ann.daily_events == (0,) * 25 + (10, 10, 5)
    assert (bob.last_active, bob.active_days, bob.minutes, bob.sessions, bob.features, bob.trend) == (
        AS_OF - timedelta(days=35), 0, 0, 0, 0, -1.0)
    assert bob.daily_events == (0,) * 28


def test_anonymous_visitors_only_when_asked(engine: Engine) -> None:
    """Anonymous visitors are left out unless include_anonymous is on."""
    _acme(engine)
    assert people.visitor_rows(engine, ACME, AS_OF)[1] == 2
    rows, total = people.visitor_rows(engine, ACME, AS_OF, include_anonymous=True)
    assert (total, "_PENDO_T_abc" in {r.visitor_id for r in rows}) == (3, True)


def test_one_account_scope_counts_its_own_rows(engine: Engine) -> None:
    """Scoped to one Pendo account (the REST API's view), only its visitors and rows count."""
    _acme(engine)
    rows, total = people.visitor_rows(engine, ACME, AS_OF, account_id="acme-us")
    assert total == 2
    assert rows_of(rows, "visitor_id", "active_days", "minutes", "sessions", "features") == [
        (ANN, 2, 20, 1, 1), (BOB, 0, 0, 0, 0)]


def test_contacts_show_by_name_and_role_quiet_ones_too(engine: Engine) -> None:
    """Matched contacts carry their name, title and role, even with no activity; filters pick them."""
    _with_contacts(engine)
    rows, total = people.visitor_rows(engine, ACME, AS_OF, sort="role")
    assert total == 3
    assert rows_of(rows, "visitor_id", "name", "title", "role", "last_active", "active_days") == [
        (JANE, "Jane Doe", None, "champion", None, 0), (ANN, "Ann Lee", "VP Ops", "decision_maker", AS_OF, 3),
        (BOB, None, None, None, AS_OF - timedelta(days=35), 0)]
    assert [r.visitor_id for r in people.visitor_rows(engine, ACME, AS_OF, only="key")[0]] == [ANN, JANE]
    assert [r.visitor_id for r in people.visitor_rows(engine, ACME, AS_OF, only="unmatched")[0]] == [BOB]
    assert [r.visitor_id for r in people.most_active_users(engine, ACME, AS_OF, 10)] == [ANN]


SORTED = {  # sort key -> the visitors in order (Ann: 3 days, DM; Bob: long ago, no contact; Jane: champion, never)
    "-active_days": [ANN, BOB, JANE], "last_active": [BOB, ANN, JANE], "-last_active": [ANN, BOB, JANE],
    "name": [ANN, BOB, JANE], "-name": [JANE, BOB, ANN], "role": [JANE, ANN, BOB], "-trend": [ANN, BOB, JANE],
    "trend": [BOB, ANN, JANE], "-sessions": [ANN, BOB, JANE], "features": [BOB, JANE, ANN],
    "-visitor": [JANE, BOB, ANN],
}
FOUND = {  # search -> the visitors found
    "ANN": [ANN], "vp": [ANN], "champion": [JANE], "jane": [JANE], "acme.com": [ANN, BOB, JANE],
    "%": [], "_": [ANN], "  ": [ANN, BOB, JANE],  # % is literal; _ only in Ann's role decision_maker
}


def test_sorting_runs_in_sql_with_blanks_last(engine: Engine) -> None:
    """Each sort key orders the whole list; blanks (never active, no trend) go last either way."""
    _with_contacts(engine)
    got = {sort: [r.visitor_id for r in people.visitor_rows(engine, ACME, AS_OF, sort=sort)[0]] for sort in SORTED}
    assert got == SORTED


def test_search_matches_id_email_name_title_and_role(engine: Engine) -> None:
    """Search is a case-insensitive substring of id, e-mail, name, title or role; % and _ are literal."""
    _with_contacts(engine)
    got = {}
    for search in FOUND:
        rows, total = people.visitor_rows(engine, ACME, AS_OF, search=search)
        got[search] = [r.visitor_id for r in rows]
        assert total == len(rows)
    assert got == FOUND


def test_paging_walks_a_large_list_exactly_once(engine: Engine) -> None:
    """5,000 visitors in pages of 500 sorted by minutes: every visitor once, in order, the same total,
    and a page past the end is empty but still counts."""
    add_customer(engine, ACME, accounts=["big"])
    table_insert(engine, "pendo_visitor_days", [
        {"account_id": "big", "day": AS_OF - timedelta(days=i % 7), "visitor_id": f"v{i:05d}", "num_events": 1,
         "num_minutes": i % 97} for i in range(5000)])
    expected = sorted((f"v{i:05d}" for i in range(5000)), key=lambda v: (-(int(v[1:]) % 97), v))
    seen: list[str] = []
    for page in range(1, 11):
        result = people.visitors_page(engine, ACME, AS_OF, page, 500, "-minutes")
        assert (result.total, result.pages, len(result.rows)) == (5000, 10, 500)
        seen.extend(r.visitor_id for r in result.rows)
    assert seen == expected
    past = people.visitors_page(engine, ACME, AS_OF, 11, 500, "-minutes")
    assert (past.rows, past.total) == ([], 5000)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sort": "-height"}, "sort '-height' is not one of"), ({"only": "vips"}, "only='vips' is not one of"),
    ({"limit": 0}, "limit must be 1..500"), ({"limit": 501}, "limit must be 1..500"),
], ids=["sort", "filter", "limit-0", "limit-too-big"])
def test_bad_list_arguments_say_what_is_allowed(sqlite_engine: Engine, kwargs: dict[str, object],
                                                message: str) -> None:
    """An unknown sort key or filter, or a page size out of range, is a ValueError naming the choices."""
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        people.visitor_rows(sqlite_engine, ACME, AS_OF, **kwargs)  # type: ignore[arg-type]


def _champions(engine: Engine) -> None:
    add_customer(engine, ACME, accounts=["acme-eu", "acme-us"])
    add_visitors(engine, {"c1@acme.com": "c1@acme.com", "c2@acme.com": "c2@acme.com", "u-9": "d1@acme.com"})
    add_contacts(engine, ACME, [("Cy One", "c1@acme.com", "champion"), ("Cy Two", "c2@acme.com", "champion"),
                                ("Cy Three", "c3@acme.com", "champion"), ("Di One", "d1@acme.com", "decision_maker"),
                                ("Al User", "al@acme.com", "user")])
    add_days(engine, "acme-eu", "c1@acme.com", days_back(3))
    add_days(engine, "acme-eu", "c2@acme.com", days_back(20))
    add_days(engine, "acme-eu", "D1@Acme.com", days_back(1))  # two ids of one person, in two accounts
    add_days(engine, "acme-us", "u-9", days_back(1, 2), minutes=7)


def test_champion_status_counts_champions_active_lately(engine: Engine) -> None:
    """Every champion and decision maker with last activity over all their visitors; the share counts
    champions active in the last 14 days (an unmatched champion counts as not active)."""
    _champions(engine)
    status = people.champion_status(engine, ACME, AS_OF)
    assert rows_of(status.people, "name", "visitor_ids", "last_active", "active_days_window", "minutes_30") == [
        ("Cy One", ("c1@acme.com",), AS_OF - timedelta(days=3), 1, 10),
        ("Cy Three", (), None, 0, 0),
        ("Cy Two", ("c2@acme.com",), AS_OF - timedelta(days=20), 0, 10),
        ("Di One", ("D1@Acme.com", "u-9"), AS_OF - timedelta(days=1), 2, 24)]
    assert (status.champions, status.champions_active, status.share_active) == (3, 1, pytest.approx(1 / 3))
    assert [p.days_quiet(AS_OF) for p in status.people] == [3, None, 20, 1]


def test_champion_engagement_is_weekly_per_person(engine: Engine) -> None:
    """Seven-day blocks ending as_of, oldest first: active days and minutes of each key contact."""
    _champions(engine)
    weekly = people.champion_engagement(people.champion_status(engine, ACME, AS_OF), weeks=3)
    two = weekly[weekly["email"] == "c2@acme.com"]
    assert [(d.date(), a, m) for d, a, m in two[["week_ending", "active_days", "minutes"]].itertuples(index=False)] == [
        (AS_OF - timedelta(days=14), 1, 10), (AS_OF - timedelta(days=7), 0, 0), (AS_OF, 0, 0)]
    assert len(weekly) == 4 * 3


SECTIONS = """
from datetime import date
from pages.ui.people_section import render_champions, render_people
from pendo_core.store.engine import make_engine
engine = make_engine({url!r})
render_people(engine, {customer!r}, date.fromisoformat({day!r}))
render_champions(lambda: engine, {customer!r}, date.fromisoformat({day!r}))
"""


def test_sections_render_search_and_show_champions(sqlite_engine: Engine) -> None:
    """The People table lists the customer's people and narrows on search; champions show their state."""
    _with_contacts(sqlite_engine)
    url = sqlite_engine.url.render_as_string(hide_password=False)
    script = SECTIONS.format(url=url, customer=ACME, day=AS_OF.isoformat())
    at = AppTest.from_string(script, default_timeout=30).run()
    assert not at.exception
    shown = [cell.split(" — ")[0] for cell in at.dataframe[0].value["person"]]  # the name, else the e-mail
    assert shown == ["Ann Lee", BOB, "Jane Doe"]
    champions = at.dataframe[-1].value  # the role and title follow the name after a dash
    assert list(champions["name"]) == ["Jane Doe — Champion", "Ann Lee — Decision maker · VP Ops"]
    names = [name.split(" — ")[0] for name in champions["name"]]
    assert list(zip(names, champions["state"], strict=True)) == [
        ("Jane Doe", "Not active in 90 days"), ("Ann Lee", "Active")]
    at.text_input(key="people_search").input("vp").run()
    assert [cell.split(" — ")[0] for cell in at.dataframe[0].value["person"]] == ["Ann Lee"]
