"""The customer snapshot: a read model of the windows the wide pages read, refreshed by every sync.

At 5,000 customers the Portfolio, My customers, Account usage and Feature adoption each read every
customer's usage windows ending on the newest day: grouped scans of a quarter of a million daily
rows, over 300 ms cold. The sync's snapshot step (`snapshot_job.py`, in `pipeline.run.STEPS` right after
the metrics) runs those same live queries once and keeps their raw results here, one row per
customer, for that one day (`pendo_customer_snapshots`, the newest `as_of` only):

| columns | live query they hold (for `as_of`) | rows that query returns |
| --- | --- | --- |
| dau, wau, mau, active_visitors | the day's stored values | |
| week_sum/_n, recent_sum/_n, prior_sum/_n | `queries.measure_sums` (28-day trend windows) | `in_measures` |
| week_dau, week_wau, sessions, minutes, page_views, feature_events, week_sum/_n | `queries.week_sums` | `in_week` |
| usage_weeks (JSON list), mau | `queries.weekly_wau` (WAU of 12 week ends) | `in_weeks` |
| last_active | `queries.last_active_days` | last_active not NULL |

Beside it, `pendo_feature_snapshots` holds `feature_queries.feature_days` of the same day (one row per
customer and feature used in the 30 days), written in the same transaction and read under the same
`holds` (Feature adoption's peer ranks: days of use of every customer of a segment).

Readers ask `holds(engine, day)` first and read the live query when the snapshot is of another day
(a date range ending earlier, a store the sync has not snapshotted yet), so an answer never depends
on which path served it; tests compare both paths on both stores.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from pendo_core.store.models import CustomerSnapshot, FeatureSnapshot
from pendo_core.usage import read_models

TABLE = CustomerSnapshot
FEATURES = FeatureSnapshot


def holds(engine: Engine, day: date) -> bool:
    """True when the snapshot is of `day` and no metrics were replaced since it was built (the readers
    then read it instead of the live query; see read_models.py)."""
    with engine.connect() as conn:
        if read_models.is_stale(conn, read_models.SNAPSHOT):
            return False
        return conn.execute(select(TABLE.as_of).where(TABLE.as_of == day).limit(1)).first() is not None
