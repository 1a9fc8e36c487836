"""What every page shares: the engine, cached loaders, the signed-in user and the frame's choices.

For page authors (app.py renders the sidebar; pages only read what it chose):
- `current_user()` -> `auth.User | None`; `require_page(key)` stops the page unless the user's role
  may open it (pages/ui/registry.py), also when its URL is opened directly.
- `pick_customer()` -> `(customer_id, name) | None`: the sidebar's customer, always one the user may
  see; `selected_customer()` gives the whole row (segment, CSM...). `date_range()` -> (first, last).
- `viewer()` -> `access.Viewer | None`: the signed-in user with the sidebar's "show all customers";
  `visible_customers()`: the customers they see (`pendo_core.access.rules`: a CSM's own unless they asked
  for everyone, read-only). `page_header(title, customer_row_or_name)` draws the title with the data freshness
  under it (and, given the row, a note when the customer was remapped since the last sync).
- Loaders are `st.cache_data` functions with a TTL; every cache is cleared when a new sync lands.
  Cache your own reads with `@st.cache_data(ttl=shared.TTL)` over `shared.engine()`.
- Session-state keys: the frame's start with `frame_`, each page's with its own prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pandas as pd
import streamlit as st
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from pages.ui import registry
from pendo_core.access import rules as access
from pendo_core.admin import users as auth
from pendo_core.common import csv_export
from pendo_core.common.config import Settings, load_settings
from pendo_core.store.engine import make_engine
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import portfolio_queries as read_portfolio
from pendo_core.usage import queries as read

TTL = 300
# Reads that span every customer change only when a sync lands, and every cache is cleared then
# (refresh_after_sync): they keep their results longer, so fewer visitors pay for a cold read.
WIDE_TTL = 3600
STALE_AFTER = timedelta(hours=24)
DEFAULT_DAYS = 90
USER_KEY = "frame_user"
CUSTOMER_KEY = "frame_customer"
RANGE_KEY = "frame_range"
SHOW_ALL_KEY = "frame_show_all"
ROLE_NAMES = {"csm": "customer success managers", "leader": "CS leaders", "admin": "admins"}


@dataclass(frozen=True)
class CustomerRow:
    """The customer chosen in the sidebar."""

    customer_id: str
    name: str
    segment: str
    csm_email: str | None


def now() -> datetime:
    """The app's clock (aware, UTC): every screen reads the time through this, so tests can freeze it."""
    return datetime.now(UTC)


@st.cache_resource  # (it had slipped onto now(), freezing the app's clock for the life of the process)
def settings() -> Settings:
    """The operator settings, read once per app process; SettingsError (one line) when one is unusable."""
    return load_settings()


@st.cache_resource
def engine() -> Engine:
    """One engine for the app's lifetime (SQLite reads get a larger cache and memory-mapped I/O)."""
    eng = make_engine(settings().database_url)
    if eng.dialect.name == "sqlite":
        event.listen(eng, "connect", _sqlite_read_pragmas)
    return eng


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in ("mmap_size=1073741824", "cache_size=-65536", "temp_store=MEMORY"):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


@st.cache_resource
def _stamps() -> dict[str, int]:
    return {}


def refresh_after_sync() -> None:
    """Clear every data cache once per new successful sync (the frame calls it on each run)."""
    stamp, seen = freshness().stamp, _stamps()
    if seen.get("stamp") not in (None, stamp):
        st.cache_data.clear()
    seen["stamp"] = stamp


# --- loaders -------------------------------------------------------------------------------------


@st.cache_data(ttl=60, show_spinner=False)
def freshness() -> read.Freshness:
    return read.freshness(engine())


@st.cache_data(ttl=TTL, show_spinner=False)
def customers() -> pd.DataFrame:
    return read.customers(engine())


@st.cache_data(ttl=TTL, show_spinner=False)
def usage_series(customer_id: str, first: date, last: date) -> pd.DataFrame:
    return read.usage_series(engine(), customer_id, first, last)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def customer_week(last: date) -> pd.DataFrame:
    return read.customer_week(engine(), last)


@st.cache_data(ttl=TTL, show_spinner=False)
def feature_catalogue() -> pd.DataFrame:
    return read_features.features(engine())


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def feature_days(as_of: date, segment: str | None = None) -> pd.DataFrame:
    return read_features.feature_days(engine(), as_of, segment)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def customer_trends(last: date) -> pd.DataFrame:
    return read_portfolio.customer_trends(engine(), last)


@st.cache_data(ttl=60, show_spinner=False)
def last_mapped_at(customer_id: str) -> datetime | None:
    return read.last_mapped_at(engine(), customer_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def demo_logins() -> list[auth.User]:
    with Session(engine()) as session:
        return auth.demo_logins(session)


# --- the signed-in user and the frame's choices --------------------------------------------------


def current_user() -> auth.User | None:
    """The signed-in user of this browser session, or None."""
    user = st.session_state.get(USER_KEY)
    return user if isinstance(user, auth.User) else None


def require_page(page: str) -> auth.User:
    """The signed-in user when their role may open `page`; otherwise a message and st.stop()."""
    user = current_user()
    if user is None:
        st.warning("Sign in to see this page.")
        st.stop()
    if not registry.may_open(user.role, page):
        allowed = " and ".join(ROLE_NAMES[r] for r in registry.roles_for(page))
        st.error(f"This page is not open to your role ({user.role}): it is for {allowed}. You are signed in as "
                 f"{user.email}; ask an admin if you need it.", icon=":material/lock:")
        st.stop()
    return user


def viewer() -> access.Viewer | None:
    """The signed-in user as the access rule sees them, with the sidebar's "show all customers"."""
    user = current_user()
    if user is None:
        return None
    return access.Viewer(user.email, user.role, show_all=bool(st.session_state.get(SHOW_ALL_KEY, False)))


def visible_customers() -> pd.DataFrame:
    """The customers the signed-in user sees in this view (none when nobody is signed in)."""
    frame, who = customers(), viewer()
    if who is None:
        return frame.iloc[0:0]
    return frame[frame["customer_id"].isin(_visible_ids(who))]


@st.cache_data(ttl=TTL, show_spinner=False)
def _visible_ids(who: access.Viewer) -> frozenset[str]:
    """The access rule over every customer, once per viewer (the sidebar, the page and its parts ask).
    Only an import changes who owns a customer, and it clears every cache."""
    frame = customers()
    return frozenset(access.visible_customer_ids(zip(frame["customer_id"], frame["csm_email"], strict=True), who))


def selected_customer() -> CustomerRow | None:
    """The sidebar's customer (the first visible one when none is chosen yet), or None."""
    visible = visible_customers()
    if visible.empty:
        return None
    chosen = st.session_state.get(CUSTOMER_KEY)
    rows = visible[visible["customer_id"] == chosen]
    row = (rows if not rows.empty else visible).iloc[0]
    return CustomerRow(row.customer_id, row["name"], row.segment, row.csm_email)


def pick_customer() -> tuple[str, str] | None:
    """(customer_id, name) of the sidebar's customer, or None when the user sees no customer."""
    row = selected_customer()
    return (row.customer_id, row.name) if row else None


def data_through() -> date:
    """The last complete day in the store (yesterday when nothing is synced yet)."""
    return freshness().data_through or date.today() - timedelta(days=1)


def date_range() -> tuple[date, date]:
    """The sidebar's date range, or the last DEFAULT_DAYS days of data."""
    chosen = st.session_state.get(RANGE_KEY)
    if isinstance(chosen, (tuple, list)) and len(chosen) == 2:
        return chosen[0], chosen[1]
    through = data_through()
    return through - timedelta(days=DEFAULT_DAYS - 1), through


# --- pieces every page draws ---------------------------------------------------------------------


def freshness_note() -> tuple[str, str | None]:
    """(caption, warning or None) describing how current the data is."""
    return describe_freshness(freshness(), datetime.now(UTC))


def describe_freshness(fresh: read.Freshness, now: datetime) -> tuple[str, str | None]:
    """(caption, warning or None): the last good sync, and a warning when it is older than 24 hours
    or the last run failed."""
    if fresh.last_success_at is None:
        warning = "No successful Pendo sync yet: run `python -m jobs sync` (or `make run` for demo data)."
        if fresh.last_status == "failed":
            warning = f"The first sync failed: {fresh.last_error or 'no reason recorded'}."
        return "No data yet", warning
    at = fresh.last_success_at if fresh.last_success_at.tzinfo else fresh.last_success_at.replace(tzinfo=UTC)
    age = now - at
    through = f"{fresh.data_through:%d %b %Y}" if fresh.data_through else "–"
    caption = f"Data through {through} · synced {ago(age)} ago"
    if fresh.last_status == "failed":
        return caption, f"The last sync failed: {fresh.last_error or 'no reason recorded'}. Showing older data."
    if age > STALE_AFTER:
        return caption, f"Data is {ago(age)} old: the daily sync may not be running."
    return caption, None


def ago(age: timedelta) -> str:
    """A short human age: 12 min, 5 h, 3 days."""
    hours = age.total_seconds() / 3600
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} min"
    return f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def page_header(title: str, subject: CustomerRow | str | None = None) -> None:
    """The page title (with the customer's name), the data freshness under it and, given the
    customer's row, a note when its Pendo accounts were remapped after the last sync."""
    customer = subject if isinstance(subject, CustomerRow) else None
    name = customer.name if customer else subject
    st.title(f"{title} · {name}" if name else title)
    caption, warning = freshness_note()
    st.caption(caption)
    if warning:
        st.warning(warning, icon=":material/schedule:")
    if customer is not None and mapped_since_sync(last_mapped_at(customer.customer_id), freshness()):
        st.info("This customer's Pendo accounts changed after the last sync: the daily numbers still count the "
                "accounts it had then, and update with the next sync.", icon=":material/sync_problem:")


def mapped_since_sync(mapped_at: datetime | None, fresh: read.Freshness) -> bool:
    """True when a mapping is newer than the last successful sync (which computed the metrics)."""
    if mapped_at is None or fresh.last_success_at is None:
        return False
    return _utc(mapped_at) > _utc(fresh.last_success_at)


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def no_customer_message() -> None:
    """The empty state when the user sees no customer at all."""
    user = current_user()
    if user is not None and user.role == "csm" and not customers().empty:
        st.info(f"No customer is assigned to you ({user.email}). Switch on **Show all customers** in the "
                "sidebar to browse your colleagues' customers.")
        return
    st.info("No customers yet. Import them with `python -m jobs import-customers FILE.csv`, or run `make run` "
            "without a Pendo key to load demo data.")


def csv_download(frame: pd.DataFrame) -> Callable[[], bytes]:
    """UTF-8 CSV of a frame for a download button, written only when someone clicks it (formula-safe:
    pendo_core.common.csv_export)."""
    return lambda: csv_export.to_csv_bytes(frame)


def percent_column(label: str, *, progress: bool = False, help: str | None = None) -> Any:
    """A column of shares shown as whole percents (table() multiplies the values by 100)."""
    if progress:
        return st.column_config.ProgressColumn(label, format="%.0f%%", min_value=0, max_value=100, help=help)
    return st.column_config.NumberColumn(label, format="%.0f%%", help=help)


def table(frame: pd.DataFrame, *, key: str, columns: dict[str, Any], percent: tuple[str, ...] = (),
          height: int | None = None) -> None:
    """A sortable table of `columns` (name -> label or column config) in that order; `percent`
    columns hold shares (0..1) and show as percents. The toolbar downloads it as CSV."""
    shown = frame[list(columns)].copy()
    for column in percent:
        shown[column] = shown[column].astype(float) * 100
    st.dataframe(shown, hide_index=True, width="stretch", key=key, column_config=columns,
                 height=height if height is not None else "auto", placeholder="–")
