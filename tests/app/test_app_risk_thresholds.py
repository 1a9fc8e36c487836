"""The risk alerts' thresholds on Admin → Thresholds: built from their registered settings models,
with the registry's labels, and saved as a new settings version like every threshold."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from pendo_core.store.models import SettingsVersion
from tests.support.app import ADMIN, fresh_store, open_page, texts

PAGE = "pages/admin.py"


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path,
          monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh copy of the hand-built store, as the app's DATABASE_URL."""
    engine = fresh_store(tmp_path_factory, tmp_path)
    monkeypatch.setenv("DATABASE_URL", str(engine.url))
    yield engine
    engine.dispose()


@pytest.mark.parametrize(("label", "key", "change", "saved"), [
    ("Health drop", "admin_t_health_drop_points", (15.0, 20.0), {"points": 20.0}),
    ("Renewal at risk", "admin_t_renewal_risk_days", (90, 60), {"days": 60, "decline_points": 5.0}),
    ("Renewal at risk", "admin_t_renewal_risk_decline_points", (5.0, 8.0), {"days": 90, "decline_points": 8.0}),
], ids=["health-drop-points", "renewal-window", "renewal-decline"])
def test_risk_thresholds_show_and_save_as_a_version(store: Engine, label: str, key: str,
                                                    change: tuple[float, float], saved: dict[str, float]) -> None:
    """Each risk kind's thresholds are inputs with their defaults; a change is saved as a new version."""
    default, new = change
    at = open_page(PAGE, ADMIN)
    assert any(f"**{label}**" in t for t in texts(at, "markdown"))
    assert at.number_input(key=key).value == default
    at.number_input(key=key).set_value(new).run()
    at.button(key="admin_thresholds_save").click().run()
    with store.connect() as conn:
        newest = conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()
    assert newest is not None
    kind = "health_drop" if key.startswith("admin_t_health_drop") else "renewal_risk"
    assert newest.settings["alerts"][kind] == saved
