"""pendo_usage_metrics follows metrics-spec.md, one rule per test, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine

from pendo_core.common.timeutil import day_of_ms, hour_starts_ms
from tests.support.metrics import Activity, FDay, PDay, VDay, VHour, named, run_metrics

D = date(2024, 6, 15)
NY = ZoneInfo("America/New_York")


def usage(outputs: dict, customer: str, day: date) -> dict:
    """The usage row of (customer, day); fails when it is missing."""
    row = named(outputs, "pendo_usage_metrics", (customer, day))
    assert row is not None, f"no usage row for {customer} on {day}"
    return row


def utc_hour(day: date, hour: int, account: str = "a1", visitor: str = "v1", events: int = 1) -> VHour:
    """An hour row at `hour` o'clock UTC of `day` (hours past 23 spill into the next days)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour)
    ms = int(start.timestamp() * 1000)
    return VHour(account, visitor, ms, day_of_ms(ms, ZoneInfo("UTC")), events)


def local_hours(day: date, indexes: list[int], tz: ZoneInfo = NY) -> list[VHour]:
    """Rows for the `indexes`-th hour buckets of a local day (DST days have 23 or 25)."""
    starts = hour_starts_ms(day, tz)
    return [VHour("a1", "v1", starts[i], day_of_ms(starts[i], tz)) for i in indexes]


def test_shared_visitor_counts_once(store: Engine) -> None:
    """A visitor active in two accounts of one customer counts once; sums add every row."""
    activity = Activity(
        mapping={"a2": "c1", "a1": "c1", "b1": "c2"},
        visitor_days=[VDay("a1", D, "v1", 3, 10), VDay("a2", D, "v1", 2, 5), VDay("a2", D, "v2", 1, 1),
                      VDay("b1", D, "v1", 1, 7)],
    )
    out = run_metrics(store, activity, D)
    c1 = usage(out, "c1", D)
    assert (c1["dau"], c1["wau"], c1["mau"], c1["active_visitors"]) == (2, 2, 2, 2)
    assert (c1["time_in_app_minutes"], c1["pendo_account_id"]) == (16, "a1;a2")
    assert usage(out, "c2", D)["dau"] == 1


@pytest.mark.parametrize(("include_anonymous", "expected"), [
    pytest.param(False, (2, 101, 1, 1), id="anonymous-excluded"),
    pytest.param(True, (3, 111, 8, 2), id="anonymous-included"),
])
def test_anonymous_visitors(store: Engine, include_anonymous: bool, expected: tuple[int, ...]) -> None:
    """`_PENDO_T_` visitors leave counts and sums unless included; APENDO_T_1 is not anonymous."""
    activity = Activity(
        mapping={"a1": "c1"},
        visitor_days=[VDay("a1", D, "v1", 1, 1), VDay("a1", D, "_PENDO_T_x", 1, 10),
                      VDay("a1", D, "APENDO_T_1", 1, 100)],
        feature_visitor_days=[FDay("a1", D, "f1", "_PENDO_T_x", 7), FDay("a1", D, "f1", "v1", 1)],
        visitor_hours=[utc_hour(D, 9), utc_hour(D, 9, visitor="_PENDO_T_x")],
    )
    row = usage(run_metrics(store, activity, D, include_anonymous=include_anonymous), "c1", D)
    assert (row["dau"], row["time_in_app_minutes"], row["feature_events"], row["session_count"]) == expected


def test_zero_event_row_is_not_active(store: Engine) -> None:
    """A visitor-day row with num_events 0 counts in no visitor window (its minutes still add up)."""
    activity = Activity(mapping={"a1": "c1"}, visitor_days=[VDay("a1", D, "v1", 0, 5)])
    row = usage(run_metrics(store, activity, D), "c1", D)
    assert (row["dau"], row["wau"], row["mau"], row["active_visitors"], row["time_in_app_minutes"]) == (0, 0, 0, 0, 5)


SPRING = date(2024, 3, 10)  # 23 hours in New York: local 02:00 does not exist
FALL = date(2024, 11, 3)  # 25 hours in New York: local 01:00 happens twice


@pytest.mark.parametrize(("hours", "first", "last", "expected"), [
    pytest.param([utc_hour(D, 9), utc_hour(D, 10), utc_hour(D, 11)], D, D, [1], id="consecutive-hours"),
    pytest.param([utc_hour(D, 9), utc_hour(D, 11)], D, D, [2], id="one-hour-gap"),
    pytest.param([utc_hour(D, 9), utc_hour(D, 10, events=0), utc_hour(D, 11)], D, D, [2], id="inactive-hour-splits"),
    pytest.param([utc_hour(D, 23), utc_hour(D, 24), utc_hour(D, 25)], D, D + timedelta(days=1), [1, 0],
                 id="across-midnight-belongs-to-start-day"),
    pytest.param([utc_hour(D, -1), utc_hour(D, 0)], D, D, [0], id="run-started-before-first-day"),
    pytest.param([utc_hour(D, -30), *(utc_hour(D, h) for h in range(-26, 2))], D, D, [0],
                 id="run-started-two-days-before-first-day"),
    pytest.param([utc_hour(D, 9, "a1"), utc_hour(D, 10, "a2"), utc_hour(D, 11, "a1")], D, D, [3],
                 id="one-session-per-account"),
    pytest.param([utc_hour(D, 9, "a1", "v1"), utc_hour(D, 9, "a1", "v2")], D, D, [2], id="one-session-per-visitor"),
    pytest.param(local_hours(SPRING, [1, 2]), SPRING, SPRING, [1], id="spring-forward-01-03-consecutive"),
    pytest.param(local_hours(SPRING, list(range(23))), SPRING, SPRING, [1], id="spring-forward-whole-day"),
    pytest.param(local_hours(FALL, [1, 2]), FALL, FALL, [1], id="fall-back-both-01-consecutive"),
    pytest.param(local_hours(FALL, list(range(25))), FALL, FALL, [1], id="fall-back-25-hour-day"),
])
def test_sessions(store: Engine, hours: list[VHour], first: date, last: date, expected: list[int]) -> None:
    """Sessions are runs of active hours exactly 1 h apart, per visitor and account, on their first day."""
    activity = Activity(mapping={"a1": "c1", "a2": "c1"}, visitor_hours=hours)
    out = run_metrics(store, activity, first, last)
    days = [first + timedelta(days=i) for i in range(len(expected))]
    assert [usage(out, "c1", day)["session_count"] for day in days] == expected


@pytest.mark.parametrize(("days_ago", "expected"), [
    pytest.param(0, (1, 1, 1, 1), id="d"),
    pytest.param(6, (0, 1, 1, 1), id="d-6-in-wau"),
    pytest.param(7, (0, 0, 1, 1), id="d-7-out-of-wau"),
    pytest.param(29, (0, 0, 1, 1), id="d-29-in-mau"),
    pytest.param(30, (0, 0, 0, 1), id="d-30-out-of-mau"),
    pytest.param(89, (0, 0, 0, 1), id="d-89-in-active-visitors"),
    pytest.param(90, (0, 0, 0, 0), id="d-90-out-of-everything"),
])
def test_window_edges(store: Engine, days_ago: int, expected: tuple[int, int, int, int]) -> None:
    """wau, mau and active_visitors cover [d-6, d], [d-29, d] and [d-89, d] exactly."""
    activity = Activity(mapping={"a1": "c1"}, visitor_days=[VDay("a1", D - timedelta(days=days_ago), "v1")])
    row = usage(run_metrics(store, activity, D), "c1", D)
    assert (row["dau"], row["wau"], row["mau"], row["active_visitors"]) == expected


def test_quiet_days_are_zeros(store: Engine) -> None:
    """Every customer has a row on every day of the range, zeros (and NULL average) when quiet."""
    activity = Activity(
        mapping={"a1": "c1", "b1": "c2"},
        visitor_days=[VDay("a1", D, "v1", 2, 9)], visitor_hours=[utc_hour(D, 9)],
        page_days=[PDay("a1", D, "p1", 4)], feature_visitor_days=[FDay("a1", D, "f1", "v1", 3)],
    )
    out = run_metrics(store, activity, D, D + timedelta(days=2))
    quiet = {"pendo_account_id": "a1", "dau": 0, "wau": 1, "mau": 1, "active_visitors": 1, "session_count": 0,
             "avg_session_minutes": None, "page_views": 0, "feature_events": 0, "time_in_app_minutes": 0}
    assert usage(out, "c1", D + timedelta(days=2)) == quiet
    assert usage(out, "c2", D + timedelta(days=1)) == {**quiet, "pendo_account_id": "b1", "wau": 0, "mau": 0,
                                                       "active_visitors": 0}


@pytest.mark.parametrize(("minutes", "hours", "expected"), [
    pytest.param(30, [9, 11], 15.0, id="minutes-over-sessions"),
    pytest.param(30, [], None, id="null-without-sessions"),
    pytest.param(0, [9], 0.0, id="zero-minutes"),
    pytest.param(10, [9, 11, 13], 10 / 3, id="fraction"),
])
def test_avg_session_minutes(store: Engine, minutes: int, hours: list[int], expected: float | None) -> None:
    """avg_session_minutes = the day's visitor-day minutes ÷ session_count, NULL with no session."""
    activity = Activity(mapping={"a1": "c1"}, visitor_days=[VDay("a1", D, "v1", 1, minutes)],
                        visitor_hours=[utc_hour(D, h) for h in hours])
    assert usage(run_metrics(store, activity, D), "c1", D)["avg_session_minutes"] == expected


def test_page_views_and_feature_events_sum_mapped_accounts(store: Engine) -> None:
    """page_views and feature_events add every row of the customer's accounts, none of others."""
    activity = Activity(
        mapping={"a1": "c1", "a2": "c1"},
        page_days=[PDay("a1", D, "p1", 3), PDay("a2", D, "p2", 4), PDay("x", D, "p1", 100)],
        feature_visitor_days=[FDay("a1", D, "f1", "v1", 2), FDay("a2", D, "f2", "v1", 5),
                              FDay("x", D, "f1", "v1", 100)],
    )
    row = usage(run_metrics(store, activity, D), "c1", D)
    assert (row["page_views"], row["feature_events"]) == (7, 7)


def test_invariant_dau_wau_mau_active(store: Engine) -> None:
    """0 <= dau <= wau <= mau <= active_visitors on every stored row."""
    activity = Activity(mapping={"a1": "c1"}, visitor_days=[
        VDay("a1", D - timedelta(days=k), f"v{k % 7}") for k in range(0, 100, 3)])
    out = run_metrics(store, activity, D - timedelta(days=10), D)
    rows = list(out["pendo_usage_metrics"].values())
    assert len(rows) == 11
    assert all(0 <= r[1] <= r[2] <= r[3] <= r[4] for r in rows)
