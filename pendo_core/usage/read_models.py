"""Whether the pages' read models still match the metrics and scores they were built from.

The transaction that replaces metrics (`compute._replace`) marks the customer snapshot and the
Portfolio days stale, the one that replaces health scores (`health.job.score_ranges`) marks the
Portfolio days stale; the step that rebuilds a model clears its mark in the transaction of the
rebuild. Readers use a model only while it is unmarked, so a run that fails or is killed after the
metrics and before the rebuild leaves the pages on the live queries, never on yesterday's model.
A mark also says from which day the rows moved (the earliest of every write since the last rebuild;
"all" when a writer did not say), so a rebuild can rewrite those days only. The marks live in
`pendo_sync_watermarks`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Connection, delete, insert, select

from pendo_core.store.models import SyncWatermark

SNAPSHOT = "read_model_stale:snapshot"
PORTFOLIO = "read_model_stale:portfolio_days"
EVERY_DAY = date.min  # stale_since's answer when a write did not say which days it moved


def mark_stale(conn: Connection, *models: str, first_day: date | None = None) -> None:
    """Inside the caller's transaction: the models no longer match what it writes, from `first_day` on
    (None: any day). A model already marked keeps the earlier of the two days."""
    for model in models:
        since = stale_since(conn, model)
        day = first_day or EVERY_DAY
        day = day if since is None else min(since, day)
        conn.execute(delete(SyncWatermark).where(SyncWatermark.stream == model))
        conn.execute(insert(SyncWatermark).values(stream=model, updated_at=datetime.now(UTC),
                                                  value="all" if day == EVERY_DAY else day.isoformat()))


def stale_since(conn: Connection, model: str) -> date | None:
    """The earliest day whose rows moved since the model's last rebuild (EVERY_DAY: any); None: fresh."""
    value = conn.execute(select(SyncWatermark.value).where(SyncWatermark.stream == model)).scalar()
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # "all", or a mark written before marks carried a day
        return EVERY_DAY


def mark_fresh(conn: Connection, model: str) -> None:
    """Inside the rebuild's transaction: the model matches the stored metrics and scores again."""
    conn.execute(delete(SyncWatermark).where(SyncWatermark.stream == model))


def is_stale(conn: Connection, model: str) -> bool:
    """True while a write the model depends on has committed without its rebuild."""
    return stale_since(conn, model) is not None
