"""The access rule (`pendo_core.access.rules`) in SQL: a filter for queries, the visible customers, and
the audit line a widened view leaves."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, false, func, or_, select, true
from sqlalchemy.orm import Session

from pendo_core.access.rules import CustomerRef, Viewer
from pendo_core.store.models import AuditLog, Customer

VIEW_ALL = "view_all_customers"
VIEW_OWN = "view_own_customers"


def customer_filter(viewer: Viewer, *columns: Any) -> ColumnElement[bool]:
    """A WHERE clause keeping the rows the viewer sees: those where one of the CSM e-mail `columns`
    is theirs (true when they see every customer, so rows without a CSM stay in)."""
    if viewer.sees_all:
        return true()
    if not viewer.key:
        return false()
    # lower(trim()) is normalise_email in SQL; they agree on the ASCII addresses the imports accept.
    return or_(*(func.lower(func.trim(column)) == viewer.key for column in columns))


def _customers(viewer: Viewer) -> Select[Any]:
    c = Customer
    return (select(c.customer_id, c.name, c.segment, c.csm_email).where(customer_filter(viewer, c.csm_email))
            .order_by(c.name, c.customer_id))


def visible_customers(engine: Engine, viewer: Viewer) -> list[CustomerRef]:
    """The customers the viewer sees, by name."""
    with engine.connect() as conn:
        return [CustomerRef(*row) for row in conn.execute(_customers(viewer))]


def visible_customer(engine: Engine, viewer: Viewer, customer_id: str) -> CustomerRef | None:
    """The customer when it exists and the viewer sees it, else None (the two are not told apart)."""
    with engine.connect() as conn:
        row = conn.execute(_customers(viewer).where(Customer.customer_id == customer_id)).first()
    return CustomerRef(*row) if row is not None else None


def record_scope(session: Session, viewer: Viewer, **context: str) -> None:
    """Audit which view the viewer chose (every customer's or their own), with where they chose it
    (`context`, e.g. via="api"). The caller commits."""
    action = VIEW_ALL if viewer.show_all else VIEW_OWN
    session.add(AuditLog(actor=viewer.key, action=action, details={"role": viewer.role, **context}))
