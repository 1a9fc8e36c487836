"""Stream the store's activity into DuckDB: only mapped accounts, identified visitors, needed days.

Rows travel in Arrow batches (`store.arrow`: ADBC on PostgreSQL, the Python driver on SQLite), so Python
never holds a whole table; DuckDB runs under a memory limit with a temp directory to spill to. Day
ranges follow the windows: visitor days from `first_day`, and before it (back to `first_day - 89`, the
90-day base) only each visitor's last active day (see `_before_queries`), active hours from
`first_day - 1` (a session running across first_day's midnight started the day before), guide events
from `first_day - 29`, and, for onboarding guides only, the first day of each completion-type event
since ever.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import Engine, Select, case, func, select

from pendo_core.pendo.sync.streams import COMPLETION_TYPES
from pendo_core.store.arrow import ArrowReader, reader, transposed
from pendo_core.store.models import (
    AccountMapping,
    FeatureVisitorDay,
    GuideEvent,
    PageDay,
    PendoFeature,
    PendoGuide,
    PendoGuideStep,
    VisitorDay,
    VisitorHour,
)
from pendo_core.store.scope import chunks, customer_chunks, keep_visitors, mapped
from pendo_core.usage import recency
from pendo_core.usage.onboarding import named_onboarding

GUIDE_TYPES = ("guideSeen", "guideAdvanced", "guideDismissed")

_ARROW = {"VARCHAR": pa.string(), "DATE": pa.date32(), "BIGINT": pa.int64(), "INTEGER": pa.int32()}

# DuckDB tables the loader fills; column order is the order of each store query.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "acct": (("account_id", "VARCHAR"), ("customer_id", "VARCHAR")),
    "vd": (("account_id", "VARCHAR"), ("visitor_id", "VARCHAR"), ("day", "DATE"),
           ("num_events", "BIGINT"), ("num_minutes", "BIGINT")),
    "vd_before": (("account_id", "VARCHAR"), ("visitor_id", "VARCHAR"), ("last_active", "DATE"),
                  ("last_seen", "DATE")),
    "vh": (("account_id", "VARCHAR"), ("visitor_id", "VARCHAR"), ("hour_start", "BIGINT"), ("day", "DATE")),
    "pd": (("account_id", "VARCHAR"), ("page_id", "VARCHAR"), ("day", "DATE"), ("num_events", "BIGINT")),
    "fvd": (("account_id", "VARCHAR"), ("feature_id", "VARCHAR"), ("visitor_id", "VARCHAR"), ("day", "DATE"),
            ("num_events", "BIGINT"), ("num_minutes", "BIGINT")),
    "features": (("feature_id", "VARCHAR"), ("name", "VARCHAR"), ("page_id", "VARCHAR")),
    "steps": (("step_id", "VARCHAR"), ("guide_id", "VARCHAR"), ("rank", "BIGINT")),
    "ge": (("account_id", "VARCHAR"), ("visitor_id", "VARCHAR"), ("guide_id", "VARCHAR"),
           ("step_id", "VARCHAR"), ("event_type", "VARCHAR"), ("day", "DATE")),
    "onb_first": (("account_id", "VARCHAR"), ("guide_id", "VARCHAR"), ("step_id", "VARCHAR"),
                  ("event_type", "VARCHAR"), ("day", "DATE")),
    "onb_guides": (("guide_id", "VARCHAR"),),
}


@dataclass(frozen=True)
class LoadPlan:
    """What one metrics run reads: the reported days, the customers and the visitor rule."""

    first_day: date
    last_day: date
    include_anonymous: bool
    customer_ids: tuple[str, ...] | None
    onboarding_guide_ids: tuple[str, ...] | None
    settled: date | None = None  # the settled rows' day this run writes (every customer's runs only)
    settled_base: date | None = None  # that of the stored settled rows it reads (`recency.settled_base`)

    def back(self, days: int) -> date:
        """`first_day - days`: where a window ending on first_day starts."""
        return self.first_day - timedelta(days=days)

    def grouped_from(self) -> date:
        """The first day grouped before first_day: the 90-day base's, or the settled rows' when earlier."""
        if self.settled is None:
            return self.back(89)
        return min(self.back(89), recency.settled_from(self.settled))


@contextmanager
def duckdb_session(memory_limit: str) -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB bounded by `memory_limit`, spilling to a private temp directory."""
    with tempfile.TemporaryDirectory(prefix="pendo-metrics-") as spill:
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit, "threads": 2, "temp_directory": spill,
            "preserve_insertion_order": False,  # lets large sorts and joins stream and spill
        }
        duck = duckdb.connect(":memory:", config=config)
        try:
            yield duck
        finally:
            duck.close()


def load(engine: Engine, duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> dict[str, int]:
    """Create and fill every DuckDB input table; returns rows loaded per table."""
    for name, columns in TABLES.items():
        duck.execute(f"CREATE TABLE {name} (" + ", ".join(f"{c} {t}" for c, t in columns) + ")")
    onboarding = _onboarding_guides(engine, plan.onboarding_guide_ids)
    copied = dict.fromkeys(TABLES, 0)
    copied["onb_guides"] = _insert_rows(duck, "onb_guides", [(g,) for g in onboarding])
    with reader(engine) as read:
        for table, stmt in _queries(plan, onboarding):
            copied[table] += copy(read, duck, stmt, table)
    # Before first_day the distinct-visitor windows need only each visitor's last active day (see
    # `_before_queries`): one visitor-day row stands for all of them, whatever the pieces grouped apart.
    duck.execute("INSERT INTO vd SELECT account_id, visitor_id, max(last_active), 1, 0 FROM vd_before "
                 "GROUP BY account_id, visitor_id HAVING max(last_active) IS NOT NULL")
    return copied


def copy(read: ArrowReader, duck: duckdb.DuckDBPyConnection, stmt: Select[Any], table: str) -> int:
    """Stream the rows of `stmt` into DuckDB table `table` as Arrow batches; returns the row count.

    The batches come from `store.arrow`: on PostgreSQL from ADBC, with no Python object per value (through
    the Python driver that conversion cost more than DuckDB's whole computation); on SQLite from its driver.
    """
    count = 0
    for batch in read.batches(stmt, _schema(table)):
        _insert_batch(duck, table, batch)
        count += batch.num_rows
    return count


def _schema(table: str) -> pa.Schema:
    return pa.schema([(c, _ARROW[t]) for c, t in TABLES[table]])


def _insert_batch(duck: duckdb.DuckDBPyConnection, table: str, batch: pa.RecordBatch) -> None:
    duck.register("chunk", batch)
    try:
        duck.execute(f"INSERT INTO {table} SELECT * FROM chunk")
    finally:
        duck.unregister("chunk")


def _insert_rows(duck: duckdb.DuckDBPyConnection, table: str, rows: list[tuple[Any, ...]]) -> int:
    if rows:
        schema = _schema(table)
        columns = transposed(rows, len(rows[0]))  # a row wider or narrower than the schema fails below
        _insert_batch(duck, table, pa.RecordBatch.from_arrays(
            [pa.array(values, type=field.type) for values, field in zip(columns, schema, strict=True)],
            schema=schema))
    return len(rows)


def catalogue_queries() -> dict[str, Select[Any]]:
    """What the metrics read of the catalogue (besides the raw rows and the mapping): the features' names
    and pages, the guides' ranked steps, and the guides' names and groups (the default onboarding rule).
    The metrics step digests the same queries to know when the catalogue moved (`usage.job`)."""
    features, steps, guides = PendoFeature.__table__, PendoGuideStep.__table__, PendoGuide.__table__
    return {"features": select(features.c.feature_id, features.c.name, features.c.page_id),
            "steps": select(steps.c.step_id, steps.c.guide_id, steps.c.rank),
            "guides": select(guides.c.guide_id, guides.c.name, guides.c.group_name)}


def _onboarding_guides(engine: Engine, given: tuple[str, ...] | None) -> list[str]:
    """The given ids, else guides whose name or group contains "onboarding" (any case)."""
    if given is not None:
        return sorted(set(given))
    with engine.connect() as conn:
        return named_onboarding(conn.execute(catalogue_queries()["guides"]).tuples())


def _queries(plan: LoadPlan, onboarding: list[str]) -> Iterator[tuple[str, Select[Any]]]:
    """(DuckDB table, store query) pairs, one set per chunk of customers."""
    catalogue = catalogue_queries()
    yield "features", catalogue["features"]
    yield "steps", catalogue["steps"]
    for chunk in customer_chunks(plan.customer_ids):
        yield from _activity_queries(plan, chunk)
        for guide_chunk in chunks(onboarding):
            yield "onb_first", _onboarding_query(plan, chunk, guide_chunk)


def _activity_queries(plan: LoadPlan, chunk: tuple[str, ...] | None) -> Iterator[tuple[str, Select[Any]]]:
    mapping = AccountMapping.__table__
    acct = select(mapping.c.pendo_account_id, mapping.c.customer_id)
    yield "acct", acct if chunk is None else acct.where(mapping.c.customer_id.in_(chunk))
    vd, vh = VisitorDay.__table__, VisitorHour.__table__
    yield "vd", _scoped(plan, chunk, vd, plan.first_day, select(
        vd.c.account_id, vd.c.visitor_id, vd.c.day, vd.c.num_events, vd.c.num_minutes))
    for stmt in _before_queries(plan, chunk):
        yield "vd_before", stmt
    yield "vh", _scoped(plan, chunk, vh, plan.back(1), select(
        vh.c.account_id, vh.c.visitor_id, vh.c.hour_start, vh.c.day).where(vh.c.num_events > 0))
    pd, fvd = PageDay.__table__, FeatureVisitorDay.__table__
    # Page days have no visitor: the anonymous rule cannot apply at account grain.
    yield "pd", mapped(select(pd.c.account_id, pd.c.page_id, pd.c.day, pd.c.num_events), pd.c.account_id,
                       chunk).where(pd.c.day.between(plan.first_day, plan.last_day))
    yield "fvd", _scoped(plan, chunk, fvd, plan.first_day, select(
        fvd.c.account_id, fvd.c.feature_id, fvd.c.visitor_id, fvd.c.day, fvd.c.num_events, fvd.c.num_minutes))
    ge = GuideEvent.__table__
    yield "ge", _scoped(plan, chunk, ge, plan.back(29), select(
        ge.c.account_id, ge.c.visitor_id, ge.c.guide_id, ge.c.step_id, ge.c.event_type, ge.c.day,
    ).where(ge.c.event_type.in_(GUIDE_TYPES)).distinct())


def _before_queries(plan: LoadPlan, chunk: tuple[str, ...] | None) -> Iterator[Select[Any]]:
    """The visitor days before first_day, grouped (`_last_active_between`) over consecutive pieces.

    Before first_day only the distinct-visitor windows read visitor days, and a window ending on a
    reported day reaches a visitor's earlier activity exactly when it reaches the last of it; so one row
    per piece (1 event, 0 minutes: never summed) stands for all of them (`load`).

    A run writing settled rows (`usage.recency`) groups the days up to its settled day apart from those
    after it, and from as far back as those rows reach; with stored settled rows to read
    (`plan.settled_base`), they stand for every grouped day up to their own settled day.
    """
    before = plan.first_day - timedelta(days=1)
    if plan.settled is None:
        yield _last_active_between(plan, chunk, plan.back(89), before)
        return
    cut = min(before, plan.settled)
    if plan.settled_base is None:
        yield _last_active_between(plan, chunk, plan.grouped_from(), cut)
    else:
        yield recency.settled_rows(plan.grouped_from())
        if plan.settled_base < cut:
            yield _last_active_between(plan, chunk, plan.settled_base + timedelta(days=1), cut)
    if cut < before:
        yield _last_active_between(plan, chunk, cut + timedelta(days=1), before)


def _last_active_between(plan: LoadPlan, chunk: tuple[str, ...] | None, since: date, until: date) -> Select[Any]:
    """Per account and visitor with a row in [since, until]: its last active day there (None: no events)
    and its last day with a row (the people lookback's "seen", `usage.recency`); the store groups."""
    vd = VisitorDay.__table__
    last_active = func.max(case((vd.c.num_events > 0, vd.c.day)))
    stmt = select(vd.c.account_id, vd.c.visitor_id, last_active, func.max(vd.c.day))
    stmt = mapped(stmt, vd.c.account_id, chunk).where(vd.c.day.between(since, until))
    return keep_visitors(stmt, vd.c.visitor_id, plan.include_anonymous).group_by(vd.c.account_id, vd.c.visitor_id)


def _scoped(plan: LoadPlan, chunk: tuple[str, ...] | None, table: Any, since: date,
            stmt: Select[Any]) -> Select[Any]:
    """`stmt` over `table` limited to mapped accounts, kept visitors and days [since, last_day]."""
    stmt = mapped(stmt, table.c.account_id, chunk).where(table.c.day.between(since, plan.last_day))
    return keep_visitors(stmt, table.c.visitor_id, plan.include_anonymous)


def _onboarding_query(plan: LoadPlan, chunk: tuple[str, ...] | None, guides: tuple[str, ...]) -> Select[Any]:
    """Earliest day of each completion-type event of onboarding guides, per account and step."""
    ge = GuideEvent.__table__
    stmt = select(ge.c.account_id, ge.c.guide_id, ge.c.step_id, ge.c.event_type, func.min(ge.c.day))
    stmt = mapped(stmt, ge.c.account_id, chunk).where(
        ge.c.guide_id.in_(guides), ge.c.event_type.in_(COMPLETION_TYPES), ge.c.day <= plan.last_day)
    stmt = keep_visitors(stmt, ge.c.visitor_id, plan.include_anonymous)
    return stmt.group_by(ge.c.account_id, ge.c.guide_id, ge.c.step_id, ge.c.event_type)
