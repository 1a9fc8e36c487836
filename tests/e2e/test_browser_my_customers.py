"""In a real browser at 1440 px: each role's landing screen; My customers in the read model's risk order,
narrowed by a filter, paged, a row opening the customer; no column of its table cut off (measured in the
DOM). Screenshots: screenshots/<role>-my-customers.png."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from pendo_core.access.rules import Viewer
from pendo_core.book import book, view
from pendo_core.store.engine import make_engine
from pendo_core.usage.queries import data_day
from tests.e2e.support import SETTLE_TIMEOUT_MS, click_cell, open_screen, screenshot, settle

LANDING = {"csm": "My customers", "leader": "Portfolio", "admin": "Portfolio"}
NAMES = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] tbody [role="row"]')]
    .map(row => row.querySelector('[role="gridcell"]').innerText)"""
CUT_OFF = """() => [...document.querySelectorAll('[data-testid="stDataFrame"] .dvn-scroller')]
    .filter(s => s.scrollWidth > s.clientWidth + 1).map(s => `${s.scrollWidth} px of columns in ${s.clientWidth} px`)"""


def _book(store_url: str, email: str, role: str) -> pd.DataFrame:
    """What the page shows, from the read model: the viewer's book in the risk order."""
    engine = make_engine(store_url)
    try:
        day = data_day(engine)
        assert day is not None
        return view.visible(book(engine, None, day), Viewer(email, role))
    finally:
        engine.dispose()


def _grid_ready(page: Any) -> None:
    """Wait for the table's rows (the grid draws on a canvas; its hidden accessibility table holds the text)."""
    page.locator('[data-testid="stDataFrame"] tbody [role="row"]').first.wait_for(state="attached")
    settle(page)


def _count_line(page: Any) -> str:
    return str(page.get_by_text("click a row to open the customer").first.inner_text())


@pytest.mark.parametrize("role", list(LANDING))
def test_each_role_lands_on_its_screen_and_my_customers_fits(signed_in_page: Callable[[str], Any],
                                                            role: str) -> None:
    """After signing in, a CSM is on My customers, a leader and an admin on the Portfolio; on My customers
    every column of the table fits the 1440 px window (with the CSM column for those who see several)."""
    page = signed_in_page(role)
    assert page.locator("h1").first.inner_text() == LANDING[role]
    if role != "csm":
        open_screen(page, "My customers")
    _grid_ready(page)
    assert page.evaluate(CUT_OFF) == []
    screenshot(page, f"{role}-my-customers")


def _shown_names(page: Any, expected: pd.DataFrame) -> None:
    """The grid's drawn rows (it scrolls past 25) are the first of the expected list, in order."""
    names = page.evaluate(NAMES)
    assert len(names) >= min(len(expected), 20)
    assert names == expected["name"].head(len(names)).tolist()


def test_order_filter_and_a_row_link(signed_in_page: Callable[[str], Any], demo_store_url: str,
                                     demo_users: dict[str, str]) -> None:
    """The leader's rows are the read model's risk order, every one in the grid; "Red" keeps the red ones;
    clicking a row's cell opens that customer on Account usage."""
    expected = _book(demo_store_url, demo_users["leader"], "leader")
    page = signed_in_page("leader")
    open_screen(page, "My customers")
    _grid_ready(page)
    _shown_names(page, expected)
    assert _count_line(page).startswith(f"{len(expected):,} customers")

    red = view.filter_rows(expected, view.Filters(bands=["Red"]))
    page.locator('[data-testid="stMultiSelect"]', has_text="Band").click()
    page.get_by_role("option", name="Red").click()
    page.keyboard.press("Escape")
    settle(page)
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=f"{len(red):,} customers",
                           timeout=SETTLE_TIMEOUT_MS)
    assert _count_line(page).startswith(f"{len(red):,} customers")
    _shown_names(page, red)

    first = page.evaluate(NAMES)[0]
    grid = page.locator('[data-testid="stDataFrame"] canvas').first.bounding_box()
    click_cell(page, grid["x"] + 18, grid["y"] + 35 + 17)  # the first row's name: any cell opens the customer
    page.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText === t)",
                           arg=f"Account usage · {first}")
