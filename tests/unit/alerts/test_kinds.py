"""The alert-kind registry: every kind is complete (label, rule, settings, numbers, action, severity),
labels are unique, a firing rule speaks the registry's words, and the pure modules stay pure."""

from __future__ import annotations

import ast
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pendo_core.alerts import kinds
from pendo_core.alerts.champions import StakeholderWindow
from pendo_core.alerts.kinds import REGISTRY, AlertKind, CustomerData
from pendo_core.alerts.ops_rules import Freshness, Suspect, SuspectWindow
from pendo_core.alerts.risk import HealthWindow
from pendo_core.alerts.rules import FeatureWindow, Finding, GuideWindow
from pendo_core.alerts.settings import AlertSettings, SettingsModel
from tests.support.health_alerts import LAST, dropped, history

CONTRACT_KINDS = ("usage_drop", "feature_abandonment", "no_login", "guide_dismissal", "champion_inactive",
                  "health_drop", "renewal_risk")
OPS_KINDS = ("sync_failed", "data_stale", "sync_suspect")
PURE = ("rules", "decline", "champions", "ops_rules", "settings", "kinds", "risk", "priority")
ALERTS = Path(kinds.__file__).parent
NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)


def _kind(key: str) -> AlertKind[Any, Any]:
    return REGISTRY[key]


def test_the_registry_holds_the_contract_kinds_and_the_operations_kinds() -> None:
    """Customer kinds are the seven of `pendo_usage_alerts.kind`; the operations kinds are the pipeline's two."""
    assert set(kinds.KINDS) == set(CONTRACT_KINDS)
    assert tuple(k.key for k in kinds.OPERATIONS_KINDS) == OPS_KINDS
    assert set(REGISTRY) == {*CONTRACT_KINDS, *OPS_KINDS}


@pytest.mark.parametrize("key", [*CONTRACT_KINDS, *OPS_KINDS])
def test_every_kind_is_complete(key: str) -> None:
    """Each entry has a label, a rule, a pure settings model with defaults, numbers, an action and a severity."""
    kind = _kind(key)
    assert kind.key == key
    assert kind.label[:1].isupper()
    assert callable(kind.rule)
    assert callable(kind.numbers)
    assert issubclass(kind.settings, SettingsModel)
    assert kind.settings() == kind.settings.model_validate({})  # every field has a default
    assert kind.action.strip().endswith(".")
    assert kind.severity.strip()
    assert set(kind.silenced_by) <= set(kinds.KINDS)


def test_labels_are_unique() -> None:
    """No two kinds read the same on a screen."""
    labels = [k.label for k in REGISTRY.values()]
    assert len(set(labels)) == len(labels)


@pytest.mark.parametrize("key", CONTRACT_KINDS)
def test_each_customer_kind_has_its_field_in_the_alert_settings(key: str) -> None:
    """The admin settings carry each customer kind's thresholds under the kind's name, in its model."""
    kind = _kind(key)
    assert AlertSettings.model_fields[key].annotation is kind.settings
    assert kind.settings_in(AlertSettings()) == kind.settings()


def test_the_alert_settings_hold_nothing_but_the_kinds_and_escalation() -> None:
    """No orphan thresholds: a field of AlertSettings is a registered customer kind or the escalation delay."""
    assert set(AlertSettings.model_fields) == {*CONTRACT_KINDS, "escalation_days"}


def _synced(days: int = 40) -> dict[date, int]:
    return history(days, 5, 0)


FIRING: list[Any] = [
    pytest.param("usage_drop", CustomerData(LAST, history(60, 40, 6, change=dropped(0.5, 10, 40, 6))),
                 id="usage_drop"),
    pytest.param("no_login", CustomerData(LAST, history(40, 5, 0, change=lambda i, d: 0 if i < 20 else 5)),
                 id="no_login"),
    pytest.param("feature_abandonment",
                 CustomerData(LAST, _synced(), [FeatureWindow("reports", "Reports", 4, 0, prior_uses=20)]),
                 id="feature_abandonment"),
    pytest.param("guide_dismissal", CustomerData(LAST, _synced(), guides=[GuideWindow("tour", "Tour", 10, 8, 300, 90)]),
                 id="guide_dismissal"),
    pytest.param("champion_inactive", CustomerData(LAST, _synced(), people=[StakeholderWindow(
        "cy@acme.com", "Cy", "champion", None, True, LAST - timedelta(days=20), 3, 90)]), id="champion_inactive"),
    pytest.param("health_drop", CustomerData(LAST, _synced(), health=HealthWindow(LAST, 45.0, "red", 66.0, "yellow")),
                 id="health_drop"),
    pytest.param("renewal_risk", CustomerData(LAST, _synced(), health=HealthWindow(LAST, 45.0, "red", 46.0, "red"),
                                              renewal_date=LAST + timedelta(days=31)), id="renewal_risk"),
    pytest.param("sync_failed", Freshness(NOW, 2.0, False, 7, "failed", "boom"), id="sync_failed"),
    pytest.param("data_stale", Freshness(None, None, True, None, None, None), id="data_stale"),
    pytest.param("sync_suspect", Freshness(NOW, 2.0, False, 7, "failed", "2 suspect window(s)", Suspect(7, (
        SuspectWindow("visitor_days", date(2026, 3, 10), date(2026, 3, 16), "all 1,204 rows unusable"),))),
        id="sync_suspect"),
]


@pytest.mark.parametrize(("key", "inputs"), FIRING)
def test_a_firing_rule_speaks_the_registry_words(key: str, inputs: Any) -> None:
    """A firing finding is of its own kind, ends its action with the kind's action, and its numbers
    read through the kind's own wording (not the generic fallback)."""
    kind = _kind(key)
    fired = [f for f in kind.rule(inputs, kind.settings()) if f.status == "fire"]
    assert fired
    for finding in fired:
        assert finding.kind == key
        assert (finding.action or "").endswith(kind.action)
        assert kinds.numbers_text(key, finding.details) == kind.numbers(finding.details) != ""


@pytest.mark.parametrize(("key", "details", "text"), [
    ("usage_drop", {"window": "2026-03-12..2026-03-18", "avg_daily_users": 6.0, "baseline_avg_daily_users": 10.0,
                    "drop_pct": 40.0, "baseline_weeks": 4, "held_days": 3},
     "Daily users 10.0 → 6.0 (−40%) in 2026-03-12..2026-03-18 vs the same weekdays of the 4 weeks before; "
     "held 3 days"),
    ("usage_drop", {"visitor_days": 80}, "visitor days: 80"),
    ("no_login", {"days_without_login": 20, "last_active_day": "2026-02-27"},
     "20 days, nobody active (last active 2026-02-27)"),
    ("no_login", {"last_active_day": None, "synced_days_read": 76}, "Nobody active in any of the 76 synced days"),
    ("feature_abandonment", {"feature_name": "Export", "prior_users": 5, "prior_days": 28, "recent_days": 14,
                             "last_used": "2026-03-01"},
     "“Export”: 5 users in the 28 days before, none in the last 14 days; last used 2026-03-01"),
    ("feature_abandonment", {"feature_name": "Export", "prior_users": 5, "prior_visitor_days": 23, "prior_days": 28,
                             "recent_days": 14, "last_used": "2026-03-01", "chance": 0.0004},
     "“Export”: 5 users on 23 visitor-days in the 28 days before, none in the last 14 days; last used 2026-03-01 "
     "(<0.1% likely by chance)"),
    ("guide_dismissal", {"guide_name": "Tour", "seen_visitors": 10, "dismissed_visitors": 6, "dismissal_rate": 0.6},
     "“Tour”: 6 of 10 viewers dismissed it (60%) in 30 days"),
    ("guide_dismissal", {"guide_name": "Setup tour", "seen_visitors": 9, "dismissed_visitors": 7,
                         "dismissal_rate": 0.778, "others_seen_visitors": 412, "others_dismissal_rate": 0.28},
     "7 of 9 viewers dismissed “Setup tour” in 30 days (78%), against 28% across the other customers "
     "(412 viewers)"),
    ("guide_dismissal", {"guide_name": "Setup tour", "seen_visitors": 9, "dismissed_visitors": 9,
                         "dismissal_rate": 1.0, "others_seen_visitors": 0, "others_dismissal_rate": 0.5},
     "9 of 9 viewers dismissed “Setup tour” in 30 days (100%); too few viewers at other customers to compare, so "
     "judged against even odds"),
    ("champion_inactive", {"contact_name": "Cy", "role": "decision_maker", "days_inactive": 20,
                           "last_active_day": "2026-02-26", "team_active_visitors": 2, "window_days": 14},
     "Cy (decision maker): no activity for 20 days (last active 2026-02-26); 2 colleague(s) active in the last "
     "14 days"),
    ("health_drop", {"score": 44.6, "band": "red", "score_before": 66.6, "band_before": "yellow",
                     "change_points": -22.0, "change_days": 28},
     "-22.0 in 28 days; health 66.6 (yellow) → 44.6 (red)"),
    ("renewal_risk", {"renewal_date": "2026-05-01", "days_to_renewal": 43, "score": 44.6, "band": "red",
                      "change_points": -22.0, "change_days": 28},
     "In 43 days (2026-05-01); health 44.6 (red), -22.0 points in 28 days"),
    ("sync_failed", {"run_id": 7, "error": "Pendo refused the integration key"},
     "Sync run 7 failed: Pendo refused the integration key"),
    ("data_stale", {"age_hours": 30.2, "max_age_hours": 24.0, "last_success_at": "2026-03-18 00:30"},
     "The data is 30 hours old (more than 24): the last successful sync started 2026-03-18 00:30 UTC"),
    ("data_stale", {}, "No sync has succeeded yet: the store holds no Pendo data"),
    ("sync_suspect", {"run_id": 9, "days": 10, "first_day": "2026-03-10", "last_day": "2026-03-19", "windows": [
        {"stream": "visitor_days", "first": "2026-03-10", "last": "2026-03-16", "why": "results is not a list"},
        {"stream": "visitor_days", "first": "2026-03-17", "last": "2026-03-19", "why": "results is not a list"}]},
     "Sync run 9 held back 2 window(s) as suspect: 10 day(s), 2026-03-10..2026-03-19, stored rows kept, metrics and "
     "alerts wait for them: visitor_days 2026-03-10..2026-03-16: results is not a list; visitor_days "
     "2026-03-17..2026-03-19: results is not a list"),
    ("some_future_kind", {"champion": "a@b.c", "days": 30}, "champion: a@b.c, days: 30"),
], ids=["usage-drop", "usage-drop-old-details", "no-login", "no-login-ever", "abandonment-old-details",
        "abandonment", "guide-old-details", "guide", "guide-seen-nowhere-else", "champion",
        "health-drop", "renewal-risk", "sync-failed", "data-stale", "never-synced", "sync-suspect", "unregistered"])
def test_numbers_text_for_each_kind(key: str, details: dict[str, Any], text: str) -> None:
    """Each kind's triggering numbers read in one line; details it cannot read show as plain figures."""
    assert kinds.numbers_text(key, details) == text


@pytest.mark.parametrize(("key", "text"), [
    ("usage_drop", "Usage drop"), ("feature_abandonment", "Key feature abandoned"), ("no_login", "No login"),
    ("guide_dismissal", "Guide dismissed"), ("champion_inactive", "Champion inactive"),
    ("sync_failed", "Last sync failed"), ("data_stale", "Data stale"), ("health_drop", "Health drop"),
    ("renewal_risk", "Renewal at risk"), ("sync_suspect", "Sync held back suspect data"),
    ("some_future_kind", "Some future kind"),
], ids=str)
def test_labels(key: str, text: str) -> None:
    """One wording per kind; an unregistered kind (an old row) reads as its key in words."""
    assert kinds.label(key) == text


def test_no_login_silences_exactly_the_kinds_that_say_so() -> None:
    """no_login firing clears usage_drop, feature_abandonment, champion_inactive and health_drop (a silent
    customer's score falls with its usage); guide_dismissal and renewal_risk (the renewal is its own news) stay."""
    findings = [Finding(k, "fire", "s") for k in kinds.KINDS]
    got = {f.kind: (f.status, f.details) for f in kinds.suppress(findings)}
    cleared = ("clear", {"suppressed_by": "no_login"})
    assert got == {"usage_drop": cleared, "feature_abandonment": cleared, "champion_inactive": cleared,
                   "health_drop": cleared, "no_login": ("fire", {}), "guide_dismissal": ("fire", {}),
                   "renewal_risk": ("fire", {})}


def test_an_operations_message_is_its_numbers_then_its_action() -> None:
    """What the admins read: the numbers and what to do, as before the registry."""
    (failed, stale, suspect) = kinds.evaluate_operations(Freshness(NOW, 30.0, True, 7, "failed", "boom"))
    assert suspect.status == "clear"
    assert kinds.message(failed) == ("Sync run 7 failed: boom. See the sync history; the next scheduled run "
                                     "retries, or run `python -m jobs sync`.")
    assert kinds.message(stale).startswith("The data is 30 hours old (more than 24): the last successful sync "
                                           f"started {NOW:%Y-%m-%d %H:%M} UTC. Check the scheduler")


def test_a_run_that_failed_for_its_suspect_windows_raises_sync_suspect_alone() -> None:
    """One alert for one event: sync_suspect names the days, the reason and the restatement flag; sync_failed
    stays for other failures, also when a later run fails for another reason while days are still held back."""
    held = Suspect(7, (SuspectWindow("visitor_days", date(2026, 3, 10), date(2026, 3, 16), "bad numEvents"),
                       SuspectWindow("visitor_hours", date(2026, 3, 14), date(2026, 3, 19), "bad numEvents")))
    failed, _, suspect = kinds.evaluate_operations(Freshness(NOW, 3.0, False, 7, "failed", "2 suspect", held))
    assert (failed.status, suspect.status, suspect.severity) == ("clear", "fire", "high")
    assert (suspect.details["days"], suspect.details["first_day"], suspect.details["last_day"]) == (
        10, "2026-03-10", "2026-03-19")
    text = kinds.message(suspect)
    assert text.startswith("Sync run 7 held back 2 window(s) as suspect: 10 day(s), 2026-03-10..2026-03-19")
    assert "visitor_days 2026-03-10..2026-03-16: bad numEvents" in text
    assert "`python -m jobs sync --accept-restatement`" in text
    later, _, still = kinds.evaluate_operations(Freshness(NOW, 3.0, False, 8, "failed", "timeout", held))
    assert (later.status, still.status) == ("fire", "fire")


def _imports(module: str) -> set[str]:
    tree = ast.parse((ALERTS / f"{module}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            node.body = []  # type-only imports load nothing at run time
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {f"{node.module}.{a.name}" for a in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
    return found


@pytest.mark.parametrize("module", PURE)
def test_the_rules_registry_and_settings_are_pure(module: str) -> None:
    """They import nothing but the standard library, pydantic and each other: no store, client or UI."""
    outside = {name for name in _imports(module) if name.split(".")[0] not in {
        "__future__", "bisect", "collections", "dataclasses", "datetime", "functools", "itertools", "math",
        "statistics", "typing", "warnings",
        "pydantic", "pendo_core"}}
    ours = {name for name in _imports(module) if name.startswith("pendo_core.")
            and not any(name.startswith(f"pendo_core.alerts.{p}") or name == f"pendo_core.alerts.{p}" for p in PURE)}
    assert (outside, ours) == (set(), set())


@pytest.mark.parametrize("statement", [
    "import pendo_core.admin.settings", "import pendo_core.alerts.settings", "import pendo_core.alerts.kinds",
    "import pendo_core.alerts.job", "from pendo_core.alerts import evaluate_alerts, make_alerts_step",
], ids=["admin-settings", "alert-settings", "kinds", "job", "package-job-names"])
def test_any_module_can_be_imported_first(statement: str) -> None:
    """The admin settings compose the alert settings and the job reads the admin settings: whichever
    is imported first, a fresh interpreter loads it without an import cycle."""
    done = subprocess.run([sys.executable, "-c", statement], capture_output=True, text=True, check=False,
                          cwd=ALERTS.parents[1])
    assert done.returncode == 0, done.stderr


def test_the_health_drop_window_is_the_health_change_window() -> None:
    """The health_drop alert (pure, so it keeps its own constant) measures the change over the same days
    as every screen's "health change" (pendo_core.health.score.CHANGE_DAYS)."""
    from pendo_core.alerts import risk
    from pendo_core.health import score

    assert risk.CHANGE_DAYS == score.CHANGE_DAYS == 28
