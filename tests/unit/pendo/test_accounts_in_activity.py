"""Accounts seen only in the visitor days join the accounts (and so the mapping queue), once each."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, insert, select

from pendo_core.pendo.sync.entities import add_accounts_seen_in_activity
from pendo_core.store import models
from pendo_core.store.engine import session_factory

DAY = date(2024, 3, 1)


def _accounts(engine: Engine) -> list[tuple[str, str | None]]:
    with engine.connect() as conn:
        stmt = select(models.PendoAccount.account_id, models.PendoAccount.name).order_by(models.PendoAccount.account_id)
        return [tuple(row) for row in conn.execute(stmt)]  # type: ignore[misc]


def _add(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        add_accounts_seen_in_activity(session)


def test_an_empty_store_adds_no_account(engine: Engine) -> None:
    _add(engine)
    assert _accounts(engine) == []


def test_every_account_of_the_visitor_days_is_added_once_and_known_ones_are_kept(engine: Engine) -> None:
    # accounts whose ids sort around each other ("a1" < "a10" < "a2"), several days and visitors each, and
    # one with a single row: each must be found whatever its neighbours in the key
    ids = [f"a{i}" for i in range(1, 31)] + ["A-upper", "z-last", "", "ünïcode"]
    rows = [{"account_id": account, "day": DAY + timedelta(days=d), "visitor_id": f"v{v}", "num_events": 1,
             "num_minutes": 1}
            for n, account in enumerate(ids) for d in range(1 + n % 3) for v in range(1 + n % 4)]
    with session_factory(engine).begin() as session:
        session.execute(insert(models.VisitorDay), rows)
        session.add(models.PendoAccount(account_id="a7", name="Known Seven"))
        session.add(models.PendoAccount(account_id="b-only-entity", name="No activity"))
    _add(engine)
    expected = sorted([(a, "Known Seven" if a == "a7" else None) for a in ids] + [("b-only-entity", "No activity")])
    assert sorted(_accounts(engine)) == expected
    _add(engine)  # again: nothing new
    assert sorted(_accounts(engine)) == expected
