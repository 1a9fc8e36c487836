"""Small UI pieces the Health, Alerts and Admin pages share: who is signed in, tables that sort and
download, band colours. Pages only render; data comes from their cached loaders."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

import pandas as pd
import streamlit as st

from pages.ui import shared
from pendo_core.admin import users as auth
from pendo_core.common import csv_export
from pendo_core.common.config import Settings
from pendo_core.common.timeutil import today_in

BAND_COLORS = {"green": "#2e7d32", "yellow": "#f2a900", "red": "#c62828", "insufficient data": "#9e9e9e"}
BAND_ORDER = ["red", "yellow", "green", "insufficient data"]
SEVERITY_COLORS = {"high": "red", "medium": "orange", "low": "yellow"}


def signed_in(page: str) -> auth.User:
    """The signed-in user when their role may open `page` (the frame's rule); else a message and st.stop()."""
    return shared.require_page(page)


def settings() -> Settings:
    """The operator settings (timezone, region), read once per app process by the frame."""
    return shared.settings()


def today() -> date:
    """Today in the subscription's timezone: the date people's actions on alerts are recorded with."""
    return today_in(settings().tz)


def set_flash(page: str, kind: str, text: str) -> None:
    """Leave the outcome of an action ("success" or "error") for the page to show on its next run."""
    st.session_state[f"{page}_flash"] = (kind, text)
    st.session_state.pop(f"{page}_flash_shown", None)  # the same text again is a new message


def require_admin(user: auth.User) -> None:
    """Refuse anyone but an admin, also when the page's URL is opened directly."""
    if user.role != "admin":
        st.error(f"Admin only: you are signed in as {user.email} ({user.role}). Ask an admin for access to "
                 "settings, the Pendo connection, mappings and syncs.")
        st.stop()


def table(frame: pd.DataFrame, *, key: str, file_name: str, column_config: dict[str, Any] | None = None,
          height: int | Literal["auto", "stretch", "content"] = "auto", caption: str | None = None,
          row_height: int | None = None) -> None:
    """A sortable table with a CSV download of exactly what it shows; a `row_height` above 64 px wraps text."""
    st.dataframe(frame, hide_index=True, column_config=column_config, height=height, key=f"{key}_table",
                 placeholder="–", row_height=row_height)
    row = st.container(horizontal=True, vertical_alignment="center", horizontal_alignment="distribute")
    row.caption(caption or f"{len(frame):,} row(s). Click a column header to sort.")
    row.download_button("Download CSV", csv_export.to_csv_bytes(frame), file_name=file_name,
                        mime="text/csv", key=f"{key}_download", icon=":material/download:")


def band_badge(band: str) -> str:
    """Markdown for a coloured band label."""
    color = {"green": "green", "yellow": "orange", "red": "red"}.get(band, "gray")
    return f":{color}-badge[{band.title() if band != 'insufficient data' else 'Insufficient data'}]"


def severity_badge(severity: str) -> str:
    """Markdown for a coloured severity label."""
    return f":{SEVERITY_COLORS.get(severity, 'gray')}-badge[{severity.title()} severity]"


def fmt_points(value: float | None, signed: bool = False) -> str:
    """A score or a change in points, or an en dash when there is none."""
    if value is None or pd.isna(value):
        return "–"
    return f"{value:+.1f}" if signed else f"{value:.1f}"


def outcome_and_secret(prefix: str, intro: str, hide: str) -> None:
    """The last action's outcome (state `<prefix>_result`: (ok, text)) and a secret shown once (state
    `<prefix>_secret`: (name, value); `intro` may use {name}) until its "hide" button is clicked."""
    state = st.session_state
    secret_key = f"{prefix}_secret"
    result = state.get(f"{prefix}_result")
    if result:
        (st.success if result[0] else st.error)(result[1])
    secret = state.get(secret_key)
    if secret:
        with st.container(border=True):
            st.markdown(intro.format(name=secret[0]))
            st.code(secret[1], language=None)
            st.button(hide, key=f"{prefix}_hide", on_click=state.pop, args=(secret_key, None))
