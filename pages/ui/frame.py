"""The frame's sidebar and identity (used by app.py): who is signed in, the customer picker, the
date range and the data freshness. Keys start with `frame_`."""

from __future__ import annotations

import gc
from datetime import timedelta
from typing import Any

import streamlit as st
from sqlalchemy.orm import Session

from pages.ui import loaders, shared
from pendo_core.access import sql as access_sql
from pendo_core.admin import users as auth

ROLE_LABELS = {"csm": "Customer success manager", "leader": "CS leader", "admin": "Admin"}
OIDC_KEY = "frame_oidc_user"
MAX_RANGE_DAYS = 365
# Streamlit's wide layout keeps 5rem either side of the main area: 160 px that a 1280 px screen needs for
# tables (My customers' 13 columns fit 1280 px only without it). 0.75rem still separates the sidebar.
COMPACT_LAYOUT = ('<style>[data-testid="stMainBlockContainer"] {padding-left: 0.75rem; padding-right: 0.75rem;}'
                  '</style>')


_heap = {"settled": False}


def settle_heap() -> None:
    """Once per server process: collect, then freeze what the imports built (Streamlit, pandas,
    SQLAlchemy, Altair and its Vega-Lite schema: about 190,000 objects) out of the garbage collector's
    sight. Otherwise each full collection walks them all, 80-140 ms that land in whichever render
    allocates past the threshold: a cold page with 5,000 customers' rows does. Freezing is Python's own
    remedy (gc.freeze); objects freed by reference counting still go."""
    if _heap["settled"]:
        return
    from pages.ui import charts  # noqa: F401  (Altair's schema, which every chart page loads)

    gc.collect()
    gc.freeze()
    _heap["settled"] = True


def oidc_configured() -> bool:
    """True when `.streamlit/secrets.toml` has an [auth] section (then st.login signs people in)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises its own error type
        return False


def signed_in_user() -> auth.User | None:
    """The signed-in user: from OIDC (st.user) when configured, else the local sign-in."""
    if not oidc_configured():
        return shared.current_user()
    if not st.user.is_logged_in:
        st.session_state.pop(shared.USER_KEY, None)
        return None
    user = shared.current_user()
    if user is None:
        email, name = st.user.get("email"), st.user.get("name")
        with Session(shared.engine()) as session:
            user = auth.oidc_user(session, str(email) if email else None, str(name) if name else None)
        st.session_state[OIDC_KEY] = str(email or "")
        if user is not None:
            st.session_state[shared.USER_KEY] = user
    return user


def sign_out() -> None:
    """Forget the user and everything the session chose."""
    for key in [k for k in st.session_state if str(k).startswith("frame_")]:
        del st.session_state[key]
    if oidc_configured():
        st.logout()


def _audit_scope() -> None:
    viewer = shared.viewer()
    if viewer is None:
        return
    with Session(shared.engine()) as session, session.begin():
        access_sql.record_scope(session, viewer)


def compact_layout() -> None:
    """Narrow the main area's side margins (a style element: it takes no room on the page)."""
    st.html(COMPACT_LAYOUT)


def sidebar(user: auth.User, *, customer: bool, dates: bool) -> None:
    """Draw the sidebar for the current page."""
    with st.sidebar:
        _who(user)
        if user.role == "csm":
            st.toggle("Show all customers", key=shared.SHOW_ALL_KEY, on_change=_audit_scope, persist_state="session",
                      help="Off: only the customers you own. On: every customer, read-only: you act on your own "
                           "(recorded in the audit log). Pages and the Ask chat follow it.")
        if customer:
            _customer_picker()
        if dates:
            _date_range()
        caption, warning = shared.freshness_note()
        st.caption(f":material/sync: {caption}")
        if warning:
            st.warning(warning)


def _who(user: auth.User) -> None:
    left, right = st.columns([3, 2], vertical_alignment="center")
    left.markdown(f"**{user.name}**  \n:gray[{ROLE_LABELS.get(user.role, user.role)}]")
    right.button("Sign out", key="frame_sign_out", on_click=sign_out, icon=":material/logout:", type="tertiary")
    st.divider()


def _customer_picker() -> None:
    visible = shared.visible_customers()
    if visible.empty:
        st.caption("No customer to pick.")
        return
    ids = visible["customer_id"].tolist()
    day = shared.data_through()
    labels = _labels(visible, loaders.bands(day))
    if st.session_state.get(shared.CUSTOMER_KEY) not in labels:  # first visit: the most at risk, as My customers
        st.session_state[shared.CUSTOMER_KEY] = loaders.most_at_risk(ids, day)
    st.selectbox(f"Customer ({len(ids):,})", ids, format_func=labels.__getitem__, key=shared.CUSTOMER_KEY,
                 persist_state="session", help="Type part of a name to search. Each name shows its health band; "
                 "the first customer shown is the top of the risk order (My customers).")


def _labels(visible: Any, bands: dict[str, str]) -> dict[str, str]:
    """Customer names with their health band ("Cobalt Industries · red"), the domain added where two
    customers share a name."""
    names = visible["name"]
    twins = set(names[names.duplicated(keep=False)])
    out = {}
    for row in visible.itertuples(index=False):
        name = f"{row.name} ({row.domain or row.customer_id[:8]})" if row.name in twins else row.name
        out[row.customer_id] = f"{name} · {bands.get(row.customer_id, 'not scored')}"
    return out


def _date_range() -> None:
    through = shared.data_through()
    if shared.RANGE_KEY not in st.session_state:
        st.session_state[shared.RANGE_KEY] = shared.date_range()
    st.date_input("Date range", key=shared.RANGE_KEY, min_value=through - timedelta(days=MAX_RANGE_DAYS),
                  max_value=through, persist_state="session", format="YYYY-MM-DD",
                  help="Days in the subscription's timezone; the newest complete day is yesterday.")
