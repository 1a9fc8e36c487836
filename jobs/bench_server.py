"""The PostgreSQL server's CPU spent for one database, read from /proc while a run goes on.

The bench's CPU figures are the sync process's own; on PostgreSQL much of a window's work is the
server's. When the server runs on this machine its backends are processes titled
`postgres: ... USER DATABASE HOST(PORT) STATE`; a thread samples their user + system CPU every
0.1 s and keeps each backend's last value (a backend that ends between two samples loses under
0.1 s). On another machine nothing matches and the figure is None.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

PROC = Path("/proc")
INTERVAL_S = 0.1


def serves(cmdline: bytes, database: str) -> bool:
    """Whether a process's command line is a PostgreSQL backend connected to `database`."""
    words = cmdline.replace(b"\0", b" ").decode(errors="replace").split()
    return bool(words) and words[0] == "postgres:" and database in words[2:-1]


def backend_cpu(proc: Path, database: str) -> dict[int, float]:
    """CPU seconds (user + system) of each backend of `database` now, by process id."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if not serves((entry / "cmdline").read_bytes(), database):
                continue
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or not ours to read
            continue
        out[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick
    return out


@contextmanager
def server_cpu(database: str | None, proc: Path = PROC) -> Iterator[Callable[[], float | None]]:
    """Sample the backends of `database` (None: a SQLite store) while the block runs; the callable
    gives their CPU seconds, or None when no backend was seen (a server on another machine)."""
    seen: dict[int, float] = {}
    stop = threading.Event()

    def sample() -> None:
        while True:
            seen.update(backend_cpu(proc, database or ""))
            if stop.wait(INTERVAL_S):
                return

    thread = threading.Thread(target=sample, name="bench-server-cpu", daemon=True)
    if database:
        thread.start()
    try:
        yield lambda: sum(seen.values()) if seen else None
    finally:
        stop.set()
        if database:
            thread.join()
