"""Each visitor's last active and last seen day, written with the metrics for the champion rule.

The champion rule (alerts/champions.py) asks, per customer, about each visitor of the people lookback
(90 days ending on the last day): its last active day there, whether it was active in the rule's window,
and whether it has a row there at all (what `people` matches lowercased ids among). Grouping 90 days of
visitor days by customer and visitor took the alert step 25 s of a 20,000-account daily run (README,
Benchmark). The metrics step reads those days anyway (from first_day row by row, before it grouped per
visitor: `loader._before_queries`), so it writes per mapped account and visitor its last active day
and last day with a row, as of its last day (`pendo_visitor_recency`, rows seen in the DAYS ending then).

The rows hold for one last day, one visitor rule (anonymous visitors or not) and one set of mapped
accounts, which the watermark `visitor_recency` names; `usable` says whether they are the alerts': also
no window may have written since the metrics were computed. Else the alerts group the visitor days as
before (`people_queries.last_active_per_visitor`), which the tests hold these rows to.

The settled rows (`pendo_visitor_settled`) are the same two days per account and visitor over the
SETTLED_DAYS ending the *settled* day, the metrics' last day minus the lookback: days a daily run no longer
re-reads. A metrics run groups the 89 days before its first day (`loader._before_queries`); when its first
day, and the first raw day any window changed since the rows were written (METRICS_STALE_FROM, which the
metrics step passes on: `usage.job`), are after the stored settled day, the rows stand for every grouped
day up to it, so only the few days after it are grouped again (`settled_base` says when). 18 s of a
20,000-account daily run went to that grouping.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import duckdb
from sqlalchemy import Connection, Engine, Select, case, func, select
from sqlalchemy.orm import Session

from pendo_core.common.timeutil import parse_day_range
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.retention import RAW_KEPT_FROM
from pendo_core.pendo.sync.runner import METRICS_RANGE, METRICS_STALE_FROM
from pendo_core.store.models import AccountMapping, VisitorRecency, VisitorSettled, table_of
from pendo_core.store.scope import IN_CHUNK

DAYS = 90  # the days ending on the last day whose rows the table covers: the people lookback at most
WATERMARK = "visitor_recency"
TABLE = table_of(VisitorRecency)
SETTLED_DAYS = 89  # the days ending the settled day the settled rows cover: a later first day groups no earlier day
SETTLED_WATERMARK = "visitor_settled"
SETTLED_TABLE = table_of(VisitorSettled)
_mapping = AccountMapping.__table__


def build_recency(duck: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> str:
    """Create the rows in DuckDB from the loaded visitor days (`vd` from first_day, `vd_before` grouped
    before it); returns the name of the table holding them."""
    duck.execute("""
        CREATE TABLE recency_rows AS
        SELECT account_id, visitor_id, max(last_active) AS last_active, max(last_seen) AS last_seen
        FROM (SELECT account_id, visitor_id, last_active, last_seen FROM vd_before
              UNION ALL
              SELECT account_id, visitor_id, CASE WHEN num_events > 0 THEN day END, day FROM vd WHERE day >= ?)
        GROUP BY account_id, visitor_id
        HAVING max(last_seen) >= ?
    """, [first_day, last_day - timedelta(days=DAYS - 1)])
    return "recency_rows"


def loaded_keys(duck: duckdb.DuckDBPyConnection, include_anonymous: bool,
                days: Sequence[date | None]) -> list[str | None]:
    """The watermarks of rows as of each of `days` (None: no rows) built from what was loaded (`acct`: the
    mapped accounts, read once)."""
    accounts = _digest({a for (a,) in duck.execute("SELECT DISTINCT account_id FROM acct").fetchall()})
    return [None if day is None else _key(day, include_anonymous, accounts) for day in days]


def build_settled(duck: duckdb.DuckDBPyConnection, first_day: date, settled: date) -> str:
    """Create the settled rows as of `settled` in DuckDB from what was loaded: the grouped rows before
    first_day that end by `settled` (the loader groups up to it apart), kept to the SETTLED_DAYS ending
    then, and the visitor days from first_day through `settled`; returns the name of the table."""
    duck.execute("""
        CREATE TABLE settled_rows AS
        SELECT account_id, visitor_id, max(last_active) AS last_active, max(last_seen) AS last_seen
        FROM (SELECT account_id, visitor_id, CASE WHEN last_active >= $since THEN last_active END AS last_active,
                     last_seen
              FROM vd_before WHERE last_seen BETWEEN $since AND $settled
              UNION ALL
              SELECT account_id, visitor_id, CASE WHEN num_events > 0 THEN day END, day
              FROM vd WHERE day BETWEEN $first AND $settled)
        GROUP BY account_id, visitor_id
    """, {"since": settled_from(settled), "settled": settled, "first": first_day})
    return "settled_rows"


def settled_from(settled: date) -> date:
    """The first of the SETTLED_DAYS ending `settled`."""
    return settled - timedelta(days=SETTLED_DAYS - 1)


def settled_rows(since: date) -> Select[Any]:
    """The stored settled rows from `since` on (a visitor's last active day before it is none)."""
    s = SETTLED_TABLE.c
    return select(s.account_id, s.visitor_id, case((s.last_active >= since, s.last_active)), s.last_seen).where(
        s.last_seen >= since)


def settled_base(conn: Connection, *, first_day: date, since: date, settled: date, unchanged_before: date,
                 include_anonymous: bool) -> date | None:
    """The settled day of the stored settled rows when a metrics run over every customer, grouping the days
    from `since` before `first_day` and keeping `settled`, may read them instead (else None).

    They must be of the same visitor rule and mapped accounts, settled before `first_day`, reach back to
    `since` (so not settled after `settled`), and hold still: settled before `unchanged_before`, the first
    day whose raw rows changed since they were written, as the caller knows it (the sync lowers
    METRICS_STALE_FROM to each window's first changed day, and the metrics step clears it), with no raw
    row from `since` purged since (RAW_KEPT_FROM)."""
    with Session(bind=conn) as session:
        written = store.get_watermark(session, SETTLED_WATERMARK)
        kept_from = store.get_watermark(session, RAW_KEPT_FROM)
    if written is None or (kept_from is not None and date.fromisoformat(kept_from) > since):
        return None
    base = date.fromisoformat(written.split("|", 1)[0])
    if base >= min(first_day, unchanged_before) or settled_from(base) > since:  # (since <= settled_from(settled))
        return None
    return base if written == _stored_key(conn, base, include_anonymous) else None


def mark_written(conn: Connection, watermark: str, key: str | None) -> None:
    """Record, in the caller's transaction, whose rows a table now holds (None: rows of no use)."""
    with Session(bind=conn) as session:
        if key is None:
            store.clear_watermark(session, watermark)
        else:
            store.set_watermark(session, watermark, key)


def usable(conn: Connection, last_day: date, include_anonymous: bool) -> bool:
    """Whether the rows are those of `last_day`, the visitor rule and today's mapped accounts, and no
    window has written since the metrics were computed."""
    with Session(bind=conn) as session:
        written = store.get_watermark(session, WATERMARK)
        if written is None or store.get_watermark(session, METRICS_STALE_FROM) is not None:
            return False
    return written == _stored_key(conn, last_day, include_anonymous)


def feature_metrics_from(engine: Engine, until: date, include_anonymous: bool) -> date | None:
    """The first day from which the stored feature metrics (`pendo_feature_usage`, a row per customer,
    feature and day of use) hold exactly the days each mapped customer used each feature, as the raw rows
    give them, up to `until`; None when they may not. They do when they were computed to `until` over
    today's mapped accounts, under the visitor rule asked for, and no window has written since (`usable`:
    the same metrics run writes these rows), from the first day of the range the metrics step records."""
    with engine.connect() as conn:
        if not usable(conn, until, include_anonymous):
            return None
        with Session(bind=conn) as session:
            done = parse_day_range(store.get_watermark(session, METRICS_RANGE))
    return done.first if done is not None and done.last == until else None


def _stored_key(conn: Connection, day: date, include_anonymous: bool) -> str:
    """The watermark of rows as of `day` over today's mapped accounts."""
    return _key(day, include_anonymous, _digest(set(conn.execute(select(_mapping.c.pendo_account_id)).scalars())))


def last_active_per_visitor(customers: Sequence[str], as_of: date, since: date, lookback_days: int) -> Select[Any]:
    """`people_queries.last_active_per_visitor`'s rows from the table (as of `as_of`, `usable`), for a
    `since` within the lookback of `lookback_days` (at most DAYS)."""
    lookback = as_of - timedelta(days=lookback_days - 1)
    if lookback_days > DAYS or since < lookback:
        raise ValueError(f"the recency rows cover {DAYS} days: {lookback_days} days from {since} are not in them")
    r = TABLE.c
    last = func.max(case((r.last_active >= lookback, r.last_active))).label("last_active")
    recent = func.max(case((r.last_active >= since, 1), else_=0)).label("recent")
    seen = func.max(case((r.last_seen >= lookback, 1), else_=0)).label("seen")
    query = (select(_mapping.c.customer_id, r.visitor_id, last, recent, seen)
             .join(_mapping, _mapping.c.pendo_account_id == r.account_id).where(r.last_seen >= lookback))
    if len(customers) <= IN_CHUNK:
        query = query.where(_mapping.c.customer_id.in_(list(customers)))
    grouped = query.group_by(_mapping.c.customer_id, r.visitor_id).subquery("grouped")
    return select(grouped.c.customer_id, grouped.c.visitor_id, func.lower(grouped.c.visitor_id), grouped.c.last_active,
                  grouped.c.recent, grouped.c.seen)


def _key(day: date, include_anonymous: bool, accounts: str) -> str:
    """A watermark: the rows' day, visitor rule and the digest of their mapped accounts (`_digest`)."""
    return f"{day.isoformat()}|{int(include_anonymous)}|{accounts}"


def _digest(accounts: set[str]) -> str:
    digest = hashlib.sha256()
    for account in sorted(accounts):  # in Python's order: the store's collation may sort otherwise
        digest.update(account.encode() + b"\0")
    return digest.hexdigest()[:32]
