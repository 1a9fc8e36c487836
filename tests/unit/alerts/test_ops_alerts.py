"""Operations alerts: a failed run, data older than 24 hours or windows held back as suspect open one alert
for admins, refreshed while it holds and resolved when it clears; each opened alert reaches the admins once."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.alerts.delivery import DeliveryError, Message
from pendo_core.alerts.operations import (
    DATA_STALE,
    SYNC_FAILED,
    SYNC_SUSPECT,
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


def _suspect_run(engine: Engine, hours: float, *windows: tuple[str, str]) -> int:
    """A run that failed `hours` ago holding back `windows` ((stream, "FIRST..LAST: why")), recorded as
    the runner does; returns its id."""
    _runs(engine, (hours, "failed"))
    with Session(engine) as session, session.begin():
        run_id = session.scalar(select(func.max(models.SyncRun.id)))
        assert run_id is not None
        session.get_one(models.SyncRun, run_id).error = f"{len(windows)} suspect window(s) withheld"
        for stream, reason in windows:
            session.add(models.DataQualityIssue(run_id=run_id, stream=stream, reason=f"suspect {reason}", count=0))
        session.add(models.DataQualityIssue(run_id=run_id, stream="features", reason="bad id", count=3))
    return run_id


def test_held_back_windows_open_sync_suspect_until_a_run_succeeds(engine: Engine) -> None:
    """A run that withheld windows opens sync_suspect (not sync_failed too) naming the days and the way out;
    a later run failing for another reason adds sync_failed and keeps it; a successful run resolves both."""
    _runs(engine, (30, "success"))
    run_id = _suspect_run(engine, 3, ("visitor_days", "2024-03-10..2024-03-16: all 1,204 rows unusable (bad "
                                                      "numEvents)"),
                          ("visitor_hours", "2024-03-17..2024-03-19: results is not a list"))
    check = check_operations(engine, NOW, max_age_hours=48)
    assert check.opened == [SYNC_SUSPECT]
    (alert,) = check.open
    assert alert.message.startswith(f"Sync run {run_id} held back 2 window(s) as suspect: 10 day(s), "
                                    "2024-03-10..2024-03-19, stored rows kept")
    assert "visitor_days 2024-03-10..2024-03-16: all 1,204 rows unusable (bad numEvents)" in alert.message
    assert "--accept-restatement" in alert.message
    assert alert.details["windows"][1] == {"stream": "visitor_hours", "first": "2024-03-17", "last": "2024-03-19",
                                           "why": "results is not a list"}
    _runs(engine, (2, "failed"))
    assert check_operations(engine, NOW, max_age_hours=48).opened == [SYNC_FAILED]
    assert {a.kind for a in open_ops_alerts(engine)} == {SYNC_SUSPECT, SYNC_FAILED}
    _runs(engine, (1, "success"))
    assert sorted(check_operations(engine, NOW, max_age_hours=48).resolved) == [SYNC_FAILED, SYNC_SUSPECT]


def test_suspect_windows_before_the_last_success_raise_nothing(engine: Engine) -> None:
    """Windows withheld by a run that a successful run followed (the answer came back sound) are settled."""
    _suspect_run(engine, 5, ("visitor_days", "2024-03-10..2024-03-16: results is not a list"))
    _runs(engine, (2, "success"))
    assert check_operations(engine, NOW).opened == []
