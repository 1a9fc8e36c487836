"""A hand-written Pendo for runner tests: a tiny, regular world answered in memory, whose answers a
test can corrupt with the simulator's own AnswerFault (pendo_sim/faults.py).

Every day, account `acme` has VISITORS visitors, each with one visitor-day, two active hours, one
feature use and one guide view; two pages are viewed. Answers go through the client's real body
parser (`iter_rows`), so `results` null or missing behaves as on the wire.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine, select

from pendo_core.common.config import Settings
from pendo_core.customers.job import make_mapping_step
from pendo_core.pendo.client import ClientStats, RetryPolicy
from pendo_core.pendo.client._body import iter_rows
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest, SyncRunner
from pendo_core.store import models
from pendo_core.usage.job import make_metrics_step
from pendo_sim.faults import AnswerFault, corrupt

T = TypeVar("T")
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
VISITORS = tuple(f"v{i}@acme.test" for i in range(12))
AS_OF = date(2024, 3, 20)


def _days(series: dict[str, Any]) -> range:
    return range(series["first"] - series["first"] % DAY_MS, series["last"] + 1, DAY_MS)


def _usage_rows(source: str, series: dict[str, Any]) -> list[dict[str, Any]]:
    base = {"accountId": "acme", "numEvents": 4, "numMinutes": 2}
    if series["period"] == "hourRange":
        return [{**base, "visitorId": v, "hour": d + h * HOUR_MS} for d in _days(series) for v in VISITORS
                for h in (9, 10)]
    if source == "pageEvents":
        return [{**base, "pageId": p, "day": d} for d in _days(series) for p in ("p1", "p2")]
    if source == "featureEvents":
        return [{**base, "visitorId": v, "featureId": "f1", "day": d} for d in _days(series) for v in VISITORS]
    if source == "guideEvents":
        return [{"accountId": "acme", "visitorId": v, "guideId": "g1", "guideStepId": "s1", "type": "guideSeen",
                 "browserTime": d + 9 * HOUR_MS} for d in _days(series) for v in VISITORS]
    return [{**base, "visitorId": v, "day": d} for d in _days(series) for v in VISITORS]


class FakePendo:
    """The PendoClient surface the runner uses; `fault` corrupts matching usage answers."""

    def __init__(self, fault: AnswerFault | None = None) -> None:
        self.fault = fault
        self.corrupted = 0
        self.stats = ClientStats()
        self.retry = RetryPolicy.for_tests(attempts=2)

    def verify(self) -> None:
        return None

    def aggregate(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None,
                  require_results: bool = False, row_type: type | None = None) -> Iterator[dict[str, Any]]:
        self.stats.add(requests=1)
        source = pipeline[0]["source"]
        name = next(k for k in source if k != "timeSeries")
        body: dict[str, Any] = {"startTime": 1, "results": _usage_rows(name, source["timeSeries"])}
        fault = self.fault
        if fault is not None and fault.matches({"request": {"pipeline": pipeline}}) and (
                fault.answers is None or self.corrupted < fault.answers):
            self.corrupted += 1
            body = _corrupted(body, fault)
        return iter_rows([json.dumps(body).encode()], host="fake-pendo", require_results=require_results)

    def aggregate_all(self, pipeline: list[dict[str, Any]], *, request_id: str | None = None) -> list[Any]:
        return []

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return []

    def retrying(self, fn: Callable[[], T]) -> T:
        return self.retry.call(fn, on_retry=lambda *_: self.stats.add(retries=1))


def _corrupted(body: dict[str, Any], fault: AnswerFault) -> dict[str, Any]:
    if fault.kind == "results_null":
        return {**body, "results": None}
    if fault.kind == "results_missing":
        return {"startTime": body["startTime"]}
    return {**body, "results": list(corrupt(body["results"], fault))}


class Recorder:
    """A post-metrics step that only notes it ran (health and alerts would run there)."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        self.calls += 1


def run_fake(engine: Engine, client: FakePendo, *, backfill_days: int | None = None, accept: bool = False,
             progress: LogProgress | None = None, steps: list[PostStep] | None = None,
             as_of: date = AS_OF) -> RunSummary:
    """One run of the real runner against the fake Pendo."""
    config = Settings(pendo_integration_key="k", window_days=7)
    runner = SyncRunner(config, engine, client, progress=progress,  # type: ignore[arg-type]
                        after_windows=[make_mapping_step(config)], steps=[make_metrics_step(config), *(steps or [])])
    return runner.run(SyncRequest(as_of, backfill_days, accept_restatement=accept))


def import_acme(engine: Engine) -> None:
    """One CSCX customer owning the fake world's account, so metrics have rows to compare."""
    from pendo_core.customers.csv_parse import parse_customers_csv
    from pendo_core.customers.repo import upsert_customers
    from pendo_core.store.engine import session_factory

    parsed = parse_customers_csv([
        "customer_id,name,domain,segment,arr,renewal_date,csm_name,csm_email,pendo_account_ids\n",
        "6f1c1f0e-7a51-4c2b-9a86-1b2f3c4d5e6f,Acme,acme.test,SMB,1000,2025-01-01,Cam,cam@cscx.test,acme\n",
    ])
    assert not parsed.errors, parsed.errors
    with session_factory(engine).begin() as session:
        upsert_customers(session, parsed.rows)


def issues(engine: Engine) -> list[tuple[str, str, int]]:
    """(stream, reason, count) of every recorded data-quality issue."""
    issue = models.DataQualityIssue
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(issue.stream, issue.reason, issue.count)
                                               .order_by(issue.run_id, issue.stream, issue.reason))]


def covered_days(engine: Engine, stream: str) -> set[date]:
    """Days of a stream the coverage counts as synced."""
    with engine.connect() as conn:
        return set(conn.execute(select(models.SyncCoverage.day).where(models.SyncCoverage.stream == stream))
                   .scalars())
