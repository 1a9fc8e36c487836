"""The Ask page (pages/chat.py) in AppTest: a question gets its answer with numbers, window and
definitions; a trend has a chart; an ambiguous name offers buttons that answer for the one picked;
a CSM cannot ask about another CSM's customer; nobody signed in sees nothing."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from pendo_core.admin.users import User
from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import UsageMetric
from tests.support.app import app, run, use_store
from tests.support.charts import datasets, series
from tests.support.chat_api import ACME, ANA, BEN, LAST, build_store

PAGE = "pages/chat.py"
ANA_USER, BEN_USER = User(ANA, "Ana", "csm"), User(BEN, "Ben", "csm")


@pytest.fixture(scope="module")
def store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A built SQLite store for the page (read only)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('chat_page') / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    build_store(engine)
    engine.dispose()
    return url


@pytest.fixture
def page(store_url: str) -> Iterator[None]:
    """The app pointed at the store."""
    with use_store(store_url):
        yield


def _open(user: User | None) -> AppTest:
    return run(app(PAGE, user))


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input[0].set_value(question)
    return at.run()


def _said(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


pytestmark = pytest.mark.usefixtures("page")


def test_a_question_is_answered_with_its_numbers(store_url: str) -> None:
    """The answer names the customer and its stored DAU, and offers the numbers and the page."""
    at = _ask(_open(ANA_USER), "How is acme using the product?")
    engine = make_engine(store_url)
    with engine.connect() as conn:
        dau = conn.execute(select(UsageMetric.dau).where(UsageMetric.customer_id == ACME,
                                                         UsageMetric.metric_date == LAST)).scalar()
    assert not at.exception
    assert f"**Acme Corp** on {LAST}: **{dau}** daily active users" in _said(at)
    assert [e.label for e in at.expander] == ["Numbers, window and definitions"]
    assert "Open Account usage" in [b.label for b in at.button]


def test_a_trend_question_draws_a_chart() -> None:
    """'Show usage trend' answers with a chart."""
    at = _ask(_open(ANA_USER), "Show usage trend for Acme")
    assert not at.exception
    assert len(at.get("vega_lite_chart")) == 1


@pytest.mark.parametrize("user", [ANA_USER, User("lead@cscx.io", "Lee", "leader"),
                                  User("root@cscx.io", "Ada", "admin")], ids=["csm", "leader", "admin"])
def test_the_trend_chart_has_the_7_day_switch(user: User) -> None:
    """The chat's trend chart is drawn as the pages draw theirs, with the switch: on, each day of every
    series is the mean of it and the 6 days before."""
    at = _ask(_open(user), "Show usage trend for Acme")
    chart = at.get("vega_lite_chart")[0]
    label = next(iter(datasets(chart)[0]["series"]))
    daily = series(chart, label)
    at.toggle[0].set_value(True)
    smooth = series(run(at).get("vega_lite_chart")[0], label)
    pd.testing.assert_series_equal(smooth, daily.rolling(7, min_periods=7).mean(), check_names=False)


def test_an_ambiguous_name_offers_buttons_that_answer() -> None:
    """'acm' offers Acme Corp and Acme Labs; clicking Acme Labs answers about Acme Labs."""
    at = _ask(_open(ANA_USER), "how is acm doing")
    choices = [b for b in at.button if b.label.startswith("Acme")]
    assert [b.label.split(" (")[0] for b in choices] == ["Acme Corp", "Acme Labs"]
    at = choices[1].click().run()
    assert "**Acme Labs** on" in _said(at)


def test_a_csm_cannot_ask_about_another_csms_customer() -> None:
    """Ben does not own Acme: the page does not know it for him."""
    at = _ask(_open(BEN_USER), "How is Acme Corp using the product?")
    assert "I don't know a customer called" in _said(at)
    assert "Acme Corp** on" not in _said(at)


def test_nobody_signed_in_sees_nothing() -> None:
    """Without a signed-in user the page asks to sign in and offers no input."""
    at = _open(None)
    assert [w.value for w in at.warning] == ["Sign in to ask questions."]
    assert len(at.chat_input) == 0
