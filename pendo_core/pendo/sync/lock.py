"""One sync at a time: a lock shared by the scheduler, the app's "sync now" and the CLI.

- PostgreSQL: a session-level advisory lock held on a dedicated autocommit connection (no
  transaction stays open for the run's length). The server drops it when that session ends, so a
  killed process never leaves it behind.
- SQLite file: an OS lock (`flock`) on a file next to the database, `<db>.<name>.lock`. The kernel
  drops it when the process dies. The file keeps the holder's pid and start time, for the message.
- SQLite in memory: a lock within this process (nothing else can see that database anyway).

Both kinds conflict between two holders in one process too, so two threads never share a run.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError

_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()
_POLL_S = 0.1


class SyncAlreadyRunning(RuntimeError):
    """Another holder has the lock; the message is one line naming who and what to do."""


@contextmanager
def run_lock(engine: Engine, name: str = "sync", *, wait_seconds: float = 0.0,
             sleep: Callable[[float], None] = time.sleep) -> Iterator[None]:
    """Hold the named lock for the block; raise SyncAlreadyRunning if it is taken (after waiting)."""
    if engine.dialect.name == "postgresql":
        with _pg_lock(engine, name, wait_seconds):
            yield
        return
    database = engine.url.database
    if not database or database == ":memory:":
        with _memory_lock(name):
            yield
        return
    with _file_lock(lock_path(database, name), name, wait_seconds, sleep):
        yield


def lock_path(database: str, name: str) -> Path:
    """The lock file of a SQLite database: beside it, so every process using that file agrees."""
    return Path(database).resolve().with_name(f"{Path(database).name}.{name}.lock")


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock, from the lock's name."""
    return int.from_bytes(hashlib.sha256(f"cscx-pendo:{name}".encode()).digest()[:8], "big", signed=True)


# --- PostgreSQL --------------------------------------------------------------------------------


@contextmanager
def _pg_lock(engine: Engine, name: str, wait_seconds: float) -> Iterator[None]:
    key = advisory_key(name)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        if not _pg_acquire(conn, key, wait_seconds):
            raise SyncAlreadyRunning(_busy_message(name, _pg_holder(conn, key)))
        try:
            yield
        finally:
            _pg_release(conn, key)


def _pg_acquire(conn: Connection, key: int, wait_seconds: float) -> bool:
    if wait_seconds <= 0:
        return bool(conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}))
    conn.execute(text(f"SET lock_timeout = {int(wait_seconds * 1000)}"))
    try:
        conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": key})
        return True
    except DBAPIError as exc:  # lock_timeout expired (55P03)
        if getattr(exc.orig, "sqlstate", None) != "55P03":
            raise
        return False
    finally:
        conn.execute(text("RESET lock_timeout"))


def _pg_release(conn: Connection, key: int) -> None:
    try:
        conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
    except DBAPIError:  # the session is gone, and the lock with it
        conn.invalidate()


def _pg_holder(conn: Connection, key: int) -> str | None:
    """`pid N` of the server session holding the key, when PostgreSQL tells us."""
    high, low = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    pid = conn.scalar(text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::bigint = :hi "
        "AND objid::bigint = :lo AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    ), {"hi": high, "lo": low})
    return None if pid is None else f"database session pid {pid}"


# --- SQLite: a file lock -----------------------------------------------------------------------


@contextmanager
def _file_lock(path: Path, name: str, wait_seconds: float, sleep: Callable[[float], None]) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        if not _flock(handle, wait_seconds, sleep):
            raise SyncAlreadyRunning(_busy_message(name, _file_holder(handle)))
        try:
            _write_holder(handle)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _flock(handle: IO[str], wait_seconds: float, sleep: Callable[[float], None]) -> bool:
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            sleep(_POLL_S)


def _write_holder(handle: IO[str]) -> None:
    handle.seek(0)
    handle.truncate()
    handle.write(f"pid {os.getpid()} since {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC\n")
    handle.flush()


def _file_holder(handle: IO[str]) -> str | None:
    handle.seek(0)
    return handle.readline().strip() or None


# --- in memory ---------------------------------------------------------------------------------


@contextmanager
def _memory_lock(name: str) -> Iterator[None]:
    with _memory_guard:
        lock = _memory_locks.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        raise SyncAlreadyRunning(_busy_message(name, None))
    try:
        yield
    finally:
        lock.release()


def _busy_message(name: str, holder: str | None) -> str:
    who = f" ({holder})" if holder else ""
    return (f"another {name} is already running{who}: wait for it to finish, or stop it, "
            "then try again")
