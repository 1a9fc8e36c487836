"""Engine construction and schema migration, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parents[2]
SQLITE_CACHE_KIB = 64 * 1024  # each SQLite connection's page cache (PRAGMA cache_size, negative: KiB)


def normalise_url(url: str) -> str:
    """`postgresql://` means psycopg 3 here; everything else passes through."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for the store; SQLite gets WAL, a busy timeout and its folder created."""
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 60}, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=60000")
    # A window's transaction writes tens of MB: copying the WAL back every 1,000 pages (the default)
    # rewrote the same index pages window after window. 64 MB between checkpoints cut the windows phase
    # by about 1 s of CPU on the 300-account replay (README, Benchmark); a commit is as durable as before.
    cursor.execute("PRAGMA wal_autocheckpoint=16384")
    # The sync inserts into key indexes of millions of rows; SQLite's default page cache (2 MB a connection)
    # read their pages back from the OS cache again and again. At 64 MB the 2,000-account backfill's windows
    # took 65-72 s instead of 74-88 (two alternating pairs), for about 70 MB more at the peak (README, Benchmark).
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that never expire objects on commit (we pass plain values around)."""
    return sessionmaker(engine, expire_on_commit=False)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
