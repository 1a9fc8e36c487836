"""Daily customer metrics (`pendo_usage_metrics`) in DuckDB, over the loader's tables.

Definitions (metrics-spec.md), for customer c and day d, over the union of c's mapped accounts:
- dau / wau / mau / active_visitors: distinct visitors with a visitor-day row of num_events > 0 on
  any day of [d, d], [d-6, d], [d-29, d], [d-89, d]; a visitor active in two accounts counts once.
- session_count: sessions starting on d. A session is a maximal run of active hours (num_events > 0)
  of one visitor in ONE account, consecutive meaning hour_start exactly 3,600,000 ms apart (absolute
  time, so DST days need no care); it belongs to the `day` of its first hour.
- avg_session_minutes: sum of num_minutes of all visitor-day rows of d ÷ session_count, NULL when 0.
- time_in_app_minutes: that same sum. page_views / feature_events: sums of num_events of d.
- pendo_account_id: the customer's account ids, sorted (code point order) and joined by ';'.
Every customer gets a row for every reported day, zeros when quiet.
"""

from __future__ import annotations

import duckdb

from pendo_core.usage.loader import LoadPlan
from pendo_core.usage.windows import window_counts

HOUR_MS = 3_600_000
WINDOWS = (("dau", 1), ("wau", 7), ("mau", 30), ("active_visitors", 90))


def build_usage(duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> str:
    """Create the usage rows in DuckDB; returns the name of the table holding them."""
    _customers(duck)
    _visitor_counts(duck, plan)
    _sessions(duck, plan)
    _sums(duck, plan)
    duck.execute("""
        CREATE TABLE usage_rows AS
        SELECT g.customer_id, g.day AS metric_date, g.pendo_account_id,
               coalesce(v.dau, 0) AS dau, coalesce(v.wau, 0) AS wau, coalesce(v.mau, 0) AS mau,
               coalesce(v.active_visitors, 0) AS active_visitors,
               coalesce(s.sessions, 0) AS session_count,
               CASE WHEN coalesce(s.sessions, 0) = 0 THEN NULL
                    ELSE CAST(coalesce(t.minutes, 0) AS DOUBLE) / s.sessions END AS avg_session_minutes,
               coalesce(t.page_views, 0) AS page_views, coalesce(t.feature_events, 0) AS feature_events,
               coalesce(t.minutes, 0) AS time_in_app_minutes
        FROM (SELECT * FROM customers, cal) g
        LEFT JOIN visitor_counts v USING (customer_id, day)
        LEFT JOIN sessions s USING (customer_id, day)
        LEFT JOIN day_sums t USING (customer_id, day)
    """)
    return "usage_rows"


def _customers(duck: duckdb.DuckDBPyConnection) -> None:
    duck.execute("""
        CREATE TABLE customers AS
        SELECT customer_id, string_agg(account_id, ';' ORDER BY account_id) AS pendo_account_id
        FROM acct GROUP BY customer_id
    """)


def _visitor_counts(duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> None:
    windows = ", ".join(f"('{kind}', {w})" for kind, w in WINDOWS)
    longest = max(w for _, w in WINDOWS)
    # Days before first_day - (w - 1) cannot reach a reported day's window: leave them out. A visitor
    # active in two of a customer's accounts repeats a (customer, visitor, day): the DISTINCT drops the
    # repeats before the rows are copied once per window (after the copy, its hash table held every row
    # four times: out of memory at 20,000 accounts).
    duck.execute(f"""
        CREATE TABLE usage_activity AS
        WITH active AS (
            SELECT DISTINCT m.customer_id, v.visitor_id, v.day
            FROM vd v JOIN acct m USING (account_id)
            WHERE v.num_events > 0 AND v.day > CAST($first AS DATE) - {longest}
        )
        SELECT a.customer_id, '' AS obj_id, w.kind, CAST(w.w AS INTEGER) AS w, a.visitor_id, a.day
        FROM active a, (VALUES {windows}) w(kind, w)
        WHERE a.day > CAST($first AS DATE) - CAST(w.w AS INTEGER)
    """, {"first": plan.first_day})
    window_counts(duck, "usage_activity", "usage_windows")
    pivot = ", ".join(f"max(n) FILTER (WHERE kind = '{kind}') AS {kind}" for kind, _ in WINDOWS)
    duck.execute(f"""
        CREATE TABLE visitor_counts AS
        SELECT customer_id, day, {pivot} FROM usage_windows GROUP BY customer_id, day
    """)


def _sessions(duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> None:
    # `vh` holds active hours only; a run starts where the previous active hour is not 1 h earlier. The
    # join comes before the window: a chunk of customers (`compute._build`) sorts only its accounts' hours.
    duck.execute(f"""
        CREATE TABLE sessions AS
        SELECT customer_id, day, count(*) AS sessions
        FROM (
            SELECT m.customer_id, h.day,
                   h.hour_start - lag(h.hour_start) OVER (PARTITION BY h.account_id, h.visitor_id
                                                          ORDER BY h.hour_start) AS gap
            FROM vh h JOIN acct m USING (account_id)
        )
        WHERE (gap IS NULL OR gap <> {HOUR_MS}) AND day BETWEEN ? AND ?
        GROUP BY customer_id, day
    """, [plan.first_day, plan.last_day])


def _sums(duck: duckdb.DuckDBPyConnection, plan: LoadPlan) -> None:
    duck.execute("""
        CREATE TABLE day_sums AS
        SELECT customer_id, day, CAST(sum(minutes) AS BIGINT) AS minutes,
               CAST(sum(page_views) AS BIGINT) AS page_views,
               CAST(sum(feature_events) AS BIGINT) AS feature_events
        FROM (
            SELECT account_id, day, num_minutes AS minutes, 0 AS page_views, 0 AS feature_events
            FROM vd WHERE day BETWEEN ? AND ?
            UNION ALL SELECT account_id, day, 0, num_events, 0 FROM pd
            UNION ALL SELECT account_id, day, 0, 0, num_events FROM fvd
        ) JOIN acct USING (account_id)
        GROUP BY customer_id, day
    """, [plan.first_day, plan.last_day])
