"""Shared fixtures: a migrated store on SQLite and on PostgreSQL.

PostgreSQL comes from TEST_DATABASE_URL (default: the local `test` database). With
REQUIRE_POSTGRES=1 (as in CI) a missing server fails the PostgreSQL tests instead of skipping them.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import Base
from pendo_sim import endpoint as demo_endpoint

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"

demo_endpoint.install()  # demo mode syncs from the simulator in every test, as in the delivery layers


def _worker_pg_url(worker: str) -> str:
    """One database per checkout and xdist worker, so parallel tests (and runs from two checkouts on one
    machine) never share tables."""
    base = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    checkout = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
    name = f"cscx_test_{checkout}_{worker}"
    try:
        with base.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        base.dispose()
    return make_url(make_engine(PG_URL).url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_engine(worker_id: str) -> Iterator[Engine]:
    try:
        url = _worker_pg_url(worker_id)
        engine = make_engine(url)
        with engine.connect():
            pass
    except Exception as exc:  # any connection failure: skip locally, fail in CI
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (REQUIRE_POSTGRES=1) but unreachable: {exc}")
        pytest.skip(f"PostgreSQL unreachable: {exc}")
    migrate(engine)
    yield engine
    engine.dispose()


def _truncate(engine: Engine) -> None:
    """Empty every table; DELETE is far cheaper than TRUNCATE on the small tables tests leave."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated, empty store; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("store") / "store.db"
        eng = make_engine(f"sqlite:///{path}")
        migrate(eng)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("pg_engine")
    _truncate(eng)
    yield eng
    _truncate(eng)


@pytest.fixture
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite store, for tests whose subject is not storage."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate(eng)
    yield eng
    eng.dispose()
