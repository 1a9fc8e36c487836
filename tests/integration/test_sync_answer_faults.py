"""Property (hypothesis): whatever goes wrong inside one answer of a daily rerun, nothing stored is lost.

The store holds a clean backfill; the daily rerun re-reads the lookback window from the simulator,
whose data did not change, so a clean rerun leaves every table as it was. One answer of that rerun
is corrupted (pendo_sim.faults.AnswerFault): `results` null or missing, a field of some rows nulled,
removed or given a value of the wrong type, rows sent twice or left out. After the run every table is,
cell by cell, the one before, with one exception computed here from the answer itself: rows left out
while every busy day keeps at least half of its rows look like Pendo restating the data, and are
applied (that window's rows are the rows sent). The run fails with SuspectWindows exactly when the
guard's rules (pendo_core/pendo/sync/guard.py) say the answer must be withheld, recomputed here.
"""

from __future__ import annotations

import os
import sqlite3
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.guard import KEEP_SHARE, MIN_STORED_ROWS
from pendo_core.pendo.sync.runner import SuspectWindows
from pendo_core.pendo.sync.streams import FEATURE_DAYS, GUIDE_EVENTS, PAGE_DAYS, VISITOR_DAYS, VISITOR_HOURS
from pendo_core.store.engine import make_engine
from pendo_sim.data import Subscription, generate
from pendo_sim.faults import AnswerFault, corrupt
from pendo_sim.server import SimServer
from tests.support.sync import run_sync, snapshot, synced_sqlite

pytestmark = pytest.mark.slow

TZ = "UTC"
AS_OF = date(2024, 3, 20)
DAY_MS = 86_400_000
WINDOW = (AS_OF - timedelta(days=10), AS_OF - timedelta(days=4))  # the rerun's first lookback window
FAULTS = settings(max_examples=int(os.environ.get("ANSWER_FAULT_EXAMPLES", "20")), deadline=None,
                  derandomize=os.environ.get("CI") == "true",
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

# (source, period) -> the stream it feeds, the fields of its rows by kind, and its snapshot row
TARGETS: dict[tuple[str, str], tuple[Any, dict[str, str]]] = {
    ("events", "dayRange"): (VISITOR_DAYS, {"accountId": "id", "visitorId": "id", "day": "time",
                                            "numEvents": "count", "numMinutes": "count"}),
    ("events", "hourRange"): (VISITOR_HOURS, {"accountId": "id", "visitorId": "id", "hour": "time",
                                              "numEvents": "count", "numMinutes": "count"}),
    ("pageEvents", "dayRange"): (PAGE_DAYS, {"accountId": "id", "pageId": "id", "day": "time",
                                             "numEvents": "count", "numMinutes": "count"}),
    ("featureEvents", "dayRange"): (FEATURE_DAYS, {"accountId": "id", "visitorId": "id", "featureId": "id",
                                                   "day": "time", "numEvents": "count", "numMinutes": "count"}),
    ("guideEvents", "dayRange"): (GUIDE_EVENTS, {"accountId": "id", "visitorId": "id", "guideId": "id",
                                                 "guideStepId": "id", "type": "kind", "browserTime": "time"}),
}
# Values no row of that kind may hold (a wrong value of the right type is a restatement, not a fault).
WRONG: dict[str, list[Any]] = {
    "id": [None, "", True, 1.5, [], {"a": 1}],
    "count": [None, "7", "seven", -1, 1.5, True, [], 2**60],
    "time": [None, "2024-03-10", 1.5, -1, True, []],
    "kind": [None, True, [], {}],
}


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=5, accounts=8, days=130, as_of=AS_OF, tz=TZ)


@pytest.fixture(scope="module")
def stored(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store after a clean 14-day backfill; a clean daily rerun leaves it as it is."""
    path = tmp_path_factory.mktemp("before") / "before.db"
    synced_sqlite(path, subscription, server.url, tz=TZ, as_of=AS_OF, backfill_days=14).dispose()
    return path


@pytest.fixture(scope="module")
def answers(server: SimServer) -> dict[tuple[str, str], list[dict[str, Any]]]:
    """The clean answer of each target in the rerun's first lookback window, in the simulator's order."""
    first, last = WINDOW
    out = {}
    with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client:
        for (source, period), (stream, _fields) in TARGETS.items():
            out[source, period] = list(client.aggregate(stream.pipeline(first, last, ZoneInfo(TZ), True)))
    return out


@st.composite
def faults(draw: st.DrawFn) -> AnswerFault:
    source, period = draw(st.sampled_from(sorted(TARGETS)))
    kind = draw(st.sampled_from(["results_null", "results_missing", "set", "delete", "duplicate", "drop", "drop"]))
    fields = TARGETS[source, period][1]
    field = draw(st.sampled_from(sorted(fields)))
    value = draw(st.sampled_from(WRONG[fields[field]]))
    every = draw(st.sampled_from([1, 1, 2, 3, 7, 10_000]))
    offset = draw(st.integers(0, 120))
    return AnswerFault(source, kind, field=field, value=value, every=every, offset=offset, period=period,
                       answers=1)


@FAULTS
@given(fault=faults())
def test_a_corrupted_answer_loses_nothing(server: SimServer, stored: Path, answers: dict[Any, Any],
                                          tmp_path_factory: pytest.TempPathFactory, fault: AnswerFault) -> None:
    """Every table equals the one before (or, for a restatement-like drop, what the answer sent); the run
    fails exactly when the answer had to be withheld."""
    engine = _copy(stored, tmp_path_factory.mktemp("run") / "store.db")
    try:
        before = snapshot(engine)
        server.faults.answer, server.state.corrupted = fault, 0
        try:
            run_sync(engine, server.url, TZ, AS_OF, None)
            withheld = False
        except SuspectWindows:
            withheld = True
        finally:
            server.faults.answer = None
        rows = answers[fault.source, fault.period]
        stream = TARGETS[fault.source, fault.period][0]
        assert withheld is _must_withhold(fault, rows, stream)
        _assert_tables(snapshot(engine), before, fault, rows, applied=not withheld)
    finally:
        engine.dispose()


def _copy(source: Path, target: Path) -> Engine:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    return make_engine(f"sqlite:///{target}")


def _hit(fault: AnswerFault, rows: list[Any]) -> list[int]:
    return [i for i in range(len(rows)) if fault.hits(i)]


def _must_withhold(fault: AnswerFault, rows: list[dict[str, Any]], stream: Any) -> bool:
    """The guard's rules, from the answer itself."""
    hit = _hit(fault, rows)
    if fault.no_list:
        return True
    if fault.kind in ("set", "delete") and hit:
        return stream.replace or len(hit) == len(rows)
    if fault.kind == "duplicate":
        return stream.replace and bool(hit)
    if fault.kind == "drop" and stream.replace:
        before, after = _per_day(rows), _per_day(list(corrupt(rows, fault)))
        return any(n >= MIN_STORED_ROWS and after[d] < KEEP_SHARE * n for d, n in before.items())
    return False


def _per_day(rows: list[dict[str, Any]]) -> Counter[int]:
    return Counter((r.get("day") or r.get("hour")) // DAY_MS for r in rows)


def _assert_tables(after: dict[str, Any], before: dict[str, Any], fault: AnswerFault, rows: list[dict[str, Any]],
                   *, applied: bool) -> None:
    stream = TARGETS[fault.source, fault.period][0]
    if not (applied and fault.kind == "drop" and stream.replace and _hit(fault, rows)):
        assert after == before
        return
    kept = {id(r) for r in corrupt(rows, fault)}
    dropped = {_snapshot_row(stream.name, r) for r in rows if id(r) not in kept}
    table = stream.table.name
    assert dropped <= set(before[table])
    assert after[table] == [r for r in before[table] if r not in dropped]
    changed = {table, "pendo_usage_metrics", "pendo_feature_usage"}  # metrics follow the restated rows
    assert {k: v for k, v in after.items() if k not in changed} == {k: v for k, v in before.items()
                                                                     if k not in changed}


def _snapshot_row(stream: str, r: dict[str, Any]) -> tuple[Any, ...]:
    """A Pendo row as tests/support/sync.py's snapshot shows its stored row (UTC days)."""
    day = date(1970, 1, 1) + timedelta(days=(r.get("day") or r.get("hour")) // DAY_MS)
    usage = (r["numEvents"], r["numMinutes"])
    if stream == "visitor_days":
        return (r["accountId"], day.isoformat(), r["visitorId"], *usage)
    if stream == "visitor_hours":
        return (r["accountId"], r["visitorId"], r["hour"], day.isoformat(), *usage)
    if stream == "page_days":
        return (r["accountId"], day.isoformat(), r["pageId"], *usage)
    return (r["accountId"], day.isoformat(), r["featureId"], r["visitorId"], *usage)
