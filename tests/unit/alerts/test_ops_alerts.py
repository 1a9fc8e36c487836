"""Operations alerts: a failed run or data older than 24 hours opens one alert for admins, refreshed
while it holds and resolved when it clears; each opened alert reaches the admins once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.alerts.delivery import DeliveryError, Message
from pendo_core.alerts.operations import (
    DATA_STALE,
    SYNC_FAILED,
    check_operations,
    customer_freshness,
    freshness,
    notify_admins,
    open_ops_alerts,
)
from pendo_core.store import models

NOW = datetime(2024, 3, 20, 12, 0, tzinfo=UTC)


def _runs(engine: Engine, *runs: tuple[float, str]) -> None:
    """Sync runs started `hours` before NOW with a status ("stopped": failed by a SIGTERM), oldest first."""
    errors = {"failed": "Pendo refused the integration key",
              "stopped": "StopRequested: the scheduler was asked to stop; the next run resumes where this one ended"}
    with Session(engine) as session, session.begin():
        for hours, status in runs:
            started = NOW - timedelta(hours=hours)
            session.add(models.SyncRun(
                started_at=started, finished_at=started + timedelta(minutes=5), mode="daily", as_of=started.date(),
                status="failed" if status == "stopped" else status, requests=0, retries=0, bad_rows=0,
                error=errors.get(status)))


@pytest.mark.parametrize(("runs", "age", "stale"), [
    ((), None, True),
    (((2, "success"),), 2.0, False),
    (((30, "success"),), 30.0, True),
    (((30, "success"), (2, "failed")), 30.0, True),
    (((2, "success"), (1, "running")), 2.0, False),
], ids=["never-synced", "fresh", "old", "old-and-failing", "running-does-not-count"])
def test_freshness_is_the_age_of_the_last_successful_run(sqlite_engine: Engine, runs: tuple[tuple[float, str], ...],
                                                         age: float | None, stale: bool) -> None:
    """Data age = hours since the newest successful run started; stale beyond 24 hours or when none."""
    _runs(sqlite_engine, *runs)
    state = freshness(sqlite_engine, NOW)
    assert state.age_hours == (None if age is None else pytest.approx(age))
    assert state.stale is stale


@pytest.mark.parametrize(("runs", "open_kinds"), [
    (((2, "success"),), set()),
    (((3, "success"), (1, "failed")), {SYNC_FAILED}),
    (((30, "success"),), {DATA_STALE}),
    (((30, "success"), (2, "failed")), {SYNC_FAILED, DATA_STALE}),
    ((), {DATA_STALE}),
    (((3, "success"), (1, "stopped")), set()),
    (((5, "failed"), (3, "success"), (1, "stopped")), set()),
], ids=["healthy", "last-run-failed", "data-too-old", "both", "never-synced", "stopped-on-purpose",
        "stopped-after-a-recovery"])
def test_the_check_opens_one_alert_per_condition(engine: Engine, runs: tuple[tuple[float, str], ...],
                                                 open_kinds: set[str]) -> None:
    """Each condition that holds has one open alert; checking again opens no duplicate."""
    _runs(engine, *runs)
    first = check_operations(engine, NOW)
    second = check_operations(engine, NOW + timedelta(minutes=5))
    assert set(first.opened) == open_kinds
    assert second.opened == []
    assert {a.kind for a in open_ops_alerts(engine)} == open_kinds
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.OpsAlert)) == len(open_kinds)


def test_alerts_resolve_when_a_run_succeeds(engine: Engine) -> None:
    """A failed, stale store raises both; the next successful run clears both."""
    _runs(engine, (30, "success"), (2, "failed"))
    check_operations(engine, NOW)
    _runs(engine, (0.5, "success"))
    result = check_operations(engine, NOW)
    assert sorted(result.resolved) == sorted([SYNC_FAILED, DATA_STALE])
    assert open_ops_alerts(engine) == []


def test_the_failed_alert_names_the_run_and_its_reason(sqlite_engine: Engine) -> None:
    """The message says which run failed, why, and what to do."""
    _runs(sqlite_engine, (3, "success"), (1, "failed"))
    check_operations(sqlite_engine, NOW)
    (alert,) = open_ops_alerts(sqlite_engine)
    assert "failed: Pendo refused the integration key" in alert.message
    assert "python -m jobs sync" in alert.message


def test_each_customer_knows_how_far_behind_its_data_is(sqlite_engine: Engine) -> None:
    """Newest metric day per customer; a lagging or empty customer is stale even when the store is fresh."""
    _runs(sqlite_engine, (2, "success"))
    with Session(sqlite_engine) as session, session.begin():
        for cid, name in (("c1", "Acme"), ("c2", "Beta"), ("c3", "Gamma")):
            session.add(models.Customer(customer_id=cid, name=name))
        for cid, day in (("c1", date(2024, 3, 19)), ("c2", date(2024, 3, 17))):
            session.add(models.UsageMetric(customer_id=cid, metric_date=day, pendo_account_id="a", dau=1, wau=1, mau=1,
                                           active_visitors=1, session_count=1, page_views=0, feature_events=0,
                                           time_in_app_minutes=0))
    rows = {r.customer_id: (r.data_through, r.behind_days, r.stale) for r in customer_freshness(sqlite_engine, NOW)}
    assert rows == {"c1": (date(2024, 3, 19), 0, False), "c2": (date(2024, 3, 17), 2, True),
                    "c3": (None, None, True)}


class FakeChannel:
    """Records messages; fails while `failing` is set."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.sent: list[Message] = []
        self.failing = False

    def send(self, message: Message) -> None:
        if self.failing:
            raise DeliveryError("refused", retriable=False)
        self.sent.append(message)


def _admins(engine: Engine, *emails: str) -> None:
    with Session(engine) as session, session.begin():
        session.add(models.AppUser(email="csm@example.com", name="A CSM", role="csm"))
        for email in emails:
            session.add(models.AppUser(email=email, name=email, role="admin"))


def test_admins_are_told_once_on_each_channel(sqlite_engine: Engine) -> None:
    """E-mail to every admin, one webhook message; a second pass sends nothing new."""
    _admins(sqlite_engine, "ada@example.com", "bob@example.com")
    _runs(sqlite_engine, (3, "success"), (1, "failed"))
    check_operations(sqlite_engine, NOW)
    email, webhook = FakeChannel("email"), FakeChannel("webhook")
    channels = {"email": email, "webhook": webhook}
    assert notify_admins(sqlite_engine, channels, now=NOW, sleep=lambda _s: None) == 1
    assert notify_admins(sqlite_engine, channels, now=NOW, sleep=lambda _s: None) == 0
    assert [m.recipient for m in email.sent] == ["ada@example.com", "bob@example.com"]
    assert [m.recipient for m in webhook.sent] == ["admins"]
    assert "sync failed" in webhook.sent[0].subject


def test_a_failed_notification_is_kept_and_retried(sqlite_engine: Engine) -> None:
    """A channel that refuses leaves the alert un-notified with the error; the next pass delivers it."""
    _admins(sqlite_engine, "ada@example.com")
    _runs(sqlite_engine, (30, "success"))
    check_operations(sqlite_engine, NOW)
    webhook = FakeChannel("webhook")
    webhook.failing = True
    assert notify_admins(sqlite_engine, {"webhook": webhook}, now=NOW, sleep=lambda _s: None) == 0
    (alert,) = open_ops_alerts(sqlite_engine)
    assert alert.notified_at is None
    assert "webhook to admins: refused" in (alert.notify_error or "")
    webhook.failing = False
    assert notify_admins(sqlite_engine, {"webhook": webhook}, now=NOW, sleep=lambda _s: None) == 1
    assert len(webhook.sent) == 1
