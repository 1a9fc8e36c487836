"""An account an admin unmapped is not mapped back automatically, nor suggested to the same customer."""

from __future__ import annotations

from sqlalchemy import Engine, select

from pendo_core.customers.repo import refresh_mapping, unmap
from pendo_core.store import models
from pendo_core.store.engine import session_factory

CUSTOMER = "5b0c2f1e-6a1d-4c3e-8f2a-9d8e7c6b5a41"


def _mapped(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(models.AccountMapping.pendo_account_id,
                                        models.AccountMapping.customer_id)).all())


def test_refused_pair_stays_unmapped(engine: Engine) -> None:
    """Exact match maps automatically; after an admin's refusal the next refresh leaves it alone."""
    sessions = session_factory(engine)
    with sessions.begin() as session:
        session.add(models.Customer(customer_id=CUSTOMER, name="Acme Corp", domain="acme.com"))
        session.add(models.PendoAccount(account_id="a1", name="Acme Corp", domain="acme.com"))
    with sessions.begin() as session:
        refresh_mapping(session)
    assert _mapped(engine) == {"a1": CUSTOMER}
    with sessions.begin() as session:
        unmap(session, "a1")
        session.add(models.MappingRejection(pendo_account_id="a1", customer_id=CUSTOMER, rejected_by="admin@x"))
    with sessions.begin() as session:
        refresh_mapping(session)
        suggested = session.scalars(select(models.MappingSuggestion.customer_id)).all()
    assert _mapped(engine) == {}
    assert CUSTOMER not in suggested
