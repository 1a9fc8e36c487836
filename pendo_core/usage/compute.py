"""One metrics run: load activity into DuckDB, compute every metric table, replace the stored rows.

The store write is one transaction: the stored rows of the reported range of the run's customers
(every row in the range when the run covers every customer, so customers that lost their mapping lose
their rows too) become the new rows; only the rows that changed are written (`_write`). A run over
every customer also replaces the visitors' recency rows as of its last day, and the settled rows as of
the day it is given, or forgets them (`usage.recency`). Rerunning the same range is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import ColumnElement, Connection, Engine, Select, Table, and_, exists, select, text

from pendo_core.pendo.sync.store import Fence, unfenced
from pendo_core.store.bulk import copy_arrow, refresh_statistics, sqlite_executemany, temp_copy
from pendo_core.store.models import Base, FeatureUsage, GuideMetric, OnboardingProgress, UsageMetric
from pendo_core.store.scope import customer_chunks
from pendo_core.usage import read_models
from pendo_core.usage import recency as recency_rows
from pendo_core.usage.features import build_features
from pendo_core.usage.guides import build_guides, build_onboarding
from pendo_core.usage.loader import LoadPlan, duckdb_session, load
from pendo_core.usage.usage import build_usage
from pendo_core.usage.windows import create_calendar

WRITE_ROWS = 5_000
# Customers whose metrics DuckDB computes together. Their intermediate tables spill to disk past the
# memory limit: all 18,000 customers of a 90-day, 20,000-account backfill together spilled more than
# 30 GB beside the store (2026-12-07). A customer's metrics read only its own accounts' rows.
CHUNK_CUSTOMERS = 2_500

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsResult:
    """Rows written per metric table by one run."""

    usage_rows: int
    feature_rows: int
    guide_rows: int
    onboarding_rows: int


def compute_metrics(
    engine: Engine,
    *,
    first_day: date,
    last_day: date,
    include_anonymous: bool = False,
    customer_ids: Collection[str] | None = None,
    onboarding_guide_ids: Collection[str] | None = None,
    memory_limit: str = "1GB",
    settled: date | None = None,
    unchanged_before: date | None = None,
    fence: Fence = unfenced,
    chunk_customers: int = CHUNK_CUSTOMERS,
) -> MetricsResult:
    """Recompute every metric of [first_day, last_day] for the customers (default: all mapped) and
    replace their stored rows in that range, in one transaction.

    `settled` (a run over every customer): write the settled rows as of that day, and read the stored
    ones where they hold (`recency.settled_base`), given `unchanged_before`: the first day whose raw rows
    changed since the stored ones were written, as the caller knows it (`usage.job`). A run over every
    customer without `settled` forgets the stored ones. `fence` (a sync run's): called first in the writing
    transaction, it refuses the write once a newer run has started. DuckDB computes the metrics of
    `chunk_customers` customers at a time (`_build`), from one load."""
    if last_day < first_day:
        raise ValueError(f"last_day {last_day} is before first_day {first_day}: pass an ordered range")
    if chunk_customers < 1:
        raise ValueError(f"chunk_customers is {chunk_customers}: compute at least one customer at a time")
    if settled is not None and (customer_ids is not None or settled > last_day or unchanged_before is None):
        raise ValueError("settled rows are written by a run over every customer, on or before its last day, "
                         "that knows which raw days changed")
    plan = LoadPlan(
        first_day=first_day,
        last_day=last_day,
        include_anonymous=include_anonymous,
        customer_ids=None if customer_ids is None else tuple(customer_ids),
        onboarding_guide_ids=None if onboarding_guide_ids is None else tuple(onboarding_guide_ids),
        settled=settled,
    )
    if settled is not None and unchanged_before is not None:
        with engine.connect() as conn:
            base = recency_rows.settled_base(conn, first_day=first_day, since=plan.grouped_from(), settled=settled,
                                             unchanged_before=unchanged_before, include_anonymous=include_anonymous)
        plan = replace(plan, settled_base=base)
        log.info("metrics: %s", f"reading the settled rows as of {base}" if base else "no settled rows to read")
    with duckdb_session(memory_limit) as duck:
        log.info("metrics %s..%s: loaded %s", first_day, last_day, load(engine, duck, plan))
        create_calendar(duck, first_day, last_day)
        sources = _build(duck, plan, chunk_customers)
        recency = recency_rows.build_recency(duck, first_day, last_day) if customer_ids is None else None
        settled_rows = recency_rows.build_settled(duck, first_day, settled) if settled is not None else None
        result = _replace(engine, duck, plan, sources, recency=recency, settled=settled_rows, fence=fence)
    log.info("metrics %s..%s: wrote %s", first_day, last_day, result)
    return result


def _build(duck: duckdb.DuckDBPyConnection, plan: LoadPlan, chunk_customers: int) -> tuple[str, str, str, str]:
    """Build the four metric tables from the loaded rows; returns their names.

    Every build reads the customers' accounts through `acct`, so with more than `chunk_customers`
    customers, `acct` holds one chunk of them at a time: each chunk's rows are added to the result
    tables, and the tables its builds made are dropped before the next, so that DuckDB holds (and
    spills) one chunk's intermediate tables at most. The loaded tables are read once per chunk."""
    customers = [c for (c,) in duck.execute("SELECT DISTINCT customer_id FROM acct ORDER BY 1").fetchall()]
    if len(customers) <= chunk_customers:
        return _sources(duck, plan)
    duck.execute("ALTER TABLE acct RENAME TO acct_all")
    loaded = _tables(duck)
    results: tuple[str, ...] = ()
    for start in range(0, len(customers), chunk_customers):
        duck.execute("CREATE TABLE acct AS SELECT * FROM acct_all WHERE customer_id IN (SELECT unnest(?))",
                     [customers[start:start + chunk_customers]])
        sources = _sources(duck, plan)
        if not results:
            results = tuple(f"all_{source}" for source in sources)
            for source, result in zip(sources, results, strict=True):
                duck.execute(f"CREATE TABLE {result} AS FROM {source} LIMIT 0")
        for source, result in zip(sources, results, strict=True):
            duck.execute(f"INSERT INTO {result} FROM {source}")
        for name in _tables(duck) - loaded - set(results):  # this chunk's acct and intermediate tables
            duck.execute(f"DROP TABLE {name}")
    duck.execute("ALTER TABLE acct_all RENAME TO acct")
    usage, features, guides, onboarding = results
    return usage, features, guides, onboarding


def _sources(duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> tuple[str, str, str, str]:
    return build_usage(duck, plan), build_features(duck), build_guides(duck), build_onboarding(duck)


def _tables(duck: duckdb.DuckDBPyConnection) -> set[str]:
    return {name for (name,) in duck.execute("SELECT table_name FROM duckdb_tables()").fetchall()}


_MODELS = (UsageMetric, FeatureUsage, GuideMetric, OnboardingProgress)
_TARGETS: tuple[Table, ...] = tuple(Base.metadata.tables[model.__tablename__] for model in _MODELS)
_RECENCY, _SETTLED = recency_rows.TABLE, recency_rows.SETTLED_TABLE


def _replace(engine: Engine, duck: duckdb.DuckDBPyConnection, plan: LoadPlan,
             sources: tuple[str, str, str, str], *, recency: str | None, settled: str | None,
             fence: Fence) -> MetricsResult:
    with engine.begin() as conn:
        fence(conn)
        read_models.mark_stale(conn, read_models.SNAPSHOT, read_models.PORTFOLIO,  # rebuilt by their steps
                               first_day=plan.first_day)
        pairs = zip(_TARGETS, sources, strict=True)
        written = [_write(conn, duck, table, source, plan) for table, source in pairs]
        if recency is not None:
            recency_key, settled_key = recency_rows.loaded_keys(duck, plan.include_anonymous,
                                                                [plan.last_day, plan.settled])
            rows = _rewrite(conn, duck, _RECENCY, recency)
            log.info("metrics: %d visitors' recency as of %s", rows, plan.last_day)
            recency_rows.mark_written(conn, recency_rows.WATERMARK, recency_key)
            rows = _rewrite(conn, duck, _SETTLED, settled)  # without a settled day: forgotten
            recency_rows.mark_written(conn, recency_rows.SETTLED_WATERMARK, settled_key)
            if settled_key:
                log.info("metrics: %d visitors' settled rows as of %s", rows, plan.settled)
        refresh_statistics(conn, [table.name for table in (*_TARGETS, _RECENCY, _SETTLED)])  # later steps read them
    return MetricsResult(*written)


def _rewrite(conn: Connection, duck: duckdb.DuckDBPyConnection, table: Table, source: str | None) -> int:
    """Empty `table` and write `source`'s rows into it (none when None); returns the row count."""
    # TRUNCATE (in the transaction) leaves no dead rows behind on PostgreSQL, DELETE on SQLite neither
    conn.execute(text(f"TRUNCATE {table.name}") if conn.dialect.name == "postgresql" else table.delete())
    return 0 if source is None else _insert(conn, duck, table, source)


def _write(conn: Connection, duck: duckdb.DuckDBPyConnection, table: Table, source: str, plan: LoadPlan) -> int:
    """Make the stored rows of the run's range and customers `source`'s rows; returns their count.

    Into a range with no stored rows (a first run) they are copied straight. Otherwise only what differs
    is written: the new rows go to a temporary table, the stored rows without an identical new row are
    deleted, and the new rows whose key is then free are inserted. A daily run recomputes every day from
    its first moved day, and most of those rows come back as they were: on PostgreSQL, deleting a row
    and inserting it again in one transaction cost about twice a plain insert (the unique index checks
    each deleted entry), and left a dead row behind.
    """
    scopes = [_in_scope(table, plan, chunk) for chunk in customer_chunks(plan.customer_ids)]
    if not any(conn.execute(select(exists().where(scope))).scalar_one() for scope in scopes):
        return _insert(conn, duck, table, source)
    new = _new_rows_table(table, conn.dialect.name)
    new.create(conn)
    count = _insert(conn, duck, table, source, into=new)
    if conn.dialect.name == "postgresql":  # indexed once filled: one sort instead of an insert per row
        conn.execute(text(f"CREATE INDEX ON {new.name} ({', '.join(c.name for c in table.primary_key.columns)})"))
    keys = [new.c[c.name] == c for c in table.primary_key.columns]
    same = [new.c[c.name] == c if not c.nullable else new.c[c.name].is_not_distinct_from(c)
            for c in table.columns if not c.primary_key]
    deleted = sum(conn.execute(table.delete().where(scope, ~exists().where(*keys, *same))).rowcount
                  for scope in scopes)
    names = [c.name for c in table.columns]
    free = (_free_rows(table, new, plan) if conn.dialect.name == "postgresql"
            else select(new).where(~exists().where(*keys)))
    insert = table.insert().from_select(names, free)
    written = conn.execute(insert.execution_options(preserve_rowcount=True)).rowcount  # else -1 on PostgreSQL
    new.drop(conn)
    log.info("metrics: %s: %d rows, %d written, %d stored ones deleted (the rest were stored as they are)",
             table.name, count, written, deleted)
    return count


def _free_rows(table: Table, new: Table, plan: LoadPlan) -> Select[Any]:
    """PostgreSQL: the new rows whose key no stored row holds once the changed ones are deleted.

    The new keys except the stored keys of the run's range (where every new row's day lies), computed
    once as a set, then joined back to the new rows. `NOT EXISTS` per new row probed the
    key index across every stored day (316 ms for one day's 17,857 feature rows at 2,000 accounts; 23 ms
    so); held to the range, it let PostgreSQL, which estimates a day newer than its statistics at one
    row, nest a scan of the day inside the loop (1.1 s for 4,068 guide rows; 50 ms so). SQLite keeps
    `NOT EXISTS`: its probes of the key index run in-process, and the set difference cost it more
    (0.17-0.26 s against under 0.13 s for three days' 42,616 feature rows)."""
    key_names = [c.name for c in table.primary_key.columns]
    free = (select(*(new.c[k] for k in key_names))
            .except_(select(*(table.c[k] for k in key_names))
                     .where(table.c.metric_date.between(plan.first_day, plan.last_day)))
            .subquery("free"))
    return select(new).join(free, and_(*(new.c[k] == free.c[k] for k in key_names)))


def _in_scope(table: Table, plan: LoadPlan, chunk: tuple[str, ...] | None) -> ColumnElement[bool]:
    """The run's stored rows: its range, of its customers (every row in range when None)."""
    in_range = table.c.metric_date.between(plan.first_day, plan.last_day)
    return in_range if chunk is None else and_(in_range, table.c.customer_id.in_(chunk))


def _new_rows_table(table: Table, dialect: str) -> Table:
    """A temporary copy of `table` for a run's new rows. Keyed on SQLite, whose planner would otherwise
    scan it for each stored row. On PostgreSQL `_write` indexes it by the key once it is filled: PostgreSQL
    joins it by hash, but estimates a day written since the table's last ANALYZE at one stored row, and
    then chose a nested loop that scanned the unindexed copy once per stored row (a 20,000-account daily
    run recomputing such a day: 236,000 rows each side, stopped after 9 minutes)."""
    return temp_copy(table, f"cscx_new_{table.name}", keyed=dialect == "sqlite")


def _insert(conn: Connection, duck: duckdb.DuckDBPyConnection, table: Table, source: str,
            into: Table | None = None) -> int:
    """Stream `source` out of DuckDB into `table` (or `into`, a copy of it) in batches, in the order of
    `table`'s primary key; returns the row count.

    In key order each new index entry lands beside the last one, where in DuckDB's hash order it lands
    anywhere in the index: writing a 2,000-account backfill's metrics took 10.7 s instead of 15.6 on
    PostgreSQL (README, Benchmark); DuckDB's sort costs a fraction of that and spills under its limit.
    On PostgreSQL the batches go by one COPY of the CSV Arrow writes; on SQLite by executemany of plain
    tuples through the driver, inside the caller's transaction: SQLAlchemy's per-row parameter
    processing cost more than computing the metrics.
    """
    names = [c.name for c in table.columns]
    keys = ", ".join(c.name for c in table.primary_key.columns)
    reader = duck.execute(f"SELECT {', '.join(names)} FROM {source} ORDER BY {keys}").to_arrow_reader(WRITE_ROWS)
    into = table if into is None else into
    if conn.dialect.name == "postgresql":
        return copy_arrow(conn, into.name, names, reader)
    write = _insert_sqlite if conn.dialect.name == "sqlite" else _insert_generic
    written = 0
    for batch in reader:
        if batch.num_rows:
            write(conn, into, names, batch)
            written += batch.num_rows
    return written


def _insert_generic(conn: Connection, table: Table, names: list[str], batch: pa.RecordBatch) -> None:
    conn.execute(table.insert(), batch.to_pylist())


def _insert_sqlite(conn: Connection, table: Table, names: list[str], batch: pa.RecordBatch) -> None:
    # Dates as ISO text, what SQLAlchemy's SQLite Date type stores.
    columns = [c.cast(pa.string()) if c.type == pa.date32() else c for c in batch.columns]
    sqlite_executemany(conn, table, names, zip(*(c.to_pylist() for c in columns), strict=True))
