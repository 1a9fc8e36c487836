"""Admin: health weights with a live back-test, alert thresholds, the onboarding guide list, alert
delivery per CSM, users, API tokens, CSV imports, the access log, the Pendo connection, the account
mapping queue and syncs. Admins only, also when this page's URL is opened directly."""

from __future__ import annotations

import time

import streamlit as st
from streamlit.delta_generator import DeltaGenerator

from pages.ui import panel_ui, shared

FLASH_SECONDS = 10.0
TABS = ["Health weights", "Thresholds", "Onboarding guides", "Delivery", "Users", "API tokens", "Imports",
        "Access log", "Pendo connection", "Account mapping", "Sync"]


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
    from pages.ui import (
        admin_access_log,
        admin_connection,
        admin_delivery,
        admin_imports,
        admin_mapping,
        admin_onboarding,
        admin_sync,
        admin_thresholds,
        admin_tokens,
        admin_users,
        admin_weights,
    )

    shared.page_header("Admin")
    _notice(st.container())  # always drawn, so the tabs below keep their place (and their selection)
    tabs = dict(zip(TABS, st.tabs(TABS, key="admin_tab"), strict=True))
    for title, module in (("Thresholds", admin_thresholds), ("Onboarding guides", admin_onboarding),
                          ("Delivery", admin_delivery), ("Users", admin_users), ("API tokens", admin_tokens),
                          ("Imports", admin_imports), ("Access log", admin_access_log),
                          ("Pendo connection", admin_connection), ("Account mapping", admin_mapping),
                          ("Sync", admin_sync)):
        with tabs[title]:
            module.render(user)
    with tabs["Health weights"]:  # filled last: its first back-test read is the slow part, the others need not wait
        admin_weights.render(user)


render()
