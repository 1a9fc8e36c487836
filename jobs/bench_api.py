"""`python -m jobs.bench_api`: the REST API's read endpoints under 20 concurrent clients, on the demo store.

Builds the demo store once (`python -m jobs demo` into `data/bench-api.db`, kept between runs), issues
tokens for the demo leader and admin, starts `python -m api --workers 2` as a subprocess on a free
loopback port, then 20 httpx async clients share a fixed number of requests (bounded by a time limit
too) over the read endpoints of 10 accounts and their customers: the account list, an account's
usage, features, guides and visitors, a customer's metrics, health scores and the alert list. Prints
requests/s, p50, p95, p99 and errors per endpoint and overall, and writes bench-results/api.json.
Targets: p95 < 200 ms and >= 200 requests/s. `--cache-seconds 0` measures the API without its cache.
Everything stays on loopback; the server is stopped at the end."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
STORE_URL = "sqlite:///data/bench-api.db"
RESULTS = ROOT / "bench-results" / "api.json"
# The clients act as these two (each its own view, so its own lists); both see every account, so no answer is a
# cheap 404. A CSM's own lists cost the same as theirs, filtered.
USERS = ("leader@demo.cscx", "admin@demo.cscx")
TARGET_P95_MS = 200.0
TARGET_RPS = 200.0
READY_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Summary:
    """Figures of one endpoint (or all of them) over a run."""

    name: str
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def percentile(values: Sequence[float], pct: float) -> float:
    """The `pct` percentile (0-100) by linear interpolation between closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * pct / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise(name: str, latencies_ms: Sequence[float], errors: int, elapsed_s: float) -> Summary:
    """Throughput and latency percentiles of `latencies_ms` (every request, failed ones included)."""
    rps = len(latencies_ms) / elapsed_s if elapsed_s > 0 else math.nan
    return Summary(name, len(latencies_ms), errors, round(rps, 1), round(percentile(latencies_ms, 50), 1),
                   round(percentile(latencies_ms, 95), 1), round(percentile(latencies_ms, 99), 1))


# --- the store, the token and the server ---------------------------------------------------------


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PENDO_INTEGRATION_KEY"}
    env["DATABASE_URL"] = os.environ.get("BENCH_API_DATABASE_URL", STORE_URL)
    return env


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, *args], cwd=ROOT, env=_env(), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"error: `python {' '.join(args)}` failed: {done.stderr.strip()[-400:]}")
    return done.stdout


def issue_tokens() -> list[str]:
    """Fresh tokens for the demo leader and admin (the store is built first when empty)."""
    (ROOT / "data").mkdir(exist_ok=True)
    _run("-m", "jobs", "demo")
    return [_run("-m", "api", "token", "create", email, "--name", "bench_api", "--days", "1").strip().splitlines()[-1]
            for email in USERS]


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(port: int, workers: int, cache_seconds: float) -> subprocess.Popen[bytes]:
    """`python -m api` on loopback, its log discarded."""
    args = [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
            "--cache-seconds", str(cache_seconds)]
    return subprocess.Popen(args, cwd=ROOT, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def wait_ready(client: httpx.AsyncClient, server: subprocess.Popen[bytes]) -> None:
    """Until the server answers (401 without a token is an answer)."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"error: the API exited with {server.returncode} before answering")
        try:
            await client.get("/openapi.json")
            return
        except httpx.TransportError:
            await asyncio.sleep(0.2)
    raise SystemExit(f"error: the API did not answer within {READY_TIMEOUT_S:.0f} s")


# --- the load ------------------------------------------------------------------------------------


async def endpoints(client: httpx.AsyncClient, spread: int) -> list[tuple[str, str]]:
    """(name, path) of each read endpoint, over `spread` mapped accounts (and their customers) taken from the
    store, so the figures are not those of one answer read again and again."""
    answer = await client.get("/api/pendo/accounts", params={"mapped": "true", "limit": 500})
    answer.raise_for_status()
    items = answer.json()["items"]
    if not items:
        raise SystemExit("error: the bench store has no mapped account")
    chosen = items[::max(1, len(items) // spread)][:spread]
    base = "/api/pendo"
    return [(name, path) for item in chosen for name, path in (
        ("accounts", f"{base}/accounts?limit=50"), ("account_usage", f"{base}/accounts/{item['account_id']}/usage"),
        ("account_features", f"{base}/accounts/{item['account_id']}/features"),
        ("account_guides", f"{base}/accounts/{item['account_id']}/guides"),
        ("account_visitors", f"{base}/accounts/{item['account_id']}/visitors"),
        ("customer_metrics", f"{base}/customer/{item['customer_id']}/metrics"),
        ("health_scores", f"{base}/health-scores"), ("alerts", f"{base}/alerts"))]


async def _client(client: httpx.AsyncClient, plan: itertools.cycle[tuple[str, str]], budget: list[int], *,
                  token: str, deadline: float, samples: dict[str, list[float]], errors: dict[str, int]) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while budget[0] > 0 and time.monotonic() < deadline:
        budget[0] -= 1
        name, path = next(plan)
        start = time.perf_counter()
        try:
            ok = (await client.get(path, headers=headers)).status_code == 200
        except httpx.HTTPError:
            ok = False
        samples[name].append((time.perf_counter() - start) * 1000)
        errors[name] += not ok


async def load(client: httpx.AsyncClient, plan: list[tuple[str, str]], tokens: list[str], *, clients: int,
               requests: int, seconds: float) -> list[Summary]:
    """`requests` requests (or as many as fit in `seconds`) from `clients` concurrent clients."""
    samples: dict[str, list[float]] = {name: [] for name, _ in plan}  # first-seen order: plan order
    errors = dict.fromkeys(samples, 0)
    cycle, budget = itertools.cycle(plan), [requests]
    start = time.perf_counter()
    deadline = time.monotonic() + seconds
    await asyncio.gather(*(_client(client, cycle, budget, token=tokens[i % len(tokens)], deadline=deadline,
                                   samples=samples, errors=errors) for i in range(clients)))
    elapsed = time.perf_counter() - start
    rows = [summarise(name, samples[name], errors[name], elapsed) for name in samples]
    every = [ms for values in samples.values() for ms in values]
    return [*rows, summarise("overall", every, sum(errors.values()), elapsed)]


# --- report --------------------------------------------------------------------------------------


def _report(rows: list[Summary], meta: dict[str, object]) -> None:
    print(f"{'endpoint':<18}{'requests':>9}{'errors':>7}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for r in rows:
        print(f"{r.name:<18}{r.requests:>9}{r.errors:>7}{r.rps:>8.1f}{r.p50_ms:>9.1f}{r.p95_ms:>9.1f}{r.p99_ms:>9.1f}")
    overall = rows[-1]
    verdict = "met" if overall.p95_ms < TARGET_P95_MS and overall.rps >= TARGET_RPS else "NOT met"
    print(f"target p95 < {TARGET_P95_MS:.0f} ms and >= {TARGET_RPS:.0f} req/s: {verdict} "
          f"(load average {meta['load_average']})")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({**meta, "results": [asdict(r) for r in rows]}, indent=2) + "\n")
    print(f"written {RESULTS.relative_to(ROOT)}")


async def bench(args: argparse.Namespace) -> list[Summary]:
    """Start the server, warm it up, run the load and stop the server."""
    tokens, port = issue_tokens(), free_port()
    server = start_server(port, args.workers, args.cache_seconds)
    limits = httpx.Limits(max_connections=args.clients, max_keepalive_connections=args.clients)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits,
                                     headers={"Authorization": f"Bearer {tokens[0]}"}, trust_env=False) as client:
            await wait_ready(client, server)
            plan = await endpoints(client, args.spread)
            await load(client, plan, tokens, clients=args.clients, requests=len(plan), seconds=args.seconds)  # warm-up
            return await load(client, plan, tokens, clients=args.clients, requests=args.requests, seconds=args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; exit 0 whether or not the target is met (the figures say)."""
    parser = argparse.ArgumentParser(prog="python -m jobs.bench_api", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients (default 20)")
    parser.add_argument("--requests", type=int, default=2000, help="requests in all (default 2000)")
    parser.add_argument("--seconds", type=float, default=120, help="stop after this long (default 120)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--spread", type=int, default=10, help="accounts (and customers) read (default 10)")
    parser.add_argument("--cache-seconds", type=float, default=5, help="the API's --cache-seconds (default 5)")
    args = parser.parse_args(argv)
    rows = asyncio.run(bench(args))
    meta = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "clients": args.clients, "workers": args.workers,
            "cache_seconds": args.cache_seconds, "spread": args.spread, "cores": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()]}
    _report(rows, meta)
    return 0


if __name__ == "__main__":
    sys.exit(main())
