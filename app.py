"""The app's frame: identity, navigation by role, the sidebar (user, customer, dates, freshness).

Pages only render. Which screens exist, where they sit and who may open them is declared once, in
pages/ui/registry.py; a declared screen whose file is missing stops the app with an error naming it.
"""

from __future__ import annotations

import logging

import streamlit as st

from pages.ui import frame, registry, shared, signin
from pendo_core.common.config import SettingsError
from pendo_sim import endpoint as demo_endpoint

log = logging.getLogger(__name__)


def menu(role: str) -> dict[str, list[st.Page]]:
    """The navigation for `role`: its screens by section, its landing screen the default. Screens the
    role may not open stay registered but hidden: their URL opens the page, whose own check refuses
    it, instead of a bare "page not found"."""
    shown, landing = registry.pages_for(role), registry.landing(role)
    sections: dict[str, list[st.Page]] = {}
    for spec in shown:
        page = st.Page(spec.path, title=spec.title, icon=spec.icon, default=spec is landing)
        sections.setdefault(spec.section, []).append(page)
    closed = [st.Page(p.path, title=p.title, visibility="hidden") for p in registry.PAGES if p not in shown]
    if closed:
        sections.setdefault(shown[-1].section if shown else registry.PAGES[0].section, []).extend(closed)
    return sections


def main() -> None:
    """Run the frame: check the screens, sign in, draw the navigation and the sidebar, run the page."""
    st.set_page_config(page_title="CSCX · Pendo Usage", page_icon=":material/insights:", layout="wide")
    frame.compact_layout()
    frame.settle_heap()
    _check_pages()
    _check_settings()
    demo_endpoint.install()  # demo mode's "Sync now" syncs from the simulator
    shared.refresh_after_sync()
    user = frame.signed_in_user()
    if user is None:
        _signed_out().run()
        return
    current = st.navigation(menu(user.role))
    spec = next((p for p in registry.pages_for(user.role) if p.title == current.title), None)  # None: closed
    frame.sidebar(user, customer=bool(spec and spec.customer), dates=bool(spec and spec.dates))
    current.run()


def _check_pages() -> None:
    """Stop with the error, for everyone, when a declared screen's file is missing."""
    try:
        registry.check_files()
    except registry.MissingPageError as exc:
        log.error("%s", exc)
        st.error(f"The app is incomplete: {exc}", icon=":material/error:")
        st.stop()


def _check_settings() -> None:
    """Stop with the one-line reason, for everyone, when a setting cannot be used (DATABASE_URL=garbage, a
    `.streamlit/secrets.toml` that is not TOML...), instead of a traceback on the first screen."""
    try:
        shared.settings()
    except SettingsError as exc:
        log.error("%s", exc)
        st.error(f"The app cannot start: {exc}", icon=":material/error:")
        st.stop()


def _signed_out() -> st.Page:
    """The sign-in screen, served at the root URL (its own path names no screen, so once signed in the
    role's landing screen opens) and at every screen's URL too, so a deep link opens the sign-in and
    then, once signed in, the screen it named."""
    pages = [st.Page(registry.LOGIN, title="Sign in", icon=":material/login:", url_path="sign_in", default=True)]
    pages += [st.Page(signin.render, title="Sign in", url_path=p.key) for p in registry.PAGES]
    return st.navigation(pages, position="hidden")


if __name__ == "__main__":  # Streamlit runs this file as __main__; tests import it
    main()
