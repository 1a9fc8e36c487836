"""The answer to "which of my customers are at risk?", from the My customers book and its risk order
(`pendo_core.book`): the same customers, in the same order, with the same reasons."""

from __future__ import annotations

from datetime import date

import pandas as pd

from pendo_core.book import AT_RISK_HELP, CURRENCY_SYMBOL, ORDER_HELP
from pendo_core.chat import text as t
from pendo_core.chat.intents import AT_RISK
from pendo_core.chat.model import Answer, Choice, Viewer

MAX_LISTED = 5  # the answer leads with these; the count and the rest follow


def _line(rank: int, row: pd.Series) -> str:
    score = "no score" if pd.isna(row["score"]) else f"health {row['score']:.0f}"
    parts = [f"{row['band']}, {score}"]
    if row["risk_reasons"]:
        parts.append(str(row["risk_reasons"]).replace("; ", " · "))
    if not pd.isna(row["arr"]):
        parts.append(f"ARR {CURRENCY_SYMBOL}{row['arr']:,.0f}")
    return f"{rank}. **{row['name']}**: " + " · ".join(parts)


def _count_line(risky: int, listed: int, scope: str) -> str:
    """How many are at risk in all, after the list: "**31** of your **50** customers are at risk: ..."."""
    verb = "is" if risky == 1 else "are"
    rest = (f"the {listed} above and {risky - listed:,} more on My customers" if risky > listed else
            "all listed above" if risky > 1 else "the one above")
    return f"\n**{risky:,}** of {scope} {verb} at risk: {rest}."


def at_risk(book: pd.DataFrame, viewer: Viewer, day: date) -> Answer:
    """The viewer's customers at risk, most at risk first (the My customers order), and why."""
    scope = f"the **{len(book):,}** customers across the portfolio" if viewer.sees_all else \
        f"your **{len(book):,}** customers"
    risky = book[book["at_risk"].astype(bool)]
    numbers = [t.fact("Customers", t.count(len(book)), len(book)),
               t.fact("Customers at risk", t.count(len(risky)), len(risky))]
    window = f"health on the newest scored day up to {day}; usage and health changes over 28 days"
    definitions = (AT_RISK_HELP, "Order (as on My customers): " + ORDER_HELP)
    link = t.page("my_customers")
    if risky.empty:
        return Answer(AT_RISK, f"None of {scope} is at risk: none is red, and no "
                      "yellow one is renewing within 90 days, falling or carrying a high-severity alert.",
                      tuple(numbers), window, definitions, link)
    top = risky.head(MAX_LISTED)
    lines = ["Most at risk first (the My customers order), and why:" if len(risky) > 1 else "At risk, and why:"]
    lines += [_line(rank, row) for rank, (_, row) in enumerate(top.iterrows(), start=1)]
    lines.append(_count_line(len(risky), len(top), scope))
    numbers += [t.fact(f"{row['name']} health", t.decimal(row["score"], 1) if not pd.isna(row["score"]) else "–",
                       None if pd.isna(row["score"]) else float(row["score"])) for _, row in top.iterrows()]
    table = tuple({"customer": row["name"], "customer_id": row["customer_id"], "band": row["band"],
                   "score": None if pd.isna(row["score"]) else float(row["score"]), "why": row["risk_reasons"]}
                  for _, row in top.iterrows())
    choices = tuple(Choice(row["customer_id"], f"Why is {row['name']} at risk?",
                           f"Why is {row['name']}'s health score low?") for _, row in top.head(3).iterrows())
    return Answer(AT_RISK, "\n".join(lines), tuple(numbers), window, definitions, link, choices=choices, table=table)
