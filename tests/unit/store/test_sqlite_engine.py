"""SQLite connections from make_engine: the settings the bulk writes were measured with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from pendo_core.store.engine import SQLITE_CACHE_KB, make_engine


def test_every_sqlite_connection_gets_wal_and_the_larger_page_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        for _ in range(2):  # a fresh connection each time, not the pool's first one only
            with engine.connect() as conn:
                assert conn.scalar(text("PRAGMA journal_mode")) == "wal"
                assert conn.scalar(text("PRAGMA cache_size")) == -SQLITE_CACHE_KB
            engine.dispose()
    finally:
        engine.dispose()
