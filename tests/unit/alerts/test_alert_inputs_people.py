"""The champion rule's inputs, read for many customers at once, are what the People section reads for each
one: the same matched visitors, last active day and active colleagues (`people.stakeholders`)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.alerts.champions import StakeholderWindow
from pendo_core.alerts.inputs import _add_people
from pendo_core.alerts.kinds import CustomerData
from pendo_core.customers import people, people_queries
from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.customers.people_queries import LOOKBACK_DAYS
from pendo_core.pendo.sync import store as sync_store
from pendo_core.pendo.sync.runner import METRICS_STALE_FROM
from pendo_core.store.scope import ANON_PREFIX
from pendo_core.usage import recency
from pendo_core.usage.compute import compute_metrics
from tests.support.health_alerts import LAST, add_customer
from tests.support.people import add_contacts, add_days, add_visitors

ACME, GLOBEX, INITECH = "acme", "globex", "initech"
WINDOW = 14
ANON = ANON_PREFIX + "x1"
# (account, visitor, days before LAST on which the visitor was active)
ACTIVITY = [
    ("a1", "cy@acme.com", (20, 40)),
    ("a2", "cy@acme.com", (3,)),  # Cy's last day is in Acme's other account
    ("a1", "Dee@Acme.com", (15,)),  # matched only by its id, lowercased
    ("a1", "v-123", (30,)),  # synced e-mail eve@acme.com
    ("a1", "ann@acme.com", (1, 2)),
    ("a2", "bob@acme.com", (13,)),
    ("a1", "old@acme.com", (14, 60)),  # just outside the 14 days
    ("a1", ANON, (0,)),
    ("a1", "Gus@Globex.com", (2,)),  # Globex's contact's e-mail, but active in Acme's account
    ("g1", "hal@globex.com", (5,)),
    ("x9", "cy@acme.com", (0,)),  # an unmapped account
    ("a1", "far@acme.com", (100,)),  # before the lookback: a colleague only for a window that long
    ("a1", "v-123", (95,)),
    ("a1", "Hy@Acme.com", (100,)),  # Hy's id lowercased, but only before the lookback: not matched
]
QUIET = [("a1", "cy@acme.com", 1), ("a1", "old@acme.com", 5), ("g1", "gus-id", 1),  # rows without events
         ("a1", "Fay@Acme.com", 4)]  # Fay's id lowercased, seen in the lookback but never active


def _world(engine: Engine) -> None:
    add_customer(engine, ACME, accounts=("a1", "a2"))
    add_customer(engine, GLOBEX, accounts=("g1",))
    add_customer(engine, INITECH, accounts=("i1",))
    add_visitors(engine, {"cy@acme.com": "cy@acme.com", "v-123": "eve@acme.com", "gus-id": "gus@globex.com"})
    for account, visitor, back in ACTIVITY:
        add_days(engine, account, visitor, [LAST - timedelta(days=k) for k in back])
    for account, visitor, back_days in QUIET:
        add_days(engine, account, visitor, [LAST - timedelta(days=back_days)], events=0)
    add_contacts(engine, ACME, [("Cy", "cy@acme.com", "champion", "VP"), ("Dee", "dee@acme.com", "decision_maker"),
                                ("Eve", "eve@acme.com", "champion"), ("Ann", "ann@acme.com", "user"),
                                ("Fay", "fay@acme.com", "champion"), ("Hy", "hy@acme.com", "decision_maker")])
    add_contacts(engine, GLOBEX, [("Gus", "gus@globex.com", "champion"), ("Cy", "cy@acme.com", "decision_maker"),
                                  ("Nobody", "nobody@globex.com", "champion")])
    add_contacts(engine, INITECH, [("Ivy", "ivy@initech.com", "user")])


def _one_at_a_time(engine: Engine, customer: str, include_anonymous: bool,
                   window: int = WINDOW) -> list[StakeholderWindow]:
    """The People section's reading of one customer, and its active visitors counted from ACTIVITY."""
    accounts = {ACME: {"a1", "a2"}, GLOBEX: {"g1"}, INITECH: {"i1"}}[customer]
    team = {v for a, v, back in ACTIVITY if a in accounts and min(back) < window
            and (include_anonymous or not v.startswith(ANON_PREFIX))}
    found = people.stakeholders(engine, customer, LAST, roles=KEY_ROLES, window_days=window,
                                include_anonymous=include_anonymous)
    return [StakeholderWindow(s.email, s.name, s.role, s.title, s.matched, s.last_active,
                              len(team - set(s.visitor_ids)), LOOKBACK_DAYS) for s in found]


@pytest.mark.parametrize("whole_book", [False, True], ids=["listed-customers", "whole-book"])
@pytest.mark.parametrize("include_anonymous", [False, True])
def test_read_for_many_customers_as_for_each_one(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                 include_anonymous: bool, whole_book: bool) -> None:
    """Listed (a few customers) or the whole book read at once, the others' rows skipped."""
    if whole_book:
        monkeypatch.setattr(people_queries, "IN_CHUNK", 1)
    _world(engine)
    customers = {c: CustomerData(LAST) for c in (ACME, GLOBEX, INITECH)}
    _add_people(engine, customers, LAST, WINDOW, include_anonymous)
    for customer, data in customers.items():
        assert data.people == _one_at_a_time(engine, customer, include_anonymous), customer
    acme = {p.email: (p.matched, p.last_active, p.team_active) for p in customers[ACME].people}
    day = {k: LAST - timedelta(days=k) for k in (3, 15, 30)}
    team = 4 if include_anonymous else 3  # ann, bob, Gus@Globex.com (+ the anonymous visitor); Cy for the others
    assert acme == {"cy@acme.com": (True, day[3], team), "dee@acme.com": (True, day[15], team + 1),
                    "eve@acme.com": (True, day[30], team + 1), "fay@acme.com": (True, None, team + 1),
                    "hy@acme.com": (False, None, team + 1)}
    globex = {p.email: (p.matched, p.last_active, p.team_active) for p in customers[GLOBEX].people}
    assert globex == {"gus@globex.com": (True, None, 1), "cy@acme.com": (True, None, 1),
                      "nobody@globex.com": (False, None, 1)}
    assert customers[INITECH].people == []  # no champion or decision maker


def test_a_missing_day_is_not_a_date(engine: Engine) -> None:
    """SQLite returns max(day) as text; the rule compares dates."""
    _world(engine)
    customers = {ACME: CustomerData(LAST)}
    _add_people(engine, customers, LAST, WINDOW, False)
    active = [p.last_active for p in customers[ACME].people if p.email not in ("fay@acme.com", "hy@acme.com")]
    assert active
    assert all(isinstance(day, date) for day in active)


def test_a_window_longer_than_the_lookback_counts_its_colleagues(engine: Engine) -> None:
    """An admin may set champion_inactive's days beyond the 90-day lookback: the team counts over them."""
    _world(engine)
    customers = {c: CustomerData(LAST) for c in (ACME, GLOBEX)}
    _add_people(engine, customers, LAST, 120, False)
    for customer, data in customers.items():
        assert data.people == _one_at_a_time(engine, customer, False, 120), customer
    assert {p.email: p.team_active for p in customers[ACME].people}["cy@acme.com"] == 8  # + Dee, Eve, old, far, Hy


# --- the metrics' recency rows (usage.recency) ---------------------------------------------------


def _refuse(*args: object, **kwargs: object) -> None:
    raise AssertionError("the visitor days were grouped although the recency rows were this day's")


@pytest.mark.parametrize("whole_book", [False, True], ids=["listed-customers", "whole-book"])
@pytest.mark.parametrize("include_anonymous", [False, True])
@pytest.mark.parametrize("first_back", [0, 13, 60, 95], ids=lambda k: f"metrics-from-{k}-days-back")
def test_the_metrics_recency_rows_read_as_the_visitor_days(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                                           include_anonymous: bool, whole_book: bool,
                                                           first_back: int) -> None:
    """After metrics from any first day (the rows before it come grouped, those after row by row), the rule
    reads the recency rows, and finds what the People section finds: rows without events, lowercased ids,
    activity before the lookback and anonymous visitors included."""
    _world(engine)
    expected = {c: _one_at_a_time(engine, c, include_anonymous) for c in (ACME, GLOBEX, INITECH)}
    compute_metrics(engine, first_day=LAST - timedelta(days=first_back), last_day=LAST,
                    include_anonymous=include_anonymous)
    if whole_book:
        monkeypatch.setattr(recency, "IN_CHUNK", 1)
    monkeypatch.setattr(people_queries, "last_active_per_visitor", _refuse)
    customers = {c: CustomerData(LAST) for c in (ACME, GLOBEX, INITECH)}
    _add_people(engine, customers, LAST, WINDOW, include_anonymous)
    assert {c: data.people for c, data in customers.items()} == expected


def test_recency_rows_of_another_day_rule_or_mapping_are_not_read(engine: Engine) -> None:
    """The rows are read only for the day, the visitor rule and the mapped accounts they were written for,
    and only while no window has written since."""
    _world(engine)
    compute_metrics(engine, first_day=LAST - timedelta(days=3), last_day=LAST)

    def usable(day: date = LAST, include_anonymous: bool = False) -> bool:
        with engine.connect() as conn:
            return recency.usable(conn, day, include_anonymous)

    assert usable()
    assert not usable(LAST - timedelta(days=1))
    assert not usable(include_anonymous=True)
    compute_metrics(engine, first_day=LAST - timedelta(days=3), last_day=LAST, customer_ids=[GLOBEX])
    assert usable()  # a run over some customers leaves the rows as they were, and they still hold
    with Session(engine) as session, session.begin():
        sync_store.lower_date_watermark(session, METRICS_STALE_FROM, LAST)
    assert not usable()  # a window wrote: the metrics, and the rows, are behind it
    compute_metrics(engine, first_day=LAST, last_day=LAST)
    with Session(engine) as session, session.begin():
        sync_store.clear_watermark(session, METRICS_STALE_FROM)  # as the metrics step does after
    assert usable()
    add_customer(engine, "hooli", accounts=("h1",))
    assert not usable()  # an account mapped since: its visitors are not in the rows


def test_a_window_written_after_the_metrics_is_read_from_the_visitor_days(engine: Engine) -> None:
    """Eve's activity two days ago arrives after the metrics: the rule sees it (and not the stale rows)."""
    _world(engine)
    compute_metrics(engine, first_day=LAST, last_day=LAST)
    add_days(engine, "a1", "v-123", [LAST - timedelta(days=2)])
    with Session(engine) as session, session.begin():
        sync_store.lower_date_watermark(session, METRICS_STALE_FROM, LAST - timedelta(days=2))
    customers = {ACME: CustomerData(LAST)}
    _add_people(engine, customers, LAST, WINDOW, False)
    found = {p.email: p for p in customers[ACME].people}
    assert found["eve@acme.com"].last_active == LAST - timedelta(days=2)
    assert found["cy@acme.com"].team_active == 4  # ann, bob, Gus@Globex.com and now Eve's v-123
