"""Per-feature daily metrics (`pendo_feature_usage`) in DuckDB, over the loader's tables.

Definitions (metrics-spec.md), for customer c, feature f and day d, over c's mapped accounts; a row
exists for every (c, f, d) with at least one featureEvents row (of a kept visitor):
- clicks: sum of num_events of those rows.
- unique_visitors: distinct visitors with such a row (a visitor in two accounts counts once).
- avg_time_seconds: 60 * sum of num_minutes of those rows ÷ unique_visitors (NULL with no visitor).
- views: sum of num_events of c's page-day rows on d for the feature's page; NULL when the feature
  has no page (NULL or '' page id, or a feature missing from the catalogue), 0 when the page is quiet.
- feature_name: from pendo_features (NULL when the feature is not in the catalogue).
"""

from __future__ import annotations

import duckdb


def build_features(duck: duckdb.DuckDBPyConnection) -> str:
    """Create the feature rows in DuckDB; returns the name of the table holding them."""
    duck.execute("""
        CREATE TABLE feature_rows AS
        WITH used AS (
            SELECT m.customer_id, f.feature_id, f.day, CAST(sum(f.num_events) AS BIGINT) AS clicks,
                   count(DISTINCT f.visitor_id) AS visitors, CAST(sum(f.num_minutes) AS BIGINT) AS minutes
            FROM fvd f JOIN acct m USING (account_id)
            GROUP BY m.customer_id, f.feature_id, f.day
        ), page_views AS (
            SELECT m.customer_id, p.page_id, p.day, CAST(sum(p.num_events) AS BIGINT) AS views
            FROM pd p JOIN acct m USING (account_id)
            GROUP BY m.customer_id, p.page_id, p.day
        )
        SELECT u.customer_id, u.feature_id, u.day AS metric_date, c.name AS feature_name,
               CASE WHEN coalesce(c.page_id, '') = '' THEN NULL ELSE coalesce(v.views, 0) END AS views,
               u.clicks, u.visitors AS unique_visitors,
               CASE WHEN u.visitors = 0 THEN NULL
                    ELSE CAST(60 * u.minutes AS DOUBLE) / u.visitors END AS avg_time_seconds
        FROM used u
        LEFT JOIN features c ON c.feature_id = u.feature_id
        LEFT JOIN page_views v ON v.customer_id = u.customer_id AND v.page_id = c.page_id AND v.day = u.day
    """)
    return "feature_rows"
