""""Which of my customers are at risk?": understood as a question about the asker's whole book (not one
customer), and answered from My customers' risk order, on a real store (both backends)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pendo_core.book import book
from pendo_core.chat import Viewer, intents, respond
from pendo_core.chat.assistant import understand
from pendo_core.chat.model import CustomerRef
from pendo_core.usage.queries import data_day
from tests.support.chat_api import ANA, BEN, LEE, SharedStore

CUSTOMERS = [CustomerRef(f"id-{i}", name, "SMB", "csm@cscx.io") for i, name in
             enumerate(["Acme Corp", "Amber Group", "Delta Health", "Redwood Labs"])]


@pytest.mark.parametrize(("question", "intent"), [
    ("Which of my customers are at risk?", intents.AT_RISK),
    ("which customers are at risk", intents.AT_RISK),
    ("Who is at risk of churning?", intents.AT_RISK),
    ("any red accounts in my portfolio?", intents.AT_RISK),
    ("Which of my clients are struggling?", intents.AT_RISK),
    ("Is Amber Group at risk?", intents.HEALTH_WHY),
    ("why is delta health red", intents.HEALTH_WHY),
    ("Which component makes Acme red?", intents.HEALTH_WHY),
    ("Any usage alerts for my portfolio?", intents.MY_ALERTS),
    ("Which accounts dropped the most this month?", intents.TOP_DROPS),
], ids=["which-of-my-customers", "which-customers", "who-churning", "red-accounts", "clients-struggling",
        "one-customer-at-risk", "one-customer-red", "which-about-one-customer", "alerts-stay-alerts",
        "drops-stay-drops"])
def test_the_question_is_about_the_whole_book(question: str, intent: str) -> None:
    """Risk words about several customers ask for the at-risk list; about one named customer, why its
    health is low; alerts and drops keep their own intents."""
    parsed, _ = understand(question, CUSTOMERS)
    assert parsed.intent == intent


@pytest.fixture
def store(shared_store: SharedStore) -> Engine:
    """The shared built store (read-only): Umbrella Corp (Ana's) lost most of its users a month ago."""
    return shared_store.fresh().engine


@pytest.mark.parametrize(("viewer", "scope"), [
    (Viewer(ANA, "csm"), "of your **3** customers"),
    (Viewer(BEN, "csm"), "None of your **2** customers is at risk"),
    (Viewer(BEN, "csm", show_all=True), "the **5** customers across the portfolio"),
    (Viewer(LEE, "leader"), "the **5** customers across the portfolio"),
], ids=["csm", "csm-none-at-risk", "csm-showing-all", "leader"])
def test_the_answer_lists_my_customers_at_risk_in_its_order(store: Engine, viewer: Viewer, scope: str) -> None:
    """The customers listed are My customers' at-risk rows, in its order, with their reasons; the answer
    links to My customers and offers the first ones' health."""
    answer = respond(store, viewer, "Which of my customers are at risk?")
    rows = book(store, viewer, data_day(store))
    risky = rows[rows["at_risk"]]
    assert answer.intent == intents.AT_RISK
    assert scope in answer.text
    assert [r["customer"] for r in answer.table] == risky["name"].tolist()
    assert [r["why"] for r in answer.table] == risky["risk_reasons"].tolist()
    assert {f.label: f.value for f in answer.facts}["Customers at risk"] == len(risky)
    assert (answer.link.page if answer.link else None) == "pages/my_customers.py"
    assert [c.customer_id for c in answer.choices] == risky["customer_id"].head(3).tolist()


def test_umbrella_is_at_risk_for_its_fall(store: Engine) -> None:
    """Ana's Umbrella Corp went from six daily users to one: red, falling, first in her list."""
    answer = respond(store, Viewer(ANA, "csm"), "Which of my customers are at risk?")
    first = answer.text.splitlines()[1]
    assert first.startswith("1. **Umbrella Corp**: red, health ")
    assert "usage −83% in 28 days" in first
