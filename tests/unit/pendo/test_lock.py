"""The sync lock: one holder at a time across processes and threads, on SQLite and PostgreSQL.

A second process holds the lock for real (a child Python process); the test talks to it over its
standard input and output, so nothing sleeps.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from pendo_core.pendo.sync.lock import SyncAlreadyRunning, advisory_key, lock_path, run_lock
from pendo_core.store.engine import make_engine

HOLDER = textwrap.dedent("""
    import sys
    from pendo_core.store.engine import make_engine
    from pendo_core.pendo.sync.lock import run_lock
    engine = make_engine(sys.argv[1])
    with run_lock(engine, sys.argv[2]):
        print("locked", flush=True)
        sys.stdin.readline()
    print("released", flush=True)
""")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def holder(engine: Engine) -> Iterator[subprocess.Popen[str]]:
    """A child process holding the "sync" lock of the test's store until told to let go."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, _url(engine), "sync"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    yield child
    if child.poll() is None:
        child.kill()
    child.wait(timeout=30)


def test_a_second_process_is_refused_with_one_line(engine: Engine, holder: subprocess.Popen[str]) -> None:
    """While another process holds the lock, taking it raises SyncAlreadyRunning: one line naming the holder."""
    with pytest.raises(SyncAlreadyRunning) as caught, run_lock(engine):
        pytest.fail("the lock was granted twice")
    message = str(caught.value)
    assert "already running" in message
    assert "pid" in message
    assert "\n" not in message


def test_the_lock_is_free_once_the_holder_lets_go(engine: Engine, holder: subprocess.Popen[str]) -> None:
    """After the other process leaves its block, the lock is granted here."""
    assert holder.stdin is not None
    assert holder.stdout is not None
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert holder.stdout.readline().strip() == "released"
    with run_lock(engine):
        pass


def test_a_killed_holder_leaves_no_lock_behind(engine: Engine, holder: subprocess.Popen[str]) -> None:
    """SIGKILL the holder mid-run: its lock goes with it (PostgreSQL may take a moment: wait for it)."""
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    with run_lock(engine, wait_seconds=20):
        pass


@pytest.mark.parametrize(("first", "second", "conflict"), [
    ("sync", "sync", True),
    ("sync", "audit", False),
], ids=["same-name-conflicts", "other-name-is-independent"])
def test_two_holders_in_one_process(engine: Engine, first: str, second: str, conflict: bool) -> None:
    """Within one process the lock still admits one holder per name."""
    with run_lock(engine, first):
        if conflict:
            with pytest.raises(SyncAlreadyRunning), run_lock(engine, second):
                pass
        else:
            with run_lock(engine, second):
                pass
    with run_lock(engine, first):  # released on leaving the block
        pass


def test_the_lock_is_released_when_the_block_raises(engine: Engine) -> None:
    """A run that fails still lets the next one in."""
    with pytest.raises(RuntimeError, match="boom"), run_lock(engine):
        raise RuntimeError("boom")
    with run_lock(engine):
        pass


def test_sqlite_message_names_the_holding_process(sqlite_engine: Engine) -> None:
    """On SQLite the refusal says which pid holds the lock, read from the lock file beside the store."""
    child = subprocess.Popen([sys.executable, "-c", HOLDER, _url(sqlite_engine), "sync"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(SyncAlreadyRunning, match=f"pid {child.pid} since"), run_lock(sqlite_engine):
            pass
        database = sqlite_engine.url.database
        assert database is not None
        assert lock_path(database, "sync").is_file()
    finally:
        child.kill()
        child.wait(timeout=30)


def test_in_memory_sqlite_locks_within_the_process() -> None:
    """An in-memory store has no file to lock; threads of this process still exclude each other."""
    engine = make_engine("sqlite://")
    with run_lock(engine, "memory-test"), pytest.raises(SyncAlreadyRunning), run_lock(engine, "memory-test"):
        pass
    with run_lock(engine, "memory-test"):
        pass


@pytest.mark.parametrize("name", ["sync", "audit", "a-much-longer-lock-name"], ids=lambda n: n)
def test_advisory_keys_are_stable_signed_64_bit(name: str) -> None:
    """The PostgreSQL key is a fixed function of the name and fits a bigint."""
    key = advisory_key(name)
    assert key == advisory_key(name)
    assert -(2**63) <= key < 2**63
    assert key != advisory_key(name + "x")
