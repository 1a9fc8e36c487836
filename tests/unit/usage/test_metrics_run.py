"""A metrics run replaces exactly its customers' rows of its range, in bounded DuckDB, idempotently."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine, literal_column, select

from pendo_core.store.models import Base
from pendo_core.usage import MetricsResult, compute_metrics
from pendo_core.usage import compute as C
from pendo_core.usage.loader import duckdb_session
from tests.support import metrics
from tests.support.metrics import (
    Activity,
    FDay,
    Feature,
    GEvent,
    Guide,
    PDay,
    Step,
    VDay,
    VHour,
    insert_outputs,
    read_outputs,
    run_metrics,
    seed,
)
from tests.support.store import each_statement, wipe

D = date(2024, 6, 15)
DAY = timedelta(days=1)
STALE = ("old", 9, 9, 9, 9, 9, 1.0, 9, 9, 9)


def busy(days: list[date]) -> Activity:
    """Two customers and an unmapped account, active (visits, a feature, a guide) on `days`."""
    return Activity(
        mapping={"a1": "c1", "b1": "c2"},
        visitor_days=[VDay(a, d, "v1") for a in ("a1", "b1", "x") for d in days],
        feature_visitor_days=[FDay(a, d, "f1", "v1") for a in ("a1", "b1", "x") for d in days],
        guide_steps=[Step("s1", "g1", 0)],
        guide_events=[GEvent("v1", "g1", "s1", "guideSeen", i, a, d)
                      for i, d in enumerate(days) for a in ("a1", "b1", "x")],
    )


def test_writes_only_inside_the_range(store: Engine) -> None:
    """Activity outside [first_day, last_day] yields no row there; existing rows there stay as they were."""
    insert_outputs(store, {"pendo_usage_metrics": {("c1", D - DAY): STALE, ("c1", D + 2 * DAY): STALE}})
    out = run_metrics(store, busy([D - DAY, D, D + 2 * DAY]), D, D + DAY)
    assert set(out["pendo_usage_metrics"]) == {("c1", D - DAY), ("c1", D + 2 * DAY), ("c1", D), ("c1", D + DAY),
                                               ("c2", D), ("c2", D + DAY)}
    assert out["pendo_usage_metrics"][("c1", D - DAY)] == STALE
    assert {k[-1] for k in out["pendo_feature_usage"]} == {D}
    assert {k[-1] for k in out["pendo_guide_metrics"]} == {D, D + DAY}
    assert {k[-1] for k in out["pendo_onboarding_progress"]} == {D, D + DAY}


def test_unmapped_accounts_get_no_rows(store: Engine) -> None:
    """Only mapped customers get rows; an unmapped account's activity counts nowhere."""
    out = run_metrics(store, busy([D]), D)
    for name, rows in out.items():
        assert {k[0] for k in rows} == {"c1", "c2"}, name
    assert out["pendo_usage_metrics"][("c1", D)][1] == 1


def test_rerun_is_idempotent(store: Engine) -> None:
    """Running the same range twice leaves the same rows and reports the same counts."""
    seed(store, busy([D - DAY, D]))
    first = compute_metrics(store, first_day=D - DAY, last_day=D)
    before = read_outputs(store)
    second = compute_metrics(store, first_day=D - DAY, last_day=D)
    assert read_outputs(store) == before
    assert first == second == MetricsResult(usage_rows=4, feature_rows=4, guide_rows=4, onboarding_rows=4)


@pytest.mark.parametrize(("customer_ids", "stale_kept"), [
    pytest.param(["c1"], {"c2", "gone"}, id="only-the-given-customers"),
    pytest.param(None, set(), id="all-customers-clears-the-range"),
    pytest.param([], {"c1", "c2", "gone"}, id="no-customers-changes-nothing"),
])
def test_replaces_the_runs_customers(store: Engine, customer_ids: list[str] | None, stale_kept: set[str]) -> None:
    """Rows of the run's customers in the range are replaced; a full run also drops unmapped customers."""
    seed(store, busy([D]), extra_customers=("gone",))
    insert_outputs(store, {"pendo_usage_metrics": {(c, D): STALE for c in ("c1", "c2", "gone")}})
    compute_metrics(store, first_day=D, last_day=D, customer_ids=customer_ids)
    rows = read_outputs(store)["pendo_usage_metrics"]
    assert {c for (c, _), values in rows.items() if values == STALE} == stale_kept


def _row_versions(store: Engine, name: str) -> dict[tuple[Any, ...], Any]:
    """Each stored row's version: what a rewrite of the row changes (PostgreSQL's xmin, SQLite's rowid)."""
    target = Base.metadata.tables[name]
    version = literal_column("xmin::text" if store.dialect.name == "postgresql" else "rowid")
    with store.connect() as conn:
        rows = conn.execute(select(*target.primary_key.columns, version).select_from(target)).tuples()
        return {tuple(row[:-1]): row[-1] for row in rows}


def test_a_rerun_writes_only_the_rows_that_changed(store: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A daily run recomputes every day from its first moved day: rows that come back as stored stay as
    they are; a changed row is written, a row no longer computed is deleted, and the result is what a
    run into empty tables writes. The log counts them."""
    seed(store, busy([D - DAY, D]), extra_customers=("gone",))
    insert_outputs(store, {"pendo_usage_metrics": {("gone", D): STALE}})
    compute_metrics(store, first_day=D - DAY, last_day=D)
    before = {name: _row_versions(store, name) for name in read_outputs(store)}
    with store.begin() as conn:  # a second visitor of c1 on D: only c1's usage row of D changes
        conn.execute(metrics.table("pendo_visitor_days").insert(), [dict(VDay("a1", D, "v2")._asdict())])
    with caplog.at_level(logging.INFO, logger="pendo_core.usage.compute"):
        compute_metrics(store, first_day=D - DAY, last_day=D)
    for name in before:
        moved = 1 if name == "pendo_usage_metrics" else 0
        assert re.search(rf"{name}: \d+ rows, {moved} written, {moved} stored ones deleted", caplog.text), name
    after = {name: _row_versions(store, name) for name in before}
    stored = read_outputs(store)
    for name, versions in before.items():
        kept = {key for key, version in versions.items() if after[name].get(key) == version}
        expected = set(versions) - {("c1", D)} if name == "pendo_usage_metrics" else set(versions)
        assert kept == expected, name
    assert ("gone", D) not in stored["pendo_usage_metrics"]
    assert stored["pendo_usage_metrics"][("c1", D)][1] == 2  # DAU
    with store.begin() as conn:
        for name in stored:
            conn.execute(metrics.table(name).delete())
    compute_metrics(store, first_day=D - DAY, last_day=D)
    assert read_outputs(store) == stored


def _seven_customers() -> Activity:
    """Seven customers: two with two accounts, one quiet; a visitor in two accounts of one customer and
    one in two customers' accounts; sessions, features and guides over five weeks."""
    mapping = {"a1": "c1", "a2": "c1", "b1": "c2", "d1": "c3", "d2": "c3", "e1": "c4", "f1": "c5", "g1": "c6",
               "q1": "c7"}
    active = ("a1", "a2", "b1", "d1", "d2", "e1", "f1", "g1")
    days = [D - timedelta(days=k) for k in (0, 1, 2, 6, 13, 29, 35)]
    visits = [(a, v, d) for i, a in enumerate(active) for j, d in enumerate(days) for v in ("v0", f"v{i % 3 + 1}")
              if (i + j) % 3]
    visits = list(dict.fromkeys([*visits, ("a1", "vx", D), ("b1", "vx", D), ("a2", "v1", D - DAY)]))
    midnight = {d: int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp() * 1000) for d in days}
    return Activity(
        mapping=mapping,
        visitor_days=[VDay(a, d, v, 1 + len(v), 3) for a, v, d in visits],
        visitor_hours=[VHour(a, v, midnight[d] + h * 3_600_000, d) for a, v, d in visits for h in (9, 10, 14)],
        page_days=[PDay(a, d, "p1", 2) for a, d in dict.fromkeys((a, d) for a, _, d in visits)],
        feature_visitor_days=[FDay(a, d, f, v, 2, 1) for a, v, d in visits for f in ("f1", "f2")[:1 + len(a) % 2]],
        features=[Feature("f1", "Export", "p1"), Feature("f2", "Share")],
        guides=[Guide("g1", "Onboarding tour")],
        guide_steps=[Step("s1", "g1", 0)],
        guide_events=[GEvent(v, "g1", "s1", kind, i, a, d)
                      for i, (a, v, d) in enumerate(visits) for kind in ("guideSeen", "guideDismissed")[:1 + i % 2]],
    )


@pytest.mark.parametrize("chunk", [1, 2, 3, 6])
def test_customers_computed_in_chunks_get_the_rows_of_all_together(store: Engine, chunk: int) -> None:
    """Computed `chunk` customers at a time, every customer gets exactly the rows it gets computed with
    all the others, the quiet one included (its zeros), and every visitor its recency and settled rows."""
    activity, first = _seven_customers(), D - 2 * DAY
    settled = {"settled": D - DAY, "unchanged_before": first}
    chunked = run_metrics(store, activity, first, D, chunk_customers=chunk, **settled)
    chunked_recency = _visitor_rows(store)
    wipe(store)
    together = run_metrics(store, activity, first, D, **settled)
    assert chunked == together
    assert chunked_recency == _visitor_rows(store)
    assert len(chunked_recency[C._RECENCY.name]) >= 7
    assert chunked_recency[C._SETTLED.name]
    assert {key[0] for key in together["pendo_usage_metrics"]} == {f"c{n}" for n in range(1, 8)}
    assert {key[0] for key in together["pendo_feature_usage"]} == {f"c{n}" for n in range(1, 7)}
    assert any(row[5] for row in together["pendo_usage_metrics"].values())  # sessions counted


def _visitor_rows(store: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with store.connect() as conn:
        return {t.name: sorted(tuple(r) for r in conn.execute(select(t))) for t in (C._RECENCY, C._SETTLED)}


def test_rejects_no_customers_at_a_time(store: Engine) -> None:
    with pytest.raises(ValueError, match="at least one customer"):
        compute_metrics(store, first_day=D, last_day=D, chunk_customers=0)


def test_rejects_a_reversed_range(store: Engine) -> None:
    """last_day before first_day is a caller error, reported before touching the store."""
    with pytest.raises(ValueError, match="before first_day"):
        compute_metrics(store, first_day=D, last_day=D - DAY)


def test_duckdb_session_is_bounded() -> None:
    """The engine runs with the given memory limit, two threads and a temp directory it removes."""
    with duckdb_session("300MB") as duck:
        limit, threads, spill = duck.execute(
            "SELECT current_setting('memory_limit'), current_setting('threads'), "
            "current_setting('temp_directory')").fetchone()
    assert (limit, threads) == ("286.1 MiB", 2)
    assert "pendo-metrics-" in spill


def test_rows_are_written_in_the_order_of_each_tables_key(store: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Key order lets each new index entry land beside the last (README, Benchmark: a third off writing a
    backfill's metrics on PostgreSQL); in DuckDB's hash order they landed anywhere. The rows are watched
    as they are sent (where PostgreSQL puts them on disk depends on the table's free space)."""
    sent: dict[str, list[tuple[Any, ...]]] = {}

    def note(table: str, names: list[str], batch: pa.RecordBatch) -> None:
        keys = [names.index(c.name) for c in Base.metadata.tables[table].primary_key.columns]
        sent.setdefault(table, []).extend(zip(*(batch.column(i).to_pylist() for i in keys), strict=True))

    def copy_arrow(conn: Any, table: str, names: list[str], batches: Any) -> int:  # PostgreSQL
        batches = list(batches)
        for batch in batches:
            note(table, names, batch)
        return original_copy(conn, table, names, batches)

    def insert_sqlite(conn: Any, table: Any, names: list[str], batch: pa.RecordBatch) -> None:
        note(table.name, names, batch)
        original_insert(conn, table, names, batch)

    original_copy, original_insert = C.copy_arrow, C._insert_sqlite
    monkeypatch.setattr(C, "copy_arrow", copy_arrow)
    monkeypatch.setattr(C, "_insert_sqlite", insert_sqlite)
    accounts = {f"a{i:02d}": f"c{(i * 7) % 31:02d}" for i in range(31)}
    days = [D + i * DAY for i in range(4)]
    seed(store, Activity(
        mapping=accounts,
        visitor_days=[VDay(a, d, f"v{a}") for a in accounts for d in days],
        feature_visitor_days=[FDay(a, d, f, f"v{a}") for a in accounts for d in days for f in ("f1", "f2", "f3")],
        guide_steps=[Step("s1", "g1", 0)],
        guide_events=[GEvent(f"v{a}", "g1", "s1", "guideSeen", i, a, d)
                      for i, d in enumerate(days) for a in accounts],
    ))
    compute_metrics(store, first_day=days[0], last_day=days[-1])
    assert set(sent) == {t.name for t in (*C._TARGETS, C._RECENCY)}
    for table, keys in sent.items():
        assert len(keys) >= (31 if table == C._RECENCY.name else 31 * 4), table  # recency: one row per visitor
        assert keys == sorted(keys), table


def test_the_new_rows_are_indexed_by_the_key_when_the_changed_stored_rows_are_deleted(store: Engine) -> None:
    """The delete of stored rows without an identical new row probes the new rows by the key: a day written
    since PostgreSQL's last ANALYZE is estimated at one stored row, and a nested loop over an unindexed copy
    of the new rows then scanned it once per stored row (minutes at 20,000 accounts)."""
    indexes: list[int] = []
    count = {"postgresql": "SELECT count(*) FROM pg_indexes WHERE tablename = 'cscx_new_pendo_feature_usage'",
             "sqlite": "SELECT count(*) FROM temp.sqlite_master WHERE type = 'index' "
                       "AND tbl_name = 'cscx_new_pendo_feature_usage'"}[store.dialect.name]

    def before(cursor: Any, statement: str, _parameters: Any) -> None:
        if statement.startswith("DELETE FROM pendo_feature_usage") and "cscx_new_" in statement:
            probe = cursor.connection.cursor()
            probe.execute(count)
            indexes.append(probe.fetchone()[0])

    seed(store, busy([D - DAY, D]))
    compute_metrics(store, first_day=D - DAY, last_day=D)  # into an empty range: copied straight
    with each_statement(store, before):
        compute_metrics(store, first_day=D - DAY, last_day=D)
    assert indexes, "the run deleted no changed rows"
    assert all(n >= 1 for n in indexes)


def test_the_new_rows_whose_key_is_free_are_found_as_one_set(store: Engine) -> None:
    """On PostgreSQL the rows inserted are the new keys except the stored keys of the range, one set
    operation: a `NOT EXISTS` per new row probed the key index across every stored day, and held to the
    range it let the planner (a day newer than its statistics estimated at one row) nest a scan of the day
    in the loop. Its plan must read the stored table once, through a SetOp, with no anti join. Either way
    the rows are what a run into empty tables writes."""
    plans: list[str] = []

    def before(cursor: Any, statement: str, parameters: Any) -> None:
        if statement.startswith("INSERT INTO pendo_feature_usage") and "cscx_new_" in statement:
            if store.dialect.name == "postgresql":
                probe = cursor.connection.cursor()
                probe.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
                plans.append(json.dumps(probe.fetchone()[0]))
            else:
                plans.append(statement)

    seed(store, busy([D - DAY, D]))
    compute_metrics(store, first_day=D - DAY, last_day=D)  # into an empty range: copied straight
    with store.begin() as conn:  # a second visitor of f1 on D: c1's feature row of D is written again
        conn.execute(metrics.table("pendo_visitor_days").insert(), [dict(VDay("a1", D, "v2")._asdict())])
        conn.execute(metrics.table("pendo_feature_visitor_days").insert(), [dict(FDay("a1", D, "f1", "v2")._asdict())])
    with each_statement(store, before):
        compute_metrics(store, first_day=D - DAY, last_day=D)
    assert len(plans) == 1
    if store.dialect.name == "postgresql":
        assert '"SetOp"' in plans[0]
        assert "Anti" not in plans[0]
        assert plans[0].count('"Relation Name": "pendo_feature_usage"') == 2  # the insert's target, one read
    else:
        assert "NOT (EXISTS" in plans[0]  # SQLite probes its key index in-process, cheaper than the set
    stored = read_outputs(store)
    with store.begin() as conn:
        for name in stored:
            conn.execute(metrics.table(name).delete())
    compute_metrics(store, first_day=D - DAY, last_day=D)
    assert read_outputs(store) == stored  # what a run into empty tables writes
