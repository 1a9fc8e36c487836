"""In a real browser at 1440 px: the Alerts inbox's table fits (no column cut off, measured in the DOM)
for each role; a leader acknowledges two selected alerts at once; a selected alert opens its customer,
whose header links back to the inbox filtered to that customer. Screenshots: screenshots/<role>-alerts.png,
leader-bulk-acknowledged.png, leader-customer-header.png."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, select

from pendo_core.store.engine import make_engine
from pendo_core.store.models import Csm, UsageAlert
from tests.e2e.support import SETTLE_TIMEOUT_MS, cut_off_columns, open_screen, screenshot, settle

OpenAs = Callable[[str], Any]
CUT_OFF = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
    .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => `${s.scrollWidth} px of columns in ${s.clientWidth} px`)"""
CUSTOMERS = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] tbody [role="row"]')]
    .map(row => row.querySelectorAll('[role="gridcell"]')[0].innerText)"""
HEADER_ROW, ROW = 35, 35  # one line a row: the Alert column holds a headline (pages/alerts.py ROW_HEIGHT)


@pytest.fixture(scope="module")
def store(demo_store_url: str) -> Iterator[Engine]:
    """The demo store the app runs on, to check what a click wrote."""
    engine = make_engine(demo_store_url)
    yield engine
    engine.dispose()


def _grid_ready(page: Any) -> None:
    """Wait for the table's rows (the grid draws on a canvas; its hidden accessibility table holds the text)."""
    page.locator('[data-testid="stDataFrame"] tbody [role="row"]').first.wait_for(state="attached")
    settle(page)


def _tick(page: Any, row: int) -> None:
    """Tick a row's selection box (the row markers' column, left of the first column)."""
    grid = page.locator('[data-testid="stDataFrame"] canvas').first.bounding_box()
    page.mouse.click(grid["x"] + 18, grid["y"] + HEADER_ROW + ROW * row + ROW // 2)
    settle(page)


def _pick(page: Any, label: str, option: str) -> None:
    page.locator('[data-testid="stMultiSelect"]', has_text=label).click()
    page.get_by_role("option", name=option).click()
    page.keyboard.press("Escape")
    settle(page)


@pytest.mark.parametrize("role", ["csm", "leader"])
def test_the_inbox_table_fits_1440_px(signed_in_page: OpenAs, role: str) -> None:
    """Every column of the inbox table is visible at 1440 px (the leader's with the CSM column), and no text in
    it is cut off."""
    page = signed_in_page(role)
    open_screen(page, "Alerts")
    _grid_ready(page)
    assert page.evaluate(CUT_OFF) == []
    assert cut_off_columns(page) == []  # each one-line headline fits its column too
    screenshot(page, f"{role}-alerts")


def test_a_leader_acknowledges_two_selected_alerts(signed_in_page: OpenAs, demo_users: dict[str, str],
                                                   store: Engine) -> None:
    """Narrowed to another CSM's alerts (the CSM's own test acknowledges theirs), two ticked rows are
    acknowledged with one click on the button above the table, each recorded with the leader's e-mail."""
    with store.connect() as conn:
        owners = sorted(set(conn.execute(select(UsageAlert.assigned_csm_email).where(
            UsageAlert.status == "open", UsageAlert.assigned_csm_email != demo_users["csm"])).scalars()) - {None})
        assert owners
        name = conn.execute(select(Csm.name).where(Csm.email == owners[0])).scalar_one()
    page = signed_in_page("leader")
    open_screen(page, "Alerts")
    _pick(page, "CSM", name)  # the filter lists CSMs by name
    _grid_ready(page)
    _tick(page, 0)
    _tick(page, 1)
    button = page.get_by_role("button", name="Acknowledge selected")
    grid = page.locator('[data-testid="stDataFrame"]').first.bounding_box()
    assert button.bounding_box()["y"] < grid["y"]  # the actions sit above the table, in sight of the ticks
    assert grid["height"] < 600  # the table scrolls inside, so the selected cards below it stay near
    button.click()
    page.get_by_text(f"2 alert(s) acknowledged by {demo_users['leader']}").first.wait_for(timeout=SETTLE_TIMEOUT_MS)
    settle(page)
    screenshot(page, "leader-bulk-acknowledged")
    with store.connect() as conn:
        done = conn.execute(select(UsageAlert.status, UsageAlert.assigned_csm_email).where(
            UsageAlert.status_by == demo_users["leader"])).all()
    assert sorted(done) == [("acknowledged", owners[0])] * 2


def test_a_selected_alert_opens_its_customer_whose_header_links_back(signed_in_page: OpenAs) -> None:
    """From the inbox to the customer (its header on Account usage) and back to the inbox filtered to it."""
    page = signed_in_page("leader")
    open_screen(page, "Alerts")
    _grid_ready(page)
    customer = page.evaluate(CUSTOMERS)[0]
    _tick(page, 0)
    page.get_by_role("button", name=f"Open {customer}").click()
    page.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText === t)",
                           arg=f"Account usage · {customer}", timeout=SETTLE_TIMEOUT_MS)
    settle(page)
    screenshot(page, "leader-customer-header")
    page.get_by_text("open alert(s): see Alerts").first.click()
    page.wait_for_function("() => [...document.querySelectorAll('h1')].some(h => h.innerText === 'Alerts')",
                           timeout=SETTLE_TIMEOUT_MS)
    _grid_ready(page)
    assert set(page.evaluate(CUSTOMERS)) == {customer}
