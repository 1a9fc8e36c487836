"""Browser tests of the Admin additions on demo data at 1440 px: every new tab renders (screenshot
saved), an invited user signs in with the one-time password the page showed, and a CSM is switched
to the daily digest."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from pendo_core.store.engine import make_engine
from pendo_core.store.models import AuditLog, Csm
from tests.e2e.support import SETTLE_TIMEOUT_MS, open_screen, screenshot, settle, sign_in

OpenAs = Callable[[str], Any]
NEW_TABS = ["Onboarding guides", "Delivery", "Users", "API tokens", "Imports", "Access log"]


@pytest.fixture(scope="module")
def store(demo_store_url: str) -> Iterator[Engine]:
    """The demo store the app runs on, to check what a click wrote."""
    engine = make_engine(demo_store_url)
    yield engine
    engine.dispose()


def _admin_tab(signed_in_page: OpenAs, name: str) -> Any:
    page = signed_in_page("admin")
    open_screen(page, "Admin")
    page.get_by_role("tab", name=name, exact=True).click()
    settle(page)
    return page


@pytest.mark.parametrize("tab", NEW_TABS)
def test_new_admin_tabs_render(signed_in_page: OpenAs, tab: str) -> None:
    """Each new tab renders without an error; its screenshot is saved."""
    page = _admin_tab(signed_in_page, tab)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "admin-" + tab.lower().replace(" ", "-"))


def test_an_invited_user_signs_in_with_the_password_shown(signed_in_page: OpenAs, browser: Any, app_url: str,
                                                          store: Engine) -> None:
    """The admin invites a user; the one-time password on the page signs them in, in a new session."""
    page = _admin_tab(signed_in_page, "Users")
    page.get_by_role("textbox", name="E-mail", exact=True).fill("invited@demo.cscx")
    page.get_by_role("textbox", name="Name", exact=True).fill("Invited User")
    page.get_by_role("button", name="Invite", exact=True).click()
    page.get_by_text("One-time password for").wait_for(timeout=SETTLE_TIMEOUT_MS)
    settle(page)
    screenshot(page, "admin-users-invited")
    password = page.locator('[data-testid="stCode"] code').first.inner_text().strip()
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    try:
        fresh = context.new_page()
        sign_in(fresh, app_url, "invited@demo.cscx", password)
        assert fresh.locator('[data-testid="stSidebarNav"]').count() == 1
    finally:
        context.close()
    with store.connect() as conn:
        assert "user.invite" in conn.execute(select(AuditLog.action)).scalars().all()


def test_a_csm_is_switched_to_the_daily_digest(signed_in_page: OpenAs, store: Engine) -> None:
    """The first CSM in the picker gets the daily digest; the row says so and the page confirms it."""
    page = _admin_tab(signed_in_page, "Delivery")
    picked = page.get_by_role("combobox", name="CSM").input_value()
    page.get_by_text("Daily digest, one message a day").click()
    page.get_by_role("button", name="Save delivery").click()
    page.get_by_text("alerts as a daily digest").wait_for(timeout=SETTLE_TIMEOUT_MS)
    email = picked.rsplit(" · ", 1)[-1]
    with store.connect() as conn:
        assert conn.execute(select(Csm.delivery).where(Csm.email == email)).scalar_one() == "digest"
