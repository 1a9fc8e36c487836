"""The alert-kind registry: every alert kind, once, with what each screen, message and answer needs.

An entry (`AlertKind`) gives a kind's label (the one wording every screen, e-mail and chat answer
uses), its rule (a pure function over the kind's inputs), its settings model (pure pydantic, in
`settings.py`), how its numbers read in one line, the suggested action and how its severity is
graded. Customer kinds (`CUSTOMER_KINDS`) are about one customer and are all evaluated together by
the alerts job, in registry order, then silenced: a kind listing `no_login` in `silenced_by` has its
firing findings cleared for a customer where `no_login` fires (never two alerts for one silence).
Operations kinds (`OPERATIONS_KINDS`) are about the pipeline; the operations check evaluates them.

To add an alert kind: one registry entry plus its settings model.
1. Write the rule as a pure function (beside the others: `rules.py`, or a module of its own) and
   the one-line reading of its numbers.
2. Add its settings model to `settings.py`; for a customer kind also a field named after the kind
   on `AlertSettings` (the admin settings then store it with every version, and the thresholds page
   shows it).
3. Add an `AlertKind` to `CUSTOMER_KINDS` or `OPERATIONS_KINDS` below. The alerts job, the labels,
   the numbers on the Alerts screen, deliveries, chat and the registry tests pick it up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from pendo_core.alerts import champions, ops_rules, risk, rules
from pendo_core.alerts.champions import StakeholderWindow
from pendo_core.alerts.ops_rules import Freshness
from pendo_core.alerts.risk import HealthWindow
from pendo_core.alerts.rules import FeatureWindow, Finding, GuideWindow
from pendo_core.alerts.settings import (
    AbandonmentSettings,
    AlertSettings,
    ChampionSettings,
    DataStaleSettings,
    GuideDismissalSettings,
    HealthDropSettings,
    NoLoginSettings,
    RenewalRiskSettings,
    SettingsModel,
    SyncFailedSettings,
    SyncSuspectSettings,
    UsageDropSettings,
)

I = TypeVar("I")  # noqa: E741  (the inputs a kind's rule reads)
S = TypeVar("S", bound=SettingsModel)


@dataclass
class CustomerData:
    """Everything the customer rules read for one customer; days after `last_day` are never read."""

    last_day: date
    dau: dict[date, int] = field(default_factory=dict)  # synced days only: a missing day is unknown, not 0
    features: list[FeatureWindow] = field(default_factory=list)  # key features
    guides: list[GuideWindow] = field(default_factory=list)  # 30-day counts on last_day
    people: list[StakeholderWindow] = field(default_factory=list)  # champions and decision makers
    health: HealthWindow | None = None  # the health score on last_day and 28 days before
    renewal_date: date | None = None

    def synced(self, days: int) -> bool:
        """True when each of the last `days` days (ending on last_day) is synced."""
        return all(self.last_day - timedelta(days=i) in self.dau for i in range(days))


@dataclass(frozen=True)
class AlertKind(Generic[I, S]):
    """One alert kind: its key (stored in `kind`), label, rule, settings, numbers, action and severity."""

    key: str
    label: str
    settings: type[S]
    rule: Callable[[I, S], list[Finding]]
    numbers: Callable[[Mapping[str, Any]], str]
    action: str  # what to do, in general; each alert states its situation with its numbers first
    severity: str  # how the rule grades a finding's severity, in words
    silenced_by: tuple[str, ...] = ()  # customer kinds whose firing clears this kind's findings

    def settings_in(self, cfg: AlertSettings) -> S:
        """This kind's thresholds within the alert settings (the field named after the kind)."""
        value = getattr(cfg, self.key)  # every customer kind has one: tests/unit/alerts/test_kinds.py
        if not isinstance(value, self.settings):
            raise TypeError(f"AlertSettings.{self.key} must be a {self.settings.__name__}")
        return value


# --- the customer rules over CustomerData ----------------------------------------------------


def _usage_drop(d: CustomerData, cfg: UsageDropSettings) -> list[Finding]:
    return [rules.usage_drop(d.dau, d.last_day, cfg)]


def _no_login(d: CustomerData, cfg: NoLoginSettings) -> list[Finding]:
    return [rules.no_login(d.dau, d.last_day, cfg)]


def _abandonment(d: CustomerData, cfg: AbandonmentSettings) -> list[Finding]:
    return rules.feature_abandonment(d.features, d.synced(cfg.recent_days), cfg, d.last_day)


def _dismissal(d: CustomerData, cfg: GuideDismissalSettings) -> list[Finding]:
    return rules.guide_dismissal(d.guides, d.synced(1), cfg)


def _champion(d: CustomerData, cfg: ChampionSettings) -> list[Finding]:
    return champions.evaluate_champions(d.people, d.dau, d.last_day, cfg)


def _health_drop(d: CustomerData, cfg: HealthDropSettings) -> list[Finding]:
    return [risk.health_drop(d.health, d.last_day, cfg)]


def _renewal_risk(d: CustomerData, cfg: RenewalRiskSettings) -> list[Finding]:
    return [risk.renewal_risk(d.health, d.renewal_date, d.last_day, cfg)]


def _sync_failed(state: Freshness, cfg: SyncFailedSettings) -> list[Finding]:
    return [ops_rules.sync_failed(state, cfg)]


def _data_stale(state: Freshness, cfg: DataStaleSettings) -> list[Finding]:
    return [ops_rules.data_stale(state, cfg)]


def _sync_suspect(state: Freshness, cfg: SyncSuspectSettings) -> list[Finding]:
    return [ops_rules.sync_suspect(state, cfg)]


# --- the registry ----------------------------------------------------------------------------

# Registry order is evaluation order (and so the order alerts of one run are opened in).
CUSTOMER_KINDS: tuple[AlertKind[CustomerData, Any], ...] = (
    AlertKind("usage_drop", "Usage drop", UsageDropSettings, _usage_drop, rules.usage_drop_numbers,
              rules.USAGE_DROP_ACTION, "high from a 50% drop, medium from 35%, low below", ("no_login",)),
    AlertKind("no_login", "No login", NoLoginSettings, _no_login, rules.no_login_numbers,
              rules.NO_LOGIN_ACTION, "always high"),
    AlertKind("feature_abandonment", "Key feature abandoned", AbandonmentSettings, _abandonment,
              rules.abandonment_numbers, rules.ABANDONMENT_ACTION,
              "high when 10 or more people used it, medium from 5, low below", ("no_login",)),
    AlertKind("guide_dismissal", "Guide dismissed", GuideDismissalSettings, _dismissal, rules.dismissal_numbers,
              rules.DISMISSAL_ACTION, "medium when 80% or more of its viewers dismissed it, low below"),
    AlertKind("champion_inactive", "Champion inactive", ChampionSettings, _champion, champions.champion_numbers,
              champions.CHAMPION_ACTION, "high when quiet for twice the window or longer (or not seen in the "
              "lookback), medium below", ("no_login",)),
    AlertKind("health_drop", "Health drop", HealthDropSettings, _health_drop, risk.health_drop_numbers,
              risk.HEALTH_DROP_ACTION, "high when the score is red now, medium otherwise", ("no_login",)),
    AlertKind("renewal_risk", "Renewal at risk", RenewalRiskSettings, _renewal_risk, risk.renewal_risk_numbers,
              risk.RENEWAL_RISK_ACTION, "high when the score is red, medium when it is only declining"),
)
OPERATIONS_KINDS: tuple[AlertKind[Freshness, Any], ...] = (
    AlertKind(ops_rules.SYNC_FAILED, "Last sync failed", SyncFailedSettings, _sync_failed,
              ops_rules.sync_failed_numbers, ops_rules.SYNC_FAILED_ACTION, "always high"),
    AlertKind(ops_rules.DATA_STALE, "Data stale", DataStaleSettings, _data_stale, ops_rules.data_stale_numbers,
              ops_rules.DATA_STALE_ACTION, "always high"),
    AlertKind(ops_rules.SYNC_SUSPECT, "Sync held back suspect data", SyncSuspectSettings, _sync_suspect,
              ops_rules.sync_suspect_numbers, ops_rules.SYNC_SUSPECT_ACTION, "always high"),
)
REGISTRY: dict[str, AlertKind[Any, Any]] = {k.key: k for k in CUSTOMER_KINDS} | {k.key: k for k in OPERATIONS_KINDS}
KINDS = tuple(k.key for k in CUSTOMER_KINDS)  # what `pendo_usage_alerts.kind` holds


def label(key: str) -> str:
    """The kind's label on every screen and message; an unregistered kind reads as its key in words."""
    kind = REGISTRY.get(key)
    return kind.label if kind else key.replace("_", " ").capitalize()


def numbers_text(key: str, details: Mapping[str, Any]) -> str:
    """The numbers that triggered an alert, in one line a CSM can read (any kind, even unregistered)."""
    kind = REGISTRY.get(key)
    text = kind.numbers(details) if kind else ""
    return text or ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in details.items())


def evaluate_customer(data: CustomerData, cfg: AlertSettings) -> list[Finding]:
    """Every customer kind's findings for one customer, in registry order, after silencing."""
    return suppress([f for kind in CUSTOMER_KINDS for f in kind.rule(data, kind.settings_in(cfg))])


def suppress(findings: Sequence[Finding]) -> list[Finding]:
    """A firing finding of a kind silenced by another kind that fires too becomes a clear (no_login
    firing silences usage_drop, feature_abandonment and champion_inactive)."""
    fired = {f.kind for f in findings if f.status == "fire"}
    out = []
    for f in findings:
        kind = REGISTRY.get(f.kind)
        by = [k for k in kind.silenced_by if k in fired] if kind and f.status == "fire" else []
        out.append(Finding(f.kind, "clear", f.subject, details={"suppressed_by": by[0]}) if by else f)
    return out


def evaluate_operations(state: Freshness, cfg: Mapping[str, SettingsModel] | None = None) -> list[Finding]:
    """Every operations kind's finding on the store's freshness (a kind not in `cfg`: its defaults)."""
    given = cfg or {}
    return [f for kind in OPERATIONS_KINDS for f in kind.rule(state, given.get(kind.key) or kind.settings())]


def message(finding: Finding) -> str:
    """A finding in full sentences: its numbers, then what to do (the operations alerts' message)."""
    numbers = numbers_text(finding.kind, finding.details)
    return f"{numbers}. {finding.action}" if finding.action else f"{numbers}."
