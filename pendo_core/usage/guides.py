"""Guide metrics (`pendo_guide_metrics`) and onboarding progress (`pendo_onboarding_progress`).

Definitions (metrics-spec.md), for customer c (union of its mapped accounts), guide g, day d,
window [d-29, d] on the guide event's local day; event types are already the sub-type:
- seen_visitors: distinct visitors with guideSeen on any step of g in the window.
- completed_visitors: distinct visitors who completed g in the window. A guide with exactly one
  step in pendo_guide_steps is completed by guideAdvanced on that step; a guide with more steps by
  guideSeen or guideAdvanced on its last step (highest rank; every step sharing that rank counts).
  A guide without steps in the catalogue is never completed.
- dismissed_visitors: distinct visitors with guideDismissed on any step of g in the window.
The three sets are counted independently over the window: a completer or dismisser need not have
a guideSeen in the same window, so a rate may exceed 1.
- completion_rate = completed ÷ seen, dismissal_rate = dismissed ÷ seen; NULL when seen is 0.
A row exists only when seen, completed or dismissed is above 0.

Onboarding progress, for c and d (a row for every customer and reported day): onboarding guides are
the configured ids, else the guides whose name or group contains "onboarding" (any case);
completed_guides = those completed (rule above) by at least one visitor of c on any day <= d;
progress = completed ÷ onboarding, NULL when there are no onboarding guides.
"""

from __future__ import annotations

import duckdb

from pendo_core.usage.windows import window_counts

GUIDE_WINDOW = 30
KINDS = ("seen", "completed", "dismissed")


def build_guides(duck: duckdb.DuckDBPyConnection) -> str:
    """Create the guide-metric rows in DuckDB; returns the name of the table holding them."""
    _completing_events(duck)
    duck.execute(f"""
        CREATE TABLE guide_activity AS
        SELECT DISTINCT m.customer_id, e.guide_id AS obj_id, k.kind, {GUIDE_WINDOW} AS w, e.visitor_id, e.day
        FROM ge e JOIN acct m USING (account_id)
        LEFT JOIN completing c USING (guide_id, step_id, event_type),
        (VALUES ('seen'), ('completed'), ('dismissed')) k(kind)
        WHERE (k.kind = 'seen' AND e.event_type = 'guideSeen')
           OR (k.kind = 'completed' AND c.guide_id IS NOT NULL)
           OR (k.kind = 'dismissed' AND e.event_type = 'guideDismissed')
    """)
    window_counts(duck, "guide_activity", "guide_windows")
    counts = ", ".join(f"coalesce(max(n) FILTER (WHERE kind = '{k}'), 0) AS {k}" for k in KINDS)
    duck.execute(f"""
        CREATE TABLE guide_rows AS
        SELECT customer_id, guide_id, metric_date, seen AS seen_visitors, completed AS completed_visitors,
               dismissed AS dismissed_visitors,
               CASE WHEN seen = 0 THEN NULL ELSE CAST(completed AS DOUBLE) / seen END AS completion_rate,
               CASE WHEN seen = 0 THEN NULL ELSE CAST(dismissed AS DOUBLE) / seen END AS dismissal_rate
        FROM (SELECT customer_id, obj_id AS guide_id, day AS metric_date, {counts}
              FROM guide_windows GROUP BY customer_id, obj_id, day)
    """)
    return "guide_rows"


def build_onboarding(duck: duckdb.DuckDBPyConnection) -> str:
    """Create the onboarding-progress rows in DuckDB (needs build_guides first); returns the table."""
    duck.execute("""
        CREATE TABLE onboarding_rows AS
        WITH done AS (
            SELECT m.customer_id, o.guide_id, min(o.day) AS done_on
            FROM onb_first o JOIN acct m USING (account_id)
            JOIN completing c USING (guide_id, step_id, event_type)
            GROUP BY m.customer_id, o.guide_id
        ), total AS (SELECT count(*) AS n FROM onb_guides)
        SELECT g.customer_id, g.day AS metric_date, total.n AS onboarding_guides,
               count(d.guide_id) AS completed_guides,
               CASE WHEN total.n = 0 THEN NULL
                    ELSE CAST(count(d.guide_id) AS DOUBLE) / total.n END AS progress
        FROM (SELECT customer_id, day FROM customers, cal) g CROSS JOIN total
        LEFT JOIN done d ON d.customer_id = g.customer_id AND d.done_on <= g.day
        GROUP BY g.customer_id, g.day, total.n
    """)
    return "onboarding_rows"


def _completing_events(duck: duckdb.DuckDBPyConnection) -> None:
    """Table `completing(guide_id, step_id, event_type)`: the events that complete each guide."""
    duck.execute("""
        CREATE TABLE completing AS
        WITH shape AS (
            SELECT guide_id, count(*) AS steps, max(rank) AS last_rank FROM steps GROUP BY guide_id
        )
        SELECT s.guide_id, s.step_id, 'guideAdvanced' AS event_type
        FROM steps s JOIN shape g USING (guide_id) WHERE g.steps = 1
        UNION ALL
        SELECT s.guide_id, s.step_id, t.event_type
        FROM steps s JOIN shape g USING (guide_id), (VALUES ('guideSeen'), ('guideAdvanced')) t(event_type)
        WHERE g.steps > 1 AND s.rank = g.last_rank
    """)
