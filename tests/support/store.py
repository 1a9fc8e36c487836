"""Store helpers the fixtures and a few tests share."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import Engine, text

from pendo_core.store.models import Base


def wipe(engine: Engine) -> None:
    """Empty every table, children first (DELETE: far cheaper than TRUNCATE on the small tables tests leave)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


def wait_until_blocked(engine: Engine, thread: threading.Thread) -> None:
    """Until another session of this PostgreSQL database waits on a lock (polling round trips, no sleep)."""
    query = text("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock'")
    deadline = time.monotonic() + 60
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            blocked = conn.scalar(query)
            conn.rollback()  # a transaction reads pg_stat_activity once and keeps that snapshot
            if blocked or not thread.is_alive():
                return
    pytest.fail("the second writer never reached the lock")
