"""Admin → Delivery: how each CSM gets their alerts (immediately or a daily digest), their own
Slack-style webhook (stored encrypted, shown by its ending only) and the manager an unacknowledged
alert escalates to."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import shared
from pendo_core.admin import delivery
from pendo_core.admin import users as auth
from pendo_core.admin.checks import InvalidInput
from pendo_core.admin.secrets import WEBHOOK_URL, SecretsError, load_cipher, stored_names

RESULT = "admin_dlv_result"


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_csms() -> list[delivery.CsmDelivery]:
    with Session(shared.engine()) as session:
        return delivery.csm_deliveries(session)


def _keys(email: str) -> dict[str, str]:
    """Widget keys per CSM, so picking another CSM shows that CSM's saved values."""
    return {name: f"admin_dlv_{name}_{email}" for name in ("mode", "manager", "webhook", "remove")}


def _save(email: str, by: str) -> None:
    """Form callback: mode, manager and webhook in one transaction (all saved, or none)."""
    state, keys = st.session_state, _keys(email)
    url, remove = state.get(keys["webhook"], ""), bool(state.get(keys["remove"]))
    state[keys["webhook"]] = ""  # a secret never lingers in the session
    try:
        with Session(shared.engine()) as session, session.begin():
            changes = delivery.set_delivery(session, email, state[keys["mode"]], state.get(keys["manager"]), by=by)
            hook = _webhook(session, email, url, remove, by)
    except (InvalidInput, SecretsError) as exc:
        state[RESULT] = (False, f"Nothing saved: {exc}.")
        return
    load_csms.clear()
    done = [_said(name, change["to"]) for name, change in changes.items()] + ([hook] if hook else [])
    state[RESULT] = (True, f"Saved for {email}: {', '.join(done)}." if done else f"Nothing changed for {email}.")
    if remove:
        state[keys["remove"]] = False


def _said(field: str, value: str | None) -> str:
    if field == "delivery":
        return "alerts as a daily digest" if value == "digest" else "alerts immediately"
    return f"escalations to {value}" if value else "no escalation"


def _webhook(session: Session, email: str, url: str, remove: bool, by: str) -> str | None:
    """Set or forget the CSM's webhook; a word for the message, or None when nothing was asked."""
    if remove:
        return "own webhook removed" if delivery.clear_webhook(session, email, by=by) else None
    if not url.strip():
        return None
    hint = delivery.set_webhook(session, email, url, cipher=load_cipher(shared.settings()), by=by)
    return f"own webhook set{f' (ending {hint})' if hint else ''}"


def _channels() -> None:
    settings = shared.settings()
    team = settings.alert_webhook_url is not None or WEBHOOK_URL in stored_names(shared.engine())
    email = f"e-mail via {settings.smtp_host}" if settings.smtp_host else "no e-mail (SMTP_HOST is not set)"
    hook = "a team webhook" if team else "no team webhook (ALERT_WEBHOOK_URL)"
    st.caption(f"Channels: {email}; {hook}. A CSM's own webhook replaces the team webhook for their alerts. "
               "Escalations go to the manager by e-mail and on the webhook (the manager's own if they are a CSM "
               "with one, else the team's). Changes apply from the next sync.")


def _table(csms: list[delivery.CsmDelivery]) -> None:
    frame = pd.DataFrame([{"name": c.name, "email": c.email, "customers": c.customers,
                           "delivery": "Daily digest" if c.delivery == "digest" else "Immediately",
                           "manager": c.manager_email or "–",
                           "webhook": (f"own, ending {c.webhook_hint}" if c.webhook_hint else "own")
                           if c.has_webhook else "team"} for c in csms])
    st.dataframe(frame, hide_index=True, key="admin_dlv_table", column_config={
        "name": "CSM", "email": "E-mail", "customers": st.column_config.NumberColumn("Customers", format="%d"),
        "delivery": "Alerts arrive", "manager": "Escalates to", "webhook": "Webhook"})


def _form(csm: delivery.CsmDelivery, by: str) -> None:
    keys = _keys(csm.email)
    with st.form("admin_dlv_form", border=True):
        st.radio("Alerts arrive", list(delivery.MODES), format_func=delivery.MODES.__getitem__, horizontal=True,
                 index=list(delivery.MODES).index(csm.delivery), key=keys["mode"])
        st.text_input("Manager's e-mail (escalations)", value=csm.manager_email or "", key=keys["manager"],
                      placeholder="empty: no escalation", help="An alert left unacknowledged for the days set "
                      "under Thresholds → Escalation also goes to this address.")
        ending = f" (stored, ending {csm.webhook_hint})" if csm.webhook_hint else " (stored)" if csm.has_webhook else ""
        st.text_input(f"Own Slack-style webhook URL{ending}", type="password", key=keys["webhook"],
                      autocomplete="off", placeholder="https://hooks.slack.com/services/... (empty: keep as is)",
                      help="Stored encrypted and never shown back. https:// only (http:// to localhost).")
        if csm.has_webhook:
            st.checkbox("Remove the stored webhook (their alerts go to the team webhook)", key=keys["remove"])
        st.form_submit_button("Save delivery", key="admin_dlv_save", type="primary", on_click=_save,
                              args=(csm.email, by), icon=":material/save:")


def render(user: auth.User) -> None:
    """The delivery tab."""
    csms = load_csms()
    st.markdown("#### Alert delivery per CSM")
    _channels()
    if not csms:
        st.info("No CSMs yet: they come from the customers import (csm_name, csm_email), under Imports.")
        return
    _table(csms)
    labels = {c.email: f"{c.name} · {c.email}" for c in csms}
    picked = st.selectbox("CSM", list(labels), format_func=labels.__getitem__, key="admin_dlv_csm", width=420)
    _form(next(c for c in csms if c.email == picked), user.email)
    result = st.session_state.get(RESULT)
    if result:
        (st.success if result[0] else st.error)(result[1])
