"""The schema migrates on both stores and the contract tables are there."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date

from sqlalchemy import Engine, inspect


def test_contract_tables_exist(engine: Engine) -> None:
    """interfaces.md names these tables; outside checks read them."""
    tables = set(inspect(engine).get_table_names())
    for name in ("pendo_usage_metrics", "pendo_feature_usage", "pendo_account_mapping"):
        assert name in tables


def test_usage_metrics_columns(engine: Engine) -> None:
    """Every column interfaces.md lists for pendo_usage_metrics exists."""
    columns = {c["name"] for c in inspect(engine).get_columns("pendo_usage_metrics")}
    expected = {"customer_id", "pendo_account_id", "metric_date", "dau", "wau", "mau", "session_count",
                "avg_session_minutes", "page_views", "feature_events", "active_visitors"}
    assert expected <= columns


# the pages' read models (migrations 0009, 0010, 0013)
MODELS = {"pendo_customer_snapshots", "pendo_feature_snapshots", "pendo_portfolio_days"}


def test_the_read_paths_of_the_wide_pages_are_migrated(engine: Engine) -> None:
    """Migrations 0009, 0010 and 0013: the covering index of the daily metrics and the pages' read models, on
    both stores; they downgrade and upgrade again cleanly."""
    def present() -> tuple[bool, set[str]]:
        inspector = inspect(engine)
        indexes = {i["name"]: i["column_names"] for i in inspector.get_indexes("pendo_usage_metrics")}
        covering = indexes.get("ix_pendo_usage_metrics_day_customer") == ["metric_date", "customer_id", "dau", "wau",
                                                                          "mau", "active_visitors"]
        return covering, MODELS & set(inspector.get_table_names())

    assert present() == (True, MODELS)
    with _downgraded(engine, "0008"):
        assert present() == (False, set())
    assert present() == (True, MODELS)


def test_every_migrated_primary_key_is_the_models_in_its_order(engine: Engine) -> None:
    """The key's column order decides where new rows land in its index (migration 0017 re-keyed the visitor
    hours for that), so the migrated store must have each model's key in the model's order, on both stores;
    0017 downgrades to the old order and upgrades again."""
    from pendo_core.store.models import Base

    def keys(tables: Iterable[str] = Base.metadata.tables) -> dict[str, list[str]]:
        inspector = inspect(engine)
        return {name: inspector.get_pk_constraint(name)["constrained_columns"] for name in tables}

    expected = {name: [c.name for c in table.primary_key.columns] for name, table in Base.metadata.tables.items()}
    assert expected["pendo_visitor_hours"] == ["account_id", "hour_start", "visitor_id"]
    assert keys() == expected
    with _downgraded(engine, "0016"):
        assert keys(["pendo_visitor_hours"]) == {"pendo_visitor_hours": ["account_id", "visitor_id", "hour_start"]}
    assert keys() == expected


# migration 0019: each raw day table's key (day first) and, before it, the key it had (account first)
RAW_DAYS = {
    "pendo_visitor_days": (["day", "account_id", "visitor_id"], ["account_id", "day", "visitor_id"]),
    "pendo_page_days": (["day", "account_id", "page_id"], ["account_id", "day", "page_id"]),
    "pendo_feature_visitor_days": (["day", "account_id", "feature_id", "visitor_id"],
                                   ["account_id", "day", "feature_id", "visitor_id"]),
}


def test_the_raw_day_tables_are_keyed_day_first_with_their_rows_kept(engine: Engine) -> None:
    """Migration 0019 re-keys the visitor, page and feature days day first and swaps the day index for an
    (account, day) index; a store with rows goes down to 0018 and up again keeping them, on both stores."""
    from sqlalchemy import select

    from pendo_core.store.models import Base

    def shape() -> dict[str, tuple[list[str], dict[str, list[str]]]]:
        inspector = inspect(engine)
        return {name: (inspector.get_pk_constraint(name)["constrained_columns"],
                       {i["name"]: i["column_names"] for i in inspector.get_indexes(name)}) for name in RAW_DAYS}

    def rows() -> dict[str, list[tuple[object, ...]]]:
        with engine.connect() as conn:
            return {name: sorted(tuple(r) for r in conn.execute(select(Base.metadata.tables[name])))
                    for name in RAW_DAYS}

    day1, day2 = date(2024, 3, 1), date(2024, 3, 2)
    with engine.begin() as conn:
        conn.execute(Base.metadata.tables["pendo_visitor_days"].insert(), [
            {"account_id": a, "day": d, "visitor_id": v, "num_events": 3, "num_minutes": 1}
            for a, d, v in (("a1", day1, "v1"), ("a2", day1, "v1"), ("a1", day2, "v2"))])
        conn.execute(Base.metadata.tables["pendo_page_days"].insert(), [
            {"account_id": "a1", "day": d, "page_id": "p1", "num_events": 4, "num_minutes": 1} for d in (day1, day2)])
        conn.execute(Base.metadata.tables["pendo_feature_visitor_days"].insert(), [
            {"account_id": a, "day": d, "feature_id": "f1", "visitor_id": "v1", "num_events": 2, "num_minutes": 0}
            for a, d in (("a1", day1), ("a2", day2))])
    stored = rows()
    after = {name: (key, {f"ix_{name}_account_day": ["account_id", "day"]}) for name, (key, _) in RAW_DAYS.items()}
    before = {name: (key, {f"ix_{name}_day": ["day"]}) for name, (_, key) in RAW_DAYS.items()}
    assert shape() == after
    assert {name: key for name, (key, _) in after.items()} == {
        name: [c.name for c in Base.metadata.tables[name].primary_key.columns] for name in RAW_DAYS}
    with _downgraded(engine, "0018"):
        assert shape() == before
        assert rows() == stored
    assert shape() == after
    assert rows() == stored


def test_the_feature_metrics_day_index_covers_the_key_feature_reads_on_sqlite(engine: Engine) -> None:
    """Migration 0020: on SQLite the feature metrics' day index becomes (day, customer, feature), which the
    health scores' and the alerts' key-feature reads take whole; PostgreSQL keeps its day index. Both go
    down to 0019 and up again."""
    def indexes() -> dict[str, list[str]]:
        return {i["name"]: i["column_names"] for i in inspect(engine).get_indexes("pendo_feature_usage")}

    day = {"ix_pendo_feature_usage_metric_date": ["metric_date"]}
    covering = {"ix_pendo_feature_usage_day_customer_feature": ["metric_date", "customer_id", "feature_id"]}
    assert indexes() == (covering if engine.dialect.name == "sqlite" else day)
    with _downgraded(engine, "0019"):
        assert indexes() == day
    assert indexes() == (covering if engine.dialect.name == "sqlite" else day)


@contextmanager
def _downgraded(engine: Engine, revision: str) -> Iterator[None]:
    """The store downgraded to `revision`, then upgraded to the newest again (also when the body fails)."""
    from alembic import command
    from alembic.config import Config

    from pendo_core.store.engine import ROOT

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, revision)
        yield
    finally:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
