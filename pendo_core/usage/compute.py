"""One metrics run: load activity into DuckDB, compute every metric table, replace the stored rows.

The store write is one transaction: delete the reported range of the run's customers (every row
in the range when the run covers every customer, so customers that lost their mapping lose their
rows too), then insert the new rows in batches. Rerunning the same range is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

import duckdb
from sqlalchemy import Connection, Engine, Table

from pendo_core.store.models import Base, FeatureUsage, GuideMetric, OnboardingProgress, UsageMetric
from pendo_core.store.scope import customer_chunks
from pendo_core.usage.features import build_features
from pendo_core.usage.guides import build_guides, build_onboarding
from pendo_core.usage.loader import LoadPlan, duckdb_session, load
from pendo_core.usage.usage import build_usage
from pendo_core.usage.windows import create_calendar

WRITE_ROWS = 5_000

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
) -> MetricsResult:
    """Recompute every metric of [first_day, last_day] for the customers (default: all mapped) and
    replace their stored rows in that range, in one transaction."""
    if last_day < first_day:
        raise ValueError(f"last_day {last_day} is before first_day {first_day}: pass an ordered range")
    plan = LoadPlan(
        first_day=first_day,
        last_day=last_day,
        include_anonymous=include_anonymous,
        customer_ids=None if customer_ids is None else tuple(customer_ids),
        onboarding_guide_ids=None if onboarding_guide_ids is None else tuple(onboarding_guide_ids),
    )
    with duckdb_session(memory_limit) as duck:
        log.info("metrics %s..%s: loaded %s", first_day, last_day, load(engine, duck, plan))
        create_calendar(duck, first_day, last_day)
        sources = (build_usage(duck, plan), build_features(duck), build_guides(duck), build_onboarding(duck))
        result = _replace(engine, duck, plan, sources)
    log.info("metrics %s..%s: wrote %s", first_day, last_day, result)
    return result


_MODELS = (UsageMetric, FeatureUsage, GuideMetric, OnboardingProgress)
_TARGETS: tuple[Table, ...] = tuple(Base.metadata.tables[model.__tablename__] for model in _MODELS)


def _replace(engine: Engine, duck: duckdb.DuckDBPyConnection, plan: LoadPlan,
             sources: tuple[str, str, str, str]) -> MetricsResult:
    with engine.begin() as conn:
        for table in _TARGETS:
            _delete_range(conn, table, plan)
        pairs = zip(_TARGETS, sources, strict=True)
        written = [_insert(conn, duck, table, source) for table, source in pairs]
    return MetricsResult(*written)


def _delete_range(conn: Connection, table: Table, plan: LoadPlan) -> None:
    in_range = table.c.metric_date.between(plan.first_day, plan.last_day)
    for chunk in customer_chunks(plan.customer_ids):
        stmt = table.delete().where(in_range)
        conn.execute(stmt if chunk is None else stmt.where(table.c.customer_id.in_(chunk)))


def _insert(conn: Connection, duck: duckdb.DuckDBPyConnection, table: Table, source: str) -> int:
    """Stream `source` out of DuckDB into `table` in batches; returns the row count."""
    columns = ", ".join(c.name for c in table.columns)
    reader = duck.execute(f"SELECT {columns} FROM {source}").to_arrow_reader(WRITE_ROWS)
    written = 0
    for batch in reader:
        rows = batch.to_pylist()
        if rows:
            conn.execute(table.insert(), rows)
            written += len(rows)
    return written
