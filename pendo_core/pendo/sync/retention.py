"""Retention of raw usage rows: after a successful sync, rows older than RAW_RETENTION_DAYS go.

The raw tables (visitor days and hours, page days, feature rows, guide events) are what metrics are
computed from; the metrics themselves are never purged. The cut-off is `as_of - RAW_RETENTION_DAYS`,
so the days kept are the RAW_RETENTION_DAYS ending on the last reported day, and the setting's floor
(`raw_retention_floor`) keeps every row a daily run's restatement, a page or an alert rule reads.

- Guide events keep, past the cut-off, the first completion-type event (seen, advanced) of each
  visitor, guide step and account: onboarding progress counts a step from its first completion ever.
- The sync coverage is kept, so a purged day is still final and is never read from Pendo again.
- The watermark RAW_KEPT_FROM (the cut-off) is raised before the first row goes; the metrics and health
  steps never restate a day whose inputs reach before it (`restatable_from`): such a day keeps the
  metrics stored for it, and the run logs that.
- One transaction per table and chunk of accounts; a purge that stops half-way leaves fewer rows to
  delete next time and nothing else.
"""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine, Table, and_, delete, func, not_, select
from sqlalchemy.orm import Session

from pendo_core.common.config import METRICS_REACH_DAYS, Settings
from pendo_core.pendo.sync import digests, store
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest
from pendo_core.pendo.sync.streams import COMPLETION_TYPES, EVENT_STREAMS
from pendo_core.store import models
from pendo_core.store.scope import chunks

log = logging.getLogger("pendo_core.pendo.sync.retention")
RAW_KEPT_FROM = "raw_kept_from"  # first day whose raw rows are all kept


def make_retention_step(settings: Settings) -> PostStep:
    """The post-sync step that purges raw rows past RAW_RETENTION_DAYS (nothing when it is unset)."""

    def retention_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        """Purge the raw rows older than the retention (see the module docstring)."""
        if settings.raw_retention_days is not None:
            summary.purged = purge(engine, request.as_of - timedelta(days=settings.raw_retention_days),
                                   fence=store.run_fence(summary.run_id))

    return retention_step


def purge(engine: Engine, cutoff: date, *, fence: store.Fence = store.unfenced) -> dict[str, int]:
    """Delete the raw rows of days before `cutoff`, one transaction per table and account chunk;
    returns the rows deleted per stream. `fence` (a sync run's): called first in each transaction, it
    refuses to go on once a newer run has started (which may be writing those days again)."""
    with Session(engine) as session, session.begin():
        fence(session.connection())
        kept_from = kept_from_day(session)
        if kept_from is None or cutoff > kept_from:
            store.set_watermark(session, RAW_KEPT_FROM, cutoff.isoformat())
        digests.forget(session, None, last=cutoff - timedelta(days=1))
    deleted = {}
    for stream in EVENT_STREAMS:
        deleted[stream.name] = _purge_table(engine, stream.table, cutoff, fence)
    if any(deleted.values()):
        log.info("raw rows before %s purged: %s", cutoff, ", ".join(f"{k} {v:,}" for k, v in deleted.items()))
    return deleted


def _purge_table(engine: Engine, table: Table, cutoff: date, fence: store.Fence) -> int:
    """Rows of days before `cutoff` deleted from `table`, a chunk of its accounts at a time."""
    # The day (the raw days' key leads with it, the others have a day index) finds the old rows' accounts;
    # deduplicated here, as with DISTINCT SQLite would rather scan a whole index (a daily purge meets one day's
    # rows).
    with engine.connect() as conn:
        accounts = sorted(set(conn.execute(select(table.c.account_id).where(table.c.day < cutoff)).scalars()))
    deleted = 0
    for chunk in chunks(accounts):
        with Session(engine) as session, session.begin():
            fence(session.connection())
            result: Any = session.execute(_old_rows(table, cutoff, chunk))
            deleted += int(result.rowcount or 0)
    return deleted


def _old_rows(table: Table, cutoff: date, accounts: tuple[str, ...]) -> Any:
    stmt = delete(table).where(table.c.account_id.in_(accounts), table.c.day < cutoff)
    if table.name == models.GuideEvent.__tablename__:
        stmt = stmt.where(not_(_first_completion(table)))
    return stmt


def _first_completion(ge: Table) -> Any:
    """A completion-type event on the first day its (visitor, guide, step, type, account) ever had one."""
    earlier = ge.alias("earlier")
    same = [earlier.c[c] == ge.c[c] for c in ("visitor_id", "guide_id", "step_id", "event_type", "account_id")]
    first_day = select(func.min(earlier.c.day)).where(*same).scalar_subquery()
    return and_(ge.c.event_type.in_(COMPLETION_TYPES), ge.c.day == first_day)


def kept_from_day(session: Session) -> date | None:
    """The first day whose raw rows are all kept, None when nothing was ever purged."""
    value = store.get_watermark(session, RAW_KEPT_FROM)
    return date.fromisoformat(value) if value else None


def restatable_from(engine: Engine) -> date | None:
    """The first day whose metrics can still be computed from raw rows (None: any day)."""
    with Session(engine) as session:
        kept_from = kept_from_day(session)
    return None if kept_from is None else kept_from + timedelta(days=METRICS_REACH_DAYS)


def clamp_restatement(engine: Engine, first: date, last: date, what: str) -> date:
    """`first`, or the first restatable day when raw rows before it were purged (logged)."""
    floor = restatable_from(engine)
    if floor is None or first >= floor or last < first:
        return first
    log.warning("%s: days %s..%s keep their stored figures; their raw rows before %s were purged (RAW_RETENTION_DAYS)",
         what, first, min(last, floor - timedelta(days=1)), floor - timedelta(days=METRICS_REACH_DAYS))
    return floor
