"""Cached loaders and the sidebar pieces every page shares."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from pendo_core import read
from pendo_core.config import Settings
from pendo_core.db.engine import make_engine

TTL = 300
STALE_AFTER = timedelta(hours=24)


@st.cache_resource
def engine() -> Engine:
    """One engine for the app's lifetime."""
    return make_engine(Settings().database_url)


@st.cache_data(ttl=TTL)
def customers() -> pd.DataFrame:
    return read.customers(engine())


@st.cache_data(ttl=TTL)
def usage_series(customer_id: str, first: date, last: date) -> pd.DataFrame:
    return read.usage_series(engine(), customer_id, first, last)


@st.cache_data(ttl=60)
def freshness() -> read.Freshness:
    return read.freshness(engine())


def show_freshness() -> None:
    """Sidebar: the last successful sync, with a warning when data is stale or the last run failed."""
    fresh = freshness()
    if fresh.last_success_at is None:
        st.sidebar.warning("No successful Pendo sync yet. Run `python -m jobs sync`.")
        return
    age = datetime.now(UTC) - fresh.last_success_at.replace(tzinfo=fresh.last_success_at.tzinfo or UTC)
    st.sidebar.caption(f"Data through **{fresh.data_through}** · synced {_ago(age)} ago")
    if age > STALE_AFTER:
        st.sidebar.warning(f"Data is {_ago(age)} old: the daily sync may not be running.")
    if fresh.last_status == "failed":
        st.sidebar.error(f"Last sync failed: {fresh.last_error}")


def _ago(age: timedelta) -> str:
    hours = age.total_seconds() / 3600
    return f"{hours * 60:.0f} min" if hours < 1 else f"{hours:.0f} h" if hours < 48 else f"{hours / 24:.0f} days"


def pick_customer() -> tuple[str, str] | None:
    """Sidebar type-ahead over customers; returns (customer_id, name)."""
    frame = customers()
    if frame.empty:
        return None
    labels = dict(zip(frame["customer_id"], frame["name"], strict=True))
    chosen = st.sidebar.selectbox("Customer", list(labels), format_func=labels.__getitem__, key="shared_customer",
                                  help="Type to search by name.")
    return (chosen, labels[chosen]) if chosen else None


def pick_range(default_days: int = 90) -> tuple[date, date]:
    """Sidebar date range, defaulting to the last `default_days` days of data."""
    through = freshness().data_through or date.today() - timedelta(days=1)
    chosen = st.sidebar.date_input("Date range", (through - timedelta(days=default_days - 1), through),
                                   key="shared_range")
    if isinstance(chosen, tuple) and len(chosen) == 2:
        return chosen[0], chosen[1]
    return through - timedelta(days=default_days - 1), through
