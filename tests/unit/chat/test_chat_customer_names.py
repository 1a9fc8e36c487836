"""The chat never answers about a customer other than the one named, without saying so (issue 11):
another CSM's customer is said to be not the asker's (nothing leaked, the show-all toggle offered),
a weak loose match is refused, and a name read loosely is named in the answer. Store tests run on
SQLite and PostgreSQL; the scoring tests are pure."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from pendo_core.chat import Answer, Viewer, respond
from pendo_core.chat.assistant import understand
from pendo_core.chat.entities import ACCEPT, FOUND, SUGGEST, UNKNOWN, read_as, similarity
from pendo_core.chat.intents import MY_ALERTS, USAGE_SUMMARY
from pendo_core.chat.model import CustomerRef
from pendo_core.common.names import normalise_name
from tests.support.health_alerts import table_insert

DAY = date(2026, 3, 18)
ANA, BEN, LEE = "ana@cscx.io", "ben@cscx.io", "lee@cscx.io"
# Ana owns the first two, Ben the last two: each of Ana's names is one word away from one of Ben's.
PORTFOLIO = {"c-helix": ("Helix Logistics", ANA), "c-retail": ("Canyon Retail", ANA),
             "c-glacier": ("Glacier Logistics", BEN), "c-capital": ("Canyon Capital", BEN)}


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Four customers of two CSMs, each with one day of usage metrics."""
    table_insert(engine, "csms", [{"email": e, "name": e.split("@")[0]} for e in (ANA, BEN)])
    table_insert(engine, "customers", [{"customer_id": c, "name": n, "segment": "SMB", "csm_email": m}
                                       for c, (n, m) in PORTFOLIO.items()])
    table_insert(engine, "pendo_usage_metrics", [
        {"customer_id": c, "metric_date": DAY, "pendo_account_id": c, "dau": 3, "wau": 5, "mau": 9,
         "active_visitors": 9, "session_count": 4, "avg_session_minutes": 6.0, "page_views": 40,
         "feature_events": 12, "time_in_app_minutes": 24} for c in PORTFOLIO])
    return engine


def _refs(*ids: str) -> list[CustomerRef]:
    return [CustomerRef(c, PORTFOLIO[c][0], "SMB", PORTFOLIO[c][1]) for c in ids]


# --- scoring (pure) --------------------------------------------------------------------------------


@pytest.mark.parametrize(("query", "name", "accepted"), [
    ("glacier logistics", "Helix Logistics", False),
    ("canyon capitl", "Canyon Retail", False),
    ("canyon capitl", "Canyon Capital", True),
    ("helix logistic", "Helix Logistics", True),
    ("silverline rob", "Silverline Robotics", True),
    ("amberr grop", "Amber Group", True),
], ids=["other-first-word", "other-second-word", "typo", "plural-dropped", "second-word-begun", "two-typos"])
def test_a_shared_word_cannot_carry_a_different_name(query: str, name: str, accepted: bool) -> None:
    """A name of several words scores no better than its weakest word, so only typos are accepted."""
    assert (similarity(normalise_name(query), normalise_name(name)) >= ACCEPT) is accepted


@pytest.mark.parametrize(("question", "status", "customer"), [
    ("how is glacier logistics doing", UNKNOWN, None),
    ("how is canyon capitl doing", UNKNOWN, None),
    ("how is helix logistic doing", FOUND, "Helix Logistics"),
], ids=["other-csms-name", "weak-match", "typo"])
def test_among_anas_customers_only_a_close_name_is_found(question: str, status: str, customer: str | None) -> None:
    """Among Ana's own customers, a different name sharing a word is unknown, and not even suggested."""
    _, resolution = understand(question, _refs("c-helix", "c-retail"))
    assert (resolution.status, resolution.customer.name if resolution.customer else None) == (status, customer)
    assert all(similarity(normalise_name(resolution.query), normalise_name(c.name)) >= SUGGEST
               for c in resolution.customers)
    assert status == FOUND or not resolution.customers


@pytest.mark.parametrize(("question", "read"), [
    ("how is canyon capitl doing", "Canyon Capital"), ("how is Canyon Capital Inc. doing", None),
    ("how is canyon doing", None)], ids=["typo", "exact-with-legal-form", "ambiguous"])
def test_read_as_names_a_customer_written_differently(question: str, read: str | None) -> None:
    """Only a name written differently from the customer's is announced; an exact one is not."""
    _, resolution = understand(question, _refs("c-retail", "c-capital"))
    assert read_as(resolution) == read


def test_a_clicked_choice_is_not_announced() -> None:
    """A pinned customer (a choice clicked) was picked by the asker: nothing to announce."""
    _, resolution = understand("how is canyon capitl doing", _refs("c-capital"), customer_id="c-capital")
    assert (resolution.status, read_as(resolution)) == (FOUND, None)


# --- answers on a store ----------------------------------------------------------------------------


def _not_leaked(answer: Answer, owner: str) -> None:
    assert answer.customer is None
    assert not answer.facts
    assert {c.customer_id for c in answer.choices} <= {c for c, (_, m) in PORTFOLIO.items() if m == ANA}
    assert owner not in answer.text


@pytest.mark.parametrize("question", [
    "How is Glacier Logistics using the product?", "how is glacier logistcs doing", "how is canyon capitl doing",
    "any alerts on glacier logistics"], ids=["exact", "typo", "typo-near-own", "alerts"])
def test_another_csms_customer_is_said_not_to_be_yours(store: Engine, question: str) -> None:
    """Ana asking about Ben's customer learns it is not hers and how to see it; she gets no answer about
    her own look-alike (Helix Logistics, Canyon Retail), nor any of Ben's data."""
    answer = respond(store, Viewer(ANA, "csm"), question)
    _not_leaked(answer, BEN)
    assert "not one of yours" in answer.text
    assert "Show all customers" in answer.text


def test_a_name_nobody_has_is_unknown_without_the_toggle_hint(store: Engine) -> None:
    """A name that is no one's is simply unknown: the chat does not hint it might be a colleague's."""
    answer = respond(store, Viewer(ANA, "csm"), "how is canyon capitol holdings doing")
    _not_leaked(answer, BEN)
    assert "don't know" in answer.text
    assert "not one of yours" not in answer.text


CAPITAL_NOTE = "_Reading “canyon capitl” as **Canyon Capital**._"
HELIX_NOTE = "_Reading “helix logistic” as **Helix Logistics**._"


@pytest.mark.parametrize(("viewer", "question", "customer", "note"), [
    (Viewer(ANA, "csm", show_all=True), "How is Glacier Logistics using the product?", "c-glacier", None),
    (Viewer(LEE, "leader"), "how is canyon capitl doing", "c-capital", CAPITAL_NOTE),
    (Viewer(ANA, "csm"), "how is helix logistic doing", "c-helix", HELIX_NOTE),
    (Viewer(ANA, "csm"), "How is Helix Logistics using the product?", "c-helix", None),
], ids=["csm-showing-all", "leader-typo", "own-typo", "own-exact"])
def test_the_answer_names_the_customer_a_loose_name_was_read_as(store: Engine, viewer: Viewer, question: str,
                                                                customer: str, note: str | None) -> None:
    """An answer about a customer written differently says first which customer it is about."""
    answer = respond(store, viewer, question)
    assert answer.customer is not None
    assert answer.customer.customer_id == customer
    assert answer.intent == USAGE_SUMMARY
    assert answer.text.startswith(note) if note else not answer.text.startswith("_Reading")


def test_a_language_model_cannot_drop_the_reading_note(store: Engine) -> None:
    """The note is added after any rewording, so a provider cannot hide which customer is meant."""
    answer = respond(store, Viewer(ANA, "csm"), "how is helix logistic doing", phraser=lambda q, a: "Fine.")
    assert answer.text == f"{HELIX_NOTE}\n\nFine."


def test_portfolio_alerts_still_answer_without_a_name(store: Engine) -> None:
    """A question with no customer name in it is about the asker's portfolio, as before."""
    answer = respond(store, Viewer(ANA, "csm"), "Any usage alerts for my portfolio?")
    assert answer.intent == MY_ALERTS
    assert "not one of yours" not in answer.text
