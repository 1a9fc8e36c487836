"""The sync's mapping step maps new accounts and leaves PostgreSQL's planner their count."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select

from pendo_core.common.config import Settings
from pendo_core.customers.job import make_mapping_step
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
