"""Whether the pages' read models still match the metrics and scores they were built from.

The transaction that replaces metrics (`compute._replace`) marks the customer snapshot and the
Portfolio days stale, the one that replaces health scores (`health.job.score_ranges`) marks the
Portfolio days stale; the step that rebuilds a model clears its mark in the transaction of the
rebuild. Readers use a model only while it is unmarked, so a run that fails or is killed after the
metrics and before the rebuild leaves the pages on the live queries, never on yesterday's model.
The marks live in `pendo_sync_watermarks`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Connection, delete, insert, select

from pendo_core.store.models import SyncWatermark

SNAPSHOT = "read_model_stale:snapshot"
PORTFOLIO = "read_model_stale:portfolio_days"


def mark_stale(conn: Connection, *models: str) -> None:
    """Inside the caller's transaction: the models no longer match what it writes."""
    conn.execute(delete(SyncWatermark).where(SyncWatermark.stream.in_(models)))
    conn.execute(insert(SyncWatermark), [{"stream": m, "value": "stale", "updated_at": datetime.now(UTC)}
                                         for m in models])


def mark_fresh(conn: Connection, model: str) -> None:
    """Inside the rebuild's transaction: the model matches the stored metrics and scores again."""
    conn.execute(delete(SyncWatermark).where(SyncWatermark.stream == model))


def is_stale(conn: Connection, model: str) -> bool:
    """True while a write the model depends on has committed without its rebuild."""
    return conn.execute(select(SyncWatermark.value).where(SyncWatermark.stream == model)).first() is not None
