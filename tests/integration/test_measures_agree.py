"""One word, one number: on one built store (both backends), the Account usage page, the Portfolio
page, the REST API, the chat answer and the stored health score show the same stickiness and the
same 28-day trend for a customer on the same day, and that number is the definition's
(pendo_core.usage.measures) worked out by hand from the stored daily rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api import ApiContext, create_app
from pendo_core.admin.users import User
from pendo_core.book import book
from pendo_core.book.header import customer_headers
from pendo_core.chat import Answer, Viewer, respond
from pendo_core.common.config import Settings
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.store.models import HealthScore, UsageMetric
from tests.support.app import app, quiet_apptest, run
from tests.support.chat_api import ACME, GLOBEX, LABS, LAST, LEE, NAMES, NOW, UMBRELLA, SharedStore

CUSTOMERS = [pytest.param(ACME, id="acme-weekday-pattern"), pytest.param(UMBRELLA, id="umbrella-dropped"),
             pytest.param(LABS, id="labs-flat"), pytest.param(GLOBEX, id="globex-other-csm")]


@contextmanager
def _app_on(engine: Engine) -> Iterator[None]:
    """The Streamlit app pointed at `engine`'s database (demo mode, fresh caches)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    patch.delenv("PENDO_INTEGRATION_KEY", raising=False)
    quiet_apptest(patch)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        yield
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
        patch.undo()


def _by_hand(engine: Engine, customer: str, day: date) -> dict[str, float]:
    """Stickiness and trend from the stored rows, as the README words them (every day is synced here)."""
    u = UsageMetric
    with engine.connect() as conn:
        rows = dict(conn.execute(select(u.metric_date, u.dau).where(u.customer_id == customer)).all())
        mau = conn.execute(select(u.mau).where(u.customer_id == customer, u.metric_date == day)).scalar_one()

    def mean(back: range) -> float:
        return sum(rows[day - timedelta(days=i)] for i in back) / len(back)

    return {"stickiness": mean(range(7)) / mau, "trend": mean(range(28)) / mean(range(28, 56)) - 1}


@pytest.fixture(scope="module")
def seen(shared_store: SharedStore) -> dict[str, Any]:
    """What each page shows, read once per backend: Account usage for every customer, and the Portfolio."""
    engine = shared_store.fresh().engine
    with _app_on(engine):
        usage = {}
        for customer in (ACME, UMBRELLA, LABS, GLOBEX):
            at = run(app("pages/account_usage.py", User(LEE, "Lee", "leader"), frame_customer=customer))
            usage[customer] = {m.label: m.value for m in at.metric}
        portfolio = run(app("pages/portfolio.py", User(LEE, "Lee", "leader")))
    everyone = next(d.value for d in portfolio.dataframe if "renewal_date" in d.value.columns)
    return {"usage": usage, "portfolio": everyone.set_index("name")}


def _api(engine: Engine, tokens: dict[str, str], customer: str) -> dict[str, Any]:
    client = TestClient(create_app(ApiContext(engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW)))
    response = client.get(f"/api/pendo/customer/{customer}/metrics", params={"to": LAST.isoformat()},
                          headers={"Authorization": f"Bearer {tokens[LEE]}"})
    assert response.status_code == 200, response.text
    return dict(response.json()["summary"])


def _chat_answer(engine: Engine, customer: str) -> Answer:
    answer = respond(engine, Viewer(LEE, "leader"), f"How is {NAMES[customer]} using the product?")
    assert answer.customer is not None
    assert answer.customer.customer_id == customer
    return answer


def _chat(engine: Engine, customer: str) -> dict[str, Any]:
    return {f.label: f.value for f in _chat_answer(engine, customer).facts}


def _health(engine: Engine, customer: str) -> dict[str, Any]:
    h = HealthScore
    with engine.connect() as conn:
        inputs = conn.execute(select(h.inputs).where(h.customer_id == customer, h.score_date == LAST)).scalar_one()
    return dict(inputs)


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_every_surface_shows_the_same_stickiness_and_trend(shared_store: SharedStore, seen: dict[str, Any],
                                                           customer: str) -> None:
    """Page, portfolio, API, chat and the stored health inputs quote one stickiness and one trend."""
    store = shared_store.fresh()
    expected = _by_hand(store.engine, customer, LAST)
    api, chat, health = _api(store.engine, store.tokens, customer), _chat(store.engine, customer), \
        _health(store.engine, customer)
    row, page = seen["portfolio"].loc[NAMES[customer]], seen["usage"][customer]
    for name, label, api_key, chat_key in (("stickiness", "Stickiness", "stickiness", "Stickiness"),
                                           ("trend", "DAU trend, 28 days", "trend_28d", "DAU trend")):
        number = expected[name]
        assert api[api_key] == pytest.approx(number), f"API {name}"
        assert chat[chat_key] == pytest.approx(number), f"chat {name}"
        assert health[name] == pytest.approx(number, abs=1e-4), f"health score input {name}"
        assert row[name] == pytest.approx(100 * number), f"Portfolio {name} (shown in %)"
        assert page[label] == (f"{number:.0%}" if name == "stickiness" else f"{number:+.0%}"), f"Account usage {name}"


@pytest.mark.parametrize("customer", CUSTOMERS)
def test_the_chat_writes_stickiness_as_the_page_does(shared_store: SharedStore, seen: dict[str, Any],
                                                     customer: str) -> None:
    """One format too: the chat's stickiness reads as the Account usage card's ("18%", not "0.18")."""
    answer = _chat_answer(shared_store.fresh().engine, customer)
    shown = {f.label: f.shown for f in answer.facts}["Stickiness"]
    assert shown == seen["usage"][customer]["Stickiness"]
    assert f"stickiness **{shown}**" in answer.text


def test_the_store_has_the_cases_the_agreement_is_about(shared_store: SharedStore) -> None:
    """Acme's weekend dip makes the week's mean differ from the last day's DAU ÷ MAU, and Umbrella fell:
    the old definitions would have shown other numbers for them."""
    engine = shared_store.fresh().engine
    with engine.connect() as conn:
        acme = pd.DataFrame(conn.execute(select(UsageMetric.metric_date, UsageMetric.dau, UsageMetric.mau)
                                         .where(UsageMetric.customer_id == ACME)).all(), columns=["day", "dau", "mau"])
    last = acme.set_index("day").loc[LAST]
    assert _by_hand(engine, ACME, LAST)["stickiness"] != pytest.approx(last["dau"] / last["mau"])
    assert _by_hand(engine, UMBRELLA, LAST)["trend"] < -0.5


def test_every_surface_shows_the_same_health_change(shared_store: SharedStore, seen: dict[str, Any]) -> None:
    """Portfolio, My customers' book and the customer header quote one health change: the score against
    the one CHANGE_DAYS (28) days before, so a leader and a CSM never see opposite signs."""
    engine = shared_store.fresh().engine
    ids = [ACME, UMBRELLA, LABS, GLOBEX]
    headers = customer_headers(engine, ids, LAST + timedelta(days=1))
    whole = book(engine, None, LAST).set_index("customer_id")
    h = HealthScore
    with engine.connect() as conn:
        scores = dict(conn.execute(select(h.score_date, h.overall).where(h.customer_id == UMBRELLA)).all())
    by_hand = scores[LAST] - scores[LAST - timedelta(days=CHANGE_DAYS)]
    assert by_hand != pytest.approx(scores[LAST] - scores[LAST - timedelta(days=7)])  # the windows tell apart
    assert whole.loc[UMBRELLA, "health_change"] == pytest.approx(by_hand, abs=0.05)
    for customer in ids:
        change = whole.loc[customer, "health_change"]
        assert headers[customer].health_change == pytest.approx(change, abs=0.05), f"header {customer}"
        assert seen["portfolio"].loc[NAMES[customer], "health_change"] == pytest.approx(change), f"Portfolio {customer}"
