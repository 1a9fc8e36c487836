"""Kill a `python -m jobs` process at a known point instead of after a guessed number of seconds.

The parent starts `python -m tests.support.kill_point VERB TABLE N JOBS-ARGS...`. In the child, a
SQLAlchemy listener watches every statement of every engine; just before the N-th `VERB TABLE`
statement (e.g. the first `INSERT INTO pendo_usage_metrics`) it writes one line on a pipe and
stops there, its transaction open. The parent reads that line, then sends SIGKILL. A child that
ends without reaching the point writes nothing, so the test knows it killed nothing.

The child waits by reading its stdin: if the parent dies instead of killing it, stdin closes and
the child exits at once (without committing), so no orphan is left waiting.
"""

from __future__ import annotations

import os
import re
import runpy
import select
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

FD_ENV = "KILL_POINT_FD"  # the child's end of the pipe it reports on


@dataclass(frozen=True)
class KillPoint:
    """The `nth` statement `verb table` of a run; the child stops just before executing it."""

    name: str
    verb: str  # INSERT INTO, UPDATE, DELETE FROM, or the words before the table ("SELECT EXISTS (SELECT * FROM")
    table: str
    nth: int = 1

    @property
    def label(self) -> str:
        """What the child reports when it gets there."""
        return f"{self.verb} {self.table} #{self.nth}"


@dataclass(frozen=True)
class KilledRun:
    """What happened to the child: the point it reported (None: it never got there) and its exit code."""

    reached: str | None
    exit_code: int
    stderr: str


def kill_at(point: KillPoint, args: list[str], *, env: dict[str, str], cwd: Path,
            timeout_s: float = 120.0) -> KilledRun:
    """Run `python -m jobs ARGS` until it reaches `point`, SIGKILL it there, and report what happened."""
    read_fd, write_fd = os.pipe()
    command = [sys.executable, "-m", "tests.support.kill_point", point.verb, point.table, str(point.nth), *args]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(command, cwd=cwd, env={**env, FD_ENV: str(write_fd)}, pass_fds=(write_fd,),
                                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
        os.close(write_fd)  # only the child holds it now: its exit ends our read
        try:
            reached = _read_line(read_fd, timeout_s)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)  # at the point; or stuck past the timeout
            code = proc.wait(timeout=60)
        finally:
            os.close(read_fd)
            _stop(proc)
        err.seek(0)
        return KilledRun(reached, code, err.read().decode(errors="replace")[-3000:])


def _read_line(fd: int, timeout_s: float) -> str | None:
    """One line from `fd`; None when the writer closed it first or nothing came within `timeout_s`."""
    data = b""
    deadline = time.monotonic() + timeout_s
    while not data.endswith(b"\n"):
        ready, _, _ = select.select([fd], [], [], max(deadline - time.monotonic(), 0))
        chunk = os.read(fd, 4096) if ready else b""
        if not chunk:
            return None
        data += chunk
    return data.decode().strip()


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.stdin is not None:
        proc.stdin.close()
    if proc.poll() is None:
        proc.kill()
        proc.wait()


# --- the child ------------------------------------------------------------------------------------


def hold_at(point: KillPoint, report_fd: int) -> None:
    """Stop this process just before the point's statement: report it on `report_fd`, then wait."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    pattern = re.compile(rf'\s*{re.escape(point.verb)}\s+"?{re.escape(point.table)}\b', re.IGNORECASE)
    seen = [0]
    guard = threading.Lock()

    def before_execute(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not pattern.match(" ".join(statement.split())):  # SQLAlchemy breaks lines before FROM, WHERE
            return
        with guard:
            seen[0] += 1
            if seen[0] != point.nth:
                return
        os.write(report_fd, f"{point.label}\n".encode())
        sys.stdin.buffer.read()  # returns only if the parent went away without killing us
        os._exit(70)  # leave as a kill would: no commit, no clean-up

    event.listen(Engine, "before_cursor_execute", before_execute)


def main(argv: list[str]) -> None:
    """`python -m tests.support.kill_point VERB TABLE N JOBS-ARGS...`, VERB one argument ("INSERT INTO")."""
    verb, table, nth, *rest = argv
    hold_at(KillPoint("child", verb, table, int(nth)), int(os.environ[FD_ENV]))
    sys.argv = ["jobs", *rest]
    runpy.run_module("jobs", run_name="__main__", alter_sys=True)

if __name__ == "__main__":
    main(sys.argv[1:])
