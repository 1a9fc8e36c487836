"""The risk alerts' thresholds on Admin → Thresholds: built from their registered settings models,
with the registry's labels, and saved as a new settings version like every threshold."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select

from pendo_core.store.models import SettingsVersion
from tests.support.app import open_page, texts
from tests.support.app_data import ADMIN

PAGE = "pages/admin.py"


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
    assert any(f"**{label}**" in t for t in texts(at.markdown))
    assert at.number_input(key=key).value == default
    at.number_input(key=key).set_value(new).run()
    at.button(key="admin_thresholds_save").click().run()
    with store.connect() as conn:
        newest = conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()
    assert newest is not None
    kind = "health_drop" if key.startswith("admin_t_health_drop") else "renewal_risk"
    assert newest.settings["alerts"][kind] == saved
