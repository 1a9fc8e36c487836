"""In a real browser: sign in as each role at 1440x900 and at 1280x800, open every screen the role may open
(every Admin tab too, and an Ask answer) and check that no visible table has a column cut off, saving a
screenshot of each; stay out of screens the role may not open even by URL, pick a customer by typing, sign out.

How a cut-off column is measured (`support.cut_off_columns`): Streamlit's dataframe is glide-data-grid, which
paints on a canvas, so no DOM box holds a column's width and clipped text leaves no trace in the DOM; comparing
screenshots would be fragile. The grid component's own React props do hold both: `columns[i].width` is the width
the column is drawn at and `getCellContent([col, row])` the text drawn in a cell. Each visible table is scrolled
into view (a grid draws only then) and each column is cut off when
- its header title, measured with the grid's canvas font (`--gdg-header-font-style`, `--gdg-font-family`) plus
  the 8 px cell padding each side (glide's own auto-size rule), is wider than the column;
- a one-line text cell of any row (not only the visible ones) is wider than the column the same way;
- a wrapping cell (a table whose row height is above 64 px, where Streamlit wraps) needs more lines than the row
  holds (greedy word wrap at 1.4 line height, as glide draws it), or holds a word wider than the column;
- or the columns together are wider than the grid shows (its scroller scrolls sideways, hiding the last ones).
Charts, sparklines and checkboxes in a table are not text and are not measured. Outside the tables
(`support.cut_off_text`), a metric label is cut off when its text box scrolls wider than it shows (Streamlit's
ellipsis), and a chart's text when Vega-Lite shortened it to "…" or it runs past the chart's SVG edge (a legend
wider than a narrow chart).

Why the check missed the newcomer's cut-offs: My customers held one page of 25 rows, so the names on later pages
("Contoso Manufacturing") were never in the grid it measures; and it measured tables only, not metric labels
("DAU ÷ MAU, all customers, 7 days") or chart legends ("Stickiness")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.support import (
    SETTLE_TIMEOUT_MS,
    cut_off_columns,
    cut_off_text,
    open_screen,
    screenshot,
    settle,
    sign_in,
)

CUSTOMER = ["My customers", "Account usage", "Feature adoption", "Guides", "Health", "Alerts", "Ask"]
SCREENS = {
    "csm": CUSTOMER,
    "leader": [*CUSTOMER, "Portfolio"],
    "admin": [*CUSTOMER, "Portfolio", "Admin"],
}
NAV = '[data-testid="stSidebarNav"]'
SIZES = [(1440, 900), (1280, 800)]
ADMIN_TABS = ["Health weights", "Thresholds", "Onboarding guides", "Delivery", "Users", "API tokens", "Imports",
              "Access log", "Pendo connection", "Account mapping", "Sync"]


def _menu(page: Any) -> list[str]:
    return [t.strip().splitlines()[-1] for t in page.locator(f"{NAV} a").all_inner_texts()]  # after the icon


def _problems(page: Any) -> list[str]:
    """Exceptions and error boxes on the page (none is expected on any screen)."""
    return page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]').all_inner_texts()


def _slug(text: str) -> str:
    return text.lower().replace(" ", "-")


def _check(page: Any, where: str, name: str) -> None:
    """No error on the screen, no table column cut off; then its screenshot."""
    assert _problems(page) == [], where
    assert cut_off_columns(page) == [], where
    assert cut_off_text(page) == [], where
    screenshot(page, name)


def _ask_an_example(page: Any) -> None:
    """Click Ask's first example question and wait for its answer (its facts table is checked too)."""
    page.locator('[data-testid="stButton"] button').filter(has_text="?").first.click()
    page.locator('[data-testid="stChatMessage"]').nth(1).wait_for(timeout=SETTLE_TIMEOUT_MS)
    settle(page)


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("role", ["csm", "leader", "admin"])
def test_every_screen_of_each_role(browser: Any, app_url: str, demo_users: dict[str, str], role: str,
                                   size: tuple[int, int]) -> None:
    """Each role's menu lists exactly its screens; every one (and every Admin tab) renders without an error,
    with the data freshness and without a table column cut off at this window size, and is saved as
    screenshots/<role>-<width>-<screen>.png."""
    width, height = size
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    sign_in(page, app_url, demo_users[role])
    assert _menu(page) == SCREENS[role]
    for title in SCREENS[role]:
        open_screen(page, title)
        assert page.get_by_text("Data through", exact=False).first.is_visible()
        if title == "Ask":
            _ask_an_example(page)
        if title != "Admin":
            _check(page, f"{role} / {title} at {width} px", f"{role}-{width}-{_slug(title)}")
            continue
        for tab in ADMIN_TABS:
            page.get_by_role("tab", name=tab, exact=True).click()
            settle(page)
            _check(page, f"{role} / Admin / {tab} at {width} px", f"{role}-{width}-admin-{_slug(tab)}")
    context.close()


def test_sign_in_screen_lists_demo_logins_and_refuses_a_wrong_password(browser: Any, app_url: str,
                                                                        demo_users: dict[str, str]) -> None:
    """The sign-in screen shows the demo sign-ins; a wrong password is refused with a message."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.goto(app_url)
    page.get_by_text("Demo mode").wait_for()
    assert page.get_by_text(demo_users["leader"]).is_visible()
    screenshot(page, "sign-in")
    page.get_by_label("E-mail").fill(demo_users["leader"])
    page.get_by_label("Password", exact=True).fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_text("Wrong e-mail or password").wait_for()
    assert page.locator(NAV).count() == 0
    page.close()


@pytest.mark.parametrize("path", ["portfolio", "admin"])
def test_csm_opening_a_closed_screen_by_url_is_refused(browser: Any, app_url: str, demo_users: dict[str, str],
                                                       path: str) -> None:
    """A CSM who types the Portfolio or Admin URL signs in and gets the refusal, not the screen."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    sign_in(page, f"{app_url}/{path}", demo_users["csm"])
    page.get_by_text("not open to your role").wait_for()
    assert page.locator("h1").count() == 0
    assert path.capitalize() not in _menu(page)
    screenshot(page, f"csm-refused-{path}")
    page.close()


def test_a_deep_link_survives_signing_in(browser: Any, app_url: str, demo_users: dict[str, str]) -> None:
    """A leader who opens the Health URL signed out lands on Health (not their Portfolio) after signing in."""
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    sign_in(page, f"{app_url}/health", demo_users["leader"])
    assert page.locator("h1").first.inner_text().startswith("Health · ")
    page.close()


def test_customer_picker_finds_a_customer_by_typing(signed_in_page: Callable[[str], Any]) -> None:
    """The sidebar picker filters thousands of names as you type; picking one changes the screen."""
    page = signed_in_page("leader")
    open_screen(page, "Account usage")  # leaders land on the Portfolio, which has no customer picker
    before = page.locator("h1").first.inner_text()
    picker = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first
    picker.click()
    options = page.locator('[role="option"]')
    labels = [t.strip() for t in options.all_inner_texts()]
    # the last name that is not the one shown (the picker opens on the top of the risk order, any name)
    target = next(t for t in reversed(labels) if before != f"Account usage · {t.rsplit(' · ', 1)[0]}")
    page.keyboard.type(target[:5])
    page.locator('[role="option"]', has_text=target).first.click()
    settle(page)
    name = target.rsplit(" · ", 1)[0]  # the picker shows each name with its band ("Cobalt Industries · red")
    assert target != name
    assert page.locator("h1").first.inner_text() == f"Account usage · {name}" != before


def test_csm_show_all_customers_widens_the_picker(signed_in_page: Callable[[str], Any]) -> None:
    """A CSM's picker grows from their own customers to everyone's when they ask."""
    page = signed_in_page("csm")
    open_screen(page, "Account usage")  # CSMs land on My customers, which has no customer picker
    label = page.locator('[data-testid="stSidebar"] [data-testid="stWidgetLabel"]', has_text="Customer (")
    own = int(label.first.inner_text().split("(")[1].split(")")[0])
    page.get_by_text("Show all customers").click()
    settle(page)
    assert int(label.first.inner_text().split("(")[1].split(")")[0]) > own


def test_sign_out_returns_to_the_sign_in_screen(signed_in_page: Callable[[str], Any]) -> None:
    """Signing out forgets the user."""
    page = signed_in_page("admin")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_label("E-mail").wait_for()
    assert page.locator(NAV).count() == 0


@pytest.mark.parametrize(("required", "outcome"), [("1", "fail"), ("", "skip")], ids=["required", "optional"])
def test_missing_chromium_fails_only_when_required(monkeypatch: pytest.MonkeyPatch, tmp_path: Any, required: str,
                                                   outcome: str) -> None:
    """Without Chromium the suite fails under REQUIRE_BROWSER=1 (CI) and is skipped otherwise."""
    from tests.e2e import conftest

    monkeypatch.setattr(conftest, "CHROMIUM", tmp_path / "no-chromium")
    monkeypatch.setenv("REQUIRE_BROWSER", required)
    expected = pytest.fail.Exception if outcome == "fail" else pytest.skip.Exception
    with pytest.raises(expected, match="Chromium is not installed"):
        conftest._require_browser()
