"""Number formatting and the definitions the answers quote (one wording, everywhere)."""

from __future__ import annotations

from pendo_core.chat.model import Fact, Link
from pendo_core.usage.measures import BREADTH_DEFINITION

DEFINITIONS = {
    "dau": "DAU = distinct identified visitors active on the day (a Pendo events row with numEvents > 0), "
           "counted once across the customer's Pendo accounts.",
    "wau": "WAU = distinct visitors active on any of the 7 days ending on the day.",
    "mau": "MAU = distinct visitors active on any of the 30 days ending on the day.",
    "sessions": "A session is a run of consecutive active hours of one visitor in one account, counted on the "
                "day it starts; average length = minutes in app that day ÷ sessions.",
    "breadth": BREADTH_DEFINITION,
    "adoption": "A feature is used when the customer has a day of use of it (a pendo_feature_usage row) in the "
                "30 days ending on the day; peer share = share of the peers with at least one such day.",
    "gap_peers": "Peers = the other customers of the same segment (as on the Feature adoption page).",
    "peers": "Peers = customers of the same segment (all customers when it has none) with MAU above 0 on the "
             "day, the customer itself left out; percentile rank = share of peers below plus half of those "
             "equal.",
    "abandoned": "Abandoned key feature = a key feature with at least 3 distinct users in the 28 days before "
                 "the last 14, and no use at all in the last 14 days.",
    "health": "Health = weighted mean of engagement, adoption, trajectory and onboarding (0–100) over the "
              "components with data; bands red < 50 ≤ yellow < 75 ≤ green unless an admin changed them.",
    "alerts": "Active alerts = open, acknowledged or snoozed; dismissed and resolved ones are left out.",
}

PAGES = {
    "usage": Link("pages/account_usage.py", "Account usage"),
    "features": Link("pages/features.py", "Feature adoption"),
    "health": Link("pages/health.py", "Health"),
    "alerts": Link("pages/alerts.py", "Alerts"),
    "portfolio": Link("pages/portfolio.py", "Portfolio"),
}


def page(name: str, customer_id: str | None = None) -> Link:
    """The link to one of the app's pages, opened on a customer when given."""
    base = PAGES[name]
    return Link(base.page, base.title, customer_id)


def count(value: float | int | None) -> str:
    """A count with thousands separators; an en dash when missing."""
    return "–" if value is None else f"{value:,.0f}"


def decimal(value: float | None, digits: int = 1) -> str:
    """A number with `digits` decimals; an en dash when missing."""
    return "–" if value is None else f"{value:,.{digits}f}"


def percent(value: float | None, signed: bool = False) -> str:
    """A ratio as a whole percentage ('+12%' when signed); an en dash when missing."""
    if value is None:
        return "–"
    text = f"{value * 100:+.0f}%" if signed else f"{value * 100:.0f}%"
    return text.replace("-", "−")


def ordinal(value: float | None) -> str:
    """A percentile rank as an ordinal ('68th'); an en dash when missing."""
    if value is None:
        return "–"
    n = round(value)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fact(label: str, shown: str, value: float | int | str | None) -> Fact:
    """A quoted number."""
    return Fact(label, shown, value)
