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
from datetime import date, timedelta

from sqlalchemy import Engine

from pendo_core.access.sql import visible_customers
from pendo_core.book import book
from pendo_core.book.inbox import inbox
from pendo_core.chat import (
    action_answers,
    answers,
    facts,
    intents,
    peers,
    people_answers,
    periods,
    replies,
    risk_answers,
    window_answers,
)
from pendo_core.chat import window_facts as wf
from pendo_core.chat.entities import AMBIGUOUS, FOUND, UNKNOWN, Resolution, exact, loose, read_as
from pendo_core.chat.model import Answer, CustomerRef, Viewer
from pendo_core.chat.phrasing import Phraser, rephrase
from pendo_core.health.facts import health_facts
from pendo_core.usage.facts import UsageFacts, last_active, usage_facts
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
    period: periods.Period | None = None  # the window the question names, cut to the synced days


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
    alerts = facts.open_alerts(ask.engine, ask.viewer, customer_id, today=ask.day + timedelta(days=1))
    return replies.alerts(alerts, ask.viewer, ask.customer)


def _drops(ask: Ask) -> Answer:
    days = ask.parsed.period_days
    visible = visible_customers(ask.engine, ask.viewer)
    found = facts.drops(ask.engine, visible, ask.day, days, all_customers=ask.viewer.sees_all)
    return replies.top_drops(found, ask.viewer, ask.day, days)


def _at_risk(ask: Ask) -> Answer:
    return risk_answers.at_risk(book(ask.engine, ask.viewer, ask.day), ask.viewer, ask.day)


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
    intents.AT_RISK: _at_risk,
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


def _optional_customer(intent: str, resolution: Resolution) -> tuple[CustomerRef | None, bool]:
    """(customer, go on): alerts narrow to a customer found by name and ask when the name is ambiguous;
    an unknown word is not taken for a name there. Drops and risk are always about the whole book."""
    if intent in (intents.TOP_DROPS, intents.AT_RISK):
        return None, True
    if resolution.status == FOUND:
        return resolution.customer, True
    return None, resolution.status != AMBIGUOUS


def _customer(intent: str, resolution: Resolution) -> tuple[CustomerRef | None, bool]:
    """(customer, go on): a question about one customer needs it found; others see _optional_customer."""
    if intent in intents.NEEDS_CUSTOMER:
        return resolution.customer, resolution.status == FOUND
    return _optional_customer(intent, resolution)


BOOK_WIDE = frozenset({intents.TOP_DROPS, intents.AT_RISK})  # never about one named customer


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
            include_anonymous: bool = False, phraser: Phraser | None = None, today: date | None = None) -> Answer:
    """The answer to a question, as the viewer is allowed to see it (`today` anchors a named window;
    default: the day after the last synced day, as a daily sync leaves it)."""
    visible = visible_customers(engine, viewer)
    if not visible:
        return replies.nothing_visible(viewer)
    day = data_day(engine)
    named, rest = periods.find(intents.clean(question), today or (day or date.today()) + timedelta(days=1))
    parsed, resolution = understand(intents.normalise(rest), visible, customer_id)
    intent = _intent(parsed, resolution)
    if intent is None:
        return replies.help_text(question, visible)
    if day is None:
        return replies.no_data()
    if customer_id is None and intent not in BOOK_WIDE and _another_csms(engine, viewer, intents.normalise(rest),
                                                                          resolution, visible):
        return replies.not_yours(intent, resolution)
    customer, certain = _customer(intent, resolution)
    if not certain:
        return replies.choose(intent, resolution, visible)
    ask = Ask(engine, viewer, customer, day, parsed, include_anonymous, named.through(day) if named else None)
    answer = replies.also_meant(_answer(intent, ask, named), resolution.alternatives if customer else ())
    return replies.read_as(rephrase(question, answer, phraser), resolution.query,
                           read_as(resolution) if customer else None)


# --- windows, status and the questions about a window (issue 13) ---------------------------------

DEFAULT_SESSION_DAYS = 7
WINDOWED = frozenset({intents.USAGE_SUMMARY, intents.USAGE_TREND, intents.TOP_DROPS, intents.SESSIONS})


def _answer(intent: str, ask: Ask, named: periods.Period | None) -> Answer:
    """The handler's answer; a named window an answer cannot use is said, never silently replaced."""
    answer = HANDLERS[intent](ask)
    if named is None or intent in WINDOWED:
        return answer
    return window_answers.window_note(answer, named)


def _joined(period: periods.Period, window: str | None) -> str:
    return f"{period.text}; {window}" if window else period.text


def _period_or_empty(ask: Ask) -> Answer | None:
    """The reply when the named window holds no synced day (it starts after the last one)."""
    if ask.period is None or ask.period.first <= ask.day:
        return None
    return Answer(ask.parsed.intent, f"No usage is synced for {ask.period.named} yet: the last synced day is "
                  f"{ask.day}.", window=ask.period.text, customer=ask.customer)


def _summary_with_status(ask: Ask) -> Answer:
    assert ask.customer is not None
    if (empty := _period_or_empty(ask)) is not None:
        return empty
    if ask.period is None:
        usage = usage_facts(ask.engine, ask.customer, ask.day, include_anonymous=ask.include_anonymous)
        base = answers.usage_summary(usage)
    else:
        usage = _to_now(ask, wf.usage_over(ask.engine, ask.customer, ask.period,
                                           include_anonymous=ask.include_anonymous))
        base = answers.usage_summary(usage)
        base = window_answers.with_sessions(replace(base, window=_joined(ask.period, base.window)),
                                            wf.sessions(ask.engine, [ask.customer.customer_id], ask.period))
    return window_answers.with_status(base, wf.status(ask.engine, ask.viewer, ask.customer, ask.day),
                                      lead=answers.is_quiet(usage))


def _to_now(ask: Ask, usage: UsageFacts) -> UsageFacts:
    """A window's usage facts with the last active day looked up to the last synced day (not the window's
    end), so "no one has been active since" stays true today."""
    assert ask.customer is not None
    return replace(usage, last_active=last_active(ask.engine, ask.customer.customer_id, ask.day))


def _trend_over(ask: Ask) -> Answer:
    assert ask.customer is not None
    if ask.period is None:
        return _trend(ask)
    if (empty := _period_or_empty(ask)) is not None:
        return empty
    usage = _to_now(ask, wf.usage_over(ask.engine, ask.customer, ask.period, include_anonymous=ask.include_anonymous))
    history = facts.usage_history(ask.engine, ask.customer.customer_id, ask.period.last, ask.period.days)
    answer = answers.usage_trend(usage, history)
    return replace(answer, window=_joined(ask.period, answer.window))


def _drops_over(ask: Ask) -> Answer:
    if ask.period is None:
        return _drops(ask)
    if (empty := _period_or_empty(ask)) is not None:
        return empty
    visible = visible_customers(ask.engine, ask.viewer)
    last, days = ask.period.last, ask.period.days
    found = facts.drops(ask.engine, visible, last, days, all_customers=ask.viewer.sees_all)
    return replies.top_drops(found, ask.viewer, last, days)


def _sessions(ask: Ask) -> Answer:
    period = ask.period or periods.Period(ask.day - timedelta(days=DEFAULT_SESSION_DAYS - 1), ask.day,
                                          f"last {DEFAULT_SESSION_DAYS} synced days (no window named)")
    if (empty := _period_or_empty(ask)) is not None:
        return empty
    ids = [ask.customer.customer_id] if ask.customer else [c.customer_id for c in
                                                           visible_customers(ask.engine, ask.viewer)]
    return window_answers.sessions(wf.sessions(ask.engine, ids, period), ask.customer,
                                   sees_all=ask.viewer.sees_all)


def _last_login(ask: Ask) -> Answer:
    assert ask.customer is not None
    return window_answers.last_login(wf.last_login(ask.engine, ask.customer, ask.day,
                                                   include_anonymous=ask.include_anonymous))


def _guide_dismissals(ask: Ask) -> Answer:
    assert ask.customer is not None
    return window_answers.guide_dismissals(wf.guide_dismissals(ask.engine, ask.customer, ask.day))


HANDLERS |= {
    intents.USAGE_SUMMARY: _summary_with_status,
    intents.USAGE_TREND: _trend_over,
    intents.TOP_DROPS: _drops_over,
    intents.SESSIONS: _sessions,
    intents.LAST_LOGIN: _last_login,
    intents.GUIDE_DISMISSALS: _guide_dismissals,
}


def _next_steps(ask: Ask) -> Answer:
    """The suggested actions of the alerts that need someone, in the Alerts inbox's order."""
    found = inbox(ask.engine, ask.viewer, include_closed=False, today=ask.day + timedelta(days=1))
    if ask.customer is not None:
        found = found[found["customer_id"] == ask.customer.customer_id]
    return action_answers.next_steps(found, ask.viewer, ask.customer)


HANDLERS[intents.NEXT_STEPS] = _next_steps


def example_questions(engine: Engine, viewer: Viewer, first: str | None = None) -> tuple[str, ...]:
    """The example questions, about the customers this viewer may ask about (never another CSM's), the
    customer named `first` in the first one."""
    return replies.examples(visible_customers(engine, viewer), first)
