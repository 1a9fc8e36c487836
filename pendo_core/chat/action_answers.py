"""The answer to "What should I do about Acme?": the suggested actions of the customer's alerts that still
need someone (open or acknowledged), most urgent first as the Alerts inbox orders them (priority: the rule's
severity weighed with ARR and renewal, `pendo_core.book.inbox`), each with the numbers behind it. Without a
customer named, the asker's most urgent alerts across their customers. Nothing here reads the store."""

from __future__ import annotations

import pandas as pd

from pendo_core.alerts.kinds import label
from pendo_core.alerts.priority import WEIGHTING_HELP
from pendo_core.chat import text as t
from pendo_core.chat.intents import NEXT_STEPS
from pendo_core.chat.model import Answer, Choice, CustomerRef, Fact, Viewer
from pendo_core.glossary import DEFINITIONS

MAX_ACTIONS = 5
NEEDS_SOMEONE = ("open", "acknowledged")  # snoozed alerts wait for their date; they are counted, not listed
ORDER = "Most urgent first, as on the Alerts page: " + WEIGHTING_HELP


def next_steps(inbox: pd.DataFrame, viewer: Viewer, customer: CustomerRef | None) -> Answer:
    """The suggested actions of the alerts that need someone, most urgent first (the inbox's order)."""
    where = f"**{customer.name}**" if customer else ("the portfolio" if viewer.sees_all else "your customers")
    link = t.page("alerts", customer.customer_id if customer else None)
    waiting = inbox[inbox["status"].isin(NEEDS_SOMEONE)]
    if not customer:
        waiting = waiting.sort_values("priority", ascending=False, kind="stable")
    snoozed = int((inbox["status"] == "snoozed").sum())
    numbers: list[Fact] = [t.fact("Alerts needing someone", str(len(waiting)), len(waiting)),
                           t.fact("Snoozed alerts", str(snoozed), snoozed)]
    definitions = (DEFINITIONS["alerts"], ORDER)
    if waiting.empty:
        return Answer(NEXT_STEPS, _nothing(where, snoozed, customer), tuple(numbers), "alerts active now",
                      definitions, link, customer, choices=_fallback(customer))
    top = waiting.head(MAX_ACTIONS)
    lines = [f"What the open alerts on {where} suggest, most urgent first:"]
    for rank, row in enumerate(top.itertuples(), start=1):
        numbers.append(t.fact(f"Alert #{row.id} priority", f"{float(row.priority):.0f}", float(row.priority)))
        lines.append(_line(rank, row, named=customer is not None))
    if len(waiting) > MAX_ACTIONS:
        lines.append(f"…and {len(waiting) - MAX_ACTIONS} more on the Alerts page.")
    if snoozed:
        lines.append(f"({_alerts(snoozed)} snoozed, not listed.)")
    table = tuple(top[["id", "customer", "kind", "severity", "status", "priority", "numbers",
                       "suggested_action"]].to_dict("records"))
    return Answer(NEXT_STEPS, "\n".join(lines), tuple(numbers), "alerts active now", definitions, link, customer,
                  table=table)


def _line(rank: int, row: object, *, named: bool) -> str:
    who = "" if named else f"**{row.customer}** · "  # type: ignore[attr-defined]
    action = row.suggested_action or "no suggested action recorded"  # type: ignore[attr-defined]
    return (f"{rank}. {who}**{label(row.kind)}** ({row.severity}, {row.status} since "  # type: ignore[attr-defined]
            f"{row.triggered_on}): {action}  \n   Numbers: {row.numbers}")  # type: ignore[attr-defined]


def _alerts(n: int) -> str:
    return f"{n} alert{'' if n == 1 else 's'}"


def _nothing(where: str, snoozed: int, customer: CustomerRef | None) -> str:
    later = f" ({_alerts(snoozed)} snoozed)" if snoozed else ""
    usage = " Its usage and health: ask “How is it using the product?”." if customer else ""
    return f"No open alert on {where} suggests an action{later}.{usage}"


def _fallback(customer: CustomerRef | None) -> tuple[Choice, ...]:
    if customer is None:
        return ()
    return (Choice(customer.customer_id, f"How is {customer.name} using the product?",
                   f"How is {customer.name} using the product?"),)
