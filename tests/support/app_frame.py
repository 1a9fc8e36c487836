"""Support for the frame and CSM/leader page tests (test_app_frame, test_app_pages): a small
synthetic store, users per role, and an AppTest factory.

The store comes from jobs.bench_store (the page benchmark's generator) at a small size: 12
customers of 3 CSMs (customer i belongs to csm0{i mod 3}@bench.cscx), 40 days, health scores on
every day. Each test module builds it once (`build_small_store`) and copies it for the tests that change it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine

from jobs.bench_store import StoreShape, build_store, csm_email
from pendo_core.admin.users import User
from pendo_core.store.engine import make_engine, migrate
from tests.support import REPO

ROOT = REPO
SHAPE = StoreShape(customers=12, days=40, csms=3, features_per_customer=6)
LAST_DAY = date.today() - timedelta(days=1)
USERS = {
    "csm": User(csm_email(0), "CSM 00", "csm"),
    "other_csm": User(csm_email(1), "CSM 01", "csm"),
    "leader": User("leader@demo.cscx", "Lee Leader", "leader"),
    "admin": User("admin@demo.cscx", "Ada Admin", "admin"),
}


@dataclass(frozen=True)
class Store:
    """A store file and an engine on it."""

    path: Path
    engine: Engine

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def build_small_store(path: Path) -> Store:
    """A migrated SQLite store filled with the small synthetic data set."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    build_store(engine, SHAPE, LAST_DAY)
    return Store(path, engine)


def copy_store(template: Store, path: Path) -> Store:
    """An independent copy of a store (for tests that change data), through SQLite's backup API so
    pages still in the write-ahead log come along."""
    with sqlite3.connect(template.path) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return Store(path, make_engine(f"sqlite:///{path}"))


class use_store:
    """Context: DATABASE_URL at the store, no Pendo key, fresh Streamlit caches, fast AppTest."""

    def __init__(self, store: Store, **env: str) -> None:
        self.store, self.env = store, env
        self.patch = pytest.MonkeyPatch()

    def __enter__(self) -> Store:
        self.patch.setenv("DATABASE_URL", self.store.url)
        self.patch.delenv("PENDO_INTEGRATION_KEY", raising=False)
        for name, value in self.env.items():
            self.patch.setenv(name, value)
        quiet_apptest(self.patch)
        st.cache_data.clear()
        st.cache_resource.clear()
        return self.store

    def __exit__(self, *exc: object) -> None:
        st.cache_data.clear()
        st.cache_resource.clear()
        self.patch.undo()


def quiet_apptest(patch: pytest.MonkeyPatch) -> None:
    """Skip AppTest's scan of every installed package for components (0.4 s a test, not the app)."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    patch.setattr(BidiComponentManager, "discover_and_register_components", lambda self, **_: None)


def app(script: str = "app.py", user: User | None = None, **state: Any) -> Any:
    """An AppTest of `script` (relative to the repo) with a signed-in user and session state set."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / script), default_timeout=30)
    if user is not None:
        at.session_state["frame_user"] = user
    for key, value in state.items():
        at.session_state[key] = value
    return at


def run(at: Any) -> Any:
    """Run and fail on any exception the page raised."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: Any) -> list[str]:
    """The values of a list of text-like elements (titles, captions, infos...)."""
    return [str(e.value) for e in elements]


def customer_ids(store: Store, csm: str | None = None) -> list[str]:
    """Customer ids by name, optionally of one CSM."""
    from pendo_core.usage.queries import customers

    frame = customers(store.engine)
    return frame[frame["csm_email"] == csm]["customer_id"].tolist() if csm else frame["customer_id"].tolist()


