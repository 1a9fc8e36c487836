"""From a question to an answer: parse, find the customer among those the asker may see, fetch the
facts, build the answer, and (optionally) let a language model reword it.

Questions about one customer need a customer found among the viewer's customers (a CSM's own;
everyone's for leaders and admins): an ambiguous name gets a short choice, an unknown one the
closest names (the asker's own only). A name that is another CSM's customer is said to be not
theirs, with the "Show all customers" toggle to ask about it, and nothing else about it. An answer
about a customer the question wrote differently says which customer it read the name as.
Asking again with `customer_id` (a choice clicked) pins the customer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from sqlalchemy import Engine

from pendo_core.access_sql import visible_customers
from pendo_core.chat import answers, facts, intents, peers, people_answers, replies
from pendo_core.chat.entities import AMBIGUOUS, FOUND, UNKNOWN, Resolution, exact, loose, read_as
from pendo_core.chat.model import Answer, CustomerRef, Viewer
from pendo_core.chat.phrasing import Phraser, rephrase
from pendo_core.health.facts import health_facts
from pendo_core.usage.facts import usage_facts
from pendo_core.usage.queries import data_day


@dataclass(frozen=True)
class Ask:
    """One question in context: who asks, about which customer, as of which day."""

    engine: Engine
    viewer: Viewer
    customer: CustomerRef | None
    day: date
    parsed: intents.Parsed
    include_anonymous: bool


def _summary(ask: Ask) -> Answer:
    assert ask.customer is not None
    return answers.usage_summary(usage_facts(ask.engine, ask.customer, ask.day,
                                                   include_anonymous=ask.include_anonymous))


def _trend(ask: Ask) -> Answer:
    assert ask.customer is not None
    usage = usage_facts(ask.engine, ask.customer, ask.day, include_anonymous=ask.include_anonymous)
    return answers.usage_trend(usage, facts.usage_history(ask.engine, ask.customer.customer_id, ask.day))


def _gaps(ask: Ask) -> Answer:
    assert ask.customer is not None
    return answers.feature_gaps(facts.gap_facts(ask.engine, ask.customer, ask.day,
                                                include_anonymous=ask.include_anonymous))


def _health(ask: Ask) -> Answer:
    assert ask.customer is not None
    return answers.health_why(health_facts(ask.engine, ask.customer, ask.day))


def _peers(ask: Ask) -> Answer:
    assert ask.customer is not None
    return answers.peer_compare(peers.peer_facts(ask.engine, ask.customer, ask.day))


def _top_users(ask: Ask) -> Answer:
    assert ask.customer is not None
    return people_answers.top_users(facts.top_user_facts(ask.engine, ask.customer, ask.day,
                                                         include_anonymous=ask.include_anonymous))


def _champions(ask: Ask) -> Answer:
    assert ask.customer is not None
    return people_answers.champion_status(facts.champion_facts(ask.engine, ask.customer, ask.day,
                                                               include_anonymous=ask.include_anonymous))


def _alerts(ask: Ask) -> Answer:
    customer_id = ask.customer.customer_id if ask.customer else None
    return replies.alerts(facts.open_alerts(ask.engine, ask.viewer, customer_id), ask.viewer, ask.customer)


def _drops(ask: Ask) -> Answer:
    days = ask.parsed.period_days
    visible = visible_customers(ask.engine, ask.viewer)
    found = facts.drops(ask.engine, visible, ask.day, days, all_customers=ask.viewer.sees_all)
    return replies.top_drops(found, ask.viewer, ask.day, days)


HANDLERS: dict[str, Callable[[Ask], Answer]] = {
    intents.USAGE_SUMMARY: _summary,
    intents.USAGE_TREND: _trend,
    intents.FEATURE_GAPS: _gaps,
    intents.HEALTH_WHY: _health,
    intents.PEER_COMPARE: _peers,
    intents.MY_ALERTS: _alerts,
    intents.TOP_DROPS: _drops,
    intents.TOP_USERS: _top_users,
    intents.CHAMPION_STATUS: _champions,
}


def understand(question: str, visible: list[CustomerRef],
               customer_id: str | None = None) -> tuple[intents.Parsed, Resolution]:
    """The intent and the customer of a question (pure: no store access)."""
    words = intents.words(question)
    pinned = [c for c in visible if c.customer_id == customer_id]
    if customer_id is not None:
        resolution = Resolution(FOUND, tuple(pinned), customer_id) if pinned else Resolution(UNKNOWN, (), customer_id)
        return intents.parse_words(words), resolution
    hit = exact(words, visible)
    if hit is not None and hit.span is not None:
        return intents.parse_words(words[:hit.span[0]] + words[hit.span[1]:]), hit
    parsed = intents.parse_words(words)
    return parsed, loose(parsed.name_runs, visible)


def _intent(parsed: intents.Parsed, resolution: Resolution) -> str | None:
    """The parsed intent; a bare customer name reads as "how is it using the product"."""
    if parsed.intent is None and resolution.status in (FOUND, AMBIGUOUS):
        return intents.USAGE_SUMMARY
    return parsed.intent


def _customer(intent: str, resolution: Resolution) -> tuple[CustomerRef | None, bool]:
    """(customer, go on): questions about one customer need it found; alerts narrow to a customer found
    by name and ask when the name is ambiguous (an unknown word is not taken for a name there); drops
    are always about the whole portfolio."""
    if intent == intents.TOP_DROPS:
        return None, True
    if resolution.status == FOUND:
        return resolution.customer, True
    return None, intent not in intents.NEEDS_CUSTOMER and resolution.status != AMBIGUOUS


def _another_csms(engine: Engine, viewer: Viewer, question: str, resolution: Resolution,
                  visible: list[CustomerRef]) -> bool:
    """True when a name unknown among the viewer's customers names one of another CSM's: found as
    surely as the viewer's own would be (exactly, or loosely at or above the acceptance score)."""
    if resolution.status != UNKNOWN or viewer.sees_all:
        return False
    mine = {c.customer_id for c in visible}
    others = [c for c in visible_customers(engine, replace(viewer, show_all=True)) if c.customer_id not in mine]
    return bool(others) and understand(question, others)[1].status in (FOUND, AMBIGUOUS)


def respond(engine: Engine, viewer: Viewer, question: str, *, customer_id: str | None = None,
            include_anonymous: bool = False, phraser: Phraser | None = None) -> Answer:
    """The answer to a question, as the viewer is allowed to see it."""
    visible = visible_customers(engine, viewer)
    if not visible:
        return replies.nothing_visible(viewer)
    parsed, resolution = understand(question, visible, customer_id)
    intent = _intent(parsed, resolution)
    if intent is None:
        return replies.help_text(question)
    day = data_day(engine)
    if day is None:
        return replies.no_data()
    if customer_id is None and _another_csms(engine, viewer, question, resolution, visible):
        return replies.not_yours(intent, resolution)
    customer, go_on = _customer(intent, resolution)
    if not go_on:
        return replies.choose(intent, resolution, visible)
    ask = Ask(engine, viewer, customer, day, parsed, include_anonymous)
    answer = replies.also_meant(HANDLERS[intent](ask), resolution.alternatives if customer else ())
    return replies.read_as(rephrase(question, answer, phraser), resolution.query,
                           read_as(resolution) if customer else None)
