"""Number formatting and the definitions the answers quote (one wording, everywhere)."""

from __future__ import annotations

from pendo_core.chat.model import Fact, Link

PAGES = {
    "usage": Link("pages/account_usage.py", "Account usage"),
    "features": Link("pages/features.py", "Feature adoption"),
    "health": Link("pages/health.py", "Health"),
    "alerts": Link("pages/alerts.py", "Alerts"),
    "portfolio": Link("pages/portfolio.py", "Portfolio"),
    "my_customers": Link("pages/my_customers.py", "My customers"),
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
