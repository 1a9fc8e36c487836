"""The admin settings (health weights and bands, alert thresholds), versioned in the store.

`AppSettings` composes the health settings (here) and the alert settings (the pure models of
`pendo_core.alerts.settings`, one per alert kind). Every save is a new row of
`app_settings_versions` (who, when, a note); nothing is ever updated in place, so a health score
can always name the version it was computed with. Version 0 means "the product defaults" (nothing
saved yet). Store functions take a Session and never commit. Every field has a default and unknown
keys are ignored, so a version stored before a setting existed still loads (with its default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from pendo_core.alerts.settings import AlertSettings
from pendo_core.store.models import SettingsVersion

__all__ = [
    "AlertSettings",
    "AppSettings",
    "HealthSettings",
    "HealthWeights",
    "SettingChange",
    "SettingsError",
    "SettingsVersionView",
    "current_settings",
    "parse_settings",
    "save_settings",
    "settings_at",
    "settings_history",
]

COMPONENTS = ("engagement", "adoption", "trajectory", "onboarding", "breadth_change", "attrition", "sustained_trend",
              "champion")


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line naming the field and the fix."""


class _Model(BaseModel):
    # Unknown keys are ignored so versions saved by an older release still load.
    model_config = ConfigDict(extra="ignore", frozen=True)


class HealthWeights(_Model):
    """Relative weight of each health component (any scale; only the ratios matter)."""

    # Defaults chosen by back-test on the simulator's labelled training worlds (seeds 101-108, README
    # "Health score"; `python -m jobs evaluate` reports held-out seeds): the changes (users leaving,
    # key features dropped, a sustained slide), stickiness and the champions' activity carry the churn
    # signal; breadth and the 28-day trajectory add nothing beside them; onboarding is opt-in because
    # accounts onboarded before the synced history would read as 0% onboarded. A customer without
    # contacts has no champion value, so its score is the other four renormalised.
    engagement: float = Field(0.22, ge=0)
    adoption: float = Field(0.0, ge=0)
    trajectory: float = Field(0.0, ge=0)
    onboarding: float = Field(0.0, ge=0)
    breadth_change: float = Field(0.14, ge=0)
    attrition: float = Field(0.26, ge=0)
    sustained_trend: float = Field(0.15, ge=0)
    champion: float = Field(0.23, ge=0)

    @model_validator(mode="after")
    def _some_weight(self) -> HealthWeights:
        if sum(self.as_dict().values()) <= 0:
            raise ValueError("the weights sum to 0; give at least one component a weight above 0")
        return self

    def as_dict(self) -> dict[str, float]:
        """Component name -> weight, in the order of COMPONENTS."""
        return {name: float(getattr(self, name)) for name in COMPONENTS}


class HealthSettings(_Model):
    """Weights, bands (red < red_below <= yellow < green_from <= green) and data rules of the score."""

    weights: HealthWeights = HealthWeights()
    red_below: float = Field(70.0, ge=0, le=100)  # bands from the same back-test: churn red > yellow > green
    green_from: float = Field(85.0, ge=0, le=100)
    coverage_floor: float = Field(0.5, ge=0, le=1)
    key_feature_ids: tuple[str, ...] | None = None
    onboarding_guide_ids: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _ordered_bands(self) -> HealthSettings:
        if self.red_below > self.green_from:
            raise ValueError(f"red_below ({self.red_below:g}) is above green_from ({self.green_from:g}); "
                             f"the red band must end where yellow starts, below green")
        return self


class AppSettings(_Model):
    """Everything an admin sets; the defaults are the product document's."""

    health: HealthSettings = HealthSettings()
    alerts: AlertSettings = AlertSettings()


def parse_settings(data: dict[str, Any]) -> AppSettings:
    """Validated settings from plain data; SettingsError with one line when a value is wrong."""
    try:
        return AppSettings.model_validate(data)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc)) from None


def _one_line(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "settings"
    message = str(first["msg"]).removeprefix("Value error, ")
    shown = f" (got {first['input']!r})" if first["type"] != "value_error" else ""
    more = f"; and {len(exc.errors()) - 1} more problem(s)" if len(exc.errors()) > 1 else ""
    return f"{where}: {message}{shown}{more}"


# --- versioned storage -----------------------------------------------------------------------


@dataclass(frozen=True)
class SettingChange:
    """One setting that differs from the previous version (dotted path, old and new value)."""

    path: str
    old: Any
    new: Any


@dataclass(frozen=True)
class SettingsVersionView:
    """A saved version and what it changed against the one before (version 1: the defaults)."""

    version: int
    created_at: datetime
    created_by: str
    note: str | None
    changes: list[SettingChange]


def current_settings(session: Session) -> tuple[int, AppSettings]:
    """(newest version, its settings); (0, defaults) when nothing was ever saved."""
    row = session.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc()).limit(1)).scalar()
    if row is None:
        return 0, AppSettings()
    return row.version, _stored(row)


def settings_at(session: Session, version: int) -> AppSettings:
    """The settings of one version (0: the defaults); SettingsError when it does not exist."""
    if version == 0:
        return AppSettings()
    row = session.get(SettingsVersion, version)
    if row is None:
        raise SettingsError(f"settings version {version} does not exist; pick one from the history")
    return _stored(row)


def save_settings(session: Session, settings: AppSettings, by: str, note: str | None = None) -> int:
    """Store `settings` as a new version; returns its number (flushed, not committed)."""
    if not by.strip():
        raise SettingsError("saving settings needs the e-mail or name of who saves them")
    row = SettingsVersion(created_by=by.strip(), settings=settings.model_dump(mode="json"), note=note)
    session.add(row)
    session.flush()
    return row.version


def settings_history(session: Session) -> list[SettingsVersionView]:
    """Every saved version, newest first, each with what changed against the one before."""
    rows = session.execute(select(SettingsVersion).order_by(SettingsVersion.version)).scalars().all()
    previous = _flatten(AppSettings().model_dump(mode="json"))
    views: list[SettingsVersionView] = []
    for row in rows:
        current = _flatten(_stored(row).model_dump(mode="json"))
        views.append(SettingsVersionView(row.version, row.created_at, row.created_by, row.note,
                                         diff_settings(previous, current)))
        previous = current
    return views[::-1]


def diff_settings(old: dict[str, Any], new: dict[str, Any]) -> list[SettingChange]:
    """Changes between two flattened settings (dotted path -> value), sorted by path."""
    return [SettingChange(path, old.get(path), new.get(path)) for path in sorted(old.keys() | new.keys())
            if old.get(path) != new.get(path)]


def _stored(row: SettingsVersion) -> AppSettings:
    try:
        return AppSettings.model_validate(row.settings)
    except ValidationError as exc:
        raise SettingsError(f"stored settings version {row.version} is invalid: {_one_line(exc)}; "
                            f"save a corrected version") from None


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, path + "."))
        else:
            flat[path] = value
    return flat
