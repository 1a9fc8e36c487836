"""Customer lists sort by name ignoring case, on SQLite and PostgreSQL (binary collation puts AMBER before Acme)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from pendo_core.usage.queries import customers
from tests.support.health_alerts import table_insert


@pytest.mark.parametrize("names", [
    ["AMBER Energy", "Acme", "apex labs", "Zeta", "beta"],
    ["b", "B", "a"],
], ids=["mixed-case", "same-letter"])
def test_customers_sort_by_name_ignoring_case(engine: Engine, names: list[str]) -> None:
    """The picker's, My customers' and the Portfolio's base order: A to Z whatever the case."""
    table_insert(engine, "customers", [{"customer_id": f"c{i}", "name": n} for i, n in enumerate(names)])
    listed = customers(engine)["name"].tolist()
    assert [n.casefold() for n in listed] == sorted(n.casefold() for n in names)
