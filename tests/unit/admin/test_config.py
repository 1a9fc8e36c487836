"""Settings come from arguments, then the environment, then `.streamlit/secrets.toml`."""

from __future__ import annotations

from pathlib import Path

import pytest

from pendo_core.common.config import Settings


@pytest.fixture
def secrets_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("DATABASE_URL", "PENDO_TIMEZONE", "PENDO_INTEGRATION_KEY", "PENDO_REGION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    return tmp_path


def test_secrets_toml_is_read(secrets_dir: Path) -> None:
    """Upper- or lower-case top-level keys of secrets.toml set the same settings as the environment."""
    (secrets_dir / ".streamlit" / "secrets.toml").write_text(
        'DATABASE_URL = "sqlite:///x.db"\npendo_timezone = "Europe/Paris"\n[auth]\nredirect_uri = "x"\n')
    settings = Settings()
    assert settings.database_url == "sqlite:///x.db"
    assert settings.pendo_timezone == "Europe/Paris"


def test_environment_wins_over_secrets_toml(secrets_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment variable beats the file."""
    (secrets_dir / ".streamlit" / "secrets.toml").write_text('PENDO_REGION = "eu"\n')
    monkeypatch.setenv("PENDO_REGION", "jpn")
    assert Settings().pendo_region == "jpn"


def test_no_file_means_defaults(secrets_dir: Path) -> None:
    """Without a secrets file the defaults of interfaces.md apply."""
    settings = Settings()
    assert (settings.pendo_timezone, settings.pendo_region, settings.demo_mode) == ("UTC", "us", True)
