"""Helpers of the browser suite: sign in, open a screen, wait for it to settle, screenshot it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-gpu"]
SETTLE_TIMEOUT_MS = 30_000


def sign_in(page: Any, app_url: str, email: str, password: str = "demo") -> None:
    """Open the app, fill the sign-in form and wait for the first screen."""
    page.goto(app_url)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.locator('[data-testid="stSidebarNav"]').wait_for(timeout=SETTLE_TIMEOUT_MS)
    settle(page)


def settle(page: Any) -> None:
    """Wait for the script run to finish (no "running" widget, and the page's elements unchanged
    over a quarter second) and for every chart to draw."""
    count = "() => document.querySelectorAll('[data-testid=\"stElementContainer\"]').length"
    running = "() => !!document.querySelector('[data-testid=\"stStatusWidget\"]')"
    deadline_checks = SETTLE_TIMEOUT_MS // 250
    previous = -1
    for _ in range(deadline_checks):
        current = page.evaluate(count)
        if current == previous and not page.evaluate(running):
            break
        previous = current
        page.wait_for_timeout(250)
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=\"stVegaLiteChart\"]')]"
        ".every(c => c.querySelector('canvas, svg') || c.getBoundingClientRect().height === 0)",
        timeout=SETTLE_TIMEOUT_MS)
    page.wait_for_timeout(300)  # Vega's last paint after the canvas appears


def open_screen(page: Any, title: str) -> None:
    """Click a screen in the sidebar menu and wait until it has rendered."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text(title, exact=True).click()
    page.wait_for_function("t => [...document.querySelectorAll('h1')].some(h => h.innerText.startsWith(t))",
                           arg=title, timeout=SETTLE_TIMEOUT_MS)
    settle(page)


def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of the app (the main area scrolls inside Streamlit, so grow the viewport first)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    size = page.viewport_size
    height = page.evaluate("() => Math.max(document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight || 0,"
                           " document.body.scrollHeight)")
    page.set_viewport_size({"width": size["width"], "height": max(size["height"], int(height) + 40)})
    settle(page)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size(size)
    return path
