"""The app's frame: identity, navigation by role, the sidebar (user, customer, dates, freshness).

Pages only render. A page file that does not exist yet is left out of the navigation, so the app
runs while screens are still being written.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from pages.ui import frame, shared, signin
from pendo_core.admin import users as auth

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class PageSpec:
    """One screen: its file (pages/<key>.py), where it sits and which sidebar pickers it needs."""

    key: str
    title: str
    icon: str
    section: str
    customer: bool
    dates: bool


PAGES = (
    PageSpec("account_usage", "Account usage", ":material/monitoring:", "Customer", customer=True, dates=True),
    PageSpec("features", "Feature adoption", ":material/ads_click:", "Customer", customer=True, dates=True),
    PageSpec("guides", "Guides", ":material/tour:", "Customer", customer=True, dates=True),
    PageSpec("health", "Health", ":material/favorite:", "Customer", customer=True, dates=True),
    PageSpec("alerts", "Alerts", ":material/notifications:", "Customer", customer=False, dates=False),
    PageSpec("chat", "Ask", ":material/chat:", "Customer", customer=False, dates=False),
    PageSpec("portfolio", "Portfolio", ":material/dashboard:", "Leadership", customer=False, dates=True),
    PageSpec("admin", "Admin", ":material/settings:", "Settings", customer=False, dates=False),
)


def allowed_pages(role: str, root: Path = ROOT) -> list[PageSpec]:
    """The screens a role may open whose page file exists, in menu order."""
    return [p for p in PAGES if auth.may_open(role, p.key) and (root / "pages" / f"{p.key}.py").is_file()]


def main() -> None:
    st.set_page_config(page_title="CSCX · Pendo Usage", page_icon=":material/insights:", layout="wide")
    shared.refresh_after_sync()
    user = frame.signed_in_user()
    if user is None:
        _signed_out().run()
        return
    specs = allowed_pages(user.role)
    sections: dict[str, list[st.Page]] = {}
    for spec in specs:
        page = st.Page(f"pages/{spec.key}.py", title=spec.title, icon=spec.icon, default=spec is specs[0])
        sections.setdefault(spec.section, []).append(page)
    # Screens the role may not open stay registered but hidden: their URL opens the page, whose own
    # check refuses it, instead of a bare "page not found".
    closed = [st.Page(f"pages/{p.key}.py", title=p.title, visibility="hidden") for p in PAGES
              if p not in specs and (ROOT / "pages" / f"{p.key}.py").is_file()]
    if closed:
        sections.setdefault(specs[-1].section, []).extend(closed)
    current = st.navigation(sections)
    shown = next((p for p in specs if p.title == current.title), None)  # None: a closed screen
    frame.sidebar(user, customer=bool(shown and shown.customer), dates=bool(shown and shown.dates))
    current.run()


def _signed_out() -> st.Page:
    """The sign-in screen, served at the first screen's URL and at every other screen's too, so a
    deep link opens the sign-in and then, once signed in, the screen it named."""
    pages = [st.Page("pages/login.py", title="Sign in", icon=":material/login:", url_path=PAGES[0].key)]
    pages += [st.Page(signin.render, title="Sign in", url_path=p.key) for p in PAGES[1:]]
    return st.navigation(pages, position="hidden")


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import it
    main()
