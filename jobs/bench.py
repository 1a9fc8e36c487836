"""`make bench`: the sync's own cost, next to the cost of the data it reads, on SQLite and PostgreSQL.

1. Customers: the demo's customer list for the simulated accounts (about 90% mapped), imported into
   every store first, so mapping, metrics, health and alerts have work to do.
2. Live, recording: a 90-day backfill then the next day's daily run against the simulator, through a
   proxy that records every answer (jobs.bench_replay). These figures include the simulator's work;
   its CPU seconds are printed beside them.
3. Replay: the same two runs on a fresh SQLite file and a fresh PostgreSQL database (`--pg-database`,
   by default `cscx_bench`, created and dropped on the server of BENCH_DATABASE_URL), answered with
   the recorded bytes by a server that does no work.
4. The yardstick: downloading every recorded answer from the replay server and `json.loads`-ing it.

Each sync is `python -m jobs sync` in its own process (through jobs.bench_phases, which times its
phases); the peak memory is that process's. Figures are printed and written to bench-results/.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from jobs import bench_db
from jobs.bench_replay import DownloadParse, Recording, download_and_parse, recording_proxy, replay_server
from jobs.bench_report import Phase, Progress, RunFigures, phase_table, progress_of, summary_table
from jobs.bench_server import server_cpu
from jobs.bench_world import World, simulator, write_contacts, write_customers
from pendo_core.common.config import DEMO_KEY

RUNS = ("backfill", "daily")
ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench-results"


@dataclass
class SyncResult:
    """What one sync process left behind: exit code, wall time, peak memory and its phase figures."""

    exit_code: int
    wall_s: float
    peak_mb: float
    phases: dict[str, Any]
    log: Path
    stopped: bool = False  # ended by the deadline
    cpu_s: float = 0.0  # user + system


def run_job(database_url: str, pendo_url: str, args: list[str], log: Path,
            deadline_s: float | None = None) -> SyncResult:
    """`python -m jobs.bench_phases ARGS` on a store and a Pendo host; its stderr goes to `log`.

    Past `deadline_s` the job gets SIGTERM (it writes its phases so far and exits), SIGKILL 2 minutes later.
    """
    phases_file = log.with_suffix(".phases.json")
    phases_file.unlink(missing_ok=True)
    env = {**os.environ, "DATABASE_URL": database_url, "PENDO_INTEGRATION_KEY": DEMO_KEY,
           "PENDO_BASE_URL": pendo_url, "BENCH_PHASES_FILE": str(phases_file), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    with log.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "jobs.bench_phases", *args], env=env, cwd=ROOT,
                                stdout=err, stderr=err)
        timers = [] if deadline_s is None else [threading.Timer(deadline_s, proc.terminate),
                                                threading.Timer(deadline_s + 120, proc.kill)]
        for timer in timers:
            timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        for timer in timers:
            timer.cancel()
    wall = time.monotonic() - started
    phases = json.loads(phases_file.read_text()) if phases_file.is_file() else {}
    stopped = deadline_s is not None and wall >= deadline_s
    return SyncResult(os.waitstatus_to_exitcode(status), wall, run_peak_mb(usage.ru_maxrss / 1024, phases), phases,
                      log, stopped, usage.ru_utime + usage.ru_stime)


def run_peak_mb(at_exit_mb: float, phases: dict[str, Any]) -> float:
    """The sync process's peak resident MB: the largest of its phases' peaks (VmHWM, its own memory).

    wait4's ru_maxrss is no measure of it: the kernel carries the parent's high-water mark across fork and
    exec into the child's (the bench process's few hundred MB were every run's floor), and the phase clock
    resets the mark as each phase starts (a 410 MB "peak" for a backfill whose metrics phase held 1.7 GB).
    A run that died before its first phase has only wait4's figure."""
    peaks = [float(mb) for mb in phases.get("peak_mb", {}).values()]
    return max(peaks) if peaks else at_exit_mb


def import_book(database_url: str, setup: Setup, name: str) -> None:
    """`python -m jobs import-customers`, then `import-contacts`, into the store (fails the bench when one
    fails); `name` tells their logs apart."""
    for command, csv in (("import-customers", setup.csv), ("import-contacts", setup.contacts)):
        log = setup.workdir / f"{name}-{command}.log"
        if run_job(database_url, "http://127.0.0.1:9", [command, str(csv)], log).exit_code:
            raise SystemExit(f"{command} failed, see {log}")


def figures_of(result: SyncResult, *, store: str, run: str, source: str, database_url: str,
               baseline: DownloadParse, alerts_before: int) -> RunFigures:
    """The run's figures: its phases with their rows, and the store it left behind."""
    seconds, peaks, info = result.phases.get("seconds", {}), result.phases.get("peak_mb", {}), \
        result.phases.get("run", {})
    rows: dict[str, int] = info.get("rows", {})
    streams = _stream_names()
    report_last = date.fromisoformat(info.get("report_last", "1970-01-01"))
    metrics_first = date.fromisoformat(info.get("metrics_first", "1970-01-01"))
    counts = bench_db.run_counts(database_url, metrics_first, report_last)
    progress = progress_of(result.log.read_text()) if result.log.is_file() else None
    phase_rows = {
        "entities": sum(v for k, v in rows.items() if k not in streams),
        "windows": sum(v for k, v in rows.items() if k in streams) or (progress.rows if progress else 0),
        "mapping": counts["mapped_accounts"], "metrics": counts["metrics"],
        "read_models": 0,  # one snapshot day and the moved Portfolio days: their seconds are the figure
        "health": counts["health"],
        "alerts": counts["alerts"] - alerts_before, "retention": sum(info.get("purged", {}).values()),
    }
    cpu = result.phases.get("cpu_s", {})
    phases = [Phase(name, seconds.get(name, 0.0), phase_rows[name], peaks.get(name, 0.0),
                    baseline.phase_s(name), cpu.get(name)) for name in phase_rows]
    size, tables = bench_db.store_size(database_url)
    first = date.fromisoformat(info.get("report_first", "1970-01-01"))
    return RunFigures(
        store=store, run=run, source=source, wall_s=result.wall_s, exit_code=result.exit_code,
        peak_mb=result.peak_mb, baseline_s=baseline.total_s, download_s=sum(baseline.download_s.values()),
        parse_s=sum(baseline.parse_s.values()), bytes=sum(baseline.bytes.values()), requests=baseline.requests,
        phases=phases, store_bytes=size,
        visitor_days=counts["visitors"] * ((report_last - first).days + 1) if info else None,
        active_visitor_days=counts["visitor_days"], tables=tables,
        stopped=_stopped(result, progress), cpu_s=result.cpu_s, baseline_cpu_s=baseline.cpu_s,
        baseline_decompress_cpu_s=baseline.decompress_cpu_s, beside=result.phases.get("beside", {}),
    )


def _stopped(result: SyncResult, progress: Progress | None) -> str | None:
    if not result.stopped:
        return None
    where = progress.describe() if progress else "before the first usage window"
    return f"deadline after {result.wall_s / 60:.0f} min: {where}"


def _stream_names() -> set[str]:
    from pendo_core.pendo.sync.streams import EVENT_STREAMS

    return {stream.name for stream in EVENT_STREAMS}


def _alerts(database_url: str) -> int:
    return bench_db.run_counts(database_url, date.min, date.min)["alerts"]


@dataclass
class LiveRun:
    """A live run while recording: its result, the simulator's CPU seconds, the alerts before it."""

    run: str
    store: str
    result: SyncResult
    simulator_cpu_s: float
    alerts_before: int
    database_url: str


@dataclass(frozen=True)
class Setup:
    """Where a bench keeps its files, and how long a sync may take."""

    world: World
    csv: Path
    contacts: Path
    workdir: Path
    recordings: Path
    deadline_s: float | None
    compress: bool = False  # record the answers compressed (zstd)


def record(setup: Setup, store: str, url: str) -> list[LiveRun]:
    """The live runs, answered by the simulator through the recording proxy (into `url`, a fresh store)."""
    import_book(url, setup, "live")
    shutil.rmtree(setup.recordings, ignore_errors=True)
    runs = []
    for run in RUNS:
        alerts_before = _alerts(url)
        sim_log = setup.workdir / f"simulator-{run}.log"
        with (simulator(setup.world, run, sim_log) as sim,
              recording_proxy(sim.url, setup.recordings / run, compress=setup.compress) as proxy):
            print(f"live {run} on {store}: simulator up in {sim.startup_s:.0f} s; syncing...", file=sys.stderr,
                  flush=True)
            bench_db.settle(url)
            cpu_before = sim.cpu_s()
            result = run_job(url, proxy, ["sync", *setup.world.sync_args(run)], setup.workdir / f"live-{run}.log",
                             setup.deadline_s)
            runs.append(LiveRun(run, store, result, sim.cpu_s() - cpu_before, alerts_before, url))
        if result.exit_code:
            print(f"the live {run} sync ended with exit code {result.exit_code}, see {result.log}", file=sys.stderr)
            break
    return runs


def replay(setup: Setup, store: str, database_url: str, baselines: dict[str, DownloadParse]) -> list[RunFigures]:
    """Backfill then daily on one fresh store, answered from the recordings."""
    import_book(database_url, setup, store)
    figures = []
    for run in (r for r in RUNS if r in baselines):  # a live run stopped early leaves no daily recording
        alerts_before = _alerts(database_url)
        bench_db.settle(database_url)
        with replay_server(setup.recordings / run) as replayed, server_cpu(_pg_database(database_url)) as server:
            print(f"{store} {run}: replaying...", file=sys.stderr, flush=True)
            result = run_job(database_url, replayed.url, ["sync", *setup.world.sync_args(run)],
                             setup.workdir / f"{store}-{run}.log", setup.deadline_s)
        if misses := replayed.misses:
            print(f"{store} {run}: {len(misses)} request(s) not in the recording, first: {misses[0]}",
                  file=sys.stderr)
        figures.append(figures_of(result, store=store, run=run, source="replay", database_url=database_url,
                                  baseline=baselines[run], alerts_before=alerts_before))
        figures[-1].server_cpu_s, figures[-1].replay_decompress_cpu_s = server(), replayed.decompress_cpu_s
        if misses and figures[-1].stopped is None:  # a recording cut short by the live run's deadline
            progress = progress_of(result.log.read_text())
            figures[-1].stopped = "at the end of the recording: " + (progress.describe() if progress else "no window")
        if result.exit_code:
            print(f"{store} {run}: the sync failed (exit {result.exit_code}), see {result.log}", file=sys.stderr)
            break
    return figures


def _pg_database(database_url: str) -> str | None:
    """The PostgreSQL database a store URL names (None for SQLite)."""
    url = make_url(database_url)
    return url.database if url.get_backend_name() == "postgresql" else None


def measure_baselines(recordings: Path) -> dict[str, DownloadParse]:
    """Download + parse of each run's recorded answers: best of two, the first warming the page cache for
    bodies stored as sent; one try for a compressed recording, whose files are about 1/17 of the answers
    (read cold, 2 GB at 20,000 accounts, a few seconds), where a second try would add about 7 minutes."""
    out = {}
    for run in RUNS:
        if not (recordings / run / "index.json").is_file():
            continue
        recording = Recording(recordings / run)
        compressed = any(entry.encoding for entry in recording.entries.values())
        with replay_server(recordings / run) as replayed:
            tries = [download_and_parse(replayed, recording, DEMO_KEY) for _ in range(1 if compressed else 2)]
        out[run] = min(tries, key=lambda d: d.total_s)
    return out


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m jobs.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=2000)
    parser.add_argument("--visitors", type=int, default=None, help="about this many visitors in all")
    parser.add_argument("--backfill-days", type=int, default=90)
    parser.add_argument("--as-of", type=date.fromisoformat, default=date(2024, 3, 20))
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--stores", default="sqlite,postgresql",
                        help="stores the replays run on, comma-separated: sqlite, postgresql (or none)")
    parser.add_argument("--live-store", default="sqlite", choices=("sqlite", "postgresql"),
                        help="the store of the live (recording) runs")
    parser.add_argument("--server-url", default=os.environ.get("BENCH_DATABASE_URL", bench_db.DEFAULT_SERVER),
                        help="PostgreSQL server to create the cscx_bench database on")
    parser.add_argument("--reuse-recording", action="store_true",
                        help="replay the recording of an earlier run of this world (no live runs)")
    parser.add_argument("--compress-recording", action="store_true",
                        help="store the recorded answers compressed (zstd, about 17x smaller); the replay server "
                             "decompresses them as it sends")
    parser.add_argument("--deadline-min", type=float, default=None,
                        help="stop a sync after this many minutes and report how far it got")
    parser.add_argument("--pg-database", default=bench_db.BENCH_DATABASE,
                        help="the database created (and dropped) on that server for the replays")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database (default: dropped)")
    parser.add_argument("--out", type=Path, default=RESULTS / "sync.json")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Record, replay on each store, print the tables and write the JSON figures."""
    args = _parser().parse_args(argv)
    world = World(args.accounts, args.visitors, args.backfill_days, args.as_of, args.seed)
    workdir = RESULTS / "work" / world.tag
    workdir.mkdir(parents=True, exist_ok=True)
    stores = [s for s in args.stores.split(",") if s and s != "none"]
    recording = not (args.reuse_recording and (workdir / "recordings" / RUNS[-1] / "index.json").is_file())
    filled = [args.live_store, *stores] if recording else stores
    wal_gb = bench_db.max_wal_gb(args.server_url) if "postgresql" in filled else 0.0
    if refused := disk_refusal(world, filled, workdir, compressed=args.compress_recording, recording=recording,
                               wal_gb=wal_gb):
        print(refused, file=sys.stderr)
        return 1
    setup = Setup(world, write_customers(world, workdir / "customers.csv"),
                  write_contacts(world, workdir / "contacts.csv"), workdir, workdir / "recordings",
                  None if args.deadline_min is None else args.deadline_min * 60, args.compress_recording)
    live: list[LiveRun] = []
    if recording:
        with _store(args.live_store, "live", workdir, args.server_url, args.pg_database, keep=args.keep) as url:
            live = record(setup, args.live_store, url)
            baselines = measure_baselines(setup.recordings)
            figures = [_live_figures(run, baselines[run.run]) for run in live if run.run in baselines]
    else:
        baselines, figures = measure_baselines(setup.recordings), []
    for store in stores:
        with _store(store, store, workdir, args.server_url, args.pg_database, keep=args.keep) as url:
            figures += replay(setup, store, url, baselines)
    _report(world, figures, args.out)
    return 0 if figures and all(f.exit_code == 0 for f in figures) else 1


def disk_refusal(world: World, stores: list[str], workdir: Path, *, compressed: bool = False,
                 recording: bool = True, wal_gb: float = 0.0) -> str | None:
    """A one-line refusal when the bench would fill the disk it writes to (the recording when it makes one,
    SQLite stores, the metrics' scratch and, for a server on this machine, PostgreSQL's store and WAL;
    not checked for a remote server), else None."""
    need = world.disk_gb(stores, compressed=compressed, recording=recording, wal_gb=wal_gb)  # 0 for no stores
    free = shutil.disk_usage(workdir).free / 1e9
    if need <= free:
        return None
    return (f"this bench needs about {need:,.0f} GB of disk (the recorded answers, its stores, the server's "
            f"WAL and the metrics' scratch) and {workdir} has {free:,.0f} GB free: free some, or run a smaller "
            "world (--accounts, --visitors, --backfill-days)")


@contextmanager
def _store(kind: str, name: str, workdir: Path, server_url: str, database: str, *, keep: bool) -> Iterator[str]:
    """A fresh store: a SQLite file under `workdir`, or `database` on the server (dropped after unless `keep`)."""
    if kind == "sqlite":
        yield bench_db.sqlite_store(workdir, name)
        return
    url = bench_db.postgres_store(server_url, database)
    try:
        yield url
    finally:
        if not keep:
            bench_db.drop_postgres(server_url, database)


def _live_figures(live: LiveRun, baseline: DownloadParse) -> RunFigures:
    figures = figures_of(live.result, store=live.store, run=live.run, source="live",
                         database_url=live.database_url, baseline=baseline, alerts_before=live.alerts_before)
    figures.simulator_cpu_s = live.simulator_cpu_s
    return figures


def _report(world: World, figures: list[RunFigures], out: Path) -> None:
    visitors = f"~{world.visitors:,} visitors" if world.visitors else "~25 visitors each"
    print(f"sync benchmark: {world.accounts:,} accounts ({visitors}), {world.backfill_days}-day backfill as of "
          f"{world.as_of}, then the daily run; {os.cpu_count()} cores; load average "
          f"{os.getloadavg()[0]:.1f} at the end")
    print(summary_table(figures))
    for f in figures:
        print()
        print(phase_table(f))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"world": world.tag, "figures": [f.as_dict() for f in figures]}, indent=2))


if __name__ == "__main__":
    sys.exit(main())
