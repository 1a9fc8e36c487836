"""Customer contacts (stakeholders) in the store. Functions take a Session and never commit.

Contacts are upserted on (customer_id, email), so importing a file twice changes nothing; an import
never deletes a contact (a CSM removes one with `remove_contact`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Table, and_, delete, func, or_, select
from sqlalchemy.orm import Session

from pendo_core.customers.contacts import ContactRow
from pendo_core.store.bulk import analyze
from pendo_core.store.models import Contact
from pendo_core.store.scope import chunks
from pendo_core.store.upsert import upsert

__all__ = ["ContactView", "UpsertCounts", "contacts_of", "remove_contact", "upsert_contacts"]

CONTACTS: Table = Contact.__table__  # type: ignore[assignment]
BATCH = 200  # rows per statement; 200 x 5 parameters and (customer, e-mail) pairs stay small


@dataclass(frozen=True)
class UpsertCounts:
    """How many contacts an import added and how many it updated."""

    inserted: int
    updated: int


@dataclass(frozen=True)
class ContactView:
    """A stored contact."""

    customer_id: str
    email: str
    name: str
    title: str | None
    role: str


def upsert_contacts(session: Session, rows: Sequence[ContactRow], *, now: datetime | None = None) -> UpsertCounts:
    """Insert or update contacts (key: customer and e-mail; a later row of a key wins)."""
    stamp = now or datetime.now(UTC)
    latest = list({(r.customer_id, r.email): r for r in rows}.values())
    inserted = 0
    for batch in chunks(latest, BATCH):
        inserted += len(batch) - _count_existing(session, batch)
        values = [{"customer_id": r.customer_id, "email": r.email, "name": r.name, "title": r.title,
                   "role": r.role, "updated_at": stamp} for r in batch]
        upsert(session, CONTACTS, values, keys=("customer_id", "email"))
    if latest:
        # The matching reads join contacts to visitor days; planned on the statistics of an empty table,
        # PostgreSQL looped over every contact (2.4 s instead of 0.8 at 2,000 accounts).
        analyze(session, [CONTACTS.name])
    return UpsertCounts(inserted=inserted, updated=len(latest) - inserted)


def _count_existing(session: Session, batch: Sequence[ContactRow]) -> int:
    pairs = [and_(CONTACTS.c.customer_id == r.customer_id, CONTACTS.c.email == r.email) for r in batch]
    query = select(func.count()).select_from(CONTACTS).where(or_(*pairs))
    return int(session.execute(query).scalar_one())


def contacts_of(session: Session, customer_id: str, roles: Collection[str] | None = None) -> list[ContactView]:
    """A customer's contacts (of the given roles), by name then e-mail."""
    query = select(Contact).where(Contact.customer_id == customer_id)
    if roles is not None:
        query = query.where(Contact.role.in_(list(roles)))
    rows = session.execute(query.order_by(func.lower(Contact.name), Contact.email)).scalars()
    return [ContactView(c.customer_id, c.email, c.name, c.title, c.role) for c in rows]


def remove_contact(session: Session, customer_id: str, email: str) -> bool:
    """Delete one contact; True when it existed."""
    result = session.execute(delete(CONTACTS).where(CONTACTS.c.customer_id == customer_id,
                                                    CONTACTS.c.email == email.strip().lower()))
    return bool(result.rowcount)  # type: ignore[attr-defined]
