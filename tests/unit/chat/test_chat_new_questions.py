"""The new questions' intents (pure parsing) and the example questions built from the asker's customers."""

from __future__ import annotations

import pytest

from pendo_core.chat.intents import (
    GUIDE_DISMISSALS,
    LAST_LOGIN,
    MY_ALERTS,
    SESSIONS,
    USAGE_SUMMARY,
    normalise,
    parse,
)
from pendo_core.chat.model import CustomerRef
from pendo_core.chat.replies import examples


@pytest.mark.parametrize(("question", "intent", "name"), [
    pytest.param("When did Northstar last log in?", LAST_LOGIN, ["northstar"], id="last-log-in"),
    pytest.param("when was northstar last active", LAST_LOGIN, ["northstar"], id="last-active"),
    pytest.param("who logged in at Northstar", LAST_LOGIN, ["northstar"], id="logged-in"),
    pytest.param("Northstar last login", LAST_LOGIN, ["northstar"], id="last-login"),
    pytest.param("Which guides did Northstar dismiss?", GUIDE_DISMISSALS, ["northstar"], id="guides-dismiss"),
    pytest.param("guide dismissals at northstar", GUIDE_DISMISSALS, ["northstar"], id="dismissals"),
    pytest.param("Sessions last week?", SESSIONS, [], id="sessions-no-customer"),
    pytest.param("how many sessions did northstar have", SESSIONS, ["northstar"], id="sessions-customer"),
    pytest.param("How is Northstar using the product?", USAGE_SUMMARY, ["northstar"], id="summary-unchanged"),
    pytest.param("Any usage alerts for my portfolio?", MY_ALERTS, [], id="alerts-unchanged"),
])
def test_a_new_question_has_its_intent_and_name(question: str, intent: str, name: list[str]) -> None:
    """Each phrasing gets its intent, and only the customer's words are left as a name."""
    parsed = parse(normalise(question.casefold()))
    assert (parsed.intent, parsed.name_runs) == (intent, name)


MINE = [CustomerRef("c1", "Northstar Corp", "SMB", "ana@x"), CustomerRef("c2", "apex labs", "SMB", "ana@x")]


def test_examples_name_only_the_askers_customers() -> None:
    """Every example naming a customer names one of the asker's own, in turn; none says "Acme"."""
    found = examples(MINE)
    assert not any("Acme" in e for e in found)
    assert found[0] == "How is apex labs using the product?"
    assert found[1] == "What features is Northstar Corp not using?"
    assert "Sessions last week?" in found
    assert "When did apex labs last log in?" in found or "When did Northstar Corp last log in?" in found


def test_the_first_example_names_the_customer_asked_for() -> None:
    """The screens' most-at-risk customer leads the examples; the rest follow in name order; a name that
    is not the asker's is ignored."""
    assert examples(MINE, "Northstar Corp")[:2] == ("How is Northstar Corp using the product?",
                                                    "What features is apex labs not using?")
    assert examples(MINE, "Globex") == examples(MINE)


def test_without_customers_the_examples_name_none() -> None:
    """An asker with no customers gets only the examples that name no customer."""
    assert all("Acme" not in e for e in examples([]))
    assert "Any usage alerts for my portfolio?" in examples([])
