"""Admin → Account mapping: the queue of unmapped Pendo accounts with suggestions, confirm or pick a
customer by hand, and unmap."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import panel_ui, shared
from pendo_core.admin import users as auth
from pendo_core.customers import mapping_queue

BY_HAND = "__by_hand__"


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_unmapped() -> pd.DataFrame:
    return mapping_queue.unmapped_accounts(shared.engine())


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_suggestions() -> pd.DataFrame:
    return mapping_queue.suggestions(shared.engine())


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_mapped() -> pd.DataFrame:
    return mapping_queue.mapped_accounts(shared.engine())


def _refresh() -> None:
    for loader in (load_unmapped, load_suggestions, load_mapped):
        loader.clear()
    shared.customers.clear()


def _confirm(account_id: str, by: str) -> None:
    state = st.session_state
    choice = state.get("admin_map_choice")
    customer_id = state.get("admin_map_customer") if choice in (None, BY_HAND) else choice
    if not customer_id:
        panel_ui.set_flash("admin", "error", "Pick a customer for the account first.")
        return
    try:
        mapping_queue.confirm_account(shared.engine(), account_id, customer_id, by)
    except LookupError as exc:
        panel_ui.set_flash("admin", "error", str(exc))
        return
    panel_ui.set_flash("admin", "success", f"Pendo account {account_id} is now mapped. Its usage counts for "
                                           "the customer from the next sync.")
    _refresh()


def _unmap(by: str) -> None:
    state = st.session_state
    account_id = state.get("admin_unmap_account")
    if account_id and mapping_queue.unmap_account(shared.engine(), account_id, by):
        panel_ui.set_flash("admin", "success", f"Pendo account {account_id} is unmapped and will not be matched "
                                               "to that customer automatically again. Metrics update at the next sync.")
    _refresh()


UNMAPPED_COLUMNS = {
    "account_id": st.column_config.TextColumn("Pendo account"),
    "account_name": st.column_config.TextColumn("Name in Pendo"),
    "domain": st.column_config.TextColumn("Domain"),
    "last_visit": st.column_config.DateColumn("Last visit"),
    "best_match": st.column_config.TextColumn("Best suggestion"),
    "score": st.column_config.ProgressColumn("Score", min_value=0.0, max_value=100.0, format="%.0f",
                                             help="How closely the name or domain matches, 0–100 (suggestions "
                                                  "start at 70; 100 is an exact name or domain)."),
}


def _queue(user: auth.User, unmapped: pd.DataFrame) -> None:
    st.markdown("#### Unmapped Pendo accounts", help="Accounts seen in Pendo that no CSCX customer owns. Their "
                "usage counts for nobody until they are mapped.")
    shown = unmapped.assign(best_match=unmapped["best_match"].replace("", None))
    panel_ui.table(shown, key="admin_unmapped", file_name="unmapped_accounts.csv", column_config=UNMAPPED_COLUMNS)
    left, right = st.columns(2)
    labels = {r.account_id: f"{r.account_name or '(no name)'} · {r.account_id}" for r in unmapped.itertuples()}
    account = left.selectbox("Account to map", list(labels), format_func=labels.__getitem__, key="admin_map_account")
    options = _options(account)
    with left:
        st.radio("Customer", list(options), format_func=options.__getitem__, key="admin_map_choice")
    if st.session_state.get("admin_map_choice", next(iter(options))) == BY_HAND:
        customers = shared.customers()
        names = dict(zip(customers["customer_id"], customers["name"], strict=True))
        right.selectbox("Pick a customer", list(names), format_func=names.__getitem__, key="admin_map_customer",
                        index=None, placeholder="Type to search customers")
    right.button("Confirm mapping", key="admin_map_confirm", type="primary", on_click=_confirm,
                 args=(account, user.email), icon=":material/link:")


def _options(account: str) -> dict[str, str]:
    """The account's suggestions (best first, with score and reason), then "pick by hand"."""
    mine = load_suggestions()
    mine = mine[mine["account_id"] == account]
    options = {r.customer_id: f"{r.customer_name} · score {r.score:.0f} of 100 ({r.reason})" for r in mine.itertuples()}
    options[BY_HAND] = "Pick a customer by hand" if options else "Pick a customer by hand (no suggestion found)"
    return options


def _mapped(user: auth.User) -> None:
    mapped = load_mapped()
    with st.expander(f"Mapped accounts ({len(mapped)})"):
        if mapped.empty:
            st.caption("No account is mapped yet.")
            return
        panel_ui.table(mapped.drop(columns=["customer_id"]), key="admin_mapped", file_name="mapped_accounts.csv",
                       column_config={"account_id": "Pendo account", "account_name": "Name in Pendo",
                                      "customer_name": "Customer", "method": "How",
                                      "mapped_at": st.column_config.DatetimeColumn("Mapped at", format="D MMM YYYY"),
                                      "mapped_by": "By"})
        labels = {r.account_id: f"{r.account_name or r.account_id} → {r.customer_name} ({r.method})"
                  for r in mapped.itertuples()}
        st.selectbox("Account to unmap", list(labels), format_func=labels.__getitem__, key="admin_unmap_account")
        st.button("Unmap", key="admin_unmap", on_click=_unmap, args=(user.email,), icon=":material/link_off:")


def render(user: auth.User) -> None:
    """The mapping tab."""
    unmapped = load_unmapped()
    cols = st.columns(3)
    cols[0].metric("Unmapped accounts", len(unmapped), border=True)
    cols[1].metric("With a suggestion", int(unmapped["best_match"].astype(bool).sum()), border=True,
                   help="Accounts whose name or domain resembles a customer's, scored 0–100.")
    cols[2].metric("Mapped accounts", len(load_mapped()), border=True)
    if unmapped.empty:
        st.success("Every synced Pendo account is mapped to a customer.")
    else:
        _queue(user, unmapped)
    _mapped(user)
