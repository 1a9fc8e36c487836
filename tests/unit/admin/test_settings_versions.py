"""Saving settings makes a new version, recorded in the access log; the history shows what changed."""

from __future__ import annotations

from sqlalchemy import Engine, func, select

from pendo_core.admin.settings import AppSettings, HealthSettings, HealthWeights
from pendo_core.admin.settings_versions import save_app_settings, settings_versions
from pendo_core.store.models import AuditLog


def test_saving_settings_makes_a_new_audited_version(engine: Engine) -> None:
    """Each save is a new version with who and a note; the history shows what changed."""
    weights = HealthWeights(engagement=0.5, adoption=0.5, trajectory=0.0, onboarding=0.0)
    first = save_app_settings(engine, AppSettings(health=HealthSettings(weights=weights)), "a@cscx.io", " v1 ")
    second = save_app_settings(engine, AppSettings(), "b@cscx.io", "")
    history = settings_versions(engine)
    assert second == first + 1
    assert history[["version", "saved_by", "note"]].values.tolist() == [[second, "b@cscx.io", ""],
                                                                        [first, "a@cscx.io", "v1"]]
    assert "health.weights.engagement: 0.22 → 0.5" in history.loc[1, "changes"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditLog)).scalar() == 2
