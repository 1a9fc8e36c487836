"""Read-side adoption measures follow metrics-spec.md ("Feature usage"), on both stores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings, HealthSettings, save_settings
from pendo_core.usage import (
    AbandonedFeature,
    FeatureAdoption,
    abandoned_key_features,
    feature_adoption,
    feature_breadth,
    peer_summary,
    percentile_rank,
)
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage.adoption import key_features
from tests.support.metrics import Activity, FDay, Feature, insert_outputs, seed

D = date(2024, 6, 15)
CATALOGUE = [Feature("core", "Export", None, True), Feature("other", "Share"),
             Feature("idle-core", "Admin", None, True), Feature("plain", "Print")]


def ago(days: int) -> date:
    return D - timedelta(days=days)


def use(rows: list[tuple[str, str, int, int]]) -> Activity:
    """Customer c1 owns a1 and a2; rows are (feature, visitor, days before D, clicks) in a1."""
    return Activity(mapping={"a1": "c1", "a2": "c1", "b1": "c2"}, features=CATALOGUE,
                    feature_visitor_days=[FDay("a1", ago(k), f, v, n) for f, v, k, n in rows])


def with_mau(engine: Engine, mau: int) -> None:
    """Store c1's usage row of D with the given mau."""
    insert_outputs(engine, {"pendo_usage_metrics": {("c1", D): ("a1;a2", 0, 0, mau, mau, 0, None, 0, 0, 0)}})


ADOPTION_USE = [("core", "v1", 0, 3), ("core", "v2", 10, 1), ("core", "v3", 30, 50), ("other", "v1", 0, 1),
                ("other", "_PENDO_T_x", 0, 5), ("unlisted", "v2", 29, 1)]


@pytest.mark.parametrize(("mau", "include_anonymous", "expected"), [
    pytest.param(4, False, [FeatureAdoption("core", "Export", True, 2, 0.5, 5),
                            FeatureAdoption("unlisted", None, False, 1, 0.25, 1),
                            FeatureAdoption("other", "Share", False, 1, 0.25, 1),
                            FeatureAdoption("idle-core", "Admin", True, 0, 0.0, 0)], id="users-over-mau"),
    pytest.param(4, True, [FeatureAdoption("core", "Export", True, 2, 0.5, 5),
                           FeatureAdoption("other", "Share", False, 2, 0.5, 6),
                           FeatureAdoption("unlisted", None, False, 1, 0.25, 1),
                           FeatureAdoption("idle-core", "Admin", True, 0, 0.0, 0)], id="with-anonymous"),
    pytest.param(0, False, [FeatureAdoption("core", "Export", True, 2, None, 5),
                            FeatureAdoption("unlisted", None, False, 1, None, 1),
                            FeatureAdoption("other", "Share", False, 1, None, 1),
                            FeatureAdoption("idle-core", "Admin", True, 0, None, 0)], id="none-when-mau-0"),
])
def test_feature_adoption(store: Engine, mau: int, include_anonymous: bool, expected: list) -> None:
    """Users and clicks over [d-29, d]; adoption = users ÷ the stored mau of d; idle key features listed."""
    activity = use(ADOPTION_USE)
    activity.feature_visitor_days.append(FDay("a2", D, "core", "v1", 1))
    activity.feature_visitor_days.append(FDay("b1", D, "core", "v9", 1))
    seed(store, activity)
    with_mau(store, mau)
    assert feature_adoption(store, "c1", D, include_anonymous=include_anonymous) == expected


def test_feature_adoption_without_stored_mau(store: Engine) -> None:
    """Without a usage row for d, adoption_pct is None (users and clicks still count)."""
    seed(store, use([("plain", "v1", 0, 2)]))
    rows = {r.feature_id: r for r in feature_adoption(store, "c1", D)}
    assert rows["plain"] == FeatureAdoption("plain", "Print", False, 1, None, 2)


@pytest.mark.parametrize(("rows", "keys", "expected"), [
    pytest.param([("core", "v1", 0, 1)], None, 0.5, id="core-events-by-default"),
    pytest.param([("core", "v1", 29, 1)], None, 0.5, id="d-29-in-window"),
    pytest.param([("core", "v1", 30, 1)], None, 0.0, id="d-30-out-of-window"),
    pytest.param([("core", "_PENDO_T_x", 0, 1)], None, 0.0, id="anonymous-use-ignored"),
    pytest.param([("other", "v1", 0, 1), ("plain", "v1", 3, 1)], ["other", "plain", "never"], 2 / 3,
                 id="explicit-key-list"),
    pytest.param([("core", "v1", 0, 1)], [], None, id="none-without-key-features"),
])
def test_feature_breadth(store: Engine, rows: list, keys: list[str] | None, expected: float | None) -> None:
    """Breadth = share of key features used by at least one visitor in the 30 days ending d."""
    seed(store, use(rows))
    assert feature_breadth(store, "c1", D, key_feature_ids=keys) == expected


def test_an_admin_key_list_decides_the_key_features_everywhere(store: Engine) -> None:
    """With an admin's key list, breadth, the adoption list and the feature catalogue all use it instead
    of the Core Events, as the health score does."""
    seed(store, use([("other", "v1", 0, 1), ("core", "v1", 0, 1)]))
    assert key_features(store) == {"core", "idle-core"}
    with Session(store) as session, session.begin():
        save_settings(session, AppSettings(health=HealthSettings(key_feature_ids=("other", "plain"))), by="admin@x")
    assert key_features(store) == {"other", "plain"}
    assert feature_breadth(store, "c1", D) == 0.5
    assert {r.feature_id for r in feature_adoption(store, "c1", D) if r.is_key} == {"other", "plain"}
    catalogue = read_features.features(store)
    assert set(catalogue.loc[catalogue["is_key"], "feature_id"]) == {"other", "plain"}


THREE_BEFORE = [("core", v, 20, 1) for v in ("v1", "v2", "v3")]


@pytest.mark.parametrize(("rows", "expected"), [
    pytest.param(THREE_BEFORE, [AbandonedFeature("core", "Export", 3)], id="three-users-then-silence"),
    pytest.param(THREE_BEFORE[:2], [], id="two-users-are-too-few"),
    pytest.param([*THREE_BEFORE, ("core", "v1", 13, 1)], [], id="used-in-last-14-days"),
    pytest.param([*THREE_BEFORE, ("core", "_PENDO_T_x", 1, 1)], [AbandonedFeature("core", "Export", 3)],
                 id="anonymous-recent-use-ignored"),
    pytest.param([("core", v, 14, 1) for v in ("v1", "v2", "v3")], [AbandonedFeature("core", "Export", 3)],
                 id="d-14-is-before"),
    pytest.param([("core", v, 41, 1) for v in ("v1", "v2", "v3")], [AbandonedFeature("core", "Export", 3)],
                 id="d-41-is-before"),
    pytest.param([("core", "v1", 42, 1), ("core", "v2", 41, 1), ("core", "v3", 41, 1)], [],
                 id="d-42-is-too-old"),
    pytest.param([("core", "v1", k, 1) for k in (20, 21, 22)], [], id="one-user-thrice"),
    pytest.param([("plain", v, 20, 1) for v in ("v1", "v2", "v3")], [], id="not-a-key-feature"),
])
def test_abandoned_key_features(store: Engine, rows: list, expected: list[AbandonedFeature]) -> None:
    """Abandoned: >= 3 distinct users in [d-41, d-14] and no use at all in [d-13, d]."""
    seed(store, use(rows))
    assert abandoned_key_features(store, "c1", D) == expected


@pytest.mark.parametrize(("value", "population", "expected"), [
    pytest.param(5, [1, 2, 3, 4], 100.0, id="above-all"),
    pytest.param(0, [1, 2], 0.0, id="below-all"),
    pytest.param(2, [1, 2, 3], 50.0, id="middle-counts-half-of-ties"),
    pytest.param(2, [2, 2], 50.0, id="all-ties"),
    pytest.param(3, [1, 2, 3, 4], 62.5, id="between"),
    pytest.param(3, [None, 1, 5], 50.0, id="missing-values-skipped"),
])
def test_percentile_rank(value: float, population: list[float | None], expected: float) -> None:
    """Percentile rank = 100 * (values below + half the equal values) ÷ values."""
    assert percentile_rank(value, population) == expected


def test_percentile_rank_needs_a_population() -> None:
    """An empty population has no rank: it is an error, not 0."""
    with pytest.raises(ValueError, match="at least one value"):
        percentile_rank(1, [None])


@pytest.mark.parametrize(("value", "peers", "expected"), [
    pytest.param(3, [1, 2, 4, 5], (50.0, 3.0), id="even-count-median"),
    pytest.param(9, [1, 2, 8], (100.0, 2.0), id="odd-count-median"),
    pytest.param(3, [], (None, None), id="no-peers"),
    pytest.param(3, [None], (None, None), id="peers-without-data"),
])
def test_peer_summary(value: float, peers: list[float | None], expected: tuple) -> None:
    """(percentile rank among peers, peers' median), None for both with no peer value."""
    assert peer_summary(value, peers) == expected
