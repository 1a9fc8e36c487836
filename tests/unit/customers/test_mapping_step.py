"""The sync's mapping step maps new accounts and leaves PostgreSQL's planner their count; a match over
unchanged inputs writes nothing, and any changed input makes it match again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.customers import repo
from pendo_core.customers.job import make_mapping_step
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.store import models
from pendo_core.store.engine import session_factory

DAY = date(2024, 3, 20)


def test_a_mapping_step_leaves_the_planner_statistics_of_the_mapping(engine: Engine) -> None:
    """Every metric, health and alert read joins the mapping; planned on the statistics of an empty table,
    PostgreSQL sorted a key-contact read on disk (README, Benchmark). SQLite plans without statistics."""
    with session_factory(engine).begin() as session:
        for i in range(30):
            session.add(models.Customer(customer_id=f"c{i}", name=f"Customer {i}", domain=f"c{i}.com"))
            session.add(models.PendoAccount(account_id=f"c{i}", name=f"Customer {i}", domain=f"c{i}.com"))
    step = make_mapping_step(Settings(pendo_integration_key="k"))
    step(engine, SyncRequest(DAY), RunSummary(1, DAY, DAY))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.AccountMapping)) == 30
        if engine.dialect.name == "postgresql":
            sql = "SELECT reltuples FROM pg_class WHERE relname = 'pendo_account_mapping'"
            assert conn.exec_driver_sql(sql).scalar() == 30


def _world(engine: Engine) -> None:
    """Six customers; accounts that map by domain, by name, or only earn suggestions."""
    with session_factory(engine).begin() as session:
        for i in range(6):
            session.add(models.Customer(customer_id=f"c{i}", name=f"Northwind Traders {i}", domain=f"nw{i}.com"))
        session.add(models.PendoAccount(account_id="a-domain", name="Someone", domain="nw1.com"))
        session.add(models.PendoAccount(account_id="a-name", name="Northwind Traders 2", domain=None))
        for i in range(3):
            session.add(models.PendoAccount(account_id=f"a-fuzzy{i}", name=f"Northwind Trader {i}", domain=None))


def _mapping_state(engine: Engine) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    with engine.connect() as conn:
        mapped = conn.execute(select(models.AccountMapping.pendo_account_id, models.AccountMapping.customer_id)
                              .order_by(models.AccountMapping.pendo_account_id)).all()
        suggested = conn.execute(select(models.MappingSuggestion.pendo_account_id,
                                        models.MappingSuggestion.customer_id).order_by(
            models.MappingSuggestion.pendo_account_id, models.MappingSuggestion.customer_id)).all()
    return [tuple(r) for r in mapped], [tuple(r) for r in suggested]


def _fresh_match(engine: Engine) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """What matching again from scratch leaves: the digest forgotten, the last match's writes redone."""
    with session_factory(engine).begin() as session:
        store.clear_watermark(session, repo.MAPPING_INPUTS)
        repo.refresh_mapping(session)
    return _mapping_state(engine)


def test_a_match_over_unchanged_inputs_writes_nothing(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    _world(engine)
    with session_factory(engine).begin() as session:
        first = repo.refresh_mapping(session)
    assert first.auto_mapped == 2
    assert first.suggestions > 0
    state = _mapping_state(engine)
    monkeypatch.setattr(repo, "match_accounts", _never)
    with session_factory(engine).begin() as session:
        again = repo.refresh_mapping(session)
    assert (again.auto_mapped, again.suggestions) == (0, first.suggestions)
    assert _mapping_state(engine) == state


def _never(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("matched again over unchanged inputs")


def _rename_customer(session: Session) -> None:
    session.execute(update(models.Customer).where(models.Customer.customer_id == "c0")
                    .values(name="Contoso", domain="contoso.com"))


def _new_account(session: Session) -> None:
    session.add(models.PendoAccount(account_id="a-new", name="Contoso", domain="nw5.com"))


def _unmap(session: Session) -> None:
    repo.unmap(session, "a-domain")


def _refuse(session: Session) -> None:
    session.add(models.MappingRejection(pendo_account_id="a-fuzzy1", customer_id="c1"))


@pytest.mark.parametrize("change", [_rename_customer, _new_account, _unmap, _refuse],
                         ids=["customer-renamed", "account-added", "account-unmapped", "pair-refused"])
def test_a_changed_input_matches_again(engine: Engine, change: Callable[[Session], None],
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Each input the match reads, changed, makes the next match run, leaving what a fresh one leaves."""
    _world(engine)
    with session_factory(engine).begin() as session:
        repo.refresh_mapping(session)
    with session_factory(engine).begin() as session:
        change(session)
    matched: list[int] = []
    match = repo.match_accounts
    monkeypatch.setattr(repo, "match_accounts", lambda *args, **kwargs: matched.append(1) or match(*args, **kwargs))
    with session_factory(engine).begin() as session:
        repo.refresh_mapping(session)
    assert matched == [1]
    assert _mapping_state(engine) == _fresh_match(engine)
