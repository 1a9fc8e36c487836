"""Fixtures of the Pendo client and sync tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pendo_core.store.engine import make_engine, migrate


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def fuzz_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A migrated store; each example writes in a transaction that is rolled back."""
    if request.param == "postgres":
        yield request.getfixturevalue("pg_engine")
        return
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    migrate(engine)
    yield engine
    engine.dispose()
