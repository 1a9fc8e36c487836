"""The screen registry (pages/ui/registry.py) is the one list of screens: each role's menu, each
page's refusal and the Ask page's links follow it, and a declared screen without its file stops the
app with an error naming the file instead of silently leaving the menu."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import streamlit as st
from sqlalchemy.orm import Session
from streamlit.navigation.page import StreamlitPage
from streamlit.testing.v1 import AppTest

from pages.ui import registry
from pendo_core.admin import users as auth
from pendo_core.admin.users import ROLES, User
from pendo_core.chat import text as chat_text
from pendo_core.store.engine import make_engine, migrate
from tests.support import REPO
from tests.support.app import app, quiet_apptest, run, texts
from tests.support.app_data import USERS, Store
from tests.support.chat_api import ANA, LEE, build_store

CUSTOMER = ["My customers", "Account usage", "Feature adoption", "Guides", "Health", "Alerts", "Ask"]
MENUS = {
    "csm": {"Customer": CUSTOMER},
    "leader": {"Customer": CUSTOMER, "Leadership": ["Portfolio"]},
    "admin": {"Customer": CUSTOMER, "Leadership": ["Portfolio"], "Settings": ["Admin"]},
}
LANDING = {"csm": "My customers", "leader": "Portfolio", "admin": "Portfolio"}
CUSTOMER_KEYS = ["my_customers", "account_usage", "features", "guides", "health", "alerts", "chat"]


@pytest.mark.parametrize(("role", "keys"), [
    ("csm", CUSTOMER_KEYS),
    ("leader", [*CUSTOMER_KEYS, "portfolio"]),
    ("admin", [*CUSTOMER_KEYS, "portfolio", "admin"]),
    ("guest", [])], ids=["csm", "leader", "admin", "unknown-role"])
def test_pages_each_role_may_open(role: str, keys: list[str]) -> None:
    """Portfolio is for leaders and admins, Admin for admins only, an unknown role opens nothing."""
    assert [p.key for p in registry.pages_for(role)] == keys
    assert all(registry.may_open(role, key) for key in keys)


def test_an_undeclared_screen_is_closed_to_everyone() -> None:
    """A key the registry does not declare opens for no role."""
    assert not any(registry.may_open(role, "reports") for role in ROLES)


class NavigationSpy:
    """Stands in for st.navigation: keeps the pages the frame hands it and picks none of them, so the
    test sees the menu without running a screen."""

    def __init__(self) -> None:
        self.calls: list[dict[str, list[StreamlitPage]]] = []

    def __call__(self, pages: dict[str, list[StreamlitPage]], **_: Any) -> Any:
        self.calls.append(pages)
        return SimpleNamespace(title="", run=lambda: None)


@pytest.mark.parametrize("role", ["csm", "leader", "admin"])
def test_each_roles_menu_is_the_registrys(role: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Signed in, the frame's menu shows exactly the registry's screens for the role, by section, and
    keeps every other declared screen registered but hidden (its URL reaches the page's refusal)."""
    navigation = NavigationSpy()
    monkeypatch.setattr(st, "navigation", navigation)
    monkeypatch.setattr("pages.ui.shared.refresh_after_sync", lambda: None)  # the menu needs no store
    monkeypatch.setattr("pages.ui.frame.sidebar", lambda *_, **__: None)
    quiet_apptest(monkeypatch)
    run(app(user=USERS[role]))
    (sections,) = navigation.calls
    shown = {name: [p.title for p in pages if p.visibility == "visible"] for name, pages in sections.items()}
    hidden = [p.title for pages in sections.values() for p in pages if p.visibility == "hidden"]
    declared: dict[str, list[str]] = {}
    for spec in registry.pages_for(role):
        declared.setdefault(spec.section, []).append(spec.title)
    assert shown == declared == MENUS[role]
    assert hidden == [p.title for p in registry.PAGES if not registry.may_open(role, p.key)]
    assert [p.title for pages in sections.values() for p in pages if p._default] == [LANDING[role]]


@pytest.mark.parametrize(("role", "landing"), [*LANDING.items(), ("guest", None)],
                         ids=[*LANDING, "unknown-role"])
def test_each_role_lands_on_its_screen(role: str, landing: str | None) -> None:
    """A CSM's day starts from My customers, a leader's and an admin's from the Portfolio."""
    spec = registry.landing(role)
    assert (spec.title if spec else None) == landing


@pytest.mark.parametrize("role", list(LANDING))
def test_signing_in_at_the_root_opens_the_roles_landing_screen(role: str, writable_env: Store) -> None:
    """The sign-in at / has a path of its own (no screen's), so once the role is known the frame opens
    its landing screen there, not the screen whose path the sign-in borrowed."""
    with Session(writable_env.engine) as session, session.begin():
        auth.upsert_user(session, "someone@cscx.io", "Someone", role, "password-1")
    at = run(app())
    at.text_input(key="login_email").input("someone@cscx.io")
    at.text_input(key="login_password").input("password-1")
    at.button[0].click()
    run(at)
    run(at)  # the sign-in reruns the app; AppTest needs the next run to follow it
    assert texts(at.title)[0].startswith(LANDING[role])


@pytest.mark.parametrize("missing", ["pages/portfolio.py", "pages/login.py"], ids=["a-screen", "the-sign-in"])
def test_a_missing_page_file_fails_loudly(tmp_path: Path, missing: str) -> None:
    """check_files names the declared file that is missing and how to fix it."""
    for path in (registry.LOGIN, *(p.path for p in registry.PAGES)):
        (tmp_path / path).parent.mkdir(exist_ok=True)
        if path != missing:
            (tmp_path / path).write_text("")
    with pytest.raises(registry.MissingPageError, match=f"missing: {missing}\\. .*pages/ui/registry.py"):
        registry.check_files(tmp_path)


def test_every_declared_page_file_exists() -> None:
    """The repository has a file for every declared screen."""
    registry.check_files()


def test_every_screen_file_is_declared() -> None:
    """No screen file sits in pages/ without a PageSpec (it would be unreachable from the menu)."""
    files = {f"pages/{f.name}" for f in (REPO / "pages").glob("*.py") if f.name != "__init__.py"}
    assert files == {registry.LOGIN, *(p.path for p in registry.PAGES)}


def test_the_app_stops_when_a_declared_page_file_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The frame shows the error naming the missing file, for everyone, and nothing else."""
    quiet_apptest(monkeypatch)
    ghost = registry.PageSpec("ghost", "Ghost", ":material/help:", "Customer", registry.EVERYONE)
    monkeypatch.setattr(registry, "PAGES", (*registry.PAGES, ghost))
    at = run(app())
    assert [e.value for e in at.error] == [
        "The app is incomplete: page file(s) missing: pages/ghost.py. Restore them, or remove their PageSpec from "
        "pages/ui/registry.py."]
    assert not at.text_input


def test_a_misspelt_role_is_refused() -> None:
    """A PageSpec naming a role that does not exist fails when declared, not by closing the screen."""
    with pytest.raises(ValueError, match="unknown role"):
        registry.PageSpec("x", "X", ":material/help:", "Customer", frozenset({"leaders"}))


def test_the_ask_pages_links_name_declared_screens() -> None:
    """Every page an answer can link to is a declared screen."""
    assert all(registry.by_path(link.page) is not None for link in chat_text.PAGES.values())


@pytest.fixture
def chat_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The Ask page pointed at the chat test store."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    build_store(engine)
    engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    quiet_apptest(monkeypatch)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.mark.parametrize(("user", "offered"), [
    (User(ANA, "Ana", "csm"), False), (User(LEE, "Lee", "leader"), True)], ids=["csm-showing-all", "leader"])
@pytest.mark.usefixtures("chat_store")
def test_an_answer_links_only_to_a_screen_the_asker_may_open(user: User, offered: bool) -> None:
    """A CSM showing every customer gets the portfolio answer but no button to Portfolio, closed to CSMs."""
    at = AppTest.from_file(str(REPO / "pages" / "chat.py"), default_timeout=30)
    at.session_state["frame_user"], at.session_state["frame_show_all"] = user, True
    at.run()
    at.chat_input[0].set_value("Which accounts dropped the most this month?")
    at.run()
    assert not at.exception
    assert any("across the portfolio" in t for t in texts(at.markdown))
    assert ("Open Portfolio" in [b.label for b in at.button]) is offered
