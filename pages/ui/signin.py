"""The sign-in screen: single sign-on when OIDC is configured, else e-mail and password (scrypt
hashes, with back-off and lockout per account and per client: pendo_core.admin.lockout), with the
demo sign-ins listed in demo mode. pages/login.py draws it; app.py also serves it at every screen's
URL while nobody is signed in, so a deep link survives signing in."""

from __future__ import annotations

import uuid

import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import frame, shared
from pendo_core.admin import sign_in


def _client() -> str:
    """The client's address when Streamlit knows it (not on localhost), else this browser session."""
    browser = st.session_state.setdefault("login_client", uuid.uuid4().hex)
    return sign_in.client_subject(st.context.ip_address, browser)


def _local_form() -> None:
    with st.form("login_form"):
        email = st.text_input("E-mail", key="login_email", autocomplete="username")
        password = st.text_input("Password", type="password", key="login_password", autocomplete="current-password")
        submitted = st.form_submit_button("Sign in", type="primary", width="stretch")
    if not submitted:
        return
    with Session(shared.engine()) as session, session.begin():
        outcome = sign_in.sign_in(session, email, password, client=_client(), now=shared.now())
    if outcome.user is None:
        hint = " Users are created with `python -m jobs create-user EMAIL --role ...`." if not outcome.retry_at else ""
        st.error(outcome.message + hint)
        return
    st.session_state[shared.USER_KEY] = outcome.user
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

