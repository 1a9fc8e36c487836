"""The Ask page's examples (pages/chat.py) on the small synthetic store: they name the asker's own
customers (never another CSM's), and clicking one asks it and answers it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pendo_core.access.rules import Viewer
from pendo_core.book import book, view
from pendo_core.usage.queries import customers
from tests.support.app import app, labels, run
from tests.support.app_data import LAST, USERS, Store

PAGE = "pages/chat.py"


def _names(store: Store, csm: str | None = None) -> set[str]:
    frame = customers(store.engine)
    return set(frame[frame["csm_email"] == csm]["name"] if csm else frame["name"])


def _examples(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.key and b.key.startswith("chat_example_")]


@pytest.mark.parametrize("role", ["csm", "other_csm", "leader"])
def test_the_examples_name_only_the_askers_customers(app_env: Store, role: str) -> None:
    """Every example naming a customer names one the asker may ask about; a CSM's never another CSM's."""
    user = USERS[role]
    at = run(app(PAGE, user))
    mine = _names(app_env, None if role == "leader" else user.email)
    others = _names(app_env) - mine
    shown = _examples(at)
    assert len(shown) >= 10
    assert any(name in example for example in shown for name in mine)
    assert not any(name in example for example in shown for name in others)
    assert not any("Acme" in example for example in shown)


def test_the_first_example_names_the_most_at_risk_customer(app_env: Store) -> None:
    """The first example names the top of the asker's risk order, the customer the customer pages open on."""
    at = run(app(PAGE, USERS["csm"]))
    mine = view.visible(book(app_env.engine, None, LAST), Viewer(USERS["csm"].email, "csm"))
    assert _examples(at)[0] == f"How is {mine['name'].iloc[0]} using the product?"


def test_clicking_an_example_asks_and_answers_it(app_env: Store) -> None:
    """The first example ("How is <first customer> using the product?") is asked and answered."""
    at = run(app(PAGE, USERS["csm"]))
    first = next(b for b in at.button if b.key == "chat_example_0")
    name = first.label.removeprefix("How is ").removesuffix(" using the product?")
    first.click()
    at = run(at)
    said = [m.value for m in at.markdown]
    assert first.label in said
    assert any(text.startswith(f"**{name}** on ") and "Health" in text for text in said)
    assert "chat_example_0" not in [b.key for b in at.button]
    assert "Open Account usage" in labels(at.button)
