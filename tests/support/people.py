"""Hand-built people for the contacts, people and champion-alert tests: visitors, their days and hours."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.customers.contacts import ContactRow
from pendo_core.customers.contacts_repo import upsert_contacts
from tests.support.health_alerts import table_insert

AS_OF = date(2026, 3, 18)  # the last day included in the people figures
ACME = "00000000-0000-4000-8000-0000000000a1"
GLOBEX = "00000000-0000-4000-8000-0000000000b2"


def days_back(*offsets: int, last: date = AS_OF) -> list[date]:
    """The days `offset` days before `last` (0 = last itself)."""
    return [last - timedelta(days=k) for k in offsets]


def add_visitors(engine: Engine, visitors: dict[str, str | None], accounts: Iterable[str] = ()) -> None:
    """pendo_visitors rows: visitor id -> synced e-mail (lowercase, as the sync stores it)."""
    table_insert(engine, "pendo_visitors", [{"visitor_id": v, "email": e, "account_ids": list(accounts)}
                                            for v, e in visitors.items()])


def add_days(engine: Engine, account: str, visitor: str, days: Iterable[date], *, events: int = 5,
             minutes: int = 10) -> None:
    """pendo_visitor_days rows of one visitor in one account."""
    table_insert(engine, "pendo_visitor_days", [{"account_id": account, "day": d, "visitor_id": visitor,
                                                 "num_events": events, "num_minutes": minutes} for d in days])


def add_hours(engine: Engine, account: str, visitor: str, day: date, hours: Iterable[int], *,
              events: int = 2) -> None:
    """pendo_visitor_hours rows: the given UTC hours of one day (the subscription in UTC)."""
    midnight = int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() * 1000)
    table_insert(engine, "pendo_visitor_hours", [{"account_id": account, "visitor_id": visitor,
                                                  "hour_start": midnight + h * 3_600_000, "day": day,
                                                  "num_events": events, "num_minutes": 1} for h in hours])


def add_feature_days(engine: Engine, account: str, visitor: str, feature: str, days: Iterable[date], *,
                     events: int = 3) -> None:
    """pendo_feature_visitor_days rows of one visitor and feature."""
    table_insert(engine, "pendo_feature_visitor_days", [{"account_id": account, "day": d, "feature_id": feature,
                                                         "visitor_id": visitor, "num_events": events,
                                                         "num_minutes": 1} for d in days])


def add_contacts(engine: Engine, customer_id: str, contacts: Iterable[tuple[str, ...]]) -> None:
    """Contacts (name, e-mail, role[, title]) of one customer, through the repository."""
    rows = [ContactRow(customer_id, name, email.lower(), role, title[0] if title else None)
            for name, email, role, *title in contacts]
    with Session(engine) as session, session.begin():
        upsert_contacts(session, rows)


def rows_of(items: Iterable[Any], *fields: str) -> list[tuple[Any, ...]]:
    """The named attributes of each item, as tuples (for compact assertions)."""
    return [tuple(getattr(item, f) for f in fields) for item in items]
