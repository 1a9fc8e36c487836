"""The admin settings, shared by the weights and thresholds tabs: the newest version, saving a new
one, and the version history."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import loaders, panel_ui, shared
from pendo_core.admin import settings_versions as versions
from pendo_core.admin.settings import AppSettings, current_settings


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_settings() -> tuple[int, AppSettings]:
    """(newest version, its settings); version 0 is the product defaults."""
    with Session(shared.engine()) as session:
        return current_settings(session)


def save(settings: AppSettings, by: str, note: str, what: str) -> None:
    """Save a new settings version, refresh the loaders, and leave a message for the next run."""
    version = versions.save_app_settings(shared.engine(), settings, by, note)
    load_settings.clear()
    loaders.settings_versions.clear()  # the Health page names the versions too
    panel_ui.set_flash("admin", "success", f"{what} saved as settings version {version}. The next sync scores "
                                           "and evaluates with it; past days keep the version they were computed with.")


def show_versions() -> None:
    """The settings version history (who, when, note, what changed)."""
    versions = loaders.settings_versions()
    with st.expander(f"Settings history ({len(versions)} saved version(s))"):
        if versions.empty:
            st.caption("Nothing saved yet: the product defaults apply (version 0).")
            return
        panel_ui.table(versions, key="admin_versions", file_name="settings_versions.csv",
                       column_config={"saved_at": st.column_config.DatetimeColumn("Saved at",
                                                                                  format="D MMM YYYY, HH:mm"),
                                      "changes": st.column_config.TextColumn("Changes", width="large")})
