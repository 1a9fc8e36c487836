"""The one validated settings object, built at the edge and passed down.

`load_settings()` is how a command builds it: any setting that cannot be used (a database URL that
is not SQLite or PostgreSQL, an empty Pendo key, a `.streamlit/secrets.toml` that is not TOML...)
becomes one `SettingsError` line naming the setting and the fix, never a traceback.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

Region = Literal["us", "eu", "us1", "jpn", "au"]

REGION_HOSTS: dict[str, str] = {
    "us": "https://app.pendo.io",
    "eu": "https://app.eu.pendo.io",
    "us1": "https://us1.app.pendo.io",
    "jpn": "https://app.jpn.pendo.io",
    "au": "https://app.au.pendo.io",
}

DEFAULT_DB_PATH = Path("data") / "cscx_pendo.db"
DEMO_KEY = "demo-key"


SECRETS_TOML = Path(".streamlit") / "secrets.toml"
DATABASES = ("sqlite", "postgresql", "postgres")
URL_EXAMPLES = "sqlite:///data/cscx_pendo.db or postgresql://user:password@host:5432/dbname"

# How far back raw usage rows are read, in days ending on a day whose figures are computed or shown
# (tests/unit/pendo/test_retention.py checks each against the code that reads them):
METRICS_REACH_DAYS = 89  # a day's active_visitors reads visitor-days from 89 days before it
LONGEST_RAW_READ_DAYS = 150  # feature_abandonment at its bounds: 60 recent + 90 prior days of feature rows


def raw_retention_floor(lookback_days: int) -> int:
    """The fewest days of raw rows a store may keep: the daily run restates the metrics of its lookback
    days, the first of which reads METRICS_REACH_DAYS further back, and no page or rule may look past
    the rows kept (the 90-day people lookback, the 13-week feature heatmap, the abandonment windows)."""
    return max(lookback_days + METRICS_REACH_DAYS, LONGEST_RAW_READ_DAYS)


class SettingsError(ValueError):
    """A setting that cannot be used; the message is one line naming it and the fix."""


class StreamlitSecretsSource(PydanticBaseSettingsSource):
    """Top-level keys of `.streamlit/secrets.toml` (any case), below the environment in priority."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._values().get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return {k: v for k, v in self._values().items() if k in self.settings_cls.model_fields}

    def _values(self) -> dict[str, Any]:
        if not SECRETS_TOML.is_file():
            return {}
        try:
            with SECRETS_TOML.open("rb") as handle:
                data = tomllib.load(handle)
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SettingsError(f"{SECRETS_TOML} is not valid TOML ({exc}): fix the file, or remove it and use "
                                "environment variables") from None
        return {key.lower(): value for key, value in data.items() if not isinstance(value, dict)}


class Settings(BaseSettings):
    """Operator settings from the environment (see interfaces.md)."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", case_sensitive=False)

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments, then the environment, then `.streamlit/secrets.toml` (interfaces.md)."""
        return init_settings, env_settings, StreamlitSecretsSource(settings_cls), file_secret_settings

    database_url: str = f"sqlite:///{DEFAULT_DB_PATH}"
    pendo_integration_key: SecretStr | None = None
    pendo_region: Region = "us"
    pendo_base_url: str | None = None
    pendo_timezone: str = "UTC"
    include_anonymous: bool = False
    lookback_days: int = Field(default=10, ge=1, le=30)
    backfill_days: int = Field(default=90, ge=1, le=400)
    window_days: int = Field(default=7, ge=1, le=30)
    # Days of raw usage rows kept, ending on the last reported day (None: all); older ones are purged
    # after each successful sync (pendo_core/pendo/sync/retention.py). Metrics are never purged.
    raw_retention_days: int | None = Field(default=None, ge=1)
    request_timeout_s: float = Field(default=120.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    max_retry_seconds: float = Field(default=600.0, gt=0)
    max_concurrency: int = Field(default=4, ge=1)
    demo_accounts: int = Field(default=300, ge=1)
    demo_seed: int = 7
    # Alert delivery (issue 3): e-mail when SMTP_HOST is set, the webhook when its URL is set.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str = "cscx-alerts@localhost"
    smtp_starttls: bool = False
    alert_webhook_url: SecretStr | None = None
    # Scheduler, secrets and operations (issue 6).
    schedule_time: str = "06:30"  # the daily sync, HH:MM in schedule_timezone
    schedule_timezone: str | None = None  # IANA name; default: PENDO_TIMEZONE
    cscx_secret_key: SecretStr | None = None  # Fernet key(s), comma-separated, newest first
    freshness_max_hours: float = Field(default=24.0, gt=0)
    log_format: Literal["auto", "json", "human"] = "auto"

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, value: str) -> str:
        # The URL may hold a password: messages name only its scheme.
        scheme = value.split("://", 1)[0].strip().lower() if "://" in value else ""
        if not scheme:
            raise ValueError(f"not a database URL: use {URL_EXAMPLES}")
        if scheme.split("+", 1)[0] not in DATABASES:
            raise ValueError(f"{scheme}:// databases are not supported: use {URL_EXAMPLES}")
        try:
            make_url(value.strip())
        except (ArgumentError, ValueError):
            raise ValueError(f"the {scheme}:// URL cannot be read: use the form {URL_EXAMPLES}") from None
        return value.strip()

    @field_validator("pendo_integration_key")
    @classmethod
    def _key_not_blank(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().strip():
            raise ValueError("is empty: set the key, or unset the variable to use the demo simulator")
        return value

    @field_validator("schedule_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError(f"{value!r} is not a time of day: use HH:MM on a 24-hour clock, such as 06:30")
        return value.strip()

    @field_validator("schedule_timezone")
    @classmethod
    def _known_schedule_timezone(cls, value: str | None) -> str | None:
        return None if value is None else cls._known_timezone(value)

    @field_validator("pendo_timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r}: use an IANA name such as America/New_York") from exc
        return value

    @model_validator(mode="after")
    def _retention_above_floor(self) -> Settings:
        floor = raw_retention_floor(self.lookback_days)
        if self.raw_retention_days is not None and self.raw_retention_days < floor:
            raise ValueError(f"RAW_RETENTION_DAYS={self.raw_retention_days} is below {floor}, the longest look-back "
                             f"of the metrics and alerts (LOOKBACK_DAYS + {METRICS_REACH_DAYS}, at least "
                             f"{LONGEST_RAW_READ_DAYS}): set it to {floor} or more, or unset it to keep every row")
        return self

    @property
    def tz(self) -> ZoneInfo:
        """The subscription's timezone; Pendo's day buckets follow it."""
        return ZoneInfo(self.pendo_timezone)

    @property
    def demo_mode(self) -> bool:
        """True when no key is set: the built-in simulator stands in for Pendo."""
        return self.pendo_integration_key is None

    @property
    def base_url(self) -> str:
        """The Pendo host: an explicit override wins over the region's host."""
        return (self.pendo_base_url or REGION_HOSTS[self.pendo_region]).rstrip("/")

    @property
    def schedule_tz(self) -> str:
        """The scheduler's timezone name: its own setting, else the subscription's."""
        return self.schedule_timezone or self.pendo_timezone


def load_settings() -> Settings:
    """The settings from the environment and secrets.toml, or SettingsError: one line, never a value."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(map(str, first["loc"])).upper()
        message = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"bad setting {name}: {message}" if name else f"bad setting: {message}") from None
