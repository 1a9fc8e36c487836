"""Answers about a portfolio (alerts, biggest drops) and the replies that are not about data:
a short choice between names, an unknown name with close ones, what the chat can answer."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from pendo_core.alerts.kinds import label
from pendo_core.chat import text as t
from pendo_core.chat.entities import AMBIGUOUS, MISSING, Resolution
from pendo_core.chat.facts import Drop
from pendo_core.chat.intents import MY_ALERTS, TOP_DROPS
from pendo_core.chat.model import Answer, Choice, CustomerRef, Viewer
from pendo_core.chat.windows import prior_span, recent_span
from pendo_core.glossary import DEFINITIONS

MAX_ALERTS = 10
MAX_DROPS = 10

EXAMPLES = (
    "How is Acme using the product?",
    "What features is Acme not using?",
    "Show usage trend for Acme",
    "Which of my customers are at risk?",
    "Any usage alerts for my portfolio?",
    "Why is Acme's health score low?",
    "Compare Acme to its peers",
    "Which accounts dropped the most this month?",
    "Who are the most active users at Acme?",
    "Is Acme's champion still active?",
)


def _scope(viewer: Viewer) -> str:
    return "across the portfolio" if viewer.sees_all else "on your customers"


def alerts(frame: pd.DataFrame, viewer: Viewer, customer: CustomerRef | None = None) -> Answer:
    """The viewer's active alerts (one customer's when named), most urgent first, with their numbers."""
    where = f"on **{customer.name}**" if customer else _scope(viewer)
    link = t.page("alerts", customer.customer_id if customer else None)
    if frame.empty:
        return Answer(MY_ALERTS, f"No active usage alerts {where}.", (t.fact("Active alerts", "0", 0),),
                      definitions=(DEFINITIONS["alerts"],), link=link, customer=customer)
    by_status = frame["status"].value_counts()
    counts = {s: int(by_status.get(s, 0)) for s in ("open", "acknowledged", "snoozed")}
    customers = frame["customer_id"].nunique()
    numbers = [t.fact("Active alerts", str(len(frame)), len(frame)),
               *(t.fact(s.capitalize(), str(n), n) for s, n in counts.items()),
               t.fact("Customers with alerts", str(customers), customers)]
    head = (f"**{len(frame)}** active alerts {where} ({counts['open']} open, {counts['acknowledged']} acknowledged, "
            f"{counts['snoozed']} snoozed) on **{customers}** customer{'s' if customers != 1 else ''}, "
            "most urgent first:")
    lines = [_alert_line(row) for row in frame.head(MAX_ALERTS).itertuples()]
    more = [f"…and {len(frame) - MAX_ALERTS} more on the Alerts page."] if len(frame) > MAX_ALERTS else []
    table = tuple(frame[["id", "customer", "kind", "severity", "status", "triggered_on", "numbers"]]
                  .head(MAX_ALERTS).to_dict("records"))
    return Answer(MY_ALERTS, "\n".join([head, *lines, *more]), tuple(numbers), "alerts active now",
                  (DEFINITIONS["alerts"],), link, customer, table=table)


def _alert_line(row: object) -> str:
    kind = label(row.kind)  # type: ignore[attr-defined]
    return (f"- **{row.customer}** · {kind} · {row.severity} · {row.status} since "  # type: ignore[attr-defined]
            f"{row.triggered_on}: {row.numbers}")  # type: ignore[attr-defined]


def top_drops(found: list[Drop], viewer: Viewer, day: date, days: int) -> Answer:
    """The customers whose mean DAU fell the most, recent window against the one before."""
    window = f"{recent_span(day, days).text} vs {prior_span(day, days).text}"
    definitions = (f"Change = mean DAU of the last {days} days ÷ mean DAU of the {days} days before − 1, each mean "
                   "over the synced days of its window (as on the Portfolio page); customers with a prior mean "
                   "below 1 daily user are left out.",)
    link = t.page("portfolio") if viewer.sees_all else t.page("usage")
    if not found:
        return Answer(TOP_DROPS, f"No customer's mean DAU fell {_scope(viewer)} over the last {days} days against "
                      f"the {days} days before.", window=window, definitions=definitions, link=link)
    top = found[:MAX_DROPS]
    numbers = [t.fact("Customers whose DAU fell", str(len(found)), len(found))]
    fell = f"**{len(found)}** customer{'s' if len(found) != 1 else ''} fell"
    lines = [f"Largest falls in mean daily active users {_scope(viewer)}, last {days} days against the {days} "
             f"days before ({fell}):"]
    for rank, d in enumerate(top, start=1):
        numbers += [t.fact(f"{d.customer.name} DAU trend", t.percent(d.change, signed=True), d.change),
                    t.fact(f"{d.customer.name} mean DAU", t.decimal(d.recent_mean), d.recent_mean),
                    t.fact(f"{d.customer.name} mean DAU before", t.decimal(d.prior_mean), d.prior_mean)]
        lines.append(f"{rank}. **{d.customer.name}**: {t.decimal(d.prior_mean)} → {t.decimal(d.recent_mean)} "
                     f"daily users (**{t.percent(d.change, signed=True)}**)")
    table = tuple({"customer": d.customer.name, "customer_id": d.customer.customer_id, "prior_mean_dau": d.prior_mean,
                   "recent_mean_dau": d.recent_mean, "change": d.change} for d in top)
    choices = tuple(Choice(d.customer.customer_id, f"Trend of {d.customer.name}",
                           f"Show usage trend for {d.customer.name}") for d in top[:3])
    return Answer(TOP_DROPS, "\n".join(lines), tuple(numbers), window, definitions, link, choices=choices,
                  table=table)


def _label(customer: CustomerRef) -> str:
    details = " · ".join(x for x in (customer.segment, customer.csm_email) if x)
    return f"{customer.name} ({details})" if details else customer.name


def choose(intent: str, resolution: Resolution, visible: list[CustomerRef]) -> Answer:
    """A short choice (ambiguous), close names (unknown), or which customer (missing)."""
    options = resolution.customers
    if resolution.status == AMBIGUOUS:
        text = f"More than one customer matches “{resolution.query}”. Which one do you mean?"
    elif resolution.status == MISSING:
        options = tuple(visible[:6])
        text = "Which customer do you mean? Name one in the question, e.g. “How is Acme using the product?”."
    elif options:
        text = f"I don't know a customer called “{resolution.query}” among your customers. Did you mean one of these?"
    else:
        text = f"I don't know a customer called “{resolution.query}” among your customers, nor any close name."
    return Answer(intent, text, choices=tuple(Choice(c.customer_id, _label(c)) for c in options))


def not_yours(intent: str, resolution: Resolution) -> Answer:
    """A name that is another CSM's customer: said to be not the asker's, nothing more about it (no
    name, CSM or number), the way to ask about it, and only the asker's own close names as choices."""
    text = (f"I don't know a customer called “{resolution.query}” among your customers: it is not one of yours "
            "(it belongs to another CSM). To ask about colleagues' customers, switch on **Show all customers** "
            "in the sidebar (read-only).")
    if resolution.customers:
        text += " Or did you mean one of yours below?"
    return Answer(intent, text, choices=tuple(Choice(c.customer_id, _label(c)) for c in resolution.customers))


def read_as(answer: Answer, query: str, name: str | None) -> Answer:
    """Say first which customer a differently written name was read as, so the answer cannot pass
    for one about the customer the asker named."""
    if name is None:
        return answer
    from dataclasses import replace

    return replace(answer, text=f"_Reading “{query}” as **{name}**._\n\n{answer.text}")


def help_text(question: str, visible: Sequence[CustomerRef] = ()) -> Answer:
    """What the chat can answer, for a question it does not understand (examples about the asker's own
    customers when given)."""
    listed = "\n".join(f"- {e}" for e in (examples(visible) if visible else EXAMPLES))
    said = f"I can't answer “{question.strip()}” yet. " if question.strip() else ""
    return Answer(None, f"{said}I can answer questions like these (any customer name, written loosely):\n{listed}")


def no_data() -> Answer:
    """The store has no usage metrics yet."""
    return Answer(None, "No usage metrics are stored yet, so there is nothing to answer from. Run a sync first "
                  "(`python -m jobs sync`, or “Sync now” in Admin).")


def nothing_visible(viewer: Viewer) -> Answer:
    """A CSM with no customers assigned."""
    return Answer(None, f"No customers are assigned to {viewer.email} yet, so there is nothing to answer about. "
                  "Customers get their CSM from the customer import.")


def also_meant(answer: Answer, alternatives: tuple[CustomerRef, ...]) -> Answer:
    """Offer the longer names an exact short one is the start of ("Not the one? Orion Foods")."""
    if not alternatives:
        return answer
    names = ", ".join(c.name for c in alternatives)
    from dataclasses import replace

    return replace(answer, text=f"{answer.text}\n\n_Not the one you meant? Also: {names}._",
                   choices=tuple(Choice(c.customer_id, _label(c)) for c in alternatives))


# Asked of the asker's own customers (issue 13): appended to EXAMPLES' list, with the same "Acme".
WINDOW_EXAMPLES = (
    "How has Acme been using the product in the last 90 days?",
    "When did Acme last log in?",
    "Which guides did Acme dismiss?",
    "Sessions last week?",
    "What should I do about Acme?",
)
EXAMPLE_NAME = "Acme"


def examples(visible: Sequence[CustomerRef], first: str | None = None) -> tuple[str, ...]:
    """The example questions about the asker's own customers: "Acme" becomes one of them, a different
    one per example in name order (so a CSM never sees a customer they cannot ask about), starting
    with the customer named `first` when it is among them (the screens' most-at-risk customer)."""
    names = sorted({c.name for c in visible}, key=str.casefold)
    if first in names:
        names.remove(first)
        names.insert(0, first)
    if not names:
        return tuple(e for e in (*EXAMPLES, *WINDOW_EXAMPLES) if EXAMPLE_NAME not in e)
    found = []
    for i, example in enumerate((*EXAMPLES, *WINDOW_EXAMPLES)):
        found.append(example.replace(EXAMPLE_NAME, names[i % len(names)]))
    return tuple(found)
