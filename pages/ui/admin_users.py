"""Admin → Users: invite (a one-time password, shown once), change a role, reset a password,
deactivate and reactivate. Every change is in the access log."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import admin_loaders, frame, panel_ui, shared
from pendo_core.admin import users as auth
from pendo_core.admin.checks import InvalidInput

RESULT, SECRET = "admin_users_result", "admin_users_secret"


Change = Callable[[Session], tuple[str, str | None]]  # -> (what happened, a one-time password or None)


def _act(change: Change, email: str) -> bool:
    """Run one change in its own transaction; keep the outcome (and a one-time password) for the tab."""
    state = st.session_state
    try:
        with Session(shared.engine()) as session, session.begin():
            done, secret = change(session)
    except (auth.AuthError, InvalidInput) as exc:
        state[RESULT] = (False, f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
        return False
    admin_loaders.refresh()
    state[RESULT] = (True, done)
    if secret:
        state[SECRET] = (email, secret)
    return True


def _invite(by: str) -> None:
    state = st.session_state
    email, name, role = state.get("admin_users_email", ""), state.get("admin_users_name", ""), state["admin_users_role"]
    shown = email.strip().casefold()
    if _act(lambda s: (f"{shown} is invited as {role}.", auth.invite_user(s, email, name, role, by=by)), shown):
        state["admin_users_email"] = state["admin_users_name"] = ""


def _change_role(email: str, by: str) -> None:
    role = st.session_state[f"admin_users_new_role_{email}"]

    def change(session: Session) -> tuple[str, None]:
        if not auth.change_role(session, email, role, by=by):
            return f"{email} already has the role {role}.", None
        return (f"{email} is now {role}. Their API tokens act with the new role at once; a session they have open "
                "keeps the old role until they sign in again."), None

    _act(change, email)


def _reset(email: str, by: str) -> None:
    _act(lambda s: (f"{email} has a new one-time password.", auth.reset_password(s, email, by=by)), email)


def _deactivate(email: str, by: str) -> None:
    def change(session: Session) -> tuple[str, None]:
        revoked = auth.deactivate_user(session, email, by=by, now=shared.now())
        return f"{email} is deactivated: they cannot sign in again; {revoked} API token(s) revoked.", None

    _act(change, email)


def _reactivate(email: str, by: str) -> None:
    _act(lambda s: (f"{email} is active again.", auth.reactivate_user(s, email, by=by)), email)


def _table(users: list[auth.UserInfo]) -> None:
    table = pd.DataFrame([{"email": u.email, "name": u.name, "role": frame.ROLE_LABELS.get(u.role, u.role),
                            "status": "Active" if u.active else f"Deactivated {u.deactivated_at:%d %b %Y}",
                            "created": u.created_at} for u in users])
    st.dataframe(table, hide_index=True, key="admin_users_table", column_config={
        "email": "E-mail", "name": "Name", "role": "Role", "status": "Status",
        "created": st.column_config.DatetimeColumn("Created", format="D MMM YYYY")})


def _invite_form(by: str) -> None:
    with st.form("admin_users_invite", border=True, clear_on_submit=False):
        st.markdown("**Invite a user**")
        cols = st.columns([2, 2, 1.4], vertical_alignment="bottom")
        cols[0].text_input("E-mail", key="admin_users_email", placeholder="name@example.com")
        cols[1].text_input("Name", key="admin_users_name", placeholder="as shown in the app")
        cols[2].selectbox("Role", auth.ROLES, format_func=frame.ROLE_LABELS.__getitem__, key="admin_users_role")
        st.form_submit_button("Invite", key="admin_users_invite_submit", type="primary", on_click=_invite, args=(by,),
                              icon=":material/person_add:",
                              help="Creates the user with a one-time password, shown here once: pass it on "
                                   "privately. With single sign-on they sign in with their own account instead.")


def _manage(users: list[auth.UserInfo], by: str) -> None:
    st.markdown("**Change a user**")
    labels = {u.email: f"{u.name} · {u.email}" + ("" if u.active else " (deactivated)") for u in users}
    email = st.selectbox("User", list(labels), format_func=labels.__getitem__, key="admin_users_pick", width=420)
    user = next(u for u in users if u.email == email)
    row = st.container(horizontal=True, vertical_alignment="bottom")
    row.selectbox("Role", auth.ROLES, index=auth.ROLES.index(user.role), format_func=frame.ROLE_LABELS.__getitem__,
                  key=f"admin_users_new_role_{email}", width=260)
    row.button("Change role", key="admin_users_change_role", on_click=_change_role, args=(email, by))
    if user.active:
        row.button("Reset password", key="admin_users_reset", on_click=_reset, args=(email, by),
                   icon=":material/key:")
        row.button("Deactivate", key="admin_users_deactivate", on_click=_deactivate, args=(email, by),
                   icon=":material/person_off:", help="They can no longer sign in; their API tokens are revoked.")
    else:
        row.button("Reactivate", key="admin_users_reactivate", on_click=_reactivate, args=(email, by),
                   icon=":material/person_check:", help="With a new one-time password, shown here once.")




def render(user: auth.User) -> None:
    """The users tab."""
    users = admin_loaders.load_users()
    st.markdown("#### Users", help="Who may sign in with the local sign-in, and with which role. CSMs see their "
                "own customers, leaders also the Portfolio, admins also this screen.")
    panel_ui.outcome_and_secret("admin_users", "One-time password for **{name}**: copy it now and pass it on "
                                "privately. It is not stored (only its hash) and is not shown again once hidden.",
                                "Hide the password")
    _table(users)
    _invite_form(user.email)
    if users:
        _manage(users, user.email)
