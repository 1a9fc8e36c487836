"""Cached loaders of the usage, feature, guide and portfolio pages (the frame's own are in shared.py).

Each is an `st.cache_data` function with a TTL over pendo_core's read functions; the frame clears
every cache when a new sync lands (shared.refresh_after_sync).
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from pages.ui.shared import TTL, WIDE_TTL, engine
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import portfolio_queries as read_portfolio
from pendo_core.usage import queries as read


@st.cache_data(ttl=TTL, show_spinner=False)
def customer_measures(customer_id: str, day: date) -> pd.DataFrame:
    return read.customer_measures(engine(), day, [customer_id])


@st.cache_data(ttl=TTL, show_spinner=False)
def feature_list(customer_id: str, as_of: date) -> pd.DataFrame:
    return read_features.feature_list(engine(), customer_id, as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def weekly_feature_users(customer_id: str, last: date, weeks: int) -> pd.DataFrame:
    return read_features.weekly_feature_users(engine(), customer_id, last, weeks)


@st.cache_data(ttl=TTL, show_spinner=False)
def feature_users_by_customer(customer_ids: tuple[str, ...], as_of: date) -> pd.DataFrame:
    return read_features.feature_users_by_customer(engine(), customer_ids, as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def feature_daily(customer_id: str, feature_id: str, first: date, last: date) -> pd.DataFrame:
    return read_features.feature_daily(engine(), customer_id, feature_id, first, last)


@st.cache_data(ttl=TTL, show_spinner=False)
def guide_table(customer_id: str, as_of: date) -> pd.DataFrame:
    return read_features.guide_table(engine(), customer_id, as_of)


@st.cache_data(ttl=TTL, show_spinner=False)
def onboarding_series(customer_id: str, first: date, last: date) -> pd.DataFrame:
    return read_features.onboarding_series(engine(), customer_id, first, last)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def daily_totals(first: date, last: date) -> pd.DataFrame:
    return read_portfolio.daily_totals(engine(), first, last)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def latest_health_day(last: date) -> date | None:
    return read_portfolio.latest_health_day(engine(), last)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def health_on(days: tuple[date, ...]) -> pd.DataFrame:
    return read_portfolio.health_on(engine(), days)


@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def weekly_health(last: date, weeks: int) -> pd.DataFrame:
    return read_portfolio.weekly_health(engine(), last, weeks)
