"""Read-side queries of the CSM and leader screens (pendo_core.usage.queries, read_features, read_portfolio),
on SQLite and PostgreSQL: gaps stay gaps, week buckets, trends, peers and health inputs."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from pendo_core.store.models import Base
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import portfolio_queries as read_portfolio
from pendo_core.usage import queries as read

D = date(2026, 3, 18)  # the last day of data in these tests (a Wednesday)
A, B, C = "cust-a", "cust-b", "cust-c"


def _insert(engine: Engine, table: str, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        conn.execute(Base.metadata.tables[table].insert(), rows)


def _usage(customer: str, day: date, dau: int, mau: int, **extra: Any) -> dict[str, Any]:
    row = {"customer_id": customer, "metric_date": day, "pendo_account_id": f"acct-{customer}", "dau": dau,
           "wau": max(dau, extra.pop("wau", dau)), "mau": mau, "active_visitors": mau, "session_count": dau,
           "avg_session_minutes": 10.0 if dau else None, "page_views": 3 * dau, "feature_events": 2 * dau,
           "time_in_app_minutes": 10 * dau}
    return row | extra


def _customers(engine: Engine) -> None:
    _insert(engine, "csms", [{"email": "Maya@cscx.io", "name": "Maya"}])
    _insert(engine, "customers", [
        {"customer_id": A, "name": "Acme", "segment": "SMB", "csm_email": "Maya@cscx.io"},
        {"customer_id": B, "name": "Beta", "segment": "SMB", "csm_email": "Maya@cscx.io"},
        {"customer_id": C, "name": "Cora", "segment": None, "csm_email": None}])
    _insert(engine, "pendo_account_mapping", [{"pendo_account_id": f"acct-{c}", "customer_id": c, "method": "import"}
                                              for c in (A, B, C)])
    _insert(engine, "pendo_features", [{"feature_id": f, "name": f.upper(), "is_core_event": f in ("k1", "k2")}
                                       for f in ("k1", "k2", "f3")])


def test_customers_lists_owner_segment_and_accounts(engine: Engine) -> None:
    """Customers come by name with their CSM (e-mail lower-cased), segment (or "No segment") and accounts."""
    _customers(engine)
    frame = read.customers(engine)
    assert frame[["name", "segment", "csm_email", "csm_name", "accounts"]].values.tolist() == [
        ["Acme", "SMB", "maya@cscx.io", "Maya", 1], ["Beta", "SMB", "maya@cscx.io", "Maya", 1],
        ["Cora", read.NO_SEGMENT, None, None, 1]]


def test_usage_series_keeps_days_without_rows_as_gaps(engine: Engine) -> None:
    """A day the store has no row for is NaN (a gap); a stored zero stays 0 and its stickiness is NaN."""
    _insert(engine, "pendo_usage_metrics", [_usage(A, D - timedelta(days=2), 2, 4), _usage(A, D, 0, 0)])
    frame = read.usage_series(engine, A, D - timedelta(days=2), D)
    dau, stickiness = frame["dau"].tolist(), frame["dau_mau"].tolist()
    assert [dau[0], math.isnan(dau[1]), dau[2]] == [2, True, 0]
    assert [stickiness[0], math.isnan(stickiness[2])] == [0.5, True]


def test_customer_week_rates(engine: Engine) -> None:
    """Stickiness = the week's mean DAU ÷ the last day's MAU; per-user rates divide by the sum of DAU."""
    _insert(engine, "pendo_usage_metrics", [_usage(A, D - timedelta(days=i), 2 + i % 2, 10) for i in range(7)]
            + [_usage(A, D - timedelta(days=7), 50, 50)])  # outside the week
    week = read.customer_week(engine, D).set_index("customer_id").loc[A]
    user_days = sum(2 + i % 2 for i in range(7))
    assert week["stickiness"] == pytest.approx(user_days / 7 / 10)
    assert week["sessions_per_user"] == pytest.approx(1.0)
    assert week["page_views_per_user"] == pytest.approx(3.0)
    assert week["session_minutes"] == pytest.approx(10.0)


def test_compare_rates_against_segment_and_portfolio() -> None:
    """The customer's value, its segment's median (itself left out), everyone's median and a percentile."""
    week = pd.DataFrame({"customer_id": [A, B, C], "dau": [2.0, 1.0, 4.0], "mau": [4.0, 4.0, 4.0],
                         "active_visitors": [4.0] * 3, "days": [7.0] * 3,
                         "user_days": [14.0, 7.0, 28.0], "sessions": [14.0, 7.0, 28.0], "minutes": [140.0] * 3,
                         "page_views": [1.0] * 3, "feature_events": [1.0] * 3})
    customers = pd.DataFrame({"customer_id": [A, B, C], "segment": ["SMB", "SMB", "Enterprise"]})
    table = read.compare_rates(read.add_rates(week), customers, A).set_index("rate")
    assert table.loc["stickiness", ["customer", "segment", "portfolio", "percentile"]].tolist() == [
        0.5, 0.25, 0.5, 100.0]


def test_daily_totals_and_customer_trends(engine: Engine) -> None:
    """Portfolio days sum every customer (pooled DAU ÷ MAU); a customer's trend compares its last 28 days
    with the 28 before, its stickiness is the week's mean DAU ÷ MAU."""
    rows = [_usage(A, D - timedelta(days=i), 4 if i < 28 else 2, 8) for i in range(56)]
    rows += [_usage(B, D - timedelta(days=i), 0, 1) for i in range(56)]
    _insert(engine, "pendo_usage_metrics", rows)
    totals = read_portfolio.daily_totals(engine, D - timedelta(days=1), D)
    assert totals[["dau", "mau", "customers"]].values.tolist() == [[4.0, 9.0, 2], [4.0, 9.0, 2]]
    assert totals["pooled_dau_mau"].tolist() == pytest.approx([4 / 9, 4 / 9])
    trends = read_portfolio.customer_trends(engine, D).set_index("customer_id")
    assert trends.loc[A, "trend"] == pytest.approx(1.0)
    assert math.isnan(trends.loc[B, "trend"])  # no use before: no trend to speak of
    assert trends.loc[A, ["dau", "mau", "stickiness"]].tolist() == [4.0, 8.0, 0.5]
    assert trends.loc[B, "stickiness"] == 0.0  # a week without users against a MAU of 1


def test_feature_days_breadth_and_peers(engine: Engine) -> None:
    """Days of use in 30 days per customer and feature (by segment), key-feature breadth and the
    share of peers using each feature."""
    _customers(engine)
    used = [(A, "k1", 0), (A, "k1", 1), (A, "f3", 2), (B, "k2", 0), (B, "k1", 29), (B, "k1", 30), (C, "f3", 0)]
    _insert(engine, "pendo_feature_usage", [
        {"customer_id": c, "feature_id": f, "metric_date": D - timedelta(days=back), "clicks": 1, "unique_visitors": 1}
        for c, f, back in used])
    days = read_features.feature_days(engine, D)
    assert sorted(days.itertuples(index=False, name=None)) == [(A, "f3", 1), (A, "k1", 2), (B, "k1", 1),
                                                               (B, "k2", 1), (C, "f3", 1)]
    assert set(read_features.feature_days(engine, D, "SMB")["customer_id"]) == {A, B}
    assert set(read_features.feature_days(engine, D, read.NO_SEGMENT)["customer_id"]) == {C}
    catalogue = read_features.features(engine)
    spread = read_features.breadth(days, catalogue, [A, B, C]).set_index("customer_id")
    assert spread["breadth"].tolist() == [0.5, 1.0, 0.0]
    assert spread["features_used"].tolist() == [2, 2, 1]
    peers = read_features.peer_features(days, read.customers(engine), catalogue, A).set_index("feature_id")
    assert peers.loc["k2", ["days_used", "peer_share"]].tolist() == [0, 1.0]  # Beta, its only peer, uses it
    assert peers.loc["k1", "percentile"] == 100.0


def test_weekly_users_and_adoption_across_customers(engine: Engine) -> None:
    """Distinct users per feature and whole week ending on the last day; anonymous visitors left out;
    adoption across customers = users in 30 days ÷ the MAU of the last day."""
    _customers(engine)
    visits = [("v1", 0), ("v1", 6), ("v2", 6), ("v1", 7), ("_PENDO_T_anon", 0)]
    _insert(engine, "pendo_feature_visitor_days", [
        {"account_id": f"acct-{A}", "day": D - timedelta(days=back), "feature_id": "k1", "visitor_id": v,
         "num_events": 2, "num_minutes": 1} for v, back in visits])
    weeks = read_features.weekly_feature_users(engine, A, D, 2).sort_values("week")
    assert weeks[["week", "users", "clicks"]].values.tolist() == [[0, 2, 6], [1, 1, 2]]
    assert weeks["week_end"].dt.date.tolist() == [D, D - timedelta(days=7)]
    _insert(engine, "pendo_usage_metrics", [_usage(A, D, 1, 4)])
    across = read_features.feature_users_by_customer(engine, [A, B], D)
    assert across[["customer_id", "users", "adoption_pct"]].values.tolist() == [[A, 2, 0.5]]


def test_feature_daily_leaves_days_without_use_empty(engine: Engine) -> None:
    """One feature's days: a stored day has its numbers, a day without a row is empty for the page to fill."""
    _insert(engine, "pendo_feature_usage", [{"customer_id": A, "feature_id": "k1", "metric_date": D, "clicks": 5,
                                             "unique_visitors": 2, "views": 9, "avg_time_seconds": 30.0}])
    daily = read_features.feature_daily(engine, A, "k1", D - timedelta(days=1), D)
    assert math.isnan(daily["clicks"].iloc[0])
    assert daily["clicks"].iloc[1] == 5


def test_health_reads_components_and_inputs(engine: Engine) -> None:
    """Scores of given days with breadth and stickiness from the stored inputs; weekly bands and means."""
    scores = [{"customer_id": c, "score_date": D - timedelta(days=back), "engagement": 50.0, "adoption": 60.0,
               "trajectory": 70.0, "overall": overall, "band": band, "coverage": 1.0, "settings_version": 0,
               "weights": {"engagement": 1.0}, "inputs": {"breadth": breadth, "stickiness": 0.2}}
              for c, back, overall, band, breadth in [(A, 0, 80.0, "green", 0.5), (B, 0, 40.0, "red", 0.25),
                                                       (A, 7, 70.0, "yellow", 0.75)]]
    _insert(engine, "pendo_health_scores", scores)
    assert read_portfolio.latest_health_day(engine, D + timedelta(days=3)) == D
    assert read_portfolio.latest_health_day(engine, D - timedelta(days=30)) is None
    now = read_portfolio.health_on(engine, [D]).set_index("customer_id")
    assert now.loc[A, ["overall", "band", "breadth"]].tolist() == [80.0, "green", 0.5]
    weekly = read_portfolio.weekly_health(engine, D, 2)
    assert weekly[["red", "yellow", "green"]].values.tolist() == [[0, 1, 0], [1, 0, 1]]
    assert weekly["breadth"].tolist() == pytest.approx([0.75, 0.375])


def test_freshness_stamp_follows_the_last_successful_run(engine: Engine) -> None:
    """The cache stamp is the id of the newest successful run; the last attempt's failure is reported."""
    at = datetime(2026, 3, 19, 6, tzinfo=UTC)
    base = {"started_at": at, "mode": "daily", "as_of": D + timedelta(days=1)}
    _insert(engine, "pendo_sync_runs", [
        {**base, "id": 1, "status": "success", "finished_at": at, "stats": {"report_last": D.isoformat()},
         "error": None},
        {**base, "id": 2, "status": "failed", "finished_at": at, "stats": None, "error": "wrong key or wrong region"}])
    fresh = read.freshness(engine)
    assert (fresh.stamp, fresh.data_through, fresh.last_status, fresh.last_error) == (
        1, D, "failed", "wrong key or wrong region")
