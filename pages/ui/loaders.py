"""Cached loaders of the screens (the frame's own are in shared.py, each admin tab keeps its own).

Each is an `st.cache_data` function with a TTL over pendo_core's read functions; the frame clears
every cache when a new sync lands (shared.refresh_after_sync), and a page that writes clears the
loaders it changed.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st
from sqlalchemy.orm import Session

from pages.ui.shared import TTL, WIDE_TTL, engine
from pendo_core.access.rules import Viewer
from pendo_core.admin import settings_versions as versions
from pendo_core.admin.settings import HealthSettings, SettingsError, settings_at
from pendo_core.alerts import queries as alerts_view
from pendo_core.book import open_alerts, ranked, standing
from pendo_core.health import explain_score
from pendo_core.health import queries as health_view
from pendo_core.health.score import Explanation
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import portfolio_queries as read_portfolio
from pendo_core.usage import queries as read


@st.cache_data(ttl=TTL, show_spinner=False)
def customer_measures(customer_id: str, day: date) -> pd.DataFrame:
    return read.customer_measures(engine(), day, [customer_id])

ALERTS_TTL = 60  # people act on alerts from the page: a short TTL shows a colleague's action soon


# The whole book (pendo_core.book) is read once for everyone and narrowed to each viewer (the access
# rule, book.view.visible): its usage and health change only with a sync, its alerts as people act.
@st.cache_data(ttl=WIDE_TTL, show_spinner=False)
def book_standing(day: date) -> pd.DataFrame:
    return standing(engine(), None, day)


@st.cache_data(ttl=ALERTS_TTL, show_spinner=False)
def whole_book(day: date) -> pd.DataFrame:
    return ranked(book_standing(day), open_alerts(engine(), None), day)


def bands(day: date) -> dict[str, str]:
    """Each customer's health band on `day` as the book has it ("not scored" without a score)."""
    frame = book_standing(day)
    if frame.empty:
        return {}
    return {cid: band if isinstance(band, str) else "not scored" for cid, band in zip(frame["customer_id"],
                                                                                     frame["band"], strict=True)}


def most_at_risk(customer_ids: list[str], day: date) -> str | None:
    """The first of `customer_ids` in the risk order (My customers' default order); None when empty."""
    wanted = set(customer_ids)
    return next((str(c) for c in whole_book(day)["customer_id"] if c in wanted),
                customer_ids[0] if customer_ids else None)


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


@st.cache_data(ttl=TTL, show_spinner=False)
def latest_score(customer_id: str) -> health_view.ScoreDetail | None:
    return health_view.latest_score(engine(), customer_id)


@st.cache_data(ttl=TTL, show_spinner=False)
def health_history(customer_id: str, first: date, last: date) -> pd.DataFrame:
    return health_view.health_history(engine(), customer_id, first, last)


@st.cache_data(ttl=TTL, show_spinner=False)
def explanation(customer_id: str, day: date) -> Explanation | None:
    return explain_score(engine(), customer_id, day)


@st.cache_data(ttl=TTL, show_spinner=False)
def weekly_visitor_days(customer_id: str, day: date) -> list[float | None]:
    """The weekly visitor-day totals the score's sustained trend is fitted to (oldest first)."""
    return health_view.weekly_visitor_days(engine(), customer_id, day)


@st.cache_data(ttl=TTL, show_spinner=False)
def health_settings(version: int) -> HealthSettings:
    """The health settings a score was computed with."""
    with Session(engine()) as session:
        try:
            return settings_at(session, version).health
        except SettingsError:  # a version saved elsewhere and gone: the bands of the defaults
            return HealthSettings()


@st.cache_data(ttl=TTL, show_spinner=False)
def settings_versions() -> pd.DataFrame:
    """Every saved settings version (who, when, note, what changed); saving one clears it."""
    return versions.settings_versions(engine())


@st.cache_data(ttl=ALERTS_TTL, show_spinner=False)
def open_alert_count(customer_id: str) -> int:
    return alerts_view.open_alert_count(engine(), customer_id)


@st.cache_data(ttl=ALERTS_TTL, show_spinner=False)
def visible_alerts(viewer: Viewer, include_closed: bool, today: date) -> pd.DataFrame:
    return alerts_view.visible_alerts(engine(), viewer, include_closed=include_closed, today=today)


@st.cache_data(ttl=ALERTS_TTL, show_spinner=False)
def alert_trail(alert_id: int) -> pd.DataFrame:
    return alerts_view.alert_trail(engine(), alert_id)
