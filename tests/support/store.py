"""Store helpers the fixtures and a few tests share."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, event, select, text

from pendo_core.pendo.sync import store as sync_store
from pendo_core.store.engine import session_factory
from pendo_core.store.models import Base, VisitorDay


def wipe(engine: Engine) -> None:
    """Empty every table, children first (DELETE: far cheaper than TRUNCATE on the small tables tests leave)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())


@contextmanager
def each_statement(engine: Engine, hook: Callable[[Any, str, Any], None]) -> Iterator[None]:
    """Inside the block, `hook(cursor, statement, parameters)` runs before every statement the engine sends
    (the DB-API cursor about to run it: `cursor.connection.cursor()` can EXPLAIN it or probe the store)."""

    def before(_conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        hook(cursor, statement, parameters)

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield
    finally:
        event.remove(engine, "before_cursor_execute", before)


def visitor_days(engine: Engine) -> list[tuple[Any, ...]]:
    """Every stored visitor day as (day, visitor_id, num_events, num_minutes), by day and visitor."""
    v = VisitorDay
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(v.day, v.visitor_id, v.num_events, v.num_minutes)
                                               .order_by(v.day, v.visitor_id))]


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


def running_run(engine: Engine) -> int:
    """Record a sync run as running (as a run's start does, marking older running runs failed), for a test
    that calls a run's steps itself: each step refuses to write for a run that is not the newest running."""
    with session_factory(engine).begin() as session:
        return sync_store.start_run(session, mode="daily", as_of=date(2024, 1, 1), backfill_days=None, host="test")
