"""Chat parsing as a spec: phrasings per intent with the customer they name (typos, case,
punctuation, names that are prefixes of others), short choices, unknown names, the LLM guard."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pendo_core.chat import intents
from pendo_core.chat.assistant import understand
from pendo_core.chat.entities import AMBIGUOUS, FOUND, MISSING, UNKNOWN, exact, similarity
from pendo_core.chat.model import Answer, CustomerRef, Fact
from pendo_core.chat.phrasing import keeps_numbers, numbers_in, rephrase

NAMES = ["Acme Corp", "Acme Labs", "Orion", "Orion Foods", "Silverline Analytics", "Silverline Robotics",
         "Delta Health", "Golden Foods, Inc.", "O'Brien & Sons", "Terra Robotics", "Evergreen Corp",
         "Evergreen Retail", "Zircon Analytics", "Amber Group"]
CUSTOMERS = [CustomerRef(f"id-{i}", name, "SMB", "csm@cscx.io") for i, name in enumerate(NAMES)]
BY_NAME = {c.name: c for c in CUSTOMERS}

S, G, T, A, H, P, D = (intents.USAGE_SUMMARY, intents.FEATURE_GAPS, intents.USAGE_TREND, intents.MY_ALERTS,
                       intents.HEALTH_WHY, intents.PEER_COMPARE, intents.TOP_DROPS)
U, C = intents.TOP_USERS, intents.CHAMPION_STATUS

PHRASINGS = [
    # usage summary
    ("How is acme using the product?", S, "Acme Corp"),
    ("how is ACME CORP. using the product", S, "Acme Corp"),
    ("How's Acme Labs doing?", S, "Acme Labs"),
    ("how is acme lab using the app", S, "Acme Labs"),
    ("usage summary for terra robotcs", S, "Terra Robotics"),
    ("tell me about zircon", S, "Zircon Analytics"),
    ("Golden Foods Inc", S, "Golden Foods, Inc."),
    ("how is o'brien and sons doing?", S, "O'Brien & Sons"),
    ("How is Delta Health using the product?", S, "Delta Health"),
    ("how is amberr grop doing", S, "Amber Group"),
    # adoption gaps
    ("What features is Acme not using?", G, "Acme Corp"),
    ("which features isn't evergren retail using", G, "Evergreen Retail"),
    ("adoption gaps for Amber Group", G, "Amber Group"),
    ("unused features at orion foods?", G, "Orion Foods"),
    # usage trend
    ("Show usage trend for Acme", T, "Acme Corp"),
    ("show usage trend for orion food", T, "Orion Foods"),
    ("Plot DAU for Terra Robotics over time", T, "Terra Robotics"),
    ("How has zircon's usage changed?", T, "Zircon Analytics"),
    # alerts
    ("Any usage alerts for my portfolio?", A, None),
    ("ALERTS???", A, None),
    ("any alerts on acme labs", A, "Acme Labs"),
    # health
    ("Why is Acme's health score low?", H, "Acme Corp"),
    ("why is delta helth red", H, "Delta Health"),
    ("Is amber group at risk?", H, "Amber Group"),
    # peers
    ("Compare Acme to its peers", P, "Acme Corp"),
    ("how does terra robotics stack up against similar customers", P, "Terra Robotics"),
    ("benchmark zircon analytics", P, "Zircon Analytics"),
    # drops
    ("Which accounts dropped the most this month?", D, None),
    ("biggest usage drops this week", D, None),
    ("who declined the most", D, None),
    # most active users
    ("Who are the most active users at acme?", U, "Acme Corp"),
    ("top users of acme", U, "Acme Corp"),
    ("who uses terra robotics the most", U, "Terra Robotics"),
    ("power users at zircon", U, "Zircon Analytics"),
    ("most active visitors at o'brien and sons", U, "O'Brien & Sons"),
    ("How many active users does acme have?", S, "Acme Corp"),  # a count, not a ranking: still the summary
    # champions
    ("Is Acme's champion still active?", C, "Acme Corp"),
    ("champions at acme", C, "Acme Corp"),
    ("is delta helth's champion still engaged?", C, "Delta Health"),
    ("Are orion foods' decision makers still active?", C, "Orion Foods"),
    ("stakeholders at evergreen retail", C, "Evergreen Retail"),
    ("any alerts on acme labs' champion", A, "Acme Labs"),  # alerts stay alerts
]


def _ids() -> list[str]:
    return [q.lower().replace(" ", "-")[:40] for q, _, _ in PHRASINGS]


@pytest.mark.parametrize(("question", "intent", "customer"), PHRASINGS, ids=_ids())
def test_phrasing_names_intent_and_customer(question: str, intent: str, customer: str | None) -> None:
    """Each phrasing reads as its intent, and names its customer however loosely it is written."""
    parsed, resolution = understand(question, CUSTOMERS)
    assert (parsed.intent or intents.USAGE_SUMMARY, resolution.customer.name if resolution.customer else None) == (
        intent, customer)


@pytest.mark.parametrize(("question", "days"), [
    ("Which accounts dropped the most this month?", 28), ("biggest drops this week", 7), ("who declined", 28)],
    ids=["month", "week", "default"])
def test_drop_questions_pick_their_window(question: str, days: int) -> None:
    """'This week' compares 7 days, anything else the 28-day trend window."""
    assert intents.parse(question).period_days == days


@pytest.mark.parametrize(("question", "status", "options"), [
    ("Compare silverline to its peers", AMBIGUOUS, ["Silverline Analytics", "Silverline Robotics"]),
    ("how is silverlin doing", AMBIGUOUS, ["Silverline Analytics", "Silverline Robotics"]),
    ("how is acm doing", AMBIGUOUS, ["Acme Corp", "Acme Labs"]),
    ("how is xyzzy doing", UNKNOWN, []),
    ("how is the product doing", MISSING, []),
], ids=["shared-prefix", "prefix-typo", "short-prefix", "unknown", "no-name"])
def test_names_that_do_not_pick_one_customer(question: str, status: str, options: list[str]) -> None:
    """An ambiguous name offers the candidates; an unknown or missing one offers none of them as found."""
    _, resolution = understand(question, CUSTOMERS)
    assert (resolution.status, sorted(c.name for c in resolution.customers)) == (status, options)


def test_unknown_name_suggests_close_names() -> None:
    """A name too far from every customer to be one still gets the closest as suggestions."""
    _, resolution = understand("how is ambr doing", CUSTOMERS)
    assert resolution.status == UNKNOWN
    assert [c.name for c in resolution.customers][:1] == ["Amber Group"]


@pytest.mark.parametrize(("question", "found", "alternatives"), [
    ("how is orion doing", "Orion", ["Orion Foods"]),
    ("how is evergreen doing", "Evergreen Corp", ["Evergreen Retail"]),
    ("how is acme doing", "Acme Corp", ["Acme Labs"]),
    ("how is acme labs doing", "Acme Labs", []),
], ids=["orion", "evergreen", "acme", "acme-labs"])
def test_exact_short_name_wins_and_offers_the_longer_ones(question: str, found: str, alternatives: list[str]) -> None:
    """A name written exactly is that customer; longer names starting with it are offered too."""
    _, resolution = understand(question, CUSTOMERS)
    assert resolution.customer is not None
    assert (resolution.customer.name, [c.name for c in resolution.alternatives]) == (found, alternatives)


def test_a_name_holding_an_intent_word_keeps_the_intent_of_the_rest() -> None:
    """'Delta Health' is a name, so the question is a summary and not about a health score."""
    parsed, resolution = understand("how is delta health doing", CUSTOMERS)
    assert (parsed.intent, resolution.status) == (intents.USAGE_SUMMARY, FOUND)


def test_duplicate_names_are_a_choice() -> None:
    """Two customers with the same name are both offered."""
    twins = [*CUSTOMERS, CustomerRef("id-twin", "Orion Foods", "Enterprise", "other@cscx.io")]
    resolution = exact(("how", "is", "orion", "foods", "doing"), twins)
    assert resolution is not None
    assert (resolution.status, sorted(c.customer_id for c in resolution.customers)) == (
        AMBIGUOUS, sorted([BY_NAME["Orion Foods"].customer_id, "id-twin"]))


@pytest.mark.parametrize(("pinned", "status"), [("id-5", FOUND), ("not-visible", UNKNOWN)],
                         ids=["visible", "not-visible"])
def test_a_clicked_choice_pins_the_customer(pinned: str, status: str) -> None:
    """Asking again with a customer id uses it, but only among the customers the asker may see."""
    parsed, resolution = understand("Compare silverline to its peers", CUSTOMERS, customer_id=pinned)
    assert (parsed.intent, resolution.status) == (intents.PEER_COMPARE, status)


@pytest.mark.parametrize("question", ["what is the weather like", "hello", ""], ids=["weather", "hello", "empty"])
def test_questions_it_cannot_answer_have_no_intent(question: str) -> None:
    """Nothing the chat answers is read into small talk."""
    parsed, resolution = understand(question, CUSTOMERS)
    assert parsed.intent is None
    assert resolution.status != FOUND


@pytest.mark.parametrize(("query", "name", "low", "high"), [
    ("acme", "acme", 100, 100), ("acm", "acme labs", 85, 95), ("oak ridge", "oakridge", 100, 100),
    ("zzz", "acme", 0, 30)], ids=["same", "prefix", "spaces", "different"])
def test_similarity_scale(query: str, name: str, low: float, high: float) -> None:
    """Whole names score 100, a name's beginning a little less, spaces do not matter."""
    assert low <= similarity(query, name) <= high


# --- the language-model seam ---------------------------------------------------------------------


ANSWER = Answer("usage_summary", "**Acme** on 2026-03-18: **1,234** daily users, stickiness **0.40**, **−12%**.",
                (Fact("DAU", "1,234", 1234), Fact("Stickiness", "0.40", 0.4)), "day 2026-03-18")


def test_numbers_are_read_with_separators_and_dates_whole() -> None:
    """Thousands separators and trailing zeros do not change a number; a date is one token."""
    assert numbers_in("1,234 users on 2026-03-18, 0.40 and −12%") == {"1234", "2026-03-18", "0.4", "12"}


@pytest.mark.parametrize(("reworded", "kept"), [
    ("Acme had 1234 daily users on 2026-03-18 (stickiness 0.4, down 12%).", True),
    ("Acme had 1,300 daily users.", False),
    ("Acme is doing fine.", True),
], ids=["same-numbers", "invented-number", "no-numbers"])
def test_rewording_may_not_add_numbers(reworded: str, kept: bool) -> None:
    """A provider's wording is used only when every number in it is one the answer states."""
    assert keeps_numbers(ANSWER, reworded) is kept
    assert rephrase("q", ANSWER, lambda q, a: reworded).text == (reworded if kept else ANSWER.text)


def test_a_failing_provider_leaves_the_answer_as_it_was() -> None:
    """A provider that raises (or none at all) never costs the answer."""
    def broken(question: str, answer: Answer) -> str:
        raise TimeoutError("provider down")

    assert rephrase("q", ANSWER, broken) == ANSWER
    assert rephrase("q", ANSWER, None) == ANSWER


def test_rewording_keeps_facts_window_and_link() -> None:
    """Only the text changes; the numbers, window and definitions stay the deterministic answer's."""
    reworded = rephrase("q", ANSWER, lambda q, a: "Acme: 1234 users.")
    assert reworded == replace(ANSWER, text="Acme: 1234 users.")
