"""The schema migrates on both stores and the contract tables are there."""

from __future__ import annotations

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
