"""pendo_feature_usage follows metrics-spec.md, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from tests.support.metrics import Activity, FDay, Feature, PDay, named, run_metrics

D = date(2024, 6, 15)
CATALOGUE = [Feature("on-page", "Export", "p1"), Feature("no-page", "Share", None),
             Feature("blank-page", "Print", ""), Feature("quiet-page", "Help", "p9")]


@pytest.mark.parametrize(("feature_id", "name", "views"), [
    pytest.param("on-page", "Export", 7, id="page-views-of-the-feature-page"),
    pytest.param("no-page", "Share", None, id="null-without-page"),
    pytest.param("blank-page", "Print", None, id="null-with-empty-page-id"),
    pytest.param("quiet-page", "Help", 0, id="zero-when-page-quiet"),
    pytest.param("unknown", None, None, id="not-in-catalogue"),
])
def test_views_and_name(store: Engine, feature_id: str, name: str | None, views: int | None) -> None:
    """views = the day's page views of the feature's page over the customer's accounts, NULL without page."""
    activity = Activity(
        mapping={"a1": "c1", "a2": "c1"}, features=CATALOGUE,
        page_days=[PDay("a1", D, "p1", 3), PDay("a2", D, "p1", 4), PDay("x", D, "p1", 50),
                   PDay("a1", D + timedelta(days=1), "p1", 60), PDay("a1", D, "p2", 70)],
        feature_visitor_days=[FDay("a1", D, feature_id, "v1")],
    )
    row = named(run_metrics(store, activity, D, D + timedelta(days=1)), "pendo_feature_usage", ("c1", feature_id, D))
    assert row is not None
    assert (row["feature_name"], row["views"]) == (name, views)


def test_clicks_visitors_and_time(store: Engine) -> None:
    """clicks add up; a visitor in two accounts is one visitor; avg_time = 60 * minutes ÷ visitors."""
    activity = Activity(mapping={"a1": "c1", "a2": "c1"}, features=CATALOGUE, feature_visitor_days=[
        FDay("a1", D, "on-page", "v1", 3, 2), FDay("a2", D, "on-page", "v1", 1, 4),
        FDay("a1", D, "on-page", "v2", 2, 1), FDay("a1", D, "on-page", "_PENDO_T_x", 9, 9)])
    row = named(run_metrics(store, activity, D), "pendo_feature_usage", ("c1", "on-page", D))
    assert row is not None
    assert (row["clicks"], row["unique_visitors"], row["avg_time_seconds"]) == (6, 2, 210.0)


def test_rows_only_where_used(store: Engine) -> None:
    """A row exists for each (customer, feature, day) with a feature row; none otherwise."""
    activity = Activity(mapping={"a1": "c1", "b1": "c2"}, features=CATALOGUE, feature_visitor_days=[
        FDay("a1", D, "on-page", "v1"), FDay("a1", D + timedelta(days=1), "no-page", "v1"),
        FDay("b1", D, "no-page", "v2"), FDay("x", D, "on-page", "v1"), FDay("a1", D, "no-page", "_PENDO_T_x")])
    out = run_metrics(store, activity, D, D + timedelta(days=2))
    assert set(out["pendo_feature_usage"]) == {
        ("c1", "on-page", D), ("c1", "no-page", D + timedelta(days=1)), ("c2", "no-page", D)}
