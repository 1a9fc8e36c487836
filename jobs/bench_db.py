"""The benchmark's stores: a fresh SQLite file or a dedicated PostgreSQL database, their size and counts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url

from pendo_core.store import models
from pendo_core.store.engine import make_engine, normalise_url

BENCH_DATABASE = "cscx_bench"
DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def sqlite_store(workdir: Path, name: str) -> str:
    """The URL of a new, empty SQLite file under `workdir`."""
    path = workdir / f"{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{path}"


def postgres_store(server_url: str, database: str = BENCH_DATABASE) -> str:
    """Drop and create `database` on the server of `server_url`; returns the new database's URL."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)', f'CREATE DATABASE "{database}"')
    return make_url(normalise_url(server_url)).set(database=database).render_as_string(hide_password=False)


def max_wal_gb(server_url: str) -> float:
    """The server's `max_wal_size` in GB: the WAL it keeps on its disk between checkpoints."""
    with _server(server_url) as conn:
        return int(conn.execute(text("SELECT pg_size_bytes(current_setting('max_wal_size'))")).scalar_one()) / 1e9


def drop_postgres(server_url: str, database: str = BENCH_DATABASE) -> None:
    """Drop the benchmark database."""
    _admin(server_url, f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def settle(url: str) -> None:
    """Put the store's earlier writes on disk before a timed run, as a daily run a day after the last finds
    them: PostgreSQL's `CHECKPOINT` (else the checkpointer may still be writing the last run's dirty buffers
    during the next, whose first write to each page after the checkpoint also logs the whole page), SQLite's
    WAL folded into the file; then the kernel's dirty pages flushed. Without it, where a checkpoint falls
    is a matter of chance, and so is part of the next run's time."""
    postgres = make_url(normalise_url(url)).get_backend_name() == "postgresql"
    _admin(url, "CHECKPOINT" if postgres else "PRAGMA wal_checkpoint(TRUNCATE)")
    os.sync()


def _admin(server_url: str, *statements: str) -> None:
    with _server(server_url) as conn:
        for statement in statements:
            conn.execute(text(statement))


@contextmanager
def _server(server_url: str) -> Iterator[Connection]:
    """A connection of its own (autocommit) to the server or file of `server_url`, closed with its engine."""
    engine = create_engine(normalise_url(server_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def store_size(url: str) -> tuple[int, dict[str, int]]:
    """Bytes the store takes (SQLite: the file after a checkpoint; PostgreSQL: the database) and per table."""
    engine = make_engine(url)
    try:
        if engine.dialect.name == "sqlite":
            return _sqlite_size(engine, url)
        with engine.connect() as conn:
            total = int(conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one())
            tables = conn.execute(text(
                "SELECT relname, pg_total_relation_size(relid) FROM pg_catalog.pg_statio_user_tables"
            )).all()
        return total, {name: int(size) for name, size in tables}
    finally:
        engine.dispose()


def _sqlite_size(engine: Engine, url: str) -> tuple[int, dict[str, int]]:
    with engine.connect() as conn:
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        try:  # dbstat is compiled into most builds; without it only the total is known
            rows = conn.execute(text("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name")).all()
        except Exception:
            rows = []
    path = Path(make_url(url).database or "")
    return path.stat().st_size, _fold_indexes(engine, {str(name): int(size) for name, size in rows})


def _fold_indexes(engine: Engine, sizes: dict[str, int]) -> dict[str, int]:
    """Per table, its indexes included (as pg_total_relation_size counts them)."""
    with engine.connect() as conn:
        owner = dict(conn.execute(text("SELECT name, tbl_name FROM sqlite_master")).tuples().all())
    folded: dict[str, int] = {}
    for name, size in sizes.items():
        table = owner.get(name, name)
        folded[table] = folded.get(table, 0) + size
    return folded


def run_counts(url: str, metrics_first: date, report_last: date) -> dict[str, int]:
    """Rows the post-ingest phases wrote for days metrics_first..report_last, and the store's totals."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            def count(model: Any, column: Any = None) -> int:
                query = select(func.count()).select_from(model)
                if column is not None:
                    query = query.where(column.between(metrics_first, report_last))
                return int(conn.execute(query).scalar_one())

            metrics = sum(count(m, m.metric_date) for m in (models.UsageMetric, models.FeatureUsage,
                                                            models.GuideMetric, models.OnboardingProgress))
            return {"metrics": metrics, "health": count(models.HealthScore, models.HealthScore.score_date),
                    "alerts": count(models.UsageAlert), "visitors": count(models.PendoVisitor),
                    "visitor_days": count(models.VisitorDay), "mapped_accounts": count(models.AccountMapping)}
    finally:
        engine.dispose()
