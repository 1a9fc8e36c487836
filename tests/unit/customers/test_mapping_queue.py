"""The mapping queue: unmapped accounts with their best suggestion; confirm and unmap are recorded."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from pendo_core.customers.mapping_queue import (
    confirm_account,
    mapped_accounts,
    suggestions,
    unmap_account,
    unmapped_accounts,
)
from pendo_core.pendo.sync import store
from pendo_core.store.models import AccountMapping, AuditLog, MappingRejection, StaleScoreCustomer
from tests.support.health_alerts import add_customer, table_insert

CUSTOMER = "00000000-0000-4000-8000-000000000001"
OTHER = "00000000-0000-4000-8000-000000000002"


def _queue(engine: Engine) -> None:
    add_customer(engine, CUSTOMER, csm="a@cscx.io", accounts=["acct-mapped"])
    add_customer(engine, OTHER, csm="a@cscx.io")
    table_insert(engine, "pendo_accounts", [
        {"account_id": a, "name": n, "domain": None, "last_visit": 1_773_000_000_000}
        for a, n in (("acct-mapped", "Mapped Co"), ("acct-new", "Newco"), ("acct-lone", "Lone Ltd"))])
    table_insert(engine, "pendo_mapping_suggestions", [
        {"pendo_account_id": "acct-new", "customer_id": CUSTOMER, "score": 0.7, "reason": "similar name"},
        {"pendo_account_id": "acct-new", "customer_id": OTHER, "score": 0.9, "reason": "same domain"}])


def test_unmapped_queue_shows_the_best_suggestion(engine: Engine) -> None:
    """Unmapped accounts list their best-scoring suggestion; mapped accounts are not in the queue."""
    _queue(engine)
    queue = unmapped_accounts(engine)
    assert queue[["account_id", "best_match", "score"]].fillna("").values.tolist() == [
        ["acct-lone", "", ""], ["acct-new", f"{OTHER} Inc", 0.9]]
    assert suggestions(engine)["score"].tolist() == [0.9, 0.7]


def test_confirm_and_unmap_are_recorded(engine: Engine) -> None:
    """Confirming maps the account (suggestions gone); unmapping removes it and remembers the refusal."""
    _queue(engine)
    confirm_account(engine, "acct-new", CUSTOMER, "admin@cscx.io")
    assert suggestions(engine).empty
    mapped = mapped_accounts(engine).set_index("account_id")
    assert (mapped.loc["acct-new", "method"], mapped.loc["acct-new", "mapped_by"]) == ("manual", "admin@cscx.io")
    assert unmap_account(engine, "acct-new", "admin@cscx.io") is True
    assert unmap_account(engine, "acct-new", "admin@cscx.io") is False
    with engine.connect() as conn:
        assert conn.execute(select(AccountMapping).where(AccountMapping.pendo_account_id == "acct-new")).first() is None
        assert conn.execute(select(MappingRejection.customer_id)).scalars().all() == [CUSTOMER]
        assert conn.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all() == [
            "mapping.confirm", "mapping.unmap"]


def test_confirm_to_an_unknown_customer_is_refused(sqlite_engine: Engine) -> None:
    """A mapping to a customer the store does not hold fails with a message saying to import it first."""
    _queue(sqlite_engine)
    with pytest.raises(LookupError, match="import it first"):
        confirm_account(sqlite_engine, "acct-new", "00000000-0000-4000-8000-00000000dead", "admin@cscx.io")


def test_a_mapping_change_keeps_the_customers_whose_accounts_it_changes(engine: Engine) -> None:
    """Every customer whose set of accounts a change moves is kept for its metrics and scores to be computed
    again over the whole range, even if a sync was computing them meanwhile: mapping a new account keeps its
    customer, moving an account keeps both, unmapping keeps the one before; mapping an account again to the
    customer that has it keeps nobody."""
    _queue(engine)

    def kept() -> list[str]:
        with Session(engine) as session, session.begin():
            found = list(store.stale_score_customers(session))
            session.execute(delete(StaleScoreCustomer))
        return found

    confirm_account(engine, "acct-mapped", CUSTOMER, by="admin@cscx.io")
    assert kept() == []
    confirm_account(engine, "acct-new", OTHER, by="admin@cscx.io")
    assert kept() == [OTHER]
    confirm_account(engine, "acct-new", CUSTOMER, by="admin@cscx.io")
    assert kept() == [CUSTOMER, OTHER]
    assert unmap_account(engine, "acct-mapped", by="admin@cscx.io")
    assert kept() == [CUSTOMER]
    assert not unmap_account(engine, "acct-mapped", by="admin@cscx.io")
    assert kept() == []
