"""Browser tests of the Health, Alerts and Admin screens on demo data: acknowledge an alert, move a
weight slider and save, confirm a mapping; a CSM never reaches Admin. Screenshots go to screenshots/."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from pendo_core.admin.settings import HealthWeights
from pendo_core.store.engine import make_engine
from pendo_core.store.models import AccountMapping, Customer, SettingsVersion, UsageAlert
from tests.e2e.support import SETTLE_TIMEOUT_MS, open_screen, screenshot, settle

OpenAs = Callable[[str], Any]


@pytest.fixture(scope="module")
def store(demo_store_url: str) -> Iterator[Engine]:
    """The demo store the app runs on, to check what a click wrote."""
    engine = make_engine(demo_store_url)
    yield engine
    engine.dispose()


def _tab(page: Any, name: str) -> None:
    page.get_by_role("tab", name=name, exact=True).click()
    settle(page)


def _sees(page: Any, text: str) -> None:
    page.get_by_text(text).first.wait_for(timeout=SETTLE_TIMEOUT_MS)


def test_health_screen_shows_score_and_history(signed_in_page: OpenAs) -> None:
    """A CSM opens Health: the score, the components and the history are drawn."""
    page = signed_in_page("csm")
    open_screen(page, "Health")
    _sees(page, "What the score is made of")
    assert page.get_by_text("Health score").count() >= 1
    # the history chart comes after the components chart; wait for it rather than count a half-drawn page
    page.locator('[data-testid="stVegaLiteChart"]').nth(1).wait_for(timeout=SETTLE_TIMEOUT_MS)
    page.get_by_text("Show components").click()
    settle(page)
    screenshot(page, "csm-health-components")


def _select_first_row(page: Any) -> None:
    """Tick the first row's selection box in the inbox table (the grid draws on a canvas)."""
    box = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the row markers' column, under the 35 px header
    settle(page)


def test_csm_acknowledges_an_alert(signed_in_page: OpenAs, demo_users: dict[str, str], store: Engine) -> None:
    """A selected row opens the alert's card; one click on Acknowledge records the CSM and the time."""
    page = signed_in_page("csm")
    open_screen(page, "Alerts")
    _select_first_row(page)
    page.get_by_role("button", name="Acknowledge", exact=True).first.click()
    _sees(page, f"acknowledged by {demo_users['csm']}")
    settle(page)
    screenshot(page, "csm-alert-acknowledged")
    with store.connect() as conn:
        rows = conn.execute(select(UsageAlert.status, UsageAlert.status_at)
                            .where(UsageAlert.status_by == demo_users["csm"])).all()
    assert [r.status for r in rows] == ["acknowledged"]
    assert rows[0].status_at is not None


def test_admin_moves_a_weight_and_saves_a_version(signed_in_page: OpenAs, demo_users: dict[str, str],
                                                  store: Engine) -> None:
    """Moving the engagement slider re-runs the back-test; saving stores a new settings version."""
    page = signed_in_page("admin")
    open_screen(page, "Admin")
    save = page.get_by_role("button", name="Save weights as a new version")
    assert save.is_disabled()
    page.get_by_role("slider").first.focus()
    for _ in range(10):
        page.keyboard.press("ArrowRight")
    settle(page)
    page.get_by_placeholder("Why the change").first.fill("browser test: more engagement")
    settle(page)
    save.click()
    _sees(page, "saved as settings version")
    screenshot(page, "admin-weights-saved")
    with store.connect() as conn:
        saved = conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()
    assert saved is not None
    assert (saved.created_by, saved.note) == (demo_users["admin"], "browser test: more engagement")
    assert saved.settings["health"]["weights"]["engagement"] > HealthWeights().engagement  # the default


def test_admin_confirms_a_mapping(signed_in_page: OpenAs, demo_users: dict[str, str], store: Engine) -> None:
    """An unmapped account is mapped to a customer picked by hand, recorded as manual, by the admin."""
    with store.connect() as conn:
        customer_id, name = conn.execute(select(Customer.customer_id, Customer.name).order_by(Customer.name)).first()
    page = signed_in_page("admin")
    open_screen(page, "Admin")
    _tab(page, "Account mapping")
    screenshot(page, "admin-mapping")
    account = page.get_by_role("combobox", name="Account to map").input_value()
    picker = page.get_by_role("combobox", name="Pick a customer")
    picker.click()
    page.keyboard.type(name)
    page.get_by_role("option", name=name, exact=True).first.click()
    settle(page)
    page.get_by_role("button", name="Confirm mapping", exact=True).click()
    _sees(page, "is now mapped")
    account_id = account.rsplit(" · ", 1)[-1]
    with store.connect() as conn:
        row = conn.execute(select(AccountMapping).where(AccountMapping.pendo_account_id == account_id)).one()
    assert (row.customer_id, row.method, row.mapped_by) == (customer_id, "manual", demo_users["admin"])


@pytest.mark.parametrize("tab", ["Thresholds", "Pendo connection", "Sync"])
def test_admin_tabs_render(signed_in_page: OpenAs, tab: str) -> None:
    """Every admin tab renders without an error; its screenshot is saved."""
    page = signed_in_page("admin")
    open_screen(page, "Admin")
    _tab(page, tab)
    assert page.locator('[data-testid="stException"]').count() == 0
    screenshot(page, "admin-" + tab.lower().replace(" ", "-"))


def test_csm_cannot_reach_admin(signed_in_page: OpenAs, app_url: str) -> None:
    """Admin is not in a CSM's menu, and its URL opened directly shows none of it."""
    page = signed_in_page("csm")
    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.get_by_text("Admin", exact=True).count() == 0
    page.goto(f"{app_url}/admin")
    settle(page)
    assert page.get_by_role("tab", name="Health weights").count() == 0
    assert page.get_by_role("slider").count() == 0
