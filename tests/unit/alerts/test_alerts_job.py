"""evaluate_alerts on the store: one alert per condition, auto-resolve, suppression, missing data."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session

from pendo_core.alerts.job import evaluate_alerts
from pendo_core.alerts.repo import act_on_alert, alert_events, list_alerts
from pendo_core.store.models import AccountMapping, UsageAlert, UsageMetric
from tests.support.health_alerts import (
    AS_OF,
    LAST,
    add_customer,
    add_feature_use,
    add_features,
    add_guide_counts,
    add_usage,
    dropped,
    history,
)

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)


def _clock() -> datetime:
    return NOW


def _alerts(engine: Engine, **filters: object) -> list[tuple[str, str, str, str]]:
    with Session(engine) as session:
        rows = list_alerts(session, statuses=["open", "acknowledged", "dismissed", "snoozed", "resolved"],
                           **filters)  # type: ignore[arg-type]
        return sorted((a.customer_id, a.kind, a.subject, a.status) for a in rows)


def _evaluate(engine: Engine, as_of: date = AS_OF) -> None:
    evaluate_alerts(engine, as_of, clock=_clock)


def _replace_usage(engine: Engine, customer: str, dau: dict[date, int]) -> None:
    with engine.begin() as conn:
        conn.execute(delete(UsageMetric).where(UsageMetric.customer_id == customer))
    add_usage(engine, customer, dau)


def test_each_kind_fires_once_per_subject(engine: Engine) -> None:
    """A drop, a silent customer, an abandoned key feature and a dismissed guide each open one alert."""
    add_customer(engine, "drop", csm="csm@cscx.io", accounts=["a-drop"])
    add_customer(engine, "silent", csm="csm@cscx.io")
    add_customer(engine, "steady", accounts=["a-steady"])
    add_usage(engine, "drop", history(60, 40, 6, change=dropped(0.5, 10, 40, 6)))
    add_usage(engine, "silent", history(60, 8, 0, change=lambda i, d: 0 if i < 15 else 8))
    add_usage(engine, "steady", history(60, 40, 6))
    add_features(engine, {"reports": True, "export": True})
    # 4 people on 12 visitor-days, silent for 16: a 0.3% chance if nothing had changed.
    add_feature_use(engine, "a-steady", "reports", [(LAST - timedelta(days=16 + i), f"v{i % 4}") for i in range(12)])
    add_feature_use(engine, "a-steady", "export", [(LAST - timedelta(days=i), "v1") for i in range(30)])
    add_guide_counts(engine, "steady", "tour", LAST, seen=10, dismissed=8)
    add_guide_counts(engine, "drop", "tour", LAST, seen=40, dismissed=10, catalogue=False)  # 25% elsewhere
    _evaluate(engine)
    _evaluate(engine)  # the next run while everything still holds: no duplicates
    assert _alerts(engine) == [("drop", "usage_drop", "", "open"), ("silent", "no_login", "", "open"),
                               ("steady", "feature_abandonment", "reports", "open"),
                               ("steady", "guide_dismissal", "tour", "open")]
    with Session(engine) as session:
        (drop,) = list_alerts(session, customer_id="drop")
        assert (drop.assigned_csm_email, drop.severity, drop.triggered_on) == ("csm@cscx.io", "high", AS_OF)
        assert drop.details["drop_pct"] == 50.0
        assert drop.suggested_action


def test_condition_clearing_resolves_and_returning_opens_a_new_alert(engine: Engine) -> None:
    """Recovery resolves the alert (recorded); a new drop later is a new alert."""
    add_customer(engine, "drop")
    add_usage(engine, "drop", history(60, 40, 6, change=dropped(0.5, 10, 40, 6)))
    _evaluate(engine)
    _replace_usage(engine, "drop", history(60, 40, 6))
    _evaluate(engine)
    assert _alerts(engine) == [("drop", "usage_drop", "", "resolved")]
    _replace_usage(engine, "drop", history(60, 40, 6, change=dropped(0.4, 12, 40, 6)))
    _evaluate(engine)
    assert _alerts(engine) == [("drop", "usage_drop", "", "open"), ("drop", "usage_drop", "", "resolved")]
    with Session(engine) as session:
        first = min(a.id for a in list_alerts(session, statuses=["resolved"]))
        assert [e.action for e in alert_events(session, first)] == ["opened", "resolved"]


def test_dismissed_alert_stays_away_until_the_condition_returns(sqlite_engine: Engine) -> None:
    """Dismissed while holding: no new alert; after clearing and returning: a new one."""
    add_customer(sqlite_engine, "drop")
    falling = history(60, 40, 6, change=dropped(0.5, 10, 40, 6))
    add_usage(sqlite_engine, "drop", falling)
    _evaluate(sqlite_engine)
    with Session(sqlite_engine) as session, session.begin():
        (alert,) = list_alerts(session)
        act_on_alert(session, alert.id, "dismiss", "csm@cscx.io", today=AS_OF, now=NOW, reason="planned outage")
    _evaluate(sqlite_engine)
    assert _alerts(sqlite_engine) == [("drop", "usage_drop", "", "dismissed")]
    _replace_usage(sqlite_engine, "drop", history(60, 40, 6))
    _evaluate(sqlite_engine)
    _replace_usage(sqlite_engine, "drop", falling)
    _evaluate(sqlite_engine)
    assert [a[3] for a in _alerts(sqlite_engine)] == ["open", "resolved"]


def test_snoozed_alert_returns_when_the_snooze_ends(sqlite_engine: Engine) -> None:
    """Snoozed until a date: quiet before it, open again from it while the condition holds."""
    add_customer(sqlite_engine, "silent")
    quiet = history(70, 8, 0, last=LAST + timedelta(days=5), change=lambda i, d: 0 if i < 25 else 8)
    add_usage(sqlite_engine, "silent", quiet)
    _evaluate(sqlite_engine)
    with Session(sqlite_engine) as session, session.begin():
        (alert,) = list_alerts(session)
        alert_id = alert.id
        act_on_alert(session, alert_id, "snooze", "csm@cscx.io", today=AS_OF, now=NOW, until=AS_OF + timedelta(days=3))
    _evaluate(sqlite_engine, AS_OF + timedelta(days=2))
    assert _alerts(sqlite_engine) == [("silent", "no_login", "", "snoozed")]
    _evaluate(sqlite_engine, AS_OF + timedelta(days=3))
    assert _alerts(sqlite_engine) == [("silent", "no_login", "", "open")]
    with Session(sqlite_engine) as session:
        assert [e.action for e in alert_events(session, alert_id)][-1] == "snooze_ended"


def test_no_login_supersedes_an_open_usage_drop(sqlite_engine: Engine) -> None:
    """When a dropping customer goes silent, its usage_drop resolves and no_login opens."""
    add_customer(sqlite_engine, "fading")
    add_usage(sqlite_engine, "fading", history(60, 40, 6, change=dropped(0.5, 10, 40, 6)))
    _evaluate(sqlite_engine)
    _replace_usage(sqlite_engine, "fading", history(60, 40, 6, change=lambda i, d: 0 if i < 16 else 40))
    _evaluate(sqlite_engine)
    assert _alerts(sqlite_engine) == [("fading", "no_login", "", "open"), ("fading", "usage_drop", "", "resolved")]
    with Session(sqlite_engine) as session:
        (old,) = list_alerts(session, statuses=["resolved"])
        assert alert_events(session, old.id)[-1].note == "suppressed by no_login"


def test_day_in_progress_and_unsynced_days_raise_nothing(sqlite_engine: Engine) -> None:
    """Today's partial row is never read; days missing from the sync are not zeros."""
    add_customer(sqlite_engine, "today")
    add_customer(sqlite_engine, "gap")
    steady = history(60, 40, 6)
    add_usage(sqlite_engine, "today", {**steady, AS_OF: 1})
    add_usage(sqlite_engine, "gap", {d: n for d, n in steady.items() if d < LAST - timedelta(days=15)})
    _evaluate(sqlite_engine)
    assert _alerts(sqlite_engine) == []


def test_missing_data_leaves_an_open_alert_alone(sqlite_engine: Engine) -> None:
    """An open alert is neither resolved nor duplicated while its days are not synced."""
    add_customer(sqlite_engine, "drop")
    falling = history(60, 40, 6, change=dropped(0.5, 10, 40, 6))
    add_usage(sqlite_engine, "drop", falling)
    _evaluate(sqlite_engine)
    _replace_usage(sqlite_engine, "drop", {d: n for d, n in falling.items() if d < LAST - timedelta(days=1)})
    _evaluate(sqlite_engine)
    with Session(sqlite_engine) as session:
        (alert,) = session.query(UsageAlert).all()
        assert alert.status == "open"


def test_a_customer_left_with_no_pendo_account_has_its_alerts_resolved(engine: Engine) -> None:
    """Every account unmapped (its metrics removed with them): its open alerts resolve, they do not stay
    open on usage that is gone; a customer with no account but usage rows is still evaluated."""
    add_customer(engine, "drop", accounts=["a-drop"])
    add_customer(engine, "silent")
    add_usage(engine, "drop", history(60, 40, 6, change=dropped(0.5, 10, 40, 6)))
    add_usage(engine, "silent", history(60, 8, 0, change=lambda i, d: 0 if i < 15 else 8))
    _evaluate(engine)
    assert _alerts(engine) == [("drop", "usage_drop", "", "open"), ("silent", "no_login", "", "open")]
    with engine.begin() as conn:  # what unmapping its only account leaves: no mapping, no metrics
        conn.execute(delete(AccountMapping).where(AccountMapping.customer_id == "drop"))
        conn.execute(delete(UsageMetric).where(UsageMetric.customer_id == "drop"))
    _evaluate(engine)
    assert _alerts(engine) == [("drop", "usage_drop", "", "resolved"), ("silent", "no_login", "", "open")]
