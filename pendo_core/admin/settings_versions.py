"""Saving the admin settings as a new version (recorded in the access log) and listing the versions."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin import access_log
from pendo_core.admin.settings import AppSettings, save_settings, settings_history

__all__ = ["save_app_settings", "settings_versions"]


def save_app_settings(engine: Engine, settings: AppSettings, by: str, note: str | None) -> int:
    """Save the settings as a new version (who, when, note) and log it in the access log; returns the version."""
    with Session(engine) as session, session.begin():
        version = save_settings(session, settings, by, (note or "").strip() or None)
        access_log.record(session, by, "settings.save", {"version": version, "note": note})
    return version


def settings_versions(engine: Engine) -> pd.DataFrame:
    """Every saved settings version, newest first, with what it changed."""
    with Session(engine) as session:
        views = settings_history(session)
    rows = [{"version": v.version, "saved_at": v.created_at, "saved_by": v.created_by, "note": v.note or "",
             "changes": "; ".join(f"{c.path}: {c.old} → {c.new}" for c in v.changes) or "no change"}
            for v in views]
    return pd.DataFrame(rows, columns=["version", "saved_at", "saved_by", "note", "changes"])
