"""Before each timed run the bench puts the store's earlier writes on disk (`bench_db.settle`)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, text

from jobs import bench_db
from pendo_core.store import models


def _write_rows(engine: Engine) -> None:
    table = models.table_of(models.PendoVisitor)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"visitor_id": f"v{i}", "account_ids": ["a"]} for i in range(500)])


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_settle_folds_sqlite_wal_into_the_file(sqlite_engine: Engine) -> None:
    _write_rows(sqlite_engine)
    wal = Path(f"{sqlite_engine.url.database}-wal")
    assert wal.stat().st_size > 0  # the rows are in the WAL, not yet in the file
    bench_db.settle(_url(sqlite_engine))
    assert wal.stat().st_size == 0
    with sqlite_engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM pendo_visitors")).scalar_one() == 500


def test_settle_checkpoints_postgresql(pg_engine: Engine) -> None:
    def requested() -> int:
        with pg_engine.connect() as conn:
            return int(conn.execute(text("SELECT checkpoints_req FROM pg_stat_bgwriter")).scalar_one())

    before = requested()
    bench_db.settle(_url(pg_engine))
    assert requested() >= before + 1  # another worker's writes may add one of their own, never take one away
