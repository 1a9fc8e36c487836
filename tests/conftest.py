"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, and the chat and API tests' built store.

PostgreSQL comes from TEST_DATABASE_URL (default: the local `test` database). With
REQUIRE_POSTGRES=1 (as in CI) a missing server fails the PostgreSQL tests instead of skipping them.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from pendo_core.store.engine import make_engine, migrate
from pendo_sim import endpoint as demo_endpoint
from tests.support.app_data import Store, build_hand_built_store, new_store
from tests.support.chat_api import SharedStore, build_shared_store
from tests.support.store import wipe

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("REQUIRE_POSTGRES") == "1"

demo_endpoint.install()  # demo mode syncs from the simulator in every test, as in the delivery layers


def _worker_pg_url(worker: str) -> str:
    """One database per checkout and xdist worker, so parallel tests (and runs from two checkouts on one
    machine) never share tables; made afresh for each session, so a schema an earlier run left (another
    branch's migrations) never meets this one's."""
    base = make_engine(PG_URL, isolation_level="AUTOCOMMIT")
    checkout = hashlib.sha1(str(Path(__file__).resolve().parent).encode()).hexdigest()[:8]
    name = f"cscx_test_{checkout}_{worker}"
    try:
        with base.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
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


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per session (and xdist worker); SQLite stores start as copies of it."""
    path = tmp_path_factory.mktemp("template") / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    engine.dispose()
    return path


def _sqlite_store(template: Path, tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A fresh copy of the migrated template: a migrated, empty store, without running the migrations."""
    path = tmp_path_factory.mktemp("store") / "store.db"
    shutil.copyfile(template, path)
    return make_engine(f"sqlite:///{path}")


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request: pytest.FixtureRequest, migrated_sqlite: Path,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated, empty store; every test using it runs on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        eng = _sqlite_store(migrated_sqlite, tmp_path_factory)
        yield eng
        eng.dispose()
        return
    eng = request.getfixturevalue("pg_engine")
    wipe(eng)
    yield eng
    wipe(eng)


@pytest.fixture
def sqlite_engine(migrated_sqlite: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated SQLite store, for tests whose subject is not storage."""
    eng = _sqlite_store(migrated_sqlite, tmp_path_factory)
    yield eng
    eng.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def shared_store(request: pytest.FixtureRequest, migrated_sqlite: Path,
                 tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedStore]:
    """The chat and API store (tests/support/chat_api.py) per backend, built once per module, for tests
    that only read; never write to it."""
    if request.param == "sqlite":
        engine = _sqlite_store(migrated_sqlite, tmp_path_factory)
    else:
        engine = request.getfixturevalue("pg_engine")
        wipe(engine)
    yield build_shared_store(engine)
    if request.param == "sqlite":
        engine.dispose()
    else:
        wipe(engine)


@pytest.fixture(scope="session")
def hand_built_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The hand-built store (Health, Alerts, Admin), read-only: tests get copies of it."""
    template = new_store(tmp_path_factory.mktemp("hand-built") / "store.db")
    build_hand_built_store(template.engine)
    return template
