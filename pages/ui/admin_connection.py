"""Admin → Pendo connection: test a key against a region, save it encrypted (the key is never shown
back), and the subscription timezone."""

from __future__ import annotations

from zoneinfo import available_timezones

import streamlit as st

from pages.ui import shared
from pendo_core.admin import users as auth
from pendo_core.admin.pendo_connection import check_connection
from pendo_core.admin.secrets import (
    PENDO_KEY,
    SecretInfo,
    SecretsError,
    SecretStore,
    load_cipher,
    stored_names,
    validate_and_store_key,
)
from pendo_core.common.config import REGION_HOSTS

REGION_NAMES = {"us": "US (app.pendo.io)", "eu": "EU (app.eu.pendo.io)", "us1": "US1 (us1.app.pendo.io)",
                "jpn": "Japan (app.jpn.pendo.io)", "au": "Australia (app.au.pendo.io)"}


@st.cache_data(show_spinner=False)
def timezones() -> list[str]:
    return sorted(available_timezones())


def _typed() -> tuple[str, str, str | None]:
    state = st.session_state
    return state.get("admin_key", ""), state["admin_region"], (state.get("admin_base_url") or "").strip() or None


def _test() -> None:
    """Button callback: test the typed key, then forget it (it must not linger in the session)."""
    key, region, base_url = _typed()
    check = check_connection(key, region, base_url)
    st.session_state["admin_key"] = ""
    st.session_state["admin_connection_result"] = (check.ok, check.message)


def _save(by: str) -> None:
    """Button callback: test the key and store it encrypted only when Pendo accepts it."""
    key, region, base_url = _typed()
    st.session_state["admin_key"] = ""
    try:
        cipher = load_cipher(shared.settings())
        check = validate_and_store_key(shared.engine(), key, region, base_url, by=by, cipher=cipher)
    except SecretsError as exc:
        st.session_state["admin_connection_result"] = (False, str(exc))
        return
    st.session_state["admin_connection_result"] = (check.ok, check.message + (
        " The next sync uses it (a key set in the environment still wins)." if check.ok else ""))


def _forget(by: str) -> None:
    store = SecretStore(shared.engine(), load_cipher(shared.settings()))
    gone = store.delete(PENDO_KEY, by=by)
    st.session_state["admin_connection_result"] = (True, "The stored key is deleted." if gone else "No key was stored.")


def _stored() -> SecretInfo | None:
    if PENDO_KEY not in stored_names(shared.engine()):  # checked first: reading needs no cipher (no key file)
        return None
    try:
        return SecretStore(shared.engine(), load_cipher(shared.settings())).info(PENDO_KEY)
    except SecretsError:  # no encryption key configured: nothing can be stored or read
        return None


def _current(stored: SecretInfo | None) -> None:
    settings = shared.settings()
    cols = st.columns(3)
    demo = settings.demo_mode and stored is None
    cols[0].metric("Region", settings.pendo_region.upper(), border=True, help=REGION_NAMES.get(settings.pendo_region))
    cols[1].metric("Timezone", settings.pendo_timezone, border=True,
                   help="Pendo's day buckets follow the subscription's timezone; so do all daily metrics.")
    cols[2].metric("Host", "demo simulator" if demo else settings.base_url.removeprefix("https://"), border=True,
                   help="Where the sync reads from. Without any key the built-in simulator stands in for Pendo.")
    if settings.pendo_integration_key is not None:
        source = "a key set in the environment (PENDO_INTEGRATION_KEY), which wins over a stored one"
    elif stored is not None:
        ending = f" ending {stored.hint}" if stored.hint else ""
        source = (f"the stored key{ending} for region {stored.details.get('region', '?')}, saved by "
                  f"{stored.updated_by} on {stored.updated_at:%d %b %Y}")
    else:
        source = "no key: demo mode, syncing from the built-in simulator"
    st.caption(f"In use: {source}. A key is never shown.")


def render(user: auth.User) -> None:
    """The connection tab."""
    stored = _stored()
    st.markdown("#### Current connection")
    _current(stored)
    st.markdown("#### Connect Pendo")
    settings = shared.settings()
    cols = st.columns([2, 1, 2])
    cols[0].text_input("Integration key", type="password", key="admin_key", autocomplete="off",
                       help="Pendo → Settings → Integrations → Integration Keys. Tested on the spot; stored "
                            "encrypted only when you save and Pendo accepts it; never shown back.")
    regions = list(REGION_HOSTS)
    cols[1].selectbox("Region", regions, index=regions.index(settings.pendo_region), key="admin_region",
                      format_func=REGION_NAMES.__getitem__)
    cols[2].text_input("Base URL (optional)", key="admin_base_url", placeholder="overrides the region's host",
                       value=settings.pendo_base_url or "")
    row = st.container(horizontal=True)
    row.button("Test connection", key="admin_test_connection", on_click=_test, icon=":material/network_check:")
    row.button("Test and save key", key="admin_save_key", on_click=_save, args=(user.email,), type="primary",
               icon=":material/lock:")
    if stored is not None:
        row.button("Forget stored key", key="admin_forget_key", on_click=_forget, args=(user.email,),
                   icon=":material/delete:")
    result = st.session_state.get("admin_connection_result")
    if result:
        (st.success if result[0] else st.error)(result[1])
    _timezone(settings.pendo_timezone)


def _timezone(current: str) -> None:
    zones = timezones()
    zone = st.selectbox("Subscription timezone", zones, index=zones.index(current) if current in zones else 0,
                        key="admin_timezone", width=360,
                        help="Must match your Pendo subscription's timezone, or days are cut at the wrong hour.")
    if zone != current:
        st.warning(f"The app runs with {current}. Changing it to {zone} re-cuts every day: set PENDO_TIMEZONE "
                   "and re-run a backfill (`python -m jobs sync --backfill-days 90`); it is not stored from here.")
