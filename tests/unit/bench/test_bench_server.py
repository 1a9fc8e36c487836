"""The PostgreSQL server's CPU for one database: its backends are found by their process title."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jobs.bench_server import backend_cpu, server_cpu, serves

DB = "cscx_bench"


@pytest.mark.parametrize(("cmdline", "expected"), [
    (b"postgres: 15/main: postgres cscx_bench 127.0.0.1(47408) idle\0", True),
    (b"postgres: 15/main: postgres cscx_bench 127.0.0.1(47408) idle in transaction\0", True),
    (b"postgres: postgres cscx_bench [local] COPY\0", True),
    (b"postgres: 15/main: postgres cscx_bench_other 127.0.0.1(47408) idle\0", False),
    (b"postgres: 15/main: checkpointer \0", False),
    (b"python\0-m\0jobs.bench\0--pg-database\0cscx_bench\0", False),
    (b"", False),
], ids=["idle", "in-transaction", "no-cluster-name", "other-database", "checkpointer", "not-postgres", "kernel-thread"])
def test_a_backend_is_known_by_its_title(cmdline: bytes, expected: bool) -> None:
    """Only a backend connected to exactly that database counts."""
    assert serves(cmdline, DB) is expected


def _process(proc: Path, pid: int, cmdline: bytes, utime: int, stime: int) -> None:
    (proc / str(pid)).mkdir(parents=True)
    (proc / str(pid) / "cmdline").write_bytes(cmdline)
    fields = ["S", *["0"] * 10, str(utime), str(stime), *["0"] * 30]
    (proc / str(pid) / "stat").write_text(f"{pid} (postgres: a (b)) {' '.join(fields)}\n")


def test_backend_cpu_sums_user_and_system_time_of_that_database_only(tmp_path: Path) -> None:
    """Ticks become seconds; other databases, other processes and /proc's other entries are left out."""
    tick = os.sysconf("SC_CLK_TCK")
    _process(tmp_path, 10, b"postgres: 15/main: postgres cscx_bench 127.0.0.1(1) idle\0", 3 * tick, tick)
    _process(tmp_path, 11, b"postgres: 15/main: postgres other 127.0.0.1(2) idle\0", 50 * tick, 0)
    _process(tmp_path, 12, b"python\0cscx_bench\0", 50 * tick, 0)
    (tmp_path / "self").mkdir()
    assert backend_cpu(tmp_path, DB) == {10: 4.0}
    with server_cpu(DB, tmp_path) as server:
        pass
    assert server() == 4.0
    with server_cpu(None, tmp_path) as nothing:
        pass
    assert nothing() is None
