"""`make bench`: the sync's wall time, throughput, requests and peak memory on a simulated subscription.

The simulator and each sync run are separate processes, so the memory figure is the sync's own
peak resident set (from wait4), not the simulator's.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from pendo_core.store import models
from pendo_core.store.engine import normalise_url

KEY = "demo-key"


@dataclass
class RunFigures:
    label: str
    wall_s: float
    peak_rss_mb: float
    rows: int
    rows_per_s: float
    requests: int
    retries: int
    exit_code: int


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_simulator(accounts: int, as_of: date, end: date, seed: int) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pendo_sim", "--port", str(port), "--accounts", str(accounts),
         "--days", "200", "--as-of", as_of.isoformat(), "--history-end", end.isoformat(), "--seed", str(seed)],
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/v1/token/verify", headers={"x-pendo-integration-key": KEY}).status_code == 200:
                return proc, url
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the simulator did not start within 120 s")


def _sync(label: str, url: str, database_url: str, args: list[str]) -> RunFigures:
    env = {**os.environ, "DATABASE_URL": database_url, "PENDO_INTEGRATION_KEY": KEY, "PENDO_BASE_URL": url}
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "jobs", "sync", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    run = _last_run(database_url)
    rows = sum((run.stats or {}).get("rows", {}).values()) if run else 0
    return RunFigures(label, round(wall, 1), round(usage.ru_maxrss / 1024, 1), rows, round(rows / wall),
                      run.requests if run else 0, run.retries if run else 0, os.waitstatus_to_exitcode(status))


def _last_run(database_url: str) -> models.SyncRun | None:
    engine = create_engine(normalise_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(select(models.SyncRun).order_by(models.SyncRun.id.desc()).limit(1)).first()
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    """Backfill then one daily run; prints the figures and writes bench-results/sync.json."""
    parser = argparse.ArgumentParser(prog="python -m jobs bench")
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--backfill-days", type=int, default=90)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 3, 20))
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="cscx-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    figures: list[RunFigures] = []
    for label, as_of, sync_args in (
        ("backfill", args.as_of, ["--as-of", args.as_of.isoformat(), "--backfill-days", str(args.backfill_days)]),
        ("daily", args.as_of + timedelta(days=1), ["--as-of", (args.as_of + timedelta(days=1)).isoformat()]),
    ):
        simulator, url = _start_simulator(args.accounts, as_of, args.as_of + timedelta(days=1), args.seed)
        try:
            figures.append(_sync(label, url, database_url, sync_args))
        finally:
            simulator.terminate()
            simulator.wait()
    _report(args, database_url, figures)
    return 0 if all(f.exit_code == 0 for f in figures) else 1


def _report(args: argparse.Namespace, database_url: str, figures: list[RunFigures]) -> None:
    store = database_url.split(":", 1)[0]
    print(f"sync benchmark: {args.accounts:,} accounts, {args.backfill_days}-day backfill, store {store}, "
          f"{os.cpu_count()} cores")
    print(f"{'run':<10}{'wall s':>9}{'rows':>12}{'rows/s':>10}{'requests':>10}{'retries':>9}{'peak MB':>9}")
    for f in figures:
        print(f"{f.label:<10}{f.wall_s:>9}{f.rows:>12,}{f.rows_per_s:>10,}{f.requests:>10}{f.retries:>9}"
              f"{f.peak_rss_mb:>9}")
    out = Path("bench-results")
    out.mkdir(exist_ok=True)
    (out / "sync.json").write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    sys.exit(main())
