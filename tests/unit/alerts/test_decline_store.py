"""usage_drop end to end on the store (SQLite and PostgreSQL): a sustained decline opens an alert with
its numbers; a recovered dip, a weekday-only team and a tiny team's noise open nothing; and the edges
(team sizes, seasonality, unsynced days) read through the store as they do on plain histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.alerts.job import evaluate_alerts
from pendo_core.alerts.repo import list_alerts
from tests.support.health_alerts import (
    AS_OF,
    LAST,
    add_customer,
    add_usage,
    history,
    month_end_peak,
    slide,
    step,
)

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)


def _slide(i: int, weekday: bool) -> int:
    """30 visitor-days a week for the 28 days before the last 28, then about 19 (a 4-week slide)."""
    if not weekday:
        return 0
    return 6 if i >= 28 else 4 if i >= 14 else 3


def test_sustained_decline_opens_usage_drop_and_hard_negatives_do_not(engine: Engine) -> None:
    """A team sliding from 6 to 3-4 daily users over four weeks is flagged with the numbers; others stay quiet."""
    for customer in ("sliding", "dip", "weekdays", "tiny"):
        add_customer(engine, customer, csm="csm@cscx.io")
    add_usage(engine, "sliding", history(70, 6, 0, change=lambda i, d: _slide(i, d.weekday() < 5)))
    add_usage(engine, "dip", history(70, 40, 6, change=lambda i, d: (20 if 10 <= i < 31 else 40)
                                     if d.weekday() < 5 else 6))
    add_usage(engine, "weekdays", history(70, 25, 0))
    add_usage(engine, "tiny", history(70, 3, 0, change=lambda i, d: (2, 3, 4)[i % 3] if d.weekday() < 5 else 0))
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    with Session(engine) as session:
        alerts = list_alerts(session)
    assert [(a.customer_id, a.kind) for a in alerts] == [("sliding", "usage_drop")]
    details = alerts[0].details
    assert details["rule"] == "sustained"
    assert details["window"] == f"{LAST - timedelta(days=27)}..{LAST}"
    assert (details["baseline_visitor_days_per_week"], details["visitor_days_per_week"]) == (30.0, 17.5)
    assert details["change_pct"] == -41.7
    assert details["summary"].startswith("30 visitor-days a week → 18, −42%, 28 days vs the 56 before (")
    assert "28 days vs the 56 before" in (alerts[0].suggested_action or "")


MONTH_START = date(2026, 3, 3)  # the peak of February's close is 4-7 days back


def _gaps(dau: dict[date, int], days_ago: set[int]) -> dict[date, int]:
    """The history without some days: no row at all, as for a day never synced."""
    return {d: n for d, n in dau.items() if (LAST - d).days not in days_ago}


@pytest.mark.parametrize(("dau", "alerted"), [
    pytest.param(history(70, 4, 0, change=lambda i, d: 0 if d.weekday() >= 5 else (1 if i < 28 else 4)), True,
                 id="4-users-fall-to-1"),
    pytest.param(history(70, 200, 30, change=slide(200, 30, days=56, to=0.5)), True, id="200-users-halve"),
    pytest.param(history(70, 40, 6, change=step(40, 6, days=10, to=0.5)), True, id="halved-10-days-ago"),
    pytest.param(history(70, 40, 6, change=lambda i, d: 0 if 8 <= i < 17 else (6 if d.weekday() >= 5 else 40)),
                 False, id="nine-day-shutdown-recovered"),
    pytest.param(history(70, 30, 4, last=MONTH_START, change=month_end_peak(30, 4)), False,
                 id="month-end-peak-falling-back"),
    pytest.param(history(70, 40, 6, change=step(40, 6, days=21, to=0.5, back_after=10)), False,
                 id="dip-that-recovered"),
    pytest.param(_gaps(history(70, 40, 6, change=slide(40, 6, days=56, to=0.6)), {9, 12, 20, 30, 44}), True,
                 id="slide-with-unsynced-days"),
    pytest.param(_gaps(history(70, 40, 6, change=step(40, 6, days=10, to=0.5)), {0, 1}), False,
                 id="drop-but-latest-days-unsynced"),
])
def test_usage_drop_edges_through_the_store(engine: Engine, dau: dict[date, int], alerted: bool) -> None:
    """Each edge gives the same verdict when its DAU is read back from the store."""
    add_customer(engine, "acme")
    add_usage(engine, "acme", dau)
    last = MONTH_START if max(dau) == MONTH_START else LAST  # unsynced latest days stay unknown, not skipped
    evaluate_alerts(engine, last + timedelta(days=1), clock=lambda: NOW)
    with Session(engine) as session:
        kinds = [a.kind for a in list_alerts(session)]
    assert ("usage_drop" in kinds) is alerted


def _twelve_week_slide(i: int, day: date) -> int:
    """Weekday-only: 6 daily users 12-9 weeks back, 5 in weeks 8-5, 4 in the last 4 (weekends empty)."""
    if day.weekday() >= 5:
        return 0
    return 6 if i >= 56 else 5 if i >= 28 else 4


@pytest.mark.parametrize(("dau", "alerted"), [
    pytest.param(history(90, 6, 0, change=_twelve_week_slide), True, id="slide-that-began-12-weeks-ago"),
    pytest.param(history(90, 40, 6, change=lambda i, d: 0 if 60 <= i < 67 else (6 if d.weekday() >= 5 else 40)),
                 False, id="holiday-week-in-the-weeks-before"),
    pytest.param(history(90, 3, 0, change=lambda i, d: (2, 3, 4)[i % 3] if d.weekday() < 5 else 0), False,
                 id="tiny-team-noise"),
    pytest.param(_gaps(history(90, 6, 0, change=_twelve_week_slide), set(range(58, 74))), False,
                 id="weeks-before-unsynced-fall-back-to-the-28-days-before"),
])
def test_usage_drop_reads_twelve_weeks_from_the_store(engine: Engine, dau: dict[date, int], alerted: bool) -> None:
    """The alert job loads enough history for the 8 weeks before the sustained window, and the alert says
    which span it compared; with those weeks unsynced the rule compares with the 28 days before."""
    add_customer(engine, "acme")
    add_usage(engine, "acme", dau)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)
    with Session(engine) as session:
        alerts = [a for a in list_alerts(session) if a.kind == "usage_drop"]
    assert bool(alerts) is alerted
    if alerted:
        details = alerts[0].details
        assert details["baseline_window"] == f"{LAST - timedelta(days=83)}..{LAST - timedelta(days=28)}"
        assert (details["baseline_visitor_days_per_week"], details["visitor_days_per_week"]) == (27.5, 20.0)
        assert details["summary"].startswith("28 visitor-days a week → 20, −27%, 28 days vs the 56 before (")
