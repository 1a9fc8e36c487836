"""Answers about a window of days and a customer's status, as pure functions of window_facts.py:
sessions, last login, dismissed guides, the health and alerts a usage summary adds, and the note an
answer gets when the question named a window the answer cannot use."""

from __future__ import annotations

from dataclasses import replace

from pendo_core.alerts.kinds import label
from pendo_core.chat import text as t
from pendo_core.chat.intents import GUIDE_DISMISSALS, LAST_LOGIN, SESSIONS
from pendo_core.chat.model import Answer, CustomerRef, Fact
from pendo_core.chat.periods import Period
from pendo_core.chat.window_facts import MAX_LAST_SEEN, GuideFacts, LastLogin, SessionFacts, Status
from pendo_core.glossary import DEFINITIONS

MAX_GUIDES = 10


def sessions(found: SessionFacts, customer: CustomerRef | None, *, sees_all: bool) -> Answer:
    """Sessions over the window: count and mean length, one customer's or the asker's customers'."""
    who = f"**{customer.name}**" if customer else ("every customer" if sees_all else
                                                    f"your **{found.customers}** customers")
    numbers = (t.fact("Sessions", t.count(found.sessions), found.sessions),
               t.fact("Average session (min)", t.decimal(found.average_minutes), found.average_minutes),
               t.fact("Synced days", f"{found.synced_days} of {found.period.days}", found.synced_days))
    if not found.synced_days:
        text = f"No usage is stored for {who} in {found.period.text}, so there are no sessions to count."
    else:
        text = (f"{who.capitalize() if not customer else who}, {found.period.text}: **{t.count(found.sessions)}** "
                f"sessions, **{t.decimal(found.average_minutes)}** minutes long on average "
                f"({found.synced_days} of {found.period.days} days synced).")
    link = t.page("usage", customer.customer_id if customer else None)
    return Answer(SESSIONS, text, numbers, found.period.text, (DEFINITIONS["sessions"],), link, customer)


def last_login(found: LastLogin) -> Answer:
    """The customer's last active day and the visitors active that day."""
    name = found.customer.name
    if found.last_active is None:
        return Answer(LAST_LOGIN, f"Nobody at **{name}** was active in the {found.lookback_days} days ending "
                      f"{found.day}.", (t.fact("Last active day", "–", None),),
                      f"{found.lookback_days} days ending {found.day}", customer=found.customer,
                      link=t.page("usage", found.customer.customer_id))
    names = ", ".join(_person(p) for p in found.who)
    names += " (the first few; the People list has everyone)" if len(found.who) >= MAX_LAST_SEEN else ""
    days = (found.day - found.last_active).days
    ago = "the last synced day" if days == 0 else f"{days} day{'s' if days != 1 else ''} before the last synced day"
    text = f"**{name}** was last active on **{found.last_active}** ({ago}, {found.day}), by {names}."
    numbers = (t.fact("Last active day", found.last_active.isoformat(), found.last_active.isoformat()),
               t.fact("Visitors active that day", str(len(found.who)), len(found.who)))
    return Answer(LAST_LOGIN, text, numbers, f"{found.lookback_days} days ending {found.day}",
                  ("Active: a visitor with at least one event that day (metrics-spec.md).",),
                  t.page("usage", found.customer.customer_id), found.customer)


def _person(person: object) -> str:
    name = getattr(person, "name", None) or getattr(person, "email", None) or getattr(person, "visitor_id", "?")
    role = getattr(person, "role", None)
    return f"{name} ({role.replace('_', ' ')})" if role else str(name)


def guide_dismissals(found: GuideFacts) -> Answer:
    """Guides the customer's visitors dismissed in the stored 30-day window, most dismissals first."""
    name, frame = found.customer.name, found.guides
    window = f"30 days ending {found.day}"
    numbers: list[Fact] = [t.fact("Guides dismissed", str(len(frame)), len(frame)),
                           t.fact("Guides seen", str(found.seen_guides), found.seen_guides)]
    if frame.empty:
        text = f"No visitor at **{name}** dismissed a guide in the {window} ({found.seen_guides} guides seen)."
    else:
        lines = [f"**{name}**: **{len(frame)}** of {found.seen_guides} guides seen were dismissed in the {window}:"]
        for row in frame.head(MAX_GUIDES).itertuples():
            rate = "" if row.dismissal_rate is None else f", {t.percent(float(row.dismissal_rate))} of viewers"
            lines.append(f"- {row.name}: {int(row.dismissed)} of {int(row.seen)} visitors dismissed it{rate}")
            numbers.append(t.fact(f"{row.name} dismissed by", str(int(row.dismissed)), int(row.dismissed)))
        text = "\n".join(lines)
    return Answer(GUIDE_DISMISSALS, text, tuple(numbers), window,
                  ("Dismissed: visitors with a guideDismissed event on the guide in the 30 days (metrics-spec.md, "
                   "Guides); guide counts are stored per 30-day window.",),
                  t.page("usage", found.customer.customer_id), found.customer,
                  table=tuple(frame.to_dict("records")))


def with_status(answer: Answer, found: Status, *, lead: bool = False) -> Answer:
    """The answer with the customer's health (score, band, 28-day change) and active alerts (their kinds)
    added: at the end, or right after the answer's first paragraph when `lead` (the answer leads with the
    customer's silence, so what the alerts say comes before the numbers)."""
    lines, numbers = [_health_line(found)], list(answer.facts)
    if found.score is not None and found.score.overall is not None:
        numbers += [t.fact("Health score", t.decimal(found.score.overall, 0), found.score.overall),
                    t.fact("Health band", found.score.band, found.score.band),
                    t.fact("Health change, 28 days", _points(found.change), found.change)]
    alerts = found.alerts
    numbers.append(t.fact("Active alerts", str(len(alerts)), len(alerts)))
    if alerts.empty:
        lines.append("No active alerts.")
    else:
        kinds = alerts["kind"].value_counts()
        listed = ", ".join(f"{label(k)}{f' ×{n}' if n > 1 else ''}" for k, n in kinds.items())
        opened = int((alerts["status"] == "open").sum())
        lines.append(f"**{len(alerts)}** active alert{'s' if len(alerts) != 1 else ''} ({opened} open): {listed}.")
    return replace(answer, text=_placed(answer.text, " ".join(lines), lead=lead), facts=tuple(numbers),
                   definitions=(*answer.definitions, DEFINITIONS["health"], DEFINITIONS["alerts"]))


def _placed(text: str, status: str, *, lead: bool) -> str:
    """The status paragraph at the end of the text, or second when `lead`."""
    if not lead:
        return f"{text}\n\n{status}"
    first, _, rest = text.partition("\n\n")
    return "\n\n".join(part for part in (first, status, rest) if part)


def _health_line(found: Status) -> str:
    score = found.score
    if score is None:
        return "No health score yet."
    if score.overall is None:
        return f"Health on {score.day}: insufficient data."
    change = "" if found.change is None else f", {_points(found.change)} in 28 days"
    return f"Health **{t.decimal(score.overall, 0)}** ({score.band}{change}) on {score.day}."


def _points(change: float | None) -> str:
    return "–" if change is None else f"{change:+.0f} points".replace("-", "−")


def window_note(answer: Answer, period: Period) -> Answer:
    """Say that the named window was not used, and which one was, instead of answering silently."""
    used = f" It covers {answer.window}." if answer.window else ""
    note = f"_You asked about {period.text}; this answer is not computed per window.{used}_"
    return replace(answer, text=f"{answer.text}\n\n{note}")


def with_sessions(answer: Answer, found: SessionFacts) -> Answer:
    """A usage answer with the named window's sessions added (so the window is answered, not only its end)."""
    numbers = (*answer.facts, t.fact("Sessions in the window", t.count(found.sessions), found.sessions),
               t.fact("Average session in the window (min)", t.decimal(found.average_minutes),
                      found.average_minutes))
    average = t.decimal(found.average_minutes)
    line = (f"In the {found.period.text}: **{t.count(found.sessions)}** sessions, **{average}**"
            f" minutes long on average ({found.synced_days} of {found.period.days} days synced).")
    return replace(answer, text=f"{answer.text}\n\n{line}", facts=numbers)
