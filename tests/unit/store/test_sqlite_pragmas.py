"""Every SQLite connection the store opens gets the settings the sync's bulk writes were measured with."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from pendo_core.store.engine import SQLITE_CACHE_KIB, make_engine


def test_each_sqlite_connection_has_the_wal_and_the_larger_page_cache(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with engine.connect() as first, engine.connect() as second:
            for conn in (first, second):
                assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
                assert conn.execute(text("PRAGMA cache_size")).scalar() == -SQLITE_CACHE_KIB
                assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 16384
    finally:
        engine.dispose()
