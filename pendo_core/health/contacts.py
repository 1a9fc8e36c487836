"""The champion component's store-side queries: key contacts' days of activity, and how many are matched.

A key contact (a champion or decision maker from `import-contacts`) is matched to Pendo visitors as the
People section matches them (`customers.people`): a visitor whose e-mail is the contact's, or whose id,
lowercased, is. Their activity is their visitors' active days (an `events` row with events) in the
customer's own accounts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, select, union

from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.store.models import AccountMapping, Contact, PendoVisitor, VisitorDay

CONTACT_DAYS = 14  # champion_inactive's default window: a key contact quiet this long has gone quiet

_contacts = Contact.__table__
_pv = PendoVisitor.__table__
_vd = VisitorDay.__table__
_mapping = AccountMapping.__table__


def _links(customers: tuple[str, ...] | None) -> Any:
    """(visitor_id, customer_id, email) of every visitor matching a key contact of the customers."""
    key: ColumnElement[bool] = _contacts.c.role.in_(KEY_ROLES)
    if customers is not None:
        key = and_(key, _contacts.c.customer_id.in_(customers))
    columns = (_pv.c.visitor_id, _contacts.c.customer_id, _contacts.c.email)
    by_email = select(*columns).join(_pv, _pv.c.email == _contacts.c.email).where(key)
    by_id = select(*columns).join(_pv, func.lower(_pv.c.visitor_id) == _contacts.c.email).where(key)
    return union(by_email, by_id).subquery("links")


def contact_days(customers: tuple[str, ...] | None, since: date, until: date) -> Any:
    """A subquery of distinct (customer_id, feature_id = the contact's e-mail, day) the contact was active."""
    links = _links(customers)
    stmt = (select(_mapping.c.customer_id, links.c.email.label("feature_id"), _vd.c.day)
            .select_from(_vd)
            .join(_mapping, _mapping.c.pendo_account_id == _vd.c.account_id)
            .join(links, and_(links.c.visitor_id == _vd.c.visitor_id, links.c.customer_id == _mapping.c.customer_id))
            .where(_vd.c.num_events > 0, _vd.c.day.between(since, until)))
    return stmt.distinct().subquery("used")


def matched_contacts(customers: tuple[str, ...] | None) -> Select[Any]:
    """(customer_id, how many of its key contacts some visitor matches)."""
    links = _links(customers)
    return select(links.c.customer_id, func.count(func.distinct(links.c.email))).group_by(links.c.customer_id)
