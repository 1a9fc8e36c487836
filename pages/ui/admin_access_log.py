"""Admin → Access log: who saw what (a CSM showing every customer, in the app or the API) and who
changed what (settings, users, tokens, delivery, mappings, imports, secrets), filtered by person,
action and day, a page at a time, with a CSV export of every matching entry (itself logged)."""

from __future__ import annotations

from datetime import date, timedelta

import streamlit as st

from pages.ui import shared
from pendo_core.admin import users as auth
from pendo_core.admin.access_log_queries import EXPORT_MAX, LogFilter, LogPage, export_csv, log_choices, log_page

PER_PAGE = 50
DEFAULT_DAYS = 30
PAGE_KEY = "admin_log_page"


@st.cache_data(ttl=60, show_spinner=False)
def load_choices() -> tuple[list[str], list[str]]:
    return log_choices(shared.engine())


def _first_page() -> None:
    st.session_state[PAGE_KEY] = 1  # new filters start at the newest entries


def _filters() -> LogFilter:
    actors, actions = load_choices()
    today = shared.now().date()
    cols = st.columns([2, 3, 2])
    actor = cols[0].selectbox("Person", ["", *actors], format_func=lambda a: a or "Everyone", key="admin_log_actor",
                              on_change=_first_page)
    picked = cols[1].multiselect("Actions", actions, key="admin_log_actions", placeholder="Every action",
                                 on_change=_first_page)
    days = cols[2].date_input("Days (UTC)", (today - timedelta(days=DEFAULT_DAYS - 1), today), key="admin_log_days",
                              on_change=_first_page, format="YYYY-MM-DD")
    first, last = _range(days)
    return LogFilter(actor or None, tuple(picked), first, last)


def _range(days: object) -> tuple[date | None, date | None]:
    """The picked days; while only the first day of a range is picked, from that day on."""
    if isinstance(days, (tuple, list)):
        picked = [d for d in days if isinstance(d, date)]
        return (picked[0] if picked else None), (picked[1] if len(picked) > 1 else None)
    return (days, days) if isinstance(days, date) else (None, None)


def _page(where: LogFilter) -> LogPage:
    requested = int(st.session_state.get(PAGE_KEY, 1))
    result = log_page(shared.engine(), where, page=requested, per_page=PER_PAGE)
    if result.page != requested:
        st.session_state[PAGE_KEY] = result.page
    return result


DETAILS_ROW = 88  # four lines: the details wrap (Streamlit wraps text only in rows taller than 64 px)


def _table(result: LogPage) -> None:
    st.dataframe(result.rows, hide_index=True, key="admin_log_table", row_height=DETAILS_ROW, column_config={
        "at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm:ss", width=150),
        "actor": st.column_config.TextColumn("Who", width=200),
        "action": st.column_config.TextColumn("Action", width=170),
        "details": st.column_config.TextColumn("Details", width=400, help="Wrapped over four lines; whole in the "
                                                                          "CSV.")})


def _pager(result: LogPage, where: LogFilter, by: str) -> None:
    start = (result.page - 1) * PER_PAGE + 1 if result.total else 0
    end = min(result.page * PER_PAGE, result.total)
    row = st.container(horizontal=True, vertical_alignment="bottom", horizontal_alignment="distribute")
    row.caption(f"Entries {start:,}–{end:,} of {result.total:,}, newest first.")
    row.number_input(f"Page (of {result.pages:,})", 1, result.pages, key=PAGE_KEY, step=1, width=140)
    engine = shared.engine()
    more = f" (the newest {EXPORT_MAX:,})" if result.total > EXPORT_MAX else ""
    row.download_button(f"Download CSV, all {min(result.total, EXPORT_MAX):,} matching{more}",
                        lambda: export_csv(engine, where, by=by), file_name="access_log.csv", mime="text/csv",
                        key="admin_log_download", icon=":material/download:", disabled=not result.total,
                        on_click="ignore")


def render(user: auth.User) -> None:
    """The access log tab."""
    st.markdown("#### Access log", help="Every admin change and every widened view, as stored in app_audit_log. "
                "Exporting the log is itself an entry.")
    where = _filters()
    result = _page(where)
    if not result.total:
        st.info("No entry matches these filters.")
        return
    _table(result)
    _pager(result, where, user.email)
