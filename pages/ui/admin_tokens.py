"""Admin → API tokens: create a bearer token for a user (shown once), list tokens (never the secret),
revoke one. The logic and its access-log entries are pendo_core/admin/tokens.py's."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import admin_loaders, panel_ui, shared
from pendo_core.admin import tokens
from pendo_core.admin import users as auth

RESULT, SECRET = "admin_tokens_result", "admin_tokens_secret"
VALIDITY = {30: "30 days", 90: "90 days", 365: "1 year", 0: "Until revoked"}


def _status(token: tokens.TokenInfo, now: datetime) -> str:
    if token.revoked_at is not None:
        return f"Revoked {token.revoked_at:%d %b %Y}"
    if token.expires_at is not None and token.expires_at <= now:
        return "Expired"
    return "Active"


def _create(by: str) -> None:
    """Button callback: issue the token; its secret is kept in this session only, to be shown once."""
    state = st.session_state
    email, name, days = state.get("admin_tokens_user"), state.get("admin_tokens_name", ""), state["admin_tokens_days"]
    if not email:
        state[RESULT] = (False, "Pick the user the token acts as.")
        return
    try:
        with Session(shared.engine()) as session, session.begin():
            secret, info = tokens.issue_token(session, email, name, by=by, now=shared.now(), days=days or None)
    except tokens.TokenError as exc:
        state[RESULT] = (False, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return
    admin_loaders.refresh()
    state[RESULT] = (True, f"Token {info.prefix}… created for {info.user_email}.")
    state[SECRET] = (info.prefix, secret)
    state["admin_tokens_name"] = ""


def _revoke(by: str) -> None:
    state = st.session_state
    token_id = state.get("admin_tokens_revoke_pick")
    if token_id is None:
        return
    with Session(shared.engine()) as session, session.begin():
        done = tokens.revoke_token(session, int(token_id), by=by, now=shared.now())
    admin_loaders.refresh()
    state[RESULT] = (done, "The token is revoked: it stops working at once." if done else "That token was "
                     "already revoked.")


def _table(listed: list[tokens.TokenInfo], now: datetime) -> None:
    table = pd.DataFrame([{"prefix": f"{t.prefix}…", "name": t.name, "user": t.user_email, "status": _status(t, now),
                           "created": t.created_at, "expires": t.expires_at, "last_used": t.last_used_at}
                          for t in listed], columns=["prefix", "name", "user", "status", "created", "expires",
                                                     "last_used"])
    when = "D MMM YYYY, HH:mm"
    st.dataframe(table, hide_index=True, key="admin_tokens_table", placeholder="–", column_config={
        "prefix": "Token", "name": "Name", "user": "Acts as", "status": "Status",
        "created": st.column_config.DatetimeColumn("Created (UTC)", format=when),
        "expires": st.column_config.DatetimeColumn("Expires (UTC)", format=when),
        "last_used": st.column_config.DatetimeColumn("Last used (UTC)", format=when)})


def _create_form(by: str) -> None:
    active = {u.email: f"{u.name} · {u.email} ({u.role})" for u in admin_loaders.load_users() if u.active}
    with st.form("admin_tokens_create", border=True):
        st.markdown("**Create a token**")
        cols = st.columns([2, 2, 1], vertical_alignment="bottom")
        cols[0].selectbox("Acts as", list(active), format_func=active.__getitem__, key="admin_tokens_user",
                          index=None, placeholder="Pick a user", help="The token has this user's role and scope, "
                          "read on every request: changing or deactivating the user changes or ends it.")
        cols[1].text_input("Name", key="admin_tokens_name", placeholder="what it is for, e.g. 'CRM sync'")
        cols[2].selectbox("Valid", list(VALIDITY), format_func=VALIDITY.__getitem__, key="admin_tokens_days")
        st.form_submit_button("Create token", key="admin_tokens_create_submit", type="primary", on_click=_create,
                              args=(by,), icon=":material/key:")


def _revoke_row(listed: list[tokens.TokenInfo], by: str, now: datetime) -> None:
    live = {t.id: f"{t.prefix}… · {t.name} · {t.user_email}" for t in listed if _status(t, now) == "Active"}
    if not live:
        return
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.selectbox("Token to revoke", list(live), format_func=live.__getitem__, key="admin_tokens_revoke_pick",
                  width=460)
    row.button("Revoke", key="admin_tokens_revoke", on_click=_revoke, args=(by,), icon=":material/block:")




def render(user: auth.User) -> None:
    """The API tokens tab."""
    listed, now = admin_loaders.load_tokens(), shared.now()
    st.markdown("#### API tokens", help="Bearer tokens for the REST API (`make api`); each acts as one app user.")
    panel_ui.outcome_and_secret("admin_tokens", "Token **{name}…**: copy it now. Only its hash is stored, so it "
                                "cannot be shown again once hidden. Send it as `Authorization: Bearer <token>`.",
                                "Hide the token")
    if listed:
        _table(listed, now)
    else:
        st.caption("No API token yet.")
    _create_form(user.email)
    _revoke_row(listed, user.email, now)
