"""The simulated subscription the sync benchmark runs against: its simulator process and its customers."""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from pendo_core.common.config import DEMO_KEY

if TYPE_CHECKING:
    from pendo_sim.data import Subscription

HISTORY_DAYS = 200  # the simulator's history: 90 reported days + the 89 days the metric windows reach back
# Raw rows per visitor and day of a backfill (visitor days reach 89 days further back), and bytes per
# row: the recorded answers, then each store with its indexes. 2,000 accounts / 49,542 visitors / 90 days:
# 9.56 M rows, 1.5 GB of answers, 2.4 GB on SQLite, 3.2 GB on PostgreSQL; 20,000 accounts / 1 M visitors:
# 172 M rows in 69 of 88 windows, 45 GB on PostgreSQL (2026-12-05). Since the raw days are keyed day first
# (migration 0019) the 2,000-account SQLite store takes 2.5 GB (260 B a row) and PostgreSQL's 2.9 GB
# (305 B a row). Compressed with zstd, the recorded answers take about 1/17 of their size. Per row of this
# estimate (10.4 M at 2,000 accounts, 210 M at 20,000), PostgreSQL's store took 279 and 252 B (53.1 GB,
# 2026-12-07), and the metrics' DuckDB spill 49 B at its peak at 20,000 accounts.
VISITOR_DAY_ROWS = 0.22
OTHER_ROWS = 1.9
RECORDING_BYTES_PER_ROW = 160
COMPRESSED_RECORDING_BYTES_PER_ROW = 10
STORE_BYTES_PER_ROW = {"sqlite": 270, "postgresql": 280}
METRICS_SCRATCH_BYTES_PER_ROW = 50
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass(frozen=True)
class World:
    """A simulated subscription: size, seed and the clock of the backfill (the daily run is the day after)."""

    accounts: int
    visitors: int | None  # target total; None keeps the simulator's own sizes (~25 per account)
    backfill_days: int
    as_of: date
    seed: int = 7

    @property
    def history_end(self) -> date:
        """The simulator's timeline ends on the daily run's day, so both runs see the same history."""
        return self.as_of + timedelta(days=1)

    def clock(self, run: str) -> date:
        """The simulated today of a run ("backfill" or "daily")."""
        return self.as_of if run == "backfill" else self.as_of + timedelta(days=1)

    def sync_args(self, run: str) -> list[str]:
        """`python -m jobs sync` arguments of a run."""
        args = ["--as-of", self.clock(run).isoformat()]
        return args + (["--backfill-days", str(self.backfill_days)] if run == "backfill" else [])

    def disk_gb(self, stores: list[str], *, compressed: bool = False, recording: bool = True,
                wal_gb: float = 0.0) -> float:
        """About how many GB a bench of this world writes at its peak, `stores` being the stores it fills
        in turn (the live one, then the replays'), at the sizes measured on the 2,000- and 20,000-account
        worlds: the recording when it makes one (`compressed` or not), every SQLite store (each file stays),
        one PostgreSQL store (the live and the replay stores are one database, dropped before it is created
        again) with `wal_gb` of the server's WAL beside it, and the metrics' scratch (`TMPDIR`)."""
        if not stores:
            return 0.0
        visitors = self.visitors or 25 * self.accounts
        rows = visitors * (VISITOR_DAY_ROWS * (self.backfill_days + 89) + OTHER_ROWS * self.backfill_days)
        held = [s for s in stores if s != "postgresql"] + ["postgresql"] * ("postgresql" in stores)
        answers = (COMPRESSED_RECORDING_BYTES_PER_ROW if compressed else RECORDING_BYTES_PER_ROW) * recording
        per_row = answers + sum(STORE_BYTES_PER_ROW[s] for s in held) + METRICS_SCRATCH_BYTES_PER_ROW
        return rows * per_row / 1e9 + wal_gb * ("postgresql" in stores)

    @property
    def tag(self) -> str:
        """A name for files of this world."""
        size = f"{self.accounts}a" + (f"-{self.visitors}v" if self.visitors else "")
        return f"{size}-{self.backfill_days}d-{self.as_of.isoformat()}-s{self.seed}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Simulator:
    """A running simulator process."""

    process: subprocess.Popen[bytes]
    url: str
    startup_s: float

    def cpu_s(self) -> float:
        """CPU seconds (user + system) the simulator has used so far."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / _TICKS


@contextmanager
def simulator(world: World, run: str, log: Path, startup_timeout_s: float = 1800) -> Iterator[Simulator]:
    """Start `python -m pendo_sim` on the world as of the run's day (its output to `log`); stop it afterwards."""
    port = _free_port()
    command = [sys.executable, "-m", "pendo_sim", "--port", str(port), "--accounts", str(world.accounts),
               "--days", str(HISTORY_DAYS), "--as-of", world.clock(run).isoformat(),
               "--history-end", world.history_end.isoformat(), "--seed", str(world.seed)]
    if world.visitors:
        command += ["--visitors", str(world.visitors)]
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(command, stdout=out, stderr=out)
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_until_up(url, process, started + startup_timeout_s)
        yield Simulator(process, url, time.monotonic() - started)
    finally:
        process.terminate()
        process.wait()


def _wait_until_up(url: str, process: subprocess.Popen[bytes], deadline: float) -> None:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the simulator exited with code {process.returncode} before serving")
        try:
            if httpx.get(f"{url}/api/v1/metadata/schema/account", headers={"x-pendo-integration-key": DEMO_KEY},
                         timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("the simulator did not start in time")


def write_customers(world: World, target: Path) -> Path:
    """The demo's customer CSV for the world's accounts (about 90% of them mapped)."""
    from pendo_sim.demo import demo_customers, write_customers_csv

    return write_customers_csv(demo_customers(_subscription(world)), target)


def write_contacts(world: World, target: Path) -> Path:
    """The customers' champions and decision makers, as the demo imports them (each customer's first
    account's most engaged users, matched by e-mail): the alert and health steps read their activity."""
    from pendo_sim.demo import demo_customer_accounts, write_csv
    from pendo_sim.demo_world import CONTACT_HEADER
    from pendo_sim.stories import contact_rows, key_contacts_by_account

    sub = _subscription(world)
    found = key_contacts_by_account(sub)
    rows = [row for accounts, customer in demo_customer_accounts(sub)
            for row in contact_rows(sub, accounts[0], customer["customer_id"], found.get(accounts[0], []))]
    return write_csv(rows, CONTACT_HEADER, target)


@functools.lru_cache(maxsize=1)
def _subscription(world: World) -> Subscription:
    """The world's simulated subscription, generated once for its customers and their contacts."""
    from pendo_sim.data import generate

    return generate(seed=world.seed, accounts=world.accounts, days=HISTORY_DAYS, as_of=world.history_end,
                    now=world.as_of, visitors=world.visitors)
