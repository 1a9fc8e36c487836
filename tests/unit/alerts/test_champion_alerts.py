"""champion_inactive: the pure rule, and on the store, evaluated by the one alerts job with every other
kind: a champion on holiday while the team works (fires once, resolves on return, same lifecycle and
delivery), a whole team quiet (no_login only), and the sync's alerts step with no champion step."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin.settings import AppSettings, SettingsError, parse_settings
from pendo_core.alerts.champions import (
    KIND,
    StakeholderWindow,
    champion_inactive,
    champion_numbers,
)
from pendo_core.alerts.delivery import Message
from pendo_core.alerts.job import evaluate_alerts, make_alerts_step
from pendo_core.alerts.kinds import CustomerData, evaluate_customer, numbers_text
from pendo_core.alerts.repo import act_on_alert, list_alerts
from pendo_core.alerts.settings import AlertSettings, ChampionSettings, NoLoginSettings
from pendo_core.common.config import Settings
from pendo_core.customers.people_queries import LOOKBACK_DAYS
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from tests.support.health_alerts import AS_OF, LAST, add_customer, add_usage
from tests.support.people import add_contacts, add_days, add_visitors
from tests.support.store import running_run

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)
CFG = ChampionSettings()
TEAM = ("ann@acme.com", "bob@acme.com", "cat@acme.com")
CHAMP = "cy@acme.com"
HISTORY = 40


def _clock() -> datetime:
    return NOW


# --- the rule --------------------------------------------------------------------------------


def _person(last_active: int | None, *, team: int = 3, matched: bool = True) -> StakeholderWindow:
    day = None if last_active is None else LAST - timedelta(days=last_active)
    return StakeholderWindow(CHAMP, "Cy", "champion", "VP", matched, day, team, LOOKBACK_DAYS)


@pytest.mark.parametrize(("person", "synced", "status", "severity"), [
    (_person(0), True, "clear", None),
    (_person(13), True, "clear", None),
    (_person(14), True, "fire", "medium"),
    (_person(27), True, "fire", "medium"),
    (_person(28), True, "fire", "high"),
    (_person(None), True, "fire", "high"),
    (_person(20, team=0), True, "clear", None),
    (_person(None, matched=False), True, "clear", None),
    (_person(20), False, "unknown", None),
    (_person(3), False, "unknown", None),
], ids=["active-today", "13-days", "14-days", "27-days", "twice-the-window", "never-in-lookback", "team-quiet",
        "unmatched", "window-not-synced", "recent-but-not-synced"])
def test_rule(person: StakeholderWindow, synced: bool, status: str, severity: str | None) -> None:
    """Fires for a matched key contact idle for 14 days while someone else worked; unknown when unsynced."""
    finding = champion_inactive(person, LAST, synced, CFG)
    assert (finding.kind, finding.subject, finding.status) == (KIND, CHAMP, status)
    if severity:
        assert finding.severity == severity
        assert finding.details["team_active_visitors"] == person.team_active
        assert "Cy (champion, VP)" in (finding.action or "")


def test_no_login_clears_every_champion_finding() -> None:
    """When no_login fires for the customer (its window shorter than the champion's), no champion alert."""
    dau = {LAST - timedelta(days=i): (0 if i < 7 else 4) for i in range(30)}
    data = CustomerData(LAST, dau, people=[_person(20, team=2)])
    short = evaluate_customer(data, AlertSettings(no_login=NoLoginSettings(days=7)))
    assert [(f.status, f.details) for f in short if f.kind == KIND] == [("clear", {"suppressed_by": "no_login"})]
    usual = evaluate_customer(data, AlertSettings(no_login=NoLoginSettings(days=14)))
    assert [f.status for f in usual if f.kind == KIND] == ["fire"]


@pytest.mark.parametrize(("last_active", "text"), [
    (20, "Cy (champion): no activity for 20 days (last active 2026-02-26); 3 colleague(s) active in the last 14 days"),
    (None, "Cy (champion): no activity in 90 days; 3 colleague(s) active in the last 14 days"),
], ids=["since-a-day", "not-in-lookback"])
def test_numbers_text_for_the_alerts_panel(last_active: int | None, text: str) -> None:
    """The panel's one line names the person, how long they were quiet and how many colleagues worked."""
    details = champion_inactive(_person(last_active), LAST, True, CFG).details
    assert champion_numbers(details) == numbers_text(KIND, details) == text


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"days": 0}, "days"), ({"days": LOOKBACK_DAYS}, "days"), ({"min_team_active": 0}, "min_team_active"),
], ids=["no-days", "beyond-the-lookback", "no-teammate"])
def test_settings_out_of_range_are_refused(kwargs: dict[str, int], field: str) -> None:
    """The window must fit the people lookback and at least one teammate must be active; the admin
    settings name the field in one line."""
    with pytest.raises(ValidationError):
        ChampionSettings(**kwargs)
    with pytest.raises(SettingsError, match=f"^alerts.champion_inactive.{field}: "):
        parse_settings({"alerts": {"champion_inactive": kwargs}})


# --- on the store ----------------------------------------------------------------------------


def _acme(engine: Engine, *, champion_quiet: int = 15, team_quiet: int = 0, role: str = "champion") -> None:
    """Acme's team works daily until `team_quiet` days ago; its champion until `champion_quiet` days ago."""
    add_customer(engine, "acme", csm="csm@cscx.io", accounts=["acme-1"])
    add_visitors(engine, {v: v for v in (*TEAM, CHAMP)})
    add_contacts(engine, "acme", [("Cy Champ", CHAMP, role, "VP Ops"), ("Ann", TEAM[0], "user")])
    _work(engine, "acme", {v: range(team_quiet, HISTORY) for v in TEAM} | {CHAMP: range(champion_quiet, HISTORY)})


def _work(engine: Engine, customer: str, days: dict[str, Iterable[int]]) -> None:
    """Activity rows (days back from LAST) and the matching DAU rows for every day of the history."""
    dau = dict.fromkeys((LAST - timedelta(days=i) for i in range(HISTORY)), 0)
    for visitor, back in days.items():
        worked = [LAST - timedelta(days=i) for i in back]
        add_days(engine, f"{customer}-1", visitor, worked)
        for day in worked:
            dau[day] += 1
    add_usage(engine, customer, dau)


def _alerts(engine: Engine) -> list[tuple[str, str, str, str]]:
    with Session(engine) as session:
        rows = list_alerts(session, statuses=["open", "acknowledged", "dismissed", "snoozed", "resolved"])
        return sorted((a.customer_id, a.kind, a.subject, a.status) for a in rows)


def test_champion_on_holiday_while_the_team_works_fires_once(engine: Engine) -> None:
    """Two weeks off while three colleagues work: one open alert for the champion, routed to the CSM."""
    _acme(engine, champion_quiet=15)
    run = evaluate_alerts(engine, AS_OF, clock=_clock)
    evaluate_alerts(engine, AS_OF, clock=_clock)  # the next run while it still holds: no duplicate
    assert (run.customers, run.counts.opened) == (1, 1)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "open")]
    with Session(engine) as session:
        (alert,) = list_alerts(session, customer_id="acme")
        assert (alert.assigned_csm_email, alert.severity, alert.triggered_on) == ("csm@cscx.io", "medium", AS_OF)
        assert {k: alert.details[k] for k in ("contact_name", "role", "days_inactive", "team_active_visitors")} == {
            "contact_name": "Cy Champ", "role": "champion", "days_inactive": 15, "team_active_visitors": 3}


@pytest.mark.parametrize(("role", "quiet", "alerts"), [
    ("decision_maker", 15, [("acme", KIND, CHAMP, "open")]),
    ("user", 15, []),
    ("champion", 10, []),
], ids=["decision-maker-fires", "plain-user-never", "ten-days-is-not-yet"])
def test_who_and_how_long(engine: Engine, role: str, quiet: int, alerts: list[tuple[str, ...]]) -> None:
    """Decision makers are watched like champions; other roles are not; under 14 days is not idle."""
    _acme(engine, champion_quiet=quiet, role=role)
    evaluate_alerts(engine, AS_OF, clock=_clock)
    assert _alerts(engine) == alerts


def test_the_window_is_an_admin_setting(engine: Engine) -> None:
    """Ten quiet days fire once the admin shortens the window to 7 days."""
    _acme(engine, champion_quiet=10)
    settings = AppSettings(alerts=AlertSettings(champion_inactive=ChampionSettings(days=7)))
    evaluate_alerts(engine, AS_OF, app_settings=settings, clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "open")]


def test_whole_team_quiet_is_no_login_only(engine: Engine) -> None:
    """Everyone silent for 20 days: the run opens no_login and the champion rule stays quiet."""
    _acme(engine, champion_quiet=20, team_quiet=20)
    evaluate_alerts(engine, AS_OF, clock=_clock)
    assert _alerts(engine) == [("acme", "no_login", "", "open")]


def test_shorter_no_login_window_still_means_one_alert(engine: Engine) -> None:
    """Team silent for 10 days, no_login at 7 days, champion silent for 20: no_login alone speaks."""
    _acme(engine, champion_quiet=20, team_quiet=10)
    settings = AppSettings(alerts=AlertSettings(no_login=NoLoginSettings(days=7)))
    evaluate_alerts(engine, AS_OF, app_settings=settings, clock=_clock)
    assert _alerts(engine) == [("acme", "no_login", "", "open")]


def test_one_run_keeps_both_kinds_and_the_return_resolves_only_the_champion(engine: Engine) -> None:
    """One run opens the champion alert on Acme and no_login on a silent customer; the champion's
    return resolves the champion alert and leaves no_login open."""
    _acme(engine, champion_quiet=15)
    add_customer(engine, "silent")
    add_usage(engine, "silent", dict.fromkeys((LAST - timedelta(days=i) for i in range(HISTORY)), 0))
    evaluate_alerts(engine, AS_OF, clock=_clock)
    evaluate_alerts(engine, AS_OF, clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "open"), ("silent", "no_login", "", "open")]
    back = AS_OF + timedelta(days=1)
    add_days(engine, "acme-1", CHAMP, [AS_OF])
    add_usage(engine, "acme", {AS_OF: 4})
    add_usage(engine, "silent", {AS_OF: 0})
    evaluate_alerts(engine, back, clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "resolved"), ("silent", "no_login", "", "open")]


@pytest.mark.parametrize("days_synced", [True, False], ids=["synced", "last-day-not-synced"])
def test_dismissed_stays_dismissed_and_a_role_change_resolves(engine: Engine, days_synced: bool) -> None:
    """Same lifecycle as the other kinds: a dismissed alert stays dismissed while it holds; a contact
    who is no longer a champion or decision maker has its alert resolved, even on a day when the other
    key contacts' windows are not synced (their findings are unknown)."""
    _acme(engine, champion_quiet=15)
    evaluate_alerts(engine, AS_OF, clock=_clock)
    with Session(engine) as session, session.begin():
        (alert,) = list_alerts(session)
        act_on_alert(session, alert.id, "dismiss", "csm@cscx.io", today=AS_OF, now=NOW, reason="on leave")
    evaluate_alerts(engine, AS_OF, clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "dismissed")]
    add_contacts(engine, "acme", [("Cy Champ", CHAMP, "user"), ("Ann", TEAM[0], "decision_maker")])
    evaluate_alerts(engine, AS_OF if days_synced else AS_OF + timedelta(days=1), clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "resolved")]


def test_an_unsynced_day_changes_nothing(engine: Engine) -> None:
    """A day of the window missing from the store: no alert opens, and an open one stays open."""
    _acme(engine, champion_quiet=15)
    later = AS_OF + timedelta(days=1)  # its last day, AS_OF, has no usage row
    evaluate_alerts(engine, later, clock=_clock)
    assert _alerts(engine) == []
    evaluate_alerts(engine, AS_OF, clock=_clock)
    evaluate_alerts(engine, later, clock=_clock)
    assert _alerts(engine) == [("acme", KIND, CHAMP, "open")]


class _Outbox:
    """A channel that keeps what it is given."""

    name = "email"

    def __init__(self) -> None:
        self.sent: list[Message] = []

    def send(self, message: Message) -> None:
        """Keep the message."""
        self.sent.append(message)


def test_delivered_through_the_alert_channels_like_every_kind(engine: Engine) -> None:
    """With channels, the champion alert is planned and sent like the others: once per alert and channel."""
    _acme(engine, champion_quiet=15)
    outbox = _Outbox()
    for _ in range(2):
        evaluate_alerts(engine, AS_OF, channels={"email": outbox}, clock=_clock, sleep=lambda _s: None)
    assert [(m.recipient, m.subject) for m in outbox.sent] == [
        ("csm@cscx.io", "[CSCX alert] acme Inc: Champion inactive (medium)")]
    assert "Cy Champ (champion, VP Ops) has not used the product since" in outbox.sent[0].text


def _step_summary(engine: Engine) -> tuple[SyncRequest, RunSummary]:
    summary = RunSummary(run_id=running_run(engine), report_first=LAST - timedelta(days=9), report_last=LAST)
    return SyncRequest(as_of=AS_OF), summary


def test_the_alerts_step_alone_raises_champion_alerts(engine: Engine) -> None:
    """The one post-metrics alerts step evaluates champion_inactive too, through the run's last reported
    day: no separate champion step."""
    _acme(engine, champion_quiet=15)
    make_alerts_step(Settings(database_url="sqlite://"))(engine, *_step_summary(engine))
    assert _alerts(engine) == [("acme", KIND, CHAMP, "open")]

