"""Answers about a customer's people, as pure functions of the facts (facts.py over pendo_core.customers.people).

"Who are the most active users at Acme?" quotes each visitor's active days in the last 30 and last
active day, and links to the People section of the Account usage page; "Is Acme's champion still
active?" quotes each champion's and decision maker's last activity and the share of champions active
in the last 14 days, and links to the champion engagement of the Health page. Nothing here reads the store.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from pendo_core.chat import text as t
from pendo_core.chat.facts import ChampionFacts, TopUserFacts
from pendo_core.chat.intents import CHAMPION_STATUS, TOP_USERS
from pendo_core.chat.model import Answer, Fact, Link
from pendo_core.chat.windows import recent_span
from pendo_core.customers.people import PersonRow, Stakeholder
from pendo_core.customers.people_queries import LOOKBACK_DAYS, WINDOW_DAYS

ROLE_LABELS = {"champion": "champion", "decision_maker": "decision maker", "admin": "admin", "user": "user"}
DEFINITIONS = {
    "active_day": "An active day = a day with a Pendo events row with numEvents > 0 for the visitor, counted "
                  f"once across the customer's Pendo accounts, in the {WINDOW_DAYS} days ending on the day.",
    "last_active": f"Last active = the newest active day in the {LOOKBACK_DAYS} days ending on the day.",
    "ranking": "Ranked by active days, then minutes in the app; anonymous visitors are left out.",
    "matching": "Contacts are matched to Pendo visitors by e-mail (case-insensitive); a person with several "
                "visitors counts each day once.",
}


def _people_link(customer_id: str) -> Link:
    return replace(t.page("usage", customer_id), title="Account usage (People)")


def _engagement_link(customer_id: str) -> Link:
    return replace(t.page("health", customer_id), title="Health (champion engagement)")


def _who(row: PersonRow) -> str:
    return row.name or row.email or row.visitor_id


def top_users(facts: TopUserFacts) -> Answer:
    """The customer's most active visitors: active days in the last 30 and the last active day of each."""
    name, window = facts.customer.name, recent_span(facts.day, WINDOW_DAYS).text
    link = _people_link(facts.customer.customer_id)
    definitions = (DEFINITIONS["active_day"], DEFINITIONS["last_active"], DEFINITIONS["ranking"])
    if not facts.users:
        return Answer(TOP_USERS, f"No identified visitor of **{name}** was active in the {WINDOW_DAYS} days ending "
                      f"{facts.day}.", (t.fact("Active users listed", "0", 0),), window, definitions, link,
                      facts.customer)
    numbers = [t.fact("Active users listed", str(len(facts.users)), len(facts.users))]
    lines = [f"**{name}**'s most active users in the {WINDOW_DAYS} days ending {facts.day}:"]
    for rank, row in enumerate(facts.users, start=1):
        numbers += _user_numbers(row)
        role = f" ({ROLE_LABELS.get(row.role, row.role)})" if row.role else ""
        lines.append(f"{rank}. **{_who(row)}**{role}: **{row.active_days}** of {WINDOW_DAYS} days active, last "
                     f"active {_day(row.last_active)}, {t.count(row.minutes)} min")
    table = tuple({"visitor_id": r.visitor_id, "name": r.name, "email": r.email, "role": r.role,
                   "active_days": r.active_days, "last_active": r.last_active, "minutes": r.minutes}
                  for r in facts.users)
    return Answer(TOP_USERS, "\n".join(lines), tuple(numbers), window, definitions, link, facts.customer,
                  table=table)


def _user_numbers(row: PersonRow) -> list[Fact]:
    who = _who(row)
    return [t.fact(f"{who} active days, last {WINDOW_DAYS}", str(row.active_days), row.active_days),
            t.fact(f"{who} last active", _day(row.last_active), _iso(row.last_active))]


def _day(value: date | None) -> str:
    return "–" if value is None else value.isoformat()


def _iso(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def champion_status(facts: ChampionFacts) -> Answer:
    """Whether the customer's champions are still active: the share active lately and each one's last day."""
    status, name = facts.status, facts.customer.name
    days, window = status.window_days, recent_span(status.as_of, status.window_days).text
    link = _engagement_link(facts.customer.customer_id)
    definitions = (f"A champion is active when they have at least one active day (numEvents > 0) in the {days} "
                   f"days ending on the day; share = active champions ÷ champions.", DEFINITIONS["last_active"],
                   DEFINITIONS["matching"])
    if not status.people:
        return Answer(CHAMPION_STATUS, f"**{name}** has no champions or decision makers on record, so its health "
                      "score leaves the key contacts out. An admin adds them in Admin → Imports (a contacts CSV "
                      "with role `champion` or `decision_maker`).",
                      (t.fact("Champions", "0", 0),), window, definitions, link, facts.customer)
    numbers = [t.fact("Champions", str(status.champions), status.champions),
               t.fact(f"Champions active, last {days} days", str(status.champions_active), status.champions_active),
               t.fact("Share of champions active", t.percent(status.share_active), status.share_active)]
    lines = [_verdict(facts), ""]
    for person in status.people:
        numbers += _person_numbers(person, days)
        lines.append(_person_line(person, status.as_of, days))
    table = tuple({"email": p.email, "name": p.name, "role": p.role, "matched": p.matched,
                   "last_active": p.last_active, f"active_days_{days}": p.active_days_window}
                  for p in status.people)
    return Answer(CHAMPION_STATUS, "\n".join(lines), tuple(numbers), window, definitions, link, facts.customer,
                  table=table)


def _verdict(facts: ChampionFacts) -> str:
    """Yes / No / Partly about the champions (a lone champion in the singular), then who is listed."""
    status, name = facts.status, facts.customer.name
    end = f"in the {status.window_days} days ending {status.as_of}"
    if not status.champions:
        return f"**{name}** has no champion on record, only {_counted(len(status.people), 'decision maker')}; {end}:"
    share, n = t.percent(status.share_active), status.champions
    if status.champions_active == n:
        verdict = (f"**Yes**: **{name}**'s only champion was active {end} (**{share}**)." if n == 1 else
                   f"**Yes**: all **{n}** of **{name}**'s champions were active {end} (**{share}**).")
    elif status.champions_active == 0:
        verdict = (f"**No**: **{name}**'s only champion was not active {end} (**{share}**)." if n == 1 else
                   f"**No**: none of **{name}**'s **{n}** champions was active {end} (**{share}**).")
    else:
        verdict = (f"**Partly**: **{status.champions_active} of {n}** of **{name}**'s champions were "
                   f"active {end} (**{share}**).")
    makers = len(status.people) - n
    return verdict + (f" Listed: {_counted(n, 'champion')} and {_counted(makers, 'decision maker')}."
                      if makers else "")


def _counted(n: int, noun: str) -> str:
    """"1 champion", "2 champions"."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _person_numbers(person: Stakeholder, days: int) -> list[Fact]:
    return [t.fact(f"{person.name} active days, last {days}", str(person.active_days_window),
                   person.active_days_window),
            t.fact(f"{person.name} last active", _day(person.last_active), _iso(person.last_active))]


def _person_line(person: Stakeholder, as_of: date, days: int) -> str:
    who = f"- **{person.name}** ({ROLE_LABELS.get(person.role, person.role)}"
    who += f", {person.title})" if person.title else ")"
    if not person.matched:
        return f"{who}: no Pendo visitor has the e-mail {person.email}, so no activity can be seen."
    if person.last_active is None:
        return f"{who}: not active in the last {LOOKBACK_DAYS} days."
    quiet = person.days_quiet(as_of)
    ago = "the last day with data" if quiet == 0 else f"{quiet} day{'s' if quiet != 1 else ''} before"
    return (f"{who}: last active **{person.last_active}** ({ago}); **{person.active_days_window}** active days "
            f"in the last {days}.")
