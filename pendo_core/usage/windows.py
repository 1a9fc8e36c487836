"""Distinct visitors over trailing day windows, exact, without copying each row once per window day.

A visitor active on day *a* is counted on every day of [a, a + w - 1]. Per visitor, those intervals
are merged into islands (two active days at most *w* apart share one); each island adds +1 on its
first day and -1 the day after its last covered day; a running sum of those steps, per key, is the
count on every day. Work is O(n log n) in the number of distinct active days, whatever *w* is.
"""

from __future__ import annotations

from datetime import date

import duckdb


def create_calendar(duck: duckdb.DuckDBPyConnection, first_day: date, last_day: date) -> None:
    """DuckDB table `cal(day)`: every reported day, first to last inclusive."""
    days = (last_day - first_day).days + 1
    duck.execute("CREATE TABLE cal AS SELECT CAST(? AS DATE) + CAST(i AS INTEGER) AS day FROM range(?) t(i)",
                 [first_day, days])


def window_counts(duck: duckdb.DuckDBPyConnection, source: str, target: str) -> None:
    """Table `target(customer_id, obj_id, kind, day, n)` from `source(customer_id, obj_id, kind, w,
    visitor_id, day)`: for each `cal` day, n = distinct visitors of the key active in [day-w+1, day].

    Only rows with n > 0 are produced; `w` (INTEGER) must be the same for all rows of one kind. A row
    may repeat (a visitor active in two of a customer's accounts): the rows of one day share one island
    (RANGE frame), so the visitor counts once.
    """
    duck.execute(f"""
        CREATE TABLE {target} AS
        WITH flagged AS (
            SELECT *, CASE WHEN day - lag(day) OVER visitor <= w THEN 0 ELSE 1 END AS opens
            FROM {source}
            WINDOW visitor AS (PARTITION BY customer_id, obj_id, kind, visitor_id ORDER BY day)
        ), islands AS (
            SELECT *, sum(opens) OVER (PARTITION BY customer_id, obj_id, kind, visitor_id ORDER BY day
                                       RANGE UNBOUNDED PRECEDING) AS island
            FROM flagged
        ), spans AS (
            SELECT customer_id, obj_id, kind, min(day) AS opens_on, max(day) + max(w) AS closes_on
            FROM islands GROUP BY customer_id, obj_id, kind, visitor_id, island
        ), steps AS (
            SELECT customer_id, obj_id, kind, day, sum(step) AS step FROM (
                SELECT customer_id, obj_id, kind, opens_on AS day, 1 AS step FROM spans
                UNION ALL
                SELECT customer_id, obj_id, kind, closes_on AS day, -1 AS step FROM spans
            ) GROUP BY customer_id, obj_id, kind, day
        ), levels AS (
            SELECT customer_id, obj_id, kind, day AS since,
                   lead(day) OVER (PARTITION BY customer_id, obj_id, kind ORDER BY day) AS until,
                   CAST(sum(step) OVER (PARTITION BY customer_id, obj_id, kind ORDER BY day
                                        ROWS UNBOUNDED PRECEDING) AS BIGINT) AS n
            FROM steps
        )
        -- The last level of a key is always 0 (every island closed), so n > 0 implies an `until`.
        SELECT l.customer_id, l.obj_id, l.kind, c.day, l.n
        FROM (SELECT * FROM levels WHERE n > 0) l
        JOIN cal c ON c.day >= l.since AND c.day < l.until
    """)
