"""A setting the app cannot use (issue 11 item 7) stops it with the one-line SettingsError on screen, for
everyone, instead of a traceback: the same line `python -m jobs` and `alembic` print."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.app import app, clear_caches, quiet_apptest, run


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """No cached settings from another test; fast AppTest."""
    quiet_apptest(monkeypatch)
    monkeypatch.delenv("PENDO_INTEGRATION_KEY", raising=False)
    clear_caches()


@pytest.mark.parametrize(("env", "expected"), [
    ({"DATABASE_URL": "garbage"}, "The app cannot start: bad setting DATABASE_URL: not a database URL: use sqlite:///"),
    ({"DATABASE_URL": "mysql://root:hunter2-secret@db/cscx"},
     "The app cannot start: bad setting DATABASE_URL: mysql:// databases are not supported"),
    ({"PENDO_INTEGRATION_KEY": " "}, "The app cannot start: bad setting PENDO_INTEGRATION_KEY: is empty"),
], ids=["garbage-url", "mysql-url", "blank-key"])
def test_a_bad_setting_stops_the_app_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                    env: dict[str, str], expected: str) -> None:
    """One error naming the setting and the fix, no exception, no sign-in form; a password never shown."""
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    at = run(app())
    assert len(at.error) == 1
    assert at.error[0].value.startswith(expected)
    assert "\n" not in at.error[0].value
    assert "hunter2" not in at.error[0].value
    assert not at.text_input


def test_a_malformed_secrets_toml_stops_the_app_with_one_line(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """`.streamlit/secrets.toml` that is not TOML: the file and the fix, on screen."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'unused.db'}")
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_bytes(b"x = = 1\n")
    at = run(app())
    assert [e.value.split(" (")[0] for e in at.error] == [
        "The app cannot start: .streamlit/secrets.toml is not valid TOML"]
    assert not at.text_input
