"""The snapshot step of a sync: refresh the customer snapshot (`snapshot.py`) for the run's last day.

It runs the live queries the wide pages would run (`queries.measure_sums`, `week_sums`,
`weekly_wau_live`, `last_active_live`, and `feature_queries.feature_days_live`) once, after the metrics,
and replaces the tables' rows with their results for that day, in one transaction: the pages then read
one row per customer (and per customer and feature).
"""

from __future__ import annotations

import json
import math
from datetime import date
from itertools import repeat
from typing import Any

import pandas as pd
from sqlalchemy import Engine, delete, insert

from pendo_core.common.config import Settings
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest
from pendo_core.pendo.sync.store import Fence, run_fence, unfenced
from pendo_core.store import models
from pendo_core.store.bulk import insert_rows
from pendo_core.usage import feature_queries, queries, read_models, snapshot

_ON_DAY = ("dau", "wau", "mau", "active_visitors")
_SUMS = ("week_sum", "week_n", "recent_sum", "recent_n", "prior_sum", "prior_n")
_WEEK = {"week_dau": "dau", "week_wau": "wau", "sessions": "sessions", "minutes": "minutes",
         "page_views": "page_views", "feature_events": "feature_events"}
_FLOATS = {"week_dau", "week_wau"}


def refresh_snapshot(engine: Engine, day: date, *, fence: Fence = unfenced) -> int:
    """Replace the snapshot with the live windows ending `day`; returns the customers written. `fence` (a
    sync run's): called first in the writing transaction, it refuses the write once a newer run started."""
    rows = snapshot_rows(engine, day)
    features = feature_queries.feature_days_live(engine, day)
    with engine.begin() as conn:
        fence(conn)
        conn.execute(delete(snapshot.TABLE))
        conn.execute(delete(snapshot.FEATURES))
        if rows:
            conn.execute(insert(snapshot.TABLE), rows)
        insert_rows(conn, models.table_of(snapshot.FEATURES), ("as_of", "customer_id", "feature_id", "days_used"),
                    zip(repeat(day), *(features[c].tolist() for c in feature_queries.DAYS_COLUMNS), strict=False))
        read_models.mark_fresh(conn, read_models.SNAPSHOT)
    return len(rows)


def snapshot_rows(engine: Engine, day: date) -> list[dict[str, Any]]:
    """One row per customer any of the live queries returns for `day`, with its flags."""
    sums = _by_customer(queries.measure_sums(engine, day))
    week = _by_customer(queries.week_sums(engine, day))
    weeks = _by_customer(queries.weekly_wau_live(engine, day))
    active = _by_customer(queries.last_active_live(engine, day))
    rows = []
    for customer_id in sorted(sums.keys() | week.keys() | weeks.keys() | active.keys()):
        s, w, k = sums.get(customer_id), week.get(customer_id), weeks.get(customer_id)
        row: dict[str, Any] = {"as_of": day, "customer_id": customer_id, "in_measures": s is not None,
                               "in_week": w is not None, "in_weeks": k is not None}
        # The day's values are the same row's in every query that has the customer (NULL: no row that day).
        on_day = s or w or {}
        row.update({c: _int(on_day.get(c)) for c in _ON_DAY})
        if k is not None and row["mau"] is None:
            row["mau"] = _int(k["mau"])
        row.update({c: _int(s[c]) if s else (0 if c.endswith("_n") else None) for c in _SUMS})
        row.update({c: (_float if c in _FLOATS else _int)(w[src]) if w else None for c, src in _WEEK.items()})
        row["usage_weeks"] = json.dumps(k["usage_weeks"]) if k is not None else None
        row["last_active"] = active[customer_id]["last_active"] if customer_id in active else None
        rows.append(row)
    return rows


def snapshot_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
    """Post-metrics sync step: the snapshot of the run's last reported day (the pages' "data through")."""
    if summary.report_last >= summary.report_first:
        refresh_snapshot(engine, summary.report_last, fence=run_fence(summary.run_id))


def make_snapshot_step(settings: Settings) -> PostStep:
    """snapshot_step (it reads only the stored metrics: no setting changes it)."""
    return snapshot_step


def _by_customer(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    return {str(r["customer_id"]): r for r in frame.to_dict("records")}


def _int(value: Any) -> int | None:
    return None if _missing(value) else int(value)


def _float(value: Any) -> float | None:
    return None if _missing(value) else float(value)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT
