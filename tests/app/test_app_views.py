"""The Health and Alerts screens' data: score history with settings changes, why a component is
missing, what moved a score; which alerts a person sees, their numbers in words, actions recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import Engine

from pendo_core.access.rules import Viewer
from pendo_core.alerts import AlertTransitionError
from pendo_core.alerts import queries as alerts_view
from pendo_core.health import queries as health_view
from pendo_core.health.score import ComponentExplanation, Explanation, ScoreParts, explain
from tests.support.health_alerts import add_customer, table_insert

MINE = "00000000-0000-4000-8000-00000000000a"
THEIRS = "00000000-0000-4000-8000-00000000000b"
DAY = date(2026, 3, 18)
NOW = datetime(2026, 3, 19, 9, 30, tzinfo=UTC)
ME, LEADER = Viewer("me@cscx.io", "csm"), Viewer("lead@cscx.io", "leader")


def _score(day: date, overall: float | None, version: int, **inputs: Any) -> dict[str, Any]:
    return {"customer_id": MINE, "score_date": day, "engagement": overall, "adoption": None, "trajectory": overall,
            "onboarding": None, "overall": overall, "band": "insufficient data" if overall is None else "yellow",
            "coverage": 0.9 if overall is not None else 0.1, "settings_version": version,
            "weights": {"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45, "onboarding": 0.0},
            "inputs": inputs}


def test_history_marks_where_the_settings_version_changed(engine: Engine) -> None:
    """Score history comes oldest first; a change of settings version is reported on its first day."""
    table_insert(engine, "pendo_health_scores", [_score(DAY - timedelta(days=i), 60.0 + i, 1 if i > 1 else 2)
                                                 for i in range(4)])
    history = health_view.health_history(engine, MINE, DAY - timedelta(days=10), DAY)
    changes = health_view.version_changes(history)
    assert history["overall"].tolist() == [63.0, 62.0, 61.0, 60.0]
    assert [(d.date(), a, b) for d, a, b in changes.itertuples(index=False)] == [(DAY - timedelta(days=1), 1, 2)]


def test_latest_score_reads_the_newest_row_with_its_inputs(engine: Engine) -> None:
    """The newest score comes back with components, weights and the stored inputs."""
    table_insert(engine, "pendo_health_scores", [_score(DAY - timedelta(days=1), 50.0, 1),
                                                 _score(DAY, None, 1, mau=0.0, dau_7d=None)])
    detail = health_view.latest_score(engine, MINE)
    assert detail is not None
    assert (detail.day, detail.insufficient, detail.inputs, detail.weights["engagement"]) == (
        DAY, True, {"mau": 0.0, "dau_7d": None}, 0.45)
    assert health_view.latest_score(engine, THEIRS) is None


@pytest.mark.parametrize(("name", "inputs", "reason"), [
    ("engagement", {}, "not synced"),
    ("engagement", {"mau": 0.0, "dau_7d": None}, "last 7 days are synced"),
    ("engagement", {"mau": 0.0, "dau_7d": 0.0}, "nobody was active in the last 90 days"),
    ("adoption", {"mau": 3.0, "key_features": 0}, "no key feature"),
    ("trajectory", {"mau": 3.0, "dau_28d": None, "dau_prior_28d": 2.0}, "fewer than 14 synced days"),
    ("trajectory", {"mau": 3.0, "dau_28d": 0.0, "dau_prior_28d": 0.0}, "no trend"),
    ("onboarding", {"mau": 3.0}, "no onboarding guide"),
], ids=["unsynced-day", "partial-week", "not-in-use", "no-key-features", "short-history", "never-used",
        "no-onboarding-guides"])
def test_missing_component_says_why(name: str, inputs: dict[str, Any], reason: str) -> None:
    """Every way a component can lack data is explained in words a CSM can act on."""
    assert reason in health_view.missing_reason(name, inputs)


@pytest.mark.parametrize(("name", "inputs", "text"), [
    ("engagement", {"stickiness": 0.25, "dau_7d": 4.0, "mau": 16.0}, "stickiness 25% (7-day mean DAU 4.0 ÷ MAU 16)"),
    ("adoption", {"breadth": 0.5, "key_features_used": 3.0, "key_features": 6},
     "3 of 6 key features used in 30 days (50%)"),
    ("trajectory", {"dau_28d": 4.0, "dau_prior_28d": 5.0, "trend": -0.2}, "mean DAU 4.0 vs 5.0 in the 28 days "
                                                                           "before (-20%)"),
    ("onboarding", {"onboarding_progress": 0.5}, "50% of onboarding guides completed"),
    ("trajectory", {"dau_28d": None}, ""),
    ("sustained_trend", {"trend_4w": -0.35}, "weekly visitor-days trending -35% over 4 weeks (8-week least-squares "
                                             "line)"),
    ("sustained_trend", {"trend_4w": -1.61}, "weekly visitor-days falling to zero: the 8-week least-squares line "
                                             "reaches zero within 4 weeks (down 100% over 4 weeks, at that pace)"),
], ids=["engagement", "adoption", "trajectory", "onboarding", "missing", "sustained-trend",
        "sustained-trend-beyond-zero"])
def test_measurement_behind_each_component(name: str, inputs: dict[str, Any], text: str) -> None:
    """Each component names the raw measurement it was computed from."""
    assert health_view.measured(name, inputs) == text


def _component(name: str, c7: float | None, c28: float | None) -> ComponentExplanation:
    return ComponentExplanation(name, 50.0, 0.5, 25.0, c7, c28)


@pytest.mark.parametrize(("explanation", "lines"), [
    (Explanation(60.0, [_component("engagement", -4.0, 1.0), _component("trajectory", 0.2, -9.0)], -3.8, -8.0,
                 "trajectory"),
     ["Down 3.8 points since 7 days ago, mostly engagement (-4.0 points).",
      "Down 8.0 points since 28 days ago, mostly trajectory (-9.0 points)."]),
    (Explanation(60.0, [_component("engagement", 0.1, None)], 0.1, None, None),
     ["Up 0.1 points since 7 days ago.", "No score 28 days earlier to compare with."]),
    (Explanation(60.0, [_component("engagement", 0.0, 0.0)], 0.0, 0.0, None),
     ["Unchanged since 7 days ago.", "Unchanged since 28 days ago."]),
    (Explanation(60.0, [_component("breadth_change", 14.0, 14.0), _component("attrition", -9.0, -9.0),
                        _component("engagement", -6.5, -6.5)], -1.5, -1.5, "attrition"),
     ["Down 1.5 points since 7 days ago, mostly attrition (-9.0 points).",
      "Down 1.5 points since 28 days ago, mostly attrition (-9.0 points)."]),
    (Explanation(60.0, [_component("breadth_change", 14.0, 14.0), _component("attrition", 0.2, 0.2)], -1.0, -1.0,
                 None),
     ["Down 1.0 points since 7 days ago.", "Down 1.0 points since 28 days ago."]),
], ids=["drivers-named", "small-move-no-history", "flat", "a-fall-is-not-mostly-a-rise", "no-part-fell"])
def test_what_moved_names_the_driver(explanation: Explanation, lines: list[str]) -> None:
    """The change since 7 and 28 days ago is stated with the component that moved it most."""
    assert health_view.what_moved(explanation) == lines


def _detail(overall: float | None, components: dict[str, float | None]) -> health_view.ScoreDetail:
    weights = {"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45, "onboarding": 0.0}
    return health_view.ScoreDetail(DAY, overall, "insufficient data" if overall is None else "yellow", 0.55, 1,
                                   components, weights, {"mau": 0.0, "dau_7d": 0.0, "key_features": 4})


@pytest.mark.parametrize(("overall", "weights", "points"), [
    (60.0, [0.8182, 0.1818, None], [49.09, 10.91, None]),
    (None, [0.8182, 0.1818, None], [None, None, None]),
], ids=["scored-missing-trajectory", "insufficient-no-points"])
def test_component_table_weights_and_points(overall: float | None, weights: list[float],
                                            points: list[float | None]) -> None:
    """Components with data carry renormalised weights and points; a missing one no weight and no points, and
    says what share of the weights went to the others; without a score no component claims points."""
    components = {"engagement": 60.0, "adoption": 60.0, "trajectory": None, "onboarding": None}
    parts = ScoreParts(components, _detail(overall, components).weights, overall)
    table = health_view.component_table(explain(parts, None, None), _detail(overall, components))
    assert [None if pd.isna(w) else w for w in table["weight"]] == weights
    assert [None if pd.isna(p) else p for p in table["points"]] == points
    assert table["measured"].iloc[2].startswith("no data: ")
    assert table["measured"].iloc[2].endswith("; its 45% of the weights goes to the others")


# --- alerts ----------------------------------------------------------------------------------


def _alerts(engine: Engine) -> None:
    add_customer(engine, MINE, csm="me@cscx.io")
    add_customer(engine, THEIRS, csm="them@cscx.io")
    base = {"subject": "", "last_evaluated_on": DAY, "details": {"window_days": 14, "days_without_login": 20,
            "last_active_day": "2026-02-27"}, "suggested_action": "Call them", "status_by": "system",
            "status_at": NOW - timedelta(days=40)}
    table_insert(engine, "pendo_usage_alerts", [
        {**base, "id": 1, "customer_id": MINE, "kind": "no_login", "status": "open", "severity": "high",
         "triggered_on": DAY, "assigned_csm_email": "me@cscx.io"},
        {**base, "id": 2, "customer_id": THEIRS, "kind": "no_login", "status": "open", "severity": "low",
         "triggered_on": DAY, "assigned_csm_email": "them@cscx.io"},
        {**base, "id": 3, "customer_id": MINE, "kind": "no_login", "status": "resolved", "severity": "high",
         "triggered_on": DAY - timedelta(days=60), "resolved_on": DAY - timedelta(days=50),
         "assigned_csm_email": "me@cscx.io"},
        {**base, "id": 4, "customer_id": MINE, "kind": "usage_drop", "status": "dismissed", "severity": "low",
         "triggered_on": DAY - timedelta(days=3), "assigned_csm_email": "me@cscx.io",
         "status_at": NOW - timedelta(days=1)}])


@pytest.mark.parametrize(("viewer", "include_closed", "ids"), [
    (ME, False, [1]),
    (ME, True, [1, 4]),
    (LEADER, False, [1, 2]),
    (Viewer("nobody@cscx.io", "csm"), True, []),
], ids=["csm-sees-own-active", "csm-recent-closed-too", "leader-sees-all", "unknown-csm-sees-none"])
def test_each_person_sees_their_alerts(engine: Engine, viewer: Viewer, include_closed: bool, ids: list[int]) -> None:
    """A CSM sees alerts on their customers; leaders all; closed ones only when recent and asked for."""
    _alerts(engine)
    frame = alerts_view.visible_alerts(engine, viewer, include_closed=include_closed, today=DAY)
    assert frame["id"].tolist() == ids


def test_acting_records_who_and_when(engine: Engine) -> None:
    """Acknowledge then snooze: the alert carries the last action; the trail holds both, with who."""
    _alerts(engine)
    said = alerts_view.act(engine, 1, "acknowledge", ME, today=DAY, now=NOW)
    alerts_view.act(engine, 1, "snooze", ME, today=DAY, until=DAY + timedelta(7), now=NOW + timedelta(minutes=1))
    frame = alerts_view.visible_alerts(engine, ME, today=DAY).set_index("id")
    trail = alerts_view.alert_trail(engine, 1)
    assert said == "Alert 1 acknowledged by me@cscx.io."
    assert (frame.loc[1, "status"], frame.loc[1, "status_by"], frame.loc[1, "snoozed_until"]) == (
        "snoozed", "me@cscx.io", DAY + timedelta(7))
    assert trail[["who", "action"]].values.tolist() == [["me@cscx.io", "acknowledged"], ["me@cscx.io", "snoozed"]]


@pytest.mark.parametrize(("request_", "message"), [
    ((2, "acknowledge", ME, None), "not on one of your customers"),
    ((1, "dismiss", ME, "  "), "needs a reason"),
    ((1, "snooze", Viewer("me@cscx.io", "leader"), None), "snooze needs a date"),
], ids=["other-csms-alert", "dismiss-without-reason", "snooze-without-date"])
def test_refused_actions_say_why(engine: Engine, request_: tuple[int, str, Viewer, str | None],
                                 message: str) -> None:
    """Actions that do not apply, or are not the person's to take, fail with a one-line reason."""
    _alerts(engine)
    alert_id, action, viewer, reason = request_
    with pytest.raises(AlertTransitionError, match=message):
        alerts_view.act(engine, alert_id, action, viewer, today=DAY, reason=reason, now=NOW)


@pytest.mark.parametrize(("kind", "details", "text"), [
    ("usage_drop", {"window": "2026-03-12..2026-03-18", "avg_daily_users": 6.0, "baseline_avg_daily_users": 10.0,
                    "drop_pct": 40.0, "baseline_weeks": 4, "held_days": 3},
     "Daily users 10.0 → 6.0 (−40%) in 2026-03-12..2026-03-18 vs the same weekdays of the 4 weeks before; "
     "held 3 days"),
    ("no_login", {"days_without_login": 20, "last_active_day": "2026-02-27"},
     "20 days, nobody active (last active 2026-02-27)"),
    ("no_login", {"last_active_day": None, "synced_days_read": 76}, "Nobody active in any of the 76 synced days"),
    ("feature_abandonment", {"feature_name": "Export", "prior_users": 5, "prior_days": 28, "recent_days": 14,
                             "last_used": "2026-03-01"},
     "“Export”: 5 users in the 28 days before, none in the last 14 days; last used 2026-03-01"),
    ("guide_dismissal", {"guide_name": "Tour", "seen_visitors": 10, "dismissed_visitors": 6, "dismissal_rate": 0.6},
     "“Tour”: 6 of 10 viewers dismissed it (60%) in 30 days"),
    ("some_future_kind", {"champion": "a@b.c", "days": 30}, "champion: a@b.c, days: 30"),
], ids=["usage-drop", "no-login", "no-login-ever", "abandonment", "guide", "unknown-kind"])
def test_alert_numbers_read_as_a_sentence(kind: str, details: dict[str, Any], text: str) -> None:
    """Each kind's triggering numbers are shown in one line; unknown kinds still show their numbers."""
    assert alerts_view.numbers_text(kind, details) == text
