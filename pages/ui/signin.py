"""The sign-in screen: single sign-on when OIDC is configured, else e-mail and password (scrypt
hashes), with the demo sign-ins listed in demo mode. pages/login.py draws it; app.py also serves it
at every screen's URL while nobody is signed in, so a deep link survives signing in."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import frame, shared
from pendo_core.admin import users as auth


def _local_form() -> None:
    with st.form("login_form"):
        email = st.text_input("E-mail", key="login_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if not submitted:
        return
    with Session(shared.engine()) as session:
        user = auth.authenticate(session, email, password)
    if user is None:
        st.error("Wrong e-mail or password. Users are created with `python -m jobs create-user EMAIL --role ...`.")
        return
    st.session_state[shared.USER_KEY] = user
    st.rerun()


def _demo_logins() -> None:
    users = shared.demo_logins()
    if not users:
        return
    lines = [f"- `{u.email}` · {frame.ROLE_LABELS[u.role]}" for u in users]
    st.info("**Demo mode**: sign in as any of these with the password `demo`.\n\n" + "\n".join(lines),
            icon=":material/key:")


def _oidc() -> None:
    email = st.session_state.get(frame.OIDC_KEY)
    if st.user.is_logged_in and email is not None:
        st.error(f"{email or 'Your account'} has no access to this app yet. Ask an admin to add you with "
                 "`python -m jobs create-user EMAIL --role csm|leader|admin`.")
        st.button("Sign out", on_click=st.logout)
        return
    st.button("Sign in with single sign-on", type="primary", on_click=st.login, width="stretch")


def render() -> None:
    """Draw the sign-in screen."""
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("CSCX · Pendo Usage")
        st.caption("Product usage, adoption and health of your customers, from Pendo.")
        if frame.oidc_configured():
            _oidc()
            return
        _local_form()
        if shared.settings().demo_mode:
            _demo_logins()

