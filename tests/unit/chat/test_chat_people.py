"""Chat answers about people (both backends): the most active users and whether the champions are still
active, every number checked against pendo_core.customers.people on the chat test store; same role scope as the
other customer questions.

On top of tests/support/chat_api.py's store, Acme has three contacts: Ann (champion, visitor a1, active
every day), Carl (champion, no Pendo visitor) and Dan (decision maker, visitor a4, active on weekdays).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine

from pendo_core.chat import Answer, Viewer, respond
from pendo_core.chat.facts import TopUserFacts
from pendo_core.chat.intents import CHAMPION_STATUS, TOP_USERS
from pendo_core.chat.model import CustomerRef
from pendo_core.chat.people_answers import top_users
from pendo_core.customers import people
from pendo_core.store.models import Base
from tests.support.chat_api import ACME, ANA, BEN, GLOBEX, LAST, LEE, SharedStore
from tests.support.health_alerts import table_insert
from tests.support.people import add_contacts

CONTACTS = (("Ann Champion", "ann@acme.com", "champion"), ("Carl Quiet", "carl@acme.com", "champion"),
            ("Dan Decider", "dan@acme.com", "decision_maker", "VP Ops"))


def _clear(engine: Engine) -> None:
    with engine.begin() as conn:
        for name in ("customer_contacts", "pendo_visitors"):
            conn.execute(Base.metadata.tables[name].delete())


@pytest.fixture(scope="module")
def store(shared_store: SharedStore) -> Iterator[Engine]:
    """The shared store with Acme's contacts and its visitors' e-mails; both removed afterwards."""
    engine = shared_store.fresh().engine
    _clear(engine)
    table_insert(engine, "pendo_visitors", [{"visitor_id": v, "email": e, "account_ids": ["acme-1"]}
                                            for v, e in (("a1", "ann@acme.com"), ("a4", "dan@acme.com"))])
    add_contacts(engine, ACME, CONTACTS)
    yield engine
    _clear(engine)


def _facts(answer: Answer) -> dict[str, Any]:
    return {f.label: f.value for f in answer.facts}


@pytest.mark.parametrize("question", ["Who are the most active users at acme?", "top users of acme"],
                         ids=["most-active", "top-users"])
def test_top_users_quote_the_people_lists_figures(store: Engine, question: str) -> None:
    """Each listed user's active days (last 30) and last active day are most_active_users' figures, in order."""
    answer = respond(store, Viewer(ANA, "csm"), question)
    expected = people.most_active_users(store, ACME, LAST)
    facts = _facts(answer)
    assert answer.intent == TOP_USERS
    assert [row["visitor_id"] for row in answer.table] == [r.visitor_id for r in expected]
    assert all(facts[f"{r.name or r.email or r.visitor_id} active days, last 30"] == r.active_days and
               facts[f"{r.name or r.email or r.visitor_id} last active"] == r.last_active.isoformat()  # type: ignore[union-attr]
               for r in expected)
    assert (expected[0].visitor_id, expected[0].active_days) == ("a1", 30)  # two accounts, days counted once
    assert f"**{expected[0].active_days}** of 30 days active" in answer.text


def test_top_users_link_to_the_people_section(store: Engine) -> None:
    """The answer names its 30-day window and definitions, and opens Account usage on the customer."""
    answer = respond(store, Viewer(ANA, "csm"), "Who are the most active users at acme?")
    assert answer.link is not None
    assert (answer.link.page, answer.link.customer_id, answer.link.title) == (
        "pages/account_usage.py", ACME, "Account usage (People)")
    assert LAST.isoformat() in (answer.window or "")
    assert any("numEvents > 0" in d for d in answer.definitions)


def test_no_active_user_says_so() -> None:
    """A customer without an active identified visitor gets a sentence, not an empty list."""
    answer = top_users(TopUserFacts(CustomerRef("c1", "Quiet Co"), date(2026, 3, 18), ()))
    assert (answer.intent, _facts(answer)["Active users listed"]) == (TOP_USERS, 0)
    assert "No identified visitor of **Quiet Co**" in answer.text


@pytest.mark.parametrize("question", ["Is Acme's champion still active?", "champions at acme"],
                         ids=["still-active", "champions-at"])
def test_champion_answer_quotes_champion_status(store: Engine, question: str) -> None:
    """Champions, those active in the last 14 days and the share are champion_status's; one of two is active."""
    answer = respond(store, Viewer(ANA, "csm"), question)
    status = people.champion_status(store, ACME, LAST)
    facts = _facts(answer)
    assert answer.intent == CHAMPION_STATUS
    assert (facts["Champions"], facts["Champions active, last 14 days"], facts["Share of champions active"]) == (
        status.champions, status.champions_active, status.share_active) == (2, 1, 0.5)
    assert (facts["Ann Champion last active"], facts["Ann Champion active days, last 14"]) == (LAST.isoformat(), 14)
    assert facts["Dan Decider last active"] == LAST.isoformat()  # LAST is a Wednesday: a weekday
    assert "**Partly**: **1 of 2**" in answer.text
    assert "no Pendo visitor has the e-mail carl@acme.com" in answer.text


def test_champion_answer_links_to_health_engagement(store: Engine) -> None:
    """The answer's window is the 14 days ending on the data day, and it opens the Health page."""
    answer = respond(store, Viewer(ANA, "csm"), "Is Acme's champion still active?")
    assert answer.link is not None
    assert (answer.link.page, answer.link.customer_id) == ("pages/health.py", ACME)
    assert LAST.isoformat() in (answer.window or "")


def test_a_customer_without_champions_is_told_how_to_add_them(store: Engine) -> None:
    """Globex has no contacts: the answer says so, that the score leaves them out, and where an admin adds them."""
    answer = respond(store, Viewer(BEN, "csm"), "is globex's champion still active?")
    assert (answer.intent, answer.customer.customer_id, _facts(answer)["Champions"]) == (  # type: ignore[union-attr]
        CHAMPION_STATUS, GLOBEX, 0)
    assert "Admin → Imports" in answer.text
    assert "score leaves the key contacts out" in answer.text


@pytest.mark.parametrize(("viewer", "question", "found"), [
    (Viewer(BEN, "csm"), "top users of acme corp", False),
    (Viewer(BEN, "csm"), "Is Acme Corp's champion still active?", False),
    (Viewer(BEN, "csm", show_all=True), "top users of acme corp", True),
    (Viewer(LEE, "leader"), "Is Acme Corp's champion still active?", True),
], ids=["other-csm-users", "other-csm-champion", "csm-showing-all", "leader"])
def test_people_questions_keep_the_role_scope(store: Engine, viewer: Viewer, question: str, found: bool) -> None:
    """Ben does not own Acme: he gets neither its users nor its champions unless he shows all."""
    answer = respond(store, viewer, question)
    assert (answer.customer is not None) is found
    assert found or ("don't know" in answer.text and not answer.facts)
