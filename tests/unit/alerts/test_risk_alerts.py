"""The risk alerts: health_drop (the score fell N points in 28 days, or crossed into red) and
renewal_risk (the renewal is within N days while red or declining), as pure rules and through the
alerts job on the store (SQLite and PostgreSQL) with the same lifecycle as every kind."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings
from pendo_core.alerts import job as alerts_job
from pendo_core.alerts.job import AlertsStep, evaluate_alerts, read_alerts
from pendo_core.alerts.repo import act_on_alert, list_alerts
from pendo_core.alerts.risk import HealthWindow, comparable, health_drop, renewal_risk
from pendo_core.alerts.settings import AlertSettings, HealthDropSettings, RenewalRiskSettings
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.pendo.sync.store import RunSuperseded
from pendo_core.store.models import Customer, HealthScore, UsageAlert
from tests.support.health_alerts import AS_OF, LAST, add_customer, add_usage, history, table_insert
from tests.support.store import each_statement, running_run

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)
BEFORE = LAST - timedelta(days=28)


def _health(score: float | None, band: str | None, before: float | None = None,
            band_before: str | None = None, day: date = LAST) -> HealthWindow:
    return HealthWindow(day, score, band, before, band_before)


@pytest.mark.parametrize(("health", "cfg", "status", "severity"), [
    (_health(45.0, "red", 66.0, "yellow"), HealthDropSettings(), "fire", "high"),
    (_health(55.0, "yellow", 72.0, "yellow"), HealthDropSettings(), "fire", "medium"),
    (_health(60.0, "yellow", 75.0, "green"), HealthDropSettings(), "fire", "medium"),
    (_health(61.0, "yellow", 75.0, "green"), HealthDropSettings(), "clear", None),
    (_health(61.0, "yellow", 75.0, "green"), HealthDropSettings(points=10), "fire", "medium"),
    (_health(49.0, "red", 52.0, "yellow"), HealthDropSettings(), "fire", "high"),
    (_health(30.0, "red", 35.0, "red"), HealthDropSettings(), "clear", None),
    (_health(40.0, "red", None, "insufficient data"), HealthDropSettings(), "unknown", None),
    (_health(80.0, "green", 70.0, "green"), HealthDropSettings(), "clear", None),
    (_health(60.0, "yellow"), HealthDropSettings(), "unknown", None),
    (_health(None, "insufficient data", 70.0, "green"), HealthDropSettings(), "unknown", None),
    (_health(45.0, "red", 66.0, "yellow", day=LAST - timedelta(days=1)), HealthDropSettings(), "unknown", None),
    (None, HealthDropSettings(), "unknown", None),
], ids=["fell-into-red", "fell-17-in-yellow", "fell-exactly-15", "fell-14", "fell-14-threshold-10",
        "crossed-into-red-by-3", "red-all-along", "red-after-insufficient-data", "rose", "no-score-28-days-before",
        "insufficient-data-now", "last-day-not-scored", "never-scored"])
def test_health_drop(health: HealthWindow | None, cfg: HealthDropSettings, status: str,
                     severity: str | None) -> None:
    """Fires on a fall of N points or a crossing into red (high when red now); unknown without scores."""
    finding = health_drop(health, LAST, cfg)
    assert (finding.kind, finding.status, finding.subject) == ("health_drop", status, "")
    if status == "fire":
        assert finding.severity == severity
        assert finding.details["score"] == health.score  # type: ignore[union-attr]


RENEW_IN_40 = AS_OF + timedelta(days=40)


@pytest.mark.parametrize(("health", "renewal", "cfg", "status", "severity"), [
    (_health(45.0, "red", 46.0, "red"), RENEW_IN_40, RenewalRiskSettings(), "fire", "high"),
    (_health(62.0, "yellow", 70.0, "yellow"), RENEW_IN_40, RenewalRiskSettings(), "fire", "medium"),
    (_health(66.0, "yellow", 70.0, "yellow"), RENEW_IN_40, RenewalRiskSettings(), "clear", None),
    (_health(66.0, "yellow", 70.0, "yellow"), RENEW_IN_40, RenewalRiskSettings(decline_points=3), "fire", "medium"),
    (_health(85.0, "green", 70.0, "green"), RENEW_IN_40, RenewalRiskSettings(), "clear", None),
    (_health(45.0, "red", 46.0, "red"), AS_OF + timedelta(days=90), RenewalRiskSettings(), "fire", "high"),
    (_health(45.0, "red", 46.0, "red"), AS_OF + timedelta(days=91), RenewalRiskSettings(), "clear", None),
    (_health(45.0, "red", 46.0, "red"), AS_OF + timedelta(days=91), RenewalRiskSettings(days=120), "fire", "high"),
    (_health(45.0, "red", 46.0, "red"), AS_OF, RenewalRiskSettings(), "fire", "high"),
    (_health(45.0, "red", 46.0, "red"), AS_OF - timedelta(days=1), RenewalRiskSettings(), "clear", None),
    (_health(45.0, "red", 46.0, "red"), None, RenewalRiskSettings(), "clear", None),
    (_health(45.0, "red"), RENEW_IN_40, RenewalRiskSettings(), "fire", "high"),
    (_health(66.0, "yellow"), RENEW_IN_40, RenewalRiskSettings(), "unknown", None),
    (None, RENEW_IN_40, RenewalRiskSettings(), "unknown", None),
    (None, None, RenewalRiskSettings(), "clear", None),
], ids=["red", "declining-8", "down-4", "down-4-threshold-3", "rising", "in-90-days", "in-91-days",
        "in-91-window-120", "renews-today", "renewal-passed", "no-renewal-date", "red-no-history",
        "yellow-no-history", "not-scored", "not-scored-no-renewal"])
def test_renewal_risk(health: HealthWindow | None, renewal: date | None, cfg: RenewalRiskSettings, status: str,
                      severity: str | None) -> None:
    """Fires within N days of the renewal (from the run's date) while red or down N points in 28 days."""
    finding = renewal_risk(health, renewal, LAST, cfg)
    assert (finding.kind, finding.status, finding.subject) == ("renewal_risk", status, "")
    if status == "fire":
        assert finding.severity == severity
        assert finding.details["days_to_renewal"] == (renewal - AS_OF).days  # type: ignore[operator]


@pytest.mark.parametrize(("coverage", "version", "alike"), [
    ((1.0, 1.0), (3, 3), True), ((0.8, 0.8), (3, 3), True), ((1.0, 0.8), (3, 3), False),
    ((1.0, 0.998), (3, 3), True), ((1.0, 1.0), (4, 3), False),
], ids=["same", "same-partial", "a-component-had-no-data", "rounding", "new-settings-version"])
def test_two_scores_compare_only_when_computed_alike(coverage: tuple[float, float], version: tuple[int, int],
                                                      alike: bool) -> None:
    """Same settings version and the same share of the weights with data, or no change is read."""
    assert comparable(coverage[0], version[0], coverage[1], version[1]) is alike


def test_a_firing_alert_says_its_situation_then_what_to_do() -> None:
    """The suggested action starts with the numbers of this customer."""
    drop = health_drop(_health(45.0, "red", 66.0, "yellow"), LAST, HealthDropSettings())
    risk = renewal_risk(_health(45.0, "red", 46.0, "red"), RENEW_IN_40, LAST, RenewalRiskSettings())
    assert (drop.action or "").startswith("Health fell 21.0 points in 28 days (66.0 → 45.0), into red. ")
    assert (risk.action or "").startswith(f"Renewal on {RENEW_IN_40:%d %b %Y} (40 days) while health is red. ")


# --- through the alerts job, on SQLite and PostgreSQL ----------------------------------------------


def _score(customer: str, day: date, overall: float | None, band: str, *, coverage: float = 1.0,
           version: int = 0) -> dict[str, Any]:
    return {"customer_id": customer, "score_date": day, "engagement": overall, "adoption": None,
            "trajectory": overall, "onboarding": None, "overall": overall, "band": band, "coverage": coverage,
            "settings_version": version, "weights": {}, "inputs": {}}


def _customer(engine: Engine, customer: str, now: tuple[float, str], before: tuple[float, str],
              renewal: date | None = None) -> None:
    """A customer with usage, its score on the last day and 28 days before, and maybe a renewal date."""
    add_customer(engine, customer, csm="csm@cscx.io")
    add_usage(engine, customer, history(60, 10, 2))
    table_insert(engine, "pendo_health_scores", [_score(customer, LAST, *now), _score(customer, BEFORE, *before)])
    if renewal is not None:
        with engine.begin() as conn:
            conn.execute(update(Customer).where(Customer.customer_id == customer).values(renewal_date=renewal))


def _risk_alerts(engine: Engine) -> list[tuple[str, str, str, str]]:
    with Session(engine) as session:
        rows = list_alerts(session, statuses=["open", "acknowledged", "dismissed", "snoozed", "resolved"],
                           kinds=["health_drop", "renewal_risk"])
        return sorted((a.customer_id, a.kind, a.severity, a.status) for a in rows)


def _evaluate(engine: Engine, cfg: AlertSettings | None = None, as_of: date = AS_OF) -> None:
    evaluate_alerts(engine, as_of, app_settings=AppSettings(alerts=cfg or AlertSettings()), clock=lambda: NOW)


def test_the_job_reads_scores_and_renewals_and_opens_each_alert_once(engine: Engine) -> None:
    """A falling customer renewing soon gets both alerts; a steady one none; a rerun opens nothing new."""
    _customer(engine, "falling", (44.6, "red"), (66.6, "yellow"), renewal=AS_OF + timedelta(days=60))
    _customer(engine, "slipping", (58.0, "yellow"), (75.0, "green"))
    _customer(engine, "steady", (80.0, "green"), (79.0, "green"), renewal=AS_OF + timedelta(days=30))
    _evaluate(engine)
    _evaluate(engine)
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "open"),
                                    ("falling", "renewal_risk", "high", "open"),
                                    ("slipping", "health_drop", "medium", "open")]


def test_the_thresholds_are_admin_settings(engine: Engine) -> None:
    """A larger drop threshold and a shorter renewal window keep the same customer quiet."""
    _customer(engine, "falling", (44.6, "red"), (55.0, "red"), renewal=AS_OF + timedelta(days=60))
    _evaluate(engine, AlertSettings(health_drop=HealthDropSettings(points=20),
                                    renewal_risk=RenewalRiskSettings(days=30)))
    assert _risk_alerts(engine) == []


def test_same_lifecycle_acknowledged_then_resolved_when_the_condition_clears(engine: Engine) -> None:
    """Acknowledged by the CSM, the alert stays while the drop holds and resolves once the score recovers."""
    _customer(engine, "falling", (44.6, "red"), (66.6, "yellow"))
    _evaluate(engine)
    with Session(engine) as session, session.begin():
        alert = session.query(UsageAlert).filter_by(kind="health_drop").one()
        act_on_alert(session, alert.id, "acknowledge", "csm@cscx.io", today=AS_OF, now=NOW)
    _evaluate(engine)
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "acknowledged")]
    table_insert(engine, "pendo_health_scores", [_score("falling", LAST + timedelta(days=1), 70.0, "yellow"),
                                                 _score("falling", BEFORE + timedelta(days=1), 66.0, "yellow")])
    add_usage(engine, "falling", {LAST + timedelta(days=1): 10})
    _evaluate(engine, as_of=AS_OF + timedelta(days=1))
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "resolved")]


def test_a_day_without_a_score_leaves_the_alert_as_it_is(engine: Engine) -> None:
    """No score on the last day is unknown, not a recovery: the open alert stays open."""
    _customer(engine, "falling", (44.6, "red"), (66.6, "yellow"), renewal=AS_OF + timedelta(days=60))
    _evaluate(engine)
    add_usage(engine, "falling", {LAST + timedelta(days=1): 10})
    _evaluate(engine, as_of=AS_OF + timedelta(days=1))
    assert [status for *_, status in _risk_alerts(engine)] == ["open", "open"]


@pytest.mark.parametrize("before", [
    {"coverage": 0.8}, {"version": 1},
], ids=["trajectory-had-no-data-then", "admin-changed-the-settings-since"])
def test_a_score_computed_otherwise_28_days_ago_is_no_drop(engine: Engine, before: dict[str, Any]) -> None:
    """A score of other components or another settings version is not compared: no health_drop, and no
    renewal_risk for a yellow customer whose decline cannot be told (a red one still has one)."""
    add_customer(engine, "young", csm="csm@cscx.io")
    add_customer(engine, "red", csm="csm@cscx.io")
    for customer, (now, band) in {"young": (62.0, "yellow"), "red": (40.0, "red")}.items():
        add_usage(engine, customer, history(60, 10, 2))
        table_insert(engine, "pendo_health_scores", [_score(customer, LAST, now, band),
                                                     _score(customer, BEFORE, 100.0, "green", **before)])
        with engine.begin() as conn:
            conn.execute(update(Customer).where(Customer.customer_id == customer).values(
                renewal_date=AS_OF + timedelta(days=30)))
    _evaluate(engine)
    assert _risk_alerts(engine) == [("red", "renewal_risk", "high", "open")]


def test_the_sync_judges_the_scores_written_after_its_alerts_read_ahead(engine: Engine) -> None:
    """The sync's alerts step reads all it judges but the health scores beside the health step
    (`read_ahead`); it then judges on the scores the health step wrote meanwhile, without reading the rest
    again, and opens what an evaluation made afresh opens. A reading made for another run is not used."""
    _customer(engine, "falling", (80.0, "green"), (66.6, "yellow"), renewal=AS_OF + timedelta(days=60))
    with engine.begin() as conn:  # the last day's score is not written yet
        conn.execute(HealthScore.__table__.delete().where(HealthScore.score_date == LAST))
    step, request = AlertsStep(), SyncRequest(as_of=AS_OF)
    summary = RunSummary(run_id=running_run(engine), report_first=LAST - timedelta(days=9), report_last=LAST)
    step.read_ahead(engine, request, summary)
    table_insert(engine, "pendo_health_scores", [_score("falling", LAST, 44.6, "red")])  # the health step's
    reads: list[str] = []
    with each_statement(engine, lambda _cur, sql, _p: reads.append(sql)):
        step(engine, request, summary)
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "open"),
                                    ("falling", "renewal_risk", "high", "open")]
    assert any("pendo_health_scores" in sql for sql in reads)
    assert not any("pendo_guide_metrics" in sql for sql in reads)  # the rest came from the reading
    _evaluate(engine)  # afresh: the same alerts, nothing new
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "open"),
                                    ("falling", "renewal_risk", "high", "open")]
    step.read_ahead(engine, request, summary)
    reads.clear()
    with each_statement(engine, lambda _cur, sql, _p: reads.append(sql)):
        step(engine, request, RunSummary(running_run(engine), summary.report_first, LAST))
    assert any("pendo_guide_metrics" in sql for sql in reads)  # run 8 read for itself


def test_an_alerts_step_whose_run_was_overtaken_opens_nothing(engine: Engine) -> None:
    """A newer run started while the step judged (this run's lock lost): the step's update of the alerts
    refuses, so it opens nothing the newer run does not judge itself. Without the newer run the same
    step opens the customer's alert (the test before)."""
    _customer(engine, "falling", (44.6, "red"), (66.6, "yellow"))
    step, request = AlertsStep(), SyncRequest(as_of=AS_OF)
    summary = RunSummary(run_id=running_run(engine), report_first=LAST - timedelta(days=9), report_last=LAST)
    step.read_ahead(engine, request, summary)
    running_run(engine)
    with pytest.raises(RunSuperseded):
        step(engine, request, summary)
    assert _risk_alerts(engine) == []
    step(engine, request, RunSummary(running_run(engine), summary.report_first, LAST))
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "open")]


def test_a_reading_ahead_that_fails_is_left_to_the_alerts_step(engine: Engine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """The reading ahead runs in the group with the health step (before it, on SQLite): its failure must not
    stop the scores. It is logged, and the alerts step reads again and judges."""
    _customer(engine, "falling", (44.6, "red"), (66.6, "yellow"))
    failing = iter([OSError("the store went away")])

    def read_once_failing(*args: Any, **kwargs: Any) -> Any:
        for error in failing:
            raise error
        return read_alerts(*args, **kwargs)

    monkeypatch.setattr(alerts_job, "read_alerts", read_once_failing)
    step, request = AlertsStep(), SyncRequest(as_of=AS_OF)
    summary = RunSummary(run_id=running_run(engine), report_first=LAST - timedelta(days=9), report_last=LAST)
    step.read_ahead(engine, request, summary)  # fails inside: nothing raised
    step(engine, request, summary)
    assert _risk_alerts(engine) == [("falling", "health_drop", "high", "open")]
