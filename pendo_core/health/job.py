"""Compute and store the health scores of a range of days: one row per customer and scored day.

A day is scored for a customer when its `pendo_usage_metrics` row exists (a synced day). The
write replaces the range's rows of the customers in one transaction (every row of the range when
all customers are scored), so recomputing a day with the same settings gives the same row.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, Text, bindparam, select
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings, current_settings
from pendo_core.health.grid import ScoredGrid, score_grid
from pendo_core.health.inputs import HealthInputs, key_feature_ids, load_inputs
from pendo_core.health.score import COMPONENTS
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.retention import clamp_restatement
from pendo_core.pendo.sync.runner import SCORES_STALE_FROM
from pendo_core.store.bulk import copy_text_rows, refresh_statistics
from pendo_core.store.models import HealthScore
from pendo_core.store.scope import customer_chunks
from pendo_core.usage import read_models

if TYPE_CHECKING:
    from pendo_core.common.config import Settings
    from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest

WRITE_ROWS = 5_000
WRITE_CUSTOMERS = 1_000  # customers whose rows are built and written at a time
_JSON_COLUMNS = ("weights", "inputs")
_scores: Table = HealthScore.__table__  # type: ignore[assignment]


@dataclass(frozen=True)
class HealthResult:
    """What one health run wrote."""

    rows: int
    first_day: date
    last_day: date
    settings_version: int


@dataclass(frozen=True)
class ScoreRange:
    """Days [first, last] to score for some customers (None: every customer)."""

    first: date
    last: date
    customer_ids: Collection[str] | None = None


def compute_health(engine: Engine, first_day: date, last_day: date, *, app_settings: AppSettings | None = None,
                   settings_version: int | None = None, customer_ids: Collection[str] | None = None,
                   include_anonymous: bool = False) -> HealthResult:
    """Score [first_day, last_day] (default settings: the newest saved version) and replace the rows."""
    part = ScoreRange(first_day, last_day, customer_ids)
    rows, version = score_ranges(engine, [part], app_settings=app_settings, settings_version=settings_version,
                                 include_anonymous=include_anonymous)
    return HealthResult(rows, first_day, last_day, version)


def score_ranges(engine: Engine, parts: Sequence[ScoreRange], *, app_settings: AppSettings | None = None,
                 settings_version: int | None = None, include_anonymous: bool = False,
                 fence: store.Fence = store.unfenced) -> tuple[int, int]:
    """Score each part and replace its rows, all in one transaction; (rows written, settings version).
    `fence` (a sync run's): called first in that transaction, it refuses the write once a newer run started."""
    for part in parts:
        if part.last < part.first:
            raise ValueError(f"last_day {part.last} is before first_day {part.first}: pass an ordered range")
    version, settings = _settings(engine, app_settings, settings_version)
    keys = key_feature_ids(engine, settings.health.key_feature_ids)
    weights = settings.health.weights.as_dict()
    scored = []
    for part in parts:
        inputs = load_inputs(engine, part.first, part.last, keys=keys, customer_ids=part.customer_ids,
                             include_anonymous=include_anonymous)
        scored.append((inputs, score_grid(inputs, settings.health)))
    with engine.begin() as conn:
        fence(conn)
        # the Portfolio days average these scores
        read_models.mark_stale(conn, read_models.PORTFOLIO, first_day=min(part.first for part in parts))
        for part in parts:
            _delete_range(conn, part.first, part.last, part.customer_ids)
        written = sum(_insert(conn, _columns(inputs, grid, version, weights, rows))
                      for inputs, grid in scored for rows in _row_slices(len(inputs.grid.customers)))
        refresh_statistics(conn, [HealthScore.__tablename__])  # the alerts and pages read them next
    return written, version


def _row_slices(customers: int) -> list[slice]:
    """The grid's customers WRITE_CUSTOMERS at a time: the rows are built as Python objects per slice, so
    memory holds one slice's rows, not the run's (20,000 customers * 90 days were 1.8 M rows)."""
    return [slice(i, i + WRITE_CUSTOMERS) for i in range(0, customers, WRITE_CUSTOMERS)]


def health_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
    """Post-metrics sync step: score every day whose metrics changed, and any day not scored yet."""
    _score_run(engine, summary, include_anonymous=False)


def make_health_step(settings: Settings) -> PostStep:
    """health_step honouring INCLUDE_ANONYMOUS for key-feature breadth (as the metrics do)."""

    def step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        _score_run(engine, summary, include_anonymous=settings.include_anonymous)

    return step


def _score_run(engine: Engine, summary: RunSummary, *, include_anonymous: bool) -> None:
    """Every customer from the first moved (or unscored) day; the remapped ones over the whole range."""
    with Session(engine) as session:
        kept = store.stale_score_customers(session)
    parts = run_ranges(engine, summary, list(kept))
    if not parts:  # an empty reported range: nothing scored, so nothing is forgotten
        return
    fence = store.run_fence(summary.run_id)
    score_ranges(engine, parts, include_anonymous=include_anonymous, fence=fence)
    with Session(engine) as session, session.begin():
        fence(session.connection())  # a newer run may have lowered the mark since
        store.clear_watermark(session, SCORES_STALE_FROM)  # every moved day is scored now
        # ... and every kept customer's range; those whose metrics are not yet written for their version
        # (mapped again meanwhile) wait for the next run's metrics and scores
        store.forget_stale_score_customers(session, {c: version for c, (version, written) in kept.items()
                                                     if written == version})


def run_ranges(engine: Engine, summary: RunSummary, kept: Sequence[str] = ()) -> list[ScoreRange]:
    """What a run's health step scores (none when the reported range is empty), `kept` being the customers
    kept for a whole-range score (`pendo.sync.store.keep_stale_score_customers`)."""
    first, last = summary.report_first, summary.report_last
    if last < first:
        return []
    start = max(first, min(summary.metrics_first or first, _first_unscored(engine, first, last) or last,
                           _scores_stale_from(engine) or last))
    start = clamp_restatement(engine, start, last, "health scores")
    parts = [ScoreRange(start, last)] if start <= last else []
    stale = sorted({*summary.metrics_stale, *kept})
    since = clamp_restatement(engine, first, last, f"health scores of {len(stale)} remapped customer(s)") \
        if stale else first
    if stale and start > since:  # their metrics moved over the whole (restatable) range
        parts.append(ScoreRange(since, start - timedelta(days=1), stale))
    return parts


def _settings(engine: Engine, given: AppSettings | None, version: int | None) -> tuple[int, AppSettings]:
    if given is not None:
        return (version or 0), given
    with Session(engine) as session:
        return current_settings(session)


def _scores_stale_from(engine: Engine) -> date | None:
    """The first day whose metrics moved since the health step last scored, as the metrics step keeps it: a
    run that stopped between the two left its moved days unscored (their old scores stand)."""
    with Session(engine) as session:
        day = store.get_watermark(session, SCORES_STALE_FROM)
    return date.fromisoformat(day) if day else None


def _first_unscored(engine: Engine, first: date, last: date) -> date | None:
    stmt = select(_scores.c.score_date).where(_scores.c.score_date.between(first, last)).distinct()
    with engine.connect() as conn:
        scored = set(conn.execute(stmt).scalars())
    day = first
    while day <= last:
        if day not in scored:
            return day
        day += timedelta(days=1)
    return None


def _columns(inputs: HealthInputs, scored: ScoredGrid, version: int, weights: dict[str, float],
             rows: slice) -> dict[str, list[Any]]:
    """Table column -> values, one per scored (customer, day) of the grid's `rows`, built with numpy; JSON as
    text."""
    customers, days = np.nonzero(scored.has_row[rows])
    customers += rows.start
    first = inputs.grid.day(inputs.grid.days - scored.has_row.shape[1])
    names = [inputs.grid.customers[i] for i in customers.tolist()]
    raw = {n: _column(v[customers, days], 4) for n, v in scored.inputs.items()}
    raw["key_features"] = [inputs.key_count] * len(names)
    return {
        "customer_id": names,
        "score_date": [first + timedelta(days=d) for d in days.tolist()],
        **{n: _column(scored.components[n][customers, days], 2) for n in COMPONENTS},
        "overall": _column(scored.overall[customers, days], 2),
        "band": scored.band[customers, days].tolist(),
        "coverage": np.round(scored.coverage[customers, days], 4).tolist(),
        "settings_version": [version] * len(names),
        "weights": [json.dumps(weights)] * len(names),
        "inputs": _json_objects(raw),
    }


def _column(values: np.ndarray, digits: int) -> list[float | None]:
    """Rounded floats with None for NaN (and for infinities, which JSON cannot carry)."""
    rounded = np.round(values.astype(float), digits)
    return [v if math.isfinite(v) else None for v in rounded.tolist()]


def _json_objects(columns: dict[str, list[Any]]) -> list[str]:
    """One JSON object text per row; far faster than json.dumps per row for flat numeric rows."""
    parts = [[f'"{key}": ' + ("null" if v is None else repr(v)) for v in values] for key, values in columns.items()]
    return ["{" + ", ".join(row) + "}" for row in zip(*parts, strict=True)]


def _delete_range(conn: Connection, first: date, last: date, customer_ids: Collection[str] | None) -> None:
    for chunk in customer_chunks(customer_ids):
        stmt = _scores.delete().where(_scores.c.score_date.between(first, last))
        conn.execute(stmt if chunk is None else stmt.where(_scores.c.customer_id.in_(chunk)))


def _insert(conn: Connection, columns: dict[str, list[Any]]) -> int:
    """Write the rows: COPY on PostgreSQL, batched executemany elsewhere."""
    rows = list(zip(*columns.values(), strict=True))
    if conn.dialect.name == "postgresql":
        return copy_text_rows(conn, _scores.name, list(columns), rows)  # JSON text parsed into jsonb there
    # JSON columns arrive as text: bind them as text so they are not serialised a second time.
    json_text = {name: bindparam(f"{name}_text", type_=Text) for name in _JSON_COLUMNS}
    stmt = _scores.insert().values(**json_text)
    keys = [f"{c}_text" if c in _JSON_COLUMNS else c for c in columns]
    for start in range(0, len(rows), WRITE_ROWS):
        conn.execute(stmt, [dict(zip(keys, row, strict=True)) for row in rows[start : start + WRITE_ROWS]])
    return len(rows)

