"""The admin's account-mapping queue: unmapped Pendo accounts with their best suggestion, the
mapped ones, and confirming or undoing a mapping. Readers return pandas frames; writers own their
transaction and record the decision in the access log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin import access_log
from pendo_core.customers.repo import confirm_mapping, list_suggestions, list_unmapped_accounts, unmap
from pendo_core.store import models

__all__ = ["confirm_account", "mapped_accounts", "suggestions", "unmap_account", "unmapped_accounts"]


def unmapped_accounts(engine: Engine) -> pd.DataFrame:
    """Pendo accounts no customer owns, with their best suggestion (if any) and its score."""
    with Session(engine) as session:
        accounts = list_unmapped_accounts(session)
        best: dict[str, Any] = {}
        for s in list_suggestions(session):
            best.setdefault(s.account_id, s)  # best first within each account
    rows = [{"account_id": a.account_id, "account_name": a.name or "", "domain": a.domain or "",
             "last_visit": _day(a.last_visit), "best_match": best[a.account_id].customer_name if a.account_id in best
             else "", "score": best[a.account_id].score if a.account_id in best else None} for a in accounts]
    return pd.DataFrame(rows, columns=["account_id", "account_name", "domain", "last_visit", "best_match", "score"])


def suggestions(engine: Engine) -> pd.DataFrame:
    """Every stored suggestion of still-unmapped accounts, best first within each account."""
    with Session(engine) as session:
        rows = [asdict(s) for s in list_suggestions(session)]
    return pd.DataFrame(rows, columns=["account_id", "account_name", "customer_id", "customer_name", "score",
                                       "reason"])


def _day(ms: int | None) -> date | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def mapped_accounts(engine: Engine) -> pd.DataFrame:
    """Every mapped Pendo account with its customer, how it was mapped, when and by whom."""
    m, c, a = models.AccountMapping, models.Customer, models.PendoAccount
    stmt = (select(m.pendo_account_id, a.name, c.customer_id, c.name, m.method, m.mapped_at, m.mapped_by)
            .join(c, c.customer_id == m.customer_id).outerjoin(a, a.account_id == m.pendo_account_id)
            .order_by(c.name, m.pendo_account_id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["account_id", "account_name", "customer_id", "customer_name", "method",
                                        "mapped_at", "mapped_by"])
    frame["account_name"] = frame["account_name"].fillna("")
    frame["mapped_by"] = frame["mapped_by"].fillna("")
    return frame


def confirm_account(engine: Engine, account_id: str, customer_id: str, by: str) -> None:
    """Map a Pendo account to a customer by hand (replacing any mapping), logged; LookupError if unknown."""
    with Session(engine) as session, session.begin():
        confirm_mapping(session, account_id, customer_id, by)
        access_log.record(session, by, "mapping.confirm", {"account_id": account_id, "customer_id": customer_id})


def unmap_account(engine: Engine, account_id: str, by: str) -> bool:
    """Remove an account's mapping and remember the refusal for automatic matching; logged."""
    with Session(engine) as session, session.begin():
        row = session.get(models.AccountMapping, account_id)
        if row is None:
            return False
        customer = row.customer_id
        unmap(session, account_id)
        session.merge(models.MappingRejection(pendo_account_id=account_id, customer_id=customer, rejected_by=by,
                                              rejected_at=datetime.now(UTC)))
        access_log.record(session, by, "mapping.unmap", {"account_id": account_id, "customer_id": customer})
    return True
