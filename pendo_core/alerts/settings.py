"""The alert rules' settings: one pure pydantic model per alert kind, and their composition.

`AlertSettings` holds one field per customer alert kind, named after the kind (the registry in
`kinds.py` finds a kind's settings by that name), plus the escalation delay. The admin settings
(`pendo_core.admin.settings`) store it as part of each settings version; models ignore unknown keys
and every field has a default, so versions saved by an older or newer release still load. A
field's `title` and `description` label its input on the thresholds page when its kind has no
hand-made section there.

The operations kinds read their thresholds from the run's configuration (`FRESHNESS_MAX_HOURS`),
not from the admin settings; their models are here so that every kind has one.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class SettingsModel(BaseModel):
    """Base of every settings model: frozen, and unknown keys ignored (older versions still load)."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class UsageDropSettings(SettingsModel):
    """Sudden (last 7 days vs the same weekdays of `baseline_weeks`) or sustained (last `sustained_days` vs
    the `sustained_baseline_weeks` before) declines of more than drop_pct, fired when at least `confidence`
    sure (decline.py)."""

    drop_pct: float = Field(20.0, ge=0, le=100)
    baseline_weeks: int = Field(4, ge=1, le=12)
    min_daily_users: float = Field(0.0, ge=0)  # an optional floor; the noise test already handles small teams
    hold_days: int = Field(3, ge=1, le=14)
    sustained_days: int = Field(28, ge=7, le=56)
    # Weeks before the sustained window its level before is read from (fewer while the history is shorter):
    # 8 against 4 caught more declines with fewer false alerts on the labelled training worlds (README).
    sustained_baseline_weeks: int = Field(8, ge=1, le=12)
    confidence: float = Field(0.9, ge=0.5, lt=1)


class AbandonmentSettings(SettingsModel):
    """A key feature used by at least `min_prior_users` people in the `prior_days` days before the last
    `recent_days` days, unused since, and a silence its prior use makes unlikely: at most a 1 - `confidence`
    chance (rules.py)."""

    recent_days: int = Field(14, ge=1, le=60)
    prior_days: int = Field(28, ge=1, le=90)
    min_prior_users: int = Field(3, ge=1)
    confidence: float = Field(0.99, ge=0, lt=1)  # chosen on the labelled training worlds (README)


class NoLoginSettings(SettingsModel):
    """No identified visitor active in the last `days` complete days."""

    days: int = Field(14, ge=1, le=89)


class GuideDismissalSettings(SettingsModel):
    """A guide dismissed by at least a share `min_share` of at least `min_seen` visitors who saw it in 30 days,
    at least `min_excess` above the guide's share across the other customers, and `confidence` sure to be
    (rules.py)."""

    min_share: float = Field(0.5, ge=0, le=1)
    min_seen: int = Field(5, ge=1)
    min_excess: float = Field(0.2, ge=0, le=1)
    confidence: float = Field(0.95, ge=0, lt=1)  # chosen on the labelled training worlds (README)


class ChampionSettings(SettingsModel):
    """A champion or decision maker with no activity for `days` complete days while at least
    `min_team_active` colleagues were active."""

    # At most 89: a contact's activity is read over the people lookback (90 days ending on the last day).
    days: int = Field(14, ge=1, le=89, title="Quiet for (days)")
    min_team_active: int = Field(1, ge=1, title="While colleagues active (at least)",
                                 description="Fewer active colleagues: the whole team is quiet, no_login's case.")


class HealthDropSettings(SettingsModel):
    """The health score fell at least `points` points in 28 days, or crossed into red."""

    points: float = Field(15.0, gt=0, le=100, title="Score fell by (points, 28 days)",
                          description="Crossing into red (from yellow or green 28 days before) fires too.")


class RenewalRiskSettings(SettingsModel):
    """The renewal is within `days` days while the health score is red or declining (down `decline_points`
    points or more in 28 days)."""

    days: int = Field(90, ge=1, le=730, title="Renewal within (days)")
    decline_points: float = Field(5.0, gt=0, le=100, title="Declining: score down by (points, 28 days)",
                                  description="A red score fires whatever its change.")


class AlertSettings(SettingsModel):
    """Thresholds of every customer alert kind (one field per kind) and the escalation delay (None: never)."""

    usage_drop: UsageDropSettings = UsageDropSettings()
    feature_abandonment: AbandonmentSettings = AbandonmentSettings()
    no_login: NoLoginSettings = NoLoginSettings()
    guide_dismissal: GuideDismissalSettings = GuideDismissalSettings()
    champion_inactive: ChampionSettings = ChampionSettings()
    health_drop: HealthDropSettings = HealthDropSettings()
    renewal_risk: RenewalRiskSettings = RenewalRiskSettings()
    escalation_days: int | None = Field(3, ge=1)


class SyncFailedSettings(SettingsModel):
    """The last finished sync run failed (nothing to set: a stop on purpose is never a failure)."""


class SyncSuspectSettings(SettingsModel):
    """Usage windows held back as suspect since the last successful run (nothing to set)."""


class DataStaleSettings(SettingsModel):
    """The last successful sync started more than `max_age_hours` ago (or none ever succeeded)."""

    max_age_hours: float = Field(24.0, gt=0)
