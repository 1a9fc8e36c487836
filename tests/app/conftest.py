"""Fixtures of the app tests: the two stores of tests/support/app_data.py, each built once per test
session (the hand-built one in tests/conftest.py, since integration tests use it too), and the app
pointed at a store (tests/support/app.py: demo mode, frozen clock, empty caches)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.support.app import use_store
from tests.support.app_data import Store, build_small_store, copy_store


@pytest.fixture
def store(hand_built_store: Store, tmp_path: Path) -> Iterator[Engine]:
    """A fresh copy of the hand-built store, with the app pointed at it."""
    copy = copy_store(hand_built_store, tmp_path / "store.db")
    with use_store(copy.url):
        yield copy.engine
    copy.engine.dispose()


@pytest.fixture(scope="session")
def small_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The small synthetic store (the frame and the CSM/leader screens), read-only."""
    return build_small_store(tmp_path_factory.mktemp("small-store") / "store.db")


@pytest.fixture
def app_env(small_store: Store) -> Iterator[Store]:
    """The app pointed at the small store, for tests that only read."""
    with use_store(small_store.url):
        yield small_store


@pytest.fixture
def writable_env(small_store: Store, tmp_path: Path) -> Iterator[Store]:
    """Like app_env, on a copy of the store, for tests that write (users, the audit log)."""
    copy = copy_store(small_store, tmp_path / "store.db")
    with use_store(copy.url):
        yield copy
    copy.engine.dispose()
