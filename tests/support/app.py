"""The one AppTest harness of the app tests (tests/app): point the app at a store, open a script or a
page as a signed-in user, and read what it drew. The stores themselves are in app_data.py; the
fixtures that combine the two are in tests/app/conftest.py.

The app reads the clock in pages/ui (shared.py: the freshness note and the default "data through";
panel_ui.py: today, for alert actions and snooze dates). `point_app_at` freezes those reads at NOW,
so a screen draws the same any day the suite runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from pendo_core.admin.users import User
from pendo_core.common.timeutil import today_in
from tests.support import REPO

NOW = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)  # the app's clock: 3 hours after the stores' last sync
TODAY = NOW.date()


@contextmanager
def use_store(url: str, **env: str) -> Iterator[None]:
    """Within the block, the app runs on the store `url` (see point_app_at); caches are emptied after."""
    with pytest.MonkeyPatch.context() as patch:
        point_app_at(patch, url, **env)
        yield
        clear_caches()


def point_app_at(patch: pytest.MonkeyPatch, url: str, **env: str) -> None:
    """The app on the store `url`: demo mode (no Pendo key), clock frozen at NOW, fast AppTest, empty caches,
    every chart drawn checked against the Vega-Lite schema (charts.VALIDATE)."""
    from pages.ui import charts

    patch.setattr(charts, "VALIDATE", True)
    patch.setenv("DATABASE_URL", url)
    patch.delenv("PENDO_INTEGRATION_KEY", raising=False)
    for name, value in env.items():
        patch.setenv(name, value)
    freeze_app_clock(patch, NOW)
    quiet_apptest(patch)
    clear_caches()


def freeze_app_clock(patch: pytest.MonkeyPatch, now: datetime) -> None:
    """Every clock the screens read (see the module docstring) reads `now` instead."""
    from pages.ui import panel_ui, shared

    patch.setattr(shared, "datetime", _frozen_datetime(now))
    patch.setattr(shared, "date", _frozen_date(now.date()))
    patch.setattr(panel_ui, "today_in", lambda tz, at=None: today_in(tz, at or now))


def _frozen_datetime(now: datetime) -> type[datetime]:
    class FrozenDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> datetime:  # type: ignore[override]
            return now.astimezone(tz) if tz is not None else now.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)

    return FrozenDatetime


def _frozen_date(today: date) -> type[date]:
    class FrozenDate(date):
        @classmethod
        def today(cls) -> date:
            return today

    return FrozenDate


def quiet_apptest(patch: pytest.MonkeyPatch) -> None:
    """Skip AppTest's scan of every installed package for components (0.4 s a test, not the app)."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    patch.setattr(BidiComponentManager, "discover_and_register_components", lambda self, **_: None)


def clear_caches() -> None:
    """Empty Streamlit's data and resource caches, as a fresh app process has them."""
    st.cache_data.clear()
    st.cache_resource.clear()


def app(script: str = "app.py", user: User | None = None, **state: Any) -> AppTest:
    """An AppTest of `script` (app.py or a page, relative to the repo), `user` signed in, `state` set; not run."""
    clear_caches()
    at = AppTest.from_file(str(REPO / script), default_timeout=30)
    if user is not None:
        at.session_state["frame_user"] = user
    for key, value in state.items():
        at.session_state[key] = value
    return at


def run(at: AppTest) -> AppTest:
    """Run and fail on any exception the script raised."""
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def open_page(page: str, user: User | None, **state: Any) -> AppTest:
    """Through the frame: run app.py as `user`, then switch to `page` (e.g. "pages/health.py")."""
    return run(run(app("app.py", user, **state)).switch_page(page))


def texts(elements: Any) -> list[str]:
    """The text (or value) of each element of a list such as `at.error` or `at.sidebar.caption`."""
    return [str(getattr(e, "value", "")) for e in elements]


def labels(elements: Any) -> list[str]:
    """The labels of each widget of a list such as `at.button`."""
    return [str(e.label) for e in elements]
