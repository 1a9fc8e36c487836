"""Admin: health weights with a live back-test, alert thresholds, the Pendo connection, the account
mapping queue and syncs. Admins only, also when this page's URL is opened directly."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pages.ui import panel_ui, shared

FLASH_SECONDS = 10.0


def _notice(box: DeltaGenerator) -> None:
    """The outcome of the last action, kept for a few seconds: a background rerun (the back-test
    arriving) must not wipe it before it is read."""
    state = st.session_state
    flash = state.get("admin_flash")
    if flash is None:
        return
    if flash != state.get("admin_flash_shown"):
        state["admin_flash_shown"], state["admin_flash_until"] = flash, time.monotonic() + FLASH_SECONDS
    if time.monotonic() > state["admin_flash_until"]:
        del state["admin_flash"]
        return
    (box.success if flash[0] == "success" else box.error)(flash[1])


def render() -> None:
    user = panel_ui.signed_in("admin")
    panel_ui.require_admin(user)  # the frame's rule already says so; a second, local check on purpose
    # Imported after the role check: nothing of the admin screens even loads for other roles.
    from pages.ui import admin_connection, admin_mapping, admin_sync, admin_thresholds, admin_weights

    shared.page_header("Admin")
    _notice(st.container())  # always drawn, so the tabs below keep their place (and their selection)
    tabs = st.tabs(["Health weights", "Thresholds", "Pendo connection", "Account mapping", "Sync"], key="admin_tab")
    with tabs[1]:
        admin_thresholds.render(user)
    with tabs[2]:
        admin_connection.render(user)
    with tabs[3]:
        admin_mapping.render(user)
    with tabs[4]:
        admin_sync.render(user)
    with tabs[0]:  # filled last: its first back-test read is the slow part, the other tabs need not wait
        admin_weights.render(user)


render()
