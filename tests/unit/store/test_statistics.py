"""Planner statistics: a table is analysed when never analysed, emptied, or grown past a tenth since."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text

from pendo_core.store.bulk import refresh_statistics, stale_tables

pytestmark = pytest.mark.postgres

TABLE = "cscx_test_statistics"


@pytest.fixture
def table(pg_engine: Engine) -> Iterator[str]:
    with pg_engine.begin() as conn:
        conn.execute(text(f"DROP TABLE IF EXISTS {TABLE}"))
        conn.execute(text(f"CREATE TABLE {TABLE} (id int PRIMARY KEY, label text)"))
    yield TABLE
    with pg_engine.begin() as conn:
        conn.execute(text(f"DROP TABLE {TABLE}"))


def _add(engine: Engine, first: int, count: int) -> None:
    with engine.begin() as conn:
        conn.execute(text(f"INSERT INTO {TABLE} SELECT i, repeat('x', 40) "
                          "FROM generate_series(CAST(:a AS int), CAST(:b AS int)) i"),
                     {"a": first, "b": first + count - 1})


def _planned(engine: Engine) -> float:
    """The row count the statistics hold (what the last ANALYZE counted)."""
    with engine.connect() as conn:
        return float(conn.execute(text("SELECT reltuples FROM pg_class WHERE relname = :t"), {"t": TABLE}).scalar_one())


def _stale(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return stale_tables(conn, [TABLE])


def _refresh(engine: Engine) -> None:
    with engine.begin() as conn:
        refresh_statistics(conn, [TABLE, "cscx_no_such_table"])


def test_a_table_is_analysed_when_first_filled_and_again_only_past_a_tenth_more(pg_engine: Engine, table: str) -> None:
    _add(pg_engine, 0, 10_000)
    assert _stale(pg_engine) == [TABLE]  # never analysed
    _refresh(pg_engine)
    assert _planned(pg_engine) == 10_000
    _add(pg_engine, 10_000, 500)  # a twentieth more: the planner scales its count by the pages
    _refresh(pg_engine)
    assert _planned(pg_engine) == 10_000
    _add(pg_engine, 10_500, 1_000)  # now 15% more than analysed
    _refresh(pg_engine)
    assert _planned(pg_engine) == 11_500


def test_a_rewritten_table_is_analysed_when_its_pages_move(pg_engine: Engine, table: str) -> None:
    _add(pg_engine, 0, 10_000)
    _refresh(pg_engine)
    with pg_engine.begin() as conn:  # every row deleted and written again in one transaction: twice the pages
        conn.execute(text(f"DELETE FROM {TABLE}"))
        conn.execute(text(f"INSERT INTO {TABLE} SELECT i, repeat('y', 40) FROM generate_series(0, 9999) i"))
    assert _stale(pg_engine) == [TABLE]
    with pg_engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLE}"))  # emptied: its statistics are reset, so it is analysed again
    _add(pg_engine, 0, 100)
    _refresh(pg_engine)
    assert _planned(pg_engine) == 100


def test_a_table_analysed_empty_is_analysed_again_once_it_holds_rows(pg_engine: Engine, table: str) -> None:
    """Every row deleted, then analysed: its pages stay (no vacuum), its statistics say no rows. Rows added
    on a few new pages are not a tenth more pages, yet the planner, scaling "no rows" by the pages, would
    plan for one row (the sync's health scores between two tests that empty the store by DELETE)."""
    _add(pg_engine, 0, 10_000)
    _refresh(pg_engine)
    with pg_engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {TABLE}"))
        conn.execute(text(f"ANALYZE {TABLE}"))
    assert _planned(pg_engine) == 0
    _add(pg_engine, 10_000, 300)
    assert _stale(pg_engine) == [TABLE]
    _refresh(pg_engine)
    assert _planned(pg_engine) == 300
