"""Cached reads the Users and API tokens tabs share (a user change can revoke tokens, so each tab
clears both)."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import shared
from pendo_core.admin import tokens
from pendo_core.admin import users as auth


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_users() -> list[auth.UserInfo]:
    """Every app user, active first."""
    with Session(shared.engine()) as session:
        return auth.list_users(session)


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_tokens() -> list[tokens.TokenInfo]:
    """Every API token, newest first (never the secret)."""
    with Session(shared.engine()) as session:
        return tokens.list_tokens(session)


def refresh() -> None:
    """Forget both reads after a change (and the sign-in screen's demo list)."""
    load_users.clear()
    load_tokens.clear()
    shared.demo_logins.clear()
