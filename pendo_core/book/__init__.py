"""A CSM's book of business: every customer they see, with health, usage, alerts, ARR and renewal,
in one documented risk order (risk.py, pure), read with a few grouped queries (queries.py: `book`, or
its parts `standing` (changes with a sync) and `open_alerts` (changes as people act) joined by
`ranked`, for callers that cache them apart) and narrowed, sorted, filtered and paged for a screen
(view.py, pure)."""

from __future__ import annotations

from pendo_core.book.queries import COLUMNS, book, open_alerts, ranked, standing
from pendo_core.book.risk import AT_RISK_HELP, ORDER_HELP, RiskFacts, at_risk, risk_key, risk_order
from pendo_core.book.view import CURRENCY, CURRENCY_SYMBOL

__all__ = [
    "AT_RISK_HELP",
    "COLUMNS",
    "CURRENCY",
    "CURRENCY_SYMBOL",
    "ORDER_HELP",
    "RiskFacts",
    "at_risk",
    "book",
    "open_alerts",
    "ranked",
    "risk_key",
    "risk_order",
    "standing",
]
