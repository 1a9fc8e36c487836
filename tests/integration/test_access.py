"""One access rule everywhere: the pages (AppTest through the real frame), the REST API and the chat
show each role the same customers and alerts over one store, on SQLite and PostgreSQL.

The store is tests/support/chat_api.py's (Ana owns Acme Corp, Acme Labs and Umbrella Corp; Ben owns
Globex Inc and Initech; one open alert, on Acme Labs), with Ana's e-mail stored as an old import
might have left it ("Ana@CSCX.io " on her customers, " ANA@cscx.io" on the alert) and typed oddly
by her on the pages and in the chat: every surface still finds her customers. "Show all customers"
(the sidebar toggle, `?scope=all`, the chat's same toggle) shows a CSM everything, read-only and audited.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import streamlit as st
from fastapi.testclient import TestClient
from sqlalchemy import Engine, delete, select, update
from streamlit.testing.v1 import AppTest

from api import ApiContext, create_app
from pages.ui import registry
from pendo_core.access.rules import Viewer
from pendo_core.admin.users import User
from pendo_core.alerts import AlertTransitionError
from pendo_core.alerts import queries as alerts_view
from pendo_core.chat import respond
from pendo_core.common.config import Settings
from pendo_core.store.models import AlertDelivery, AlertEvent, AuditLog, Csm, Customer, UsageAlert
from tests.support import REPO
from tests.support.app import labels, quiet_apptest, texts
from tests.support.chat_api import (
    ACME,
    ADA,
    ANA,
    BEN,
    GLOBEX,
    INITECH,
    LABS,
    LEE,
    NAMES,
    NOW,
    UMBRELLA,
    SharedStore,
)
from tests.support.inbox import select_alerts, table_customers, table_ids

EVERYONE = frozenset(NAMES)
ANAS = frozenset({ACME, LABS, UMBRELLA})
BENS = frozenset({GLOBEX, INITECH})
ANA_STORED, ANA_ROUTED, ANA_TYPED = "Ana@CSCX.io ", " ANA@cscx.io", "  ana@Cscx.IO"
ACCOUNT = {ACME: "acme-1", LABS: "labs-1", UMBRELLA: "umbrella-1", GLOBEX: "globex-1", INITECH: "initech-1"}
BY_NAME = {name: cid for cid, name in NAMES.items()}


@dataclass(frozen=True)
class Role:
    """Someone looking, and what the one rule lets them see and do."""

    email: str  # as typed on the pages and in the chat; the API token's user is stored normalised
    token: str  # whose API token
    role: str
    show_all: bool
    customers: frozenset[str]
    alerts: frozenset[str]  # customers whose alert is listed
    may_act: bool  # on the Acme Labs alert

    @property
    def viewer(self) -> Viewer:
        return Viewer(self.email, self.role, show_all=self.show_all)

    @property
    def user(self) -> User:
        return User(self.email, self.email.strip().split("@")[0].title(), self.role)


ROLES = {
    "csm-own": Role(ANA_TYPED, ANA, "csm", False, ANAS, frozenset({LABS}), may_act=True),
    "other-csm-own": Role(BEN, BEN, "csm", False, BENS, frozenset(), may_act=False),
    "csm-showing-all": Role(BEN, BEN, "csm", True, EVERYONE, frozenset({LABS}), may_act=False),
    "leader": Role(LEE, LEE, "leader", False, EVERYONE, frozenset({LABS}), may_act=True),
    "admin": Role(ADA, ADA, "admin", False, EVERYONE, frozenset({LABS}), may_act=True),
}


def _store_anas_email_oddly(engine: Engine) -> None:
    """Ana's customers and alert carry her e-mail in other case and with spaces (idempotent)."""
    with engine.begin() as conn:
        if conn.execute(select(Csm.email).where(Csm.email == ANA_STORED)).first() is None:
            conn.execute(Csm.__table__.insert(), [{"email": ANA_STORED, "name": "Ana"}])
        conn.execute(update(Customer).where(Customer.csm_email == ANA).values(csm_email=ANA_STORED))
        conn.execute(update(UsageAlert).where(UsageAlert.assigned_csm_email == ANA).values(
            assigned_csm_email=ANA_ROUTED))


@pytest.fixture
def world(shared_store: SharedStore) -> SharedStore:
    """The built store with Ana's e-mail stored oddly, an empty audit log, and one alert: Acme Labs'
    (the store's other alerts, e.g. Umbrella's usage drop, are left out so each role's list is exact)."""
    store = shared_store.fresh()
    _store_anas_email_oddly(store.engine)
    others = select(UsageAlert.id).where(UsageAlert.customer_id != LABS).scalar_subquery()
    with store.engine.begin() as conn:
        conn.execute(delete(AuditLog))
        for table in (AlertEvent, AlertDelivery):
            conn.execute(delete(table).where(table.alert_id.in_(others)))
        conn.execute(delete(UsageAlert).where(UsageAlert.customer_id != LABS))
    return store


@pytest.fixture
def app_on(world: SharedStore, monkeypatch: pytest.MonkeyPatch) -> Iterator[SharedStore]:
    """The Streamlit app pointed at the world, with fresh caches."""
    monkeypatch.setenv("DATABASE_URL", world.engine.url.render_as_string(hide_password=False))
    monkeypatch.delenv("PENDO_INTEGRATION_KEY", raising=False)
    quiet_apptest(monkeypatch)
    # Every role lands on Account usage here, so the first run shows the customer picker (AppTest drops the
    # frame's sidebar after switch_page; each role's own landing screen is tested in test_registry.py).
    monkeypatch.setattr(registry, "LANDING", dict.fromkeys(registry.LANDING, "account_usage"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield world
    st.cache_resource.clear()


def _frame(user: User, **state: Any) -> AppTest:
    """app.py signed in as `user`: the frame with its sidebar, on the first screen (Account usage)."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=30)
    at.session_state["frame_user"] = user
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def _labs_alert(engine: Engine) -> UsageAlert:
    with engine.connect() as conn:
        return conn.execute(select(UsageAlert).where(UsageAlert.customer_id == LABS)).one()  # type: ignore[return-value]


def _audit(engine: Engine) -> list[tuple[str, str, dict[str, Any] | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(AuditLog.actor, AuditLog.action, AuditLog.details).order_by(AuditLog.id))
        return [(r.actor, r.action, r.details) for r in rows]


# --- the API -------------------------------------------------------------------------------------


class Api:
    """A client of the API over the world acting with one person's token."""

    def __init__(self, world: SharedStore, who: str) -> None:
        ctx = ApiContext(world.engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW)
        self.client = TestClient(create_app(ctx))
        self.headers = {"Authorization": f"Bearer {world.tokens[who]}"}

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers=self.headers)

    def post(self, path: str, **params: Any) -> Any:
        return self.client.post(path, params=params, headers=self.headers)


def _answering(api: Api, paths: list[str], scope: dict[str, str]) -> frozenset[str]:
    """The customers (in NAMES order, one path each) whose endpoint answers 200 rather than 404."""
    return frozenset(c for c, path in zip(NAMES, paths, strict=True) if api.get(path, **scope).status_code == 200)


def _api_sees(api: Api, scope: dict[str, str]) -> dict[str, frozenset[str]]:
    """What each read endpoint shows: customers of the lists, and of the single-item endpoints that answer."""
    scores = api.get("/api/pendo/health-scores", limit=50, **scope).json()["items"]
    accounts = api.get("/api/pendo/accounts", limit=50, **scope).json()["items"]
    alerts = api.get("/api/pendo/alerts", **scope).json()["items"]
    return {
        "health-scores": frozenset(s["customer_id"] for s in scores),
        "accounts": frozenset(a["customer_id"] for a in accounts if a["customer_id"]),
        "metrics": _answering(api, [f"/api/pendo/customer/{c}/metrics" for c in NAMES], scope),
        "health": _answering(api, [f"/api/pendo/customer/{c}/health" for c in NAMES], scope),
        "account-usage": _answering(api, [f"/api/pendo/accounts/{ACCOUNT[c]}/usage" for c in NAMES], scope),
        "alerts": frozenset(a["customer_id"] for a in alerts),
        "unmapped-account": frozenset({"stray-1"} & {a["account_id"] for a in accounts}),
    }


@pytest.mark.parametrize("who", list(ROLES))
def test_the_api_shows_each_role_its_customers(world: SharedStore, who: str) -> None:
    """Every read endpoint shows the rule's customers and alerts; unmapped accounts only to who sees all."""
    role = ROLES[who]
    seen = _api_sees(Api(world, role.token), {"scope": "all"} if role.show_all else {})
    wanted = dict.fromkeys(("health-scores", "accounts", "metrics", "health", "account-usage"), role.customers)
    wanted |= {"alerts": role.alerts, "unmapped-account": frozenset({"stray-1"}) if role.customers == EVERYONE
               else frozenset()}
    assert seen == wanted


def test_api_show_all_is_audited_and_read_only(world: SharedStore) -> None:
    """`?scope=all` shows Ben Ana's alert and records that he asked; acting on it is still refused."""
    ben, leader = Api(world, BEN), Api(world, LEE)
    alert = _labs_alert(world.engine)
    listed = ben.get("/api/pendo/alerts", scope="all").json()["items"]
    refused = ben.post(f"/api/pendo/alerts/{alert.id}/acknowledge", scope="all")
    leader.get("/api/pendo/alerts", scope="all")  # a leader sees everyone anyway: nothing to record
    assert [a["id"] for a in listed] == [alert.id]
    assert refused.status_code == 404
    assert _labs_alert(world.engine).status == alert.status == "open"
    assert _audit(world.engine) == [(BEN, "view_all_customers",
                                     {"role": "csm", "via": "api", "request": "GET /api/pendo/alerts"})]


def test_api_scope_is_checked(world: SharedStore) -> None:
    """An unknown scope is a 422 naming the parameter, not a silent "own"."""
    response = Api(world, BEN).get("/api/pendo/accounts", scope="everything")
    assert (response.status_code, "scope" in response.json()["error"]["message"]) == (422, True)


# --- the chat ------------------------------------------------------------------------------------


@pytest.mark.parametrize("who", list(ROLES))
def test_the_chat_knows_each_role_its_customers(world: SharedStore, who: str) -> None:
    """Asked about each customer by name, the chat answers for exactly the rule's customers, and lists
    the rule's alerts."""
    role = ROLES[who]
    found = {c for c, name in NAMES.items()
             if (a := respond(world.engine, role.viewer, f"How is {name} using the product?")).customer is not None
             and a.customer.customer_id == c}
    alerts = respond(world.engine, role.viewer, "Any usage alerts for my portfolio?")
    assert found == role.customers
    assert {BY_NAME[row["customer"]] for row in alerts.table} == role.alerts


def test_chat_show_all_cannot_act(world: SharedStore) -> None:
    """The viewer the chat and pages share acts only on its own customers: "show all" is read-only."""
    alert = _labs_alert(world.engine)
    with pytest.raises(AlertTransitionError, match="not on one of your customers"):
        alerts_view.act(world.engine, alert.id, "acknowledge", ROLES["csm-showing-all"].viewer, today=NOW.date())
    assert _labs_alert(world.engine).status == "open"


# --- the pages -----------------------------------------------------------------------------------


def _chat_found(at: AppTest, customer: str) -> bool:
    at.chat_input[0].set_value(f"How is {NAMES[customer]} using the product?")
    at.run()
    said = texts(at.markdown)[-8:]
    return any(f"**{NAMES[customer]}** on " in t for t in said)


@pytest.mark.parametrize("who", list(ROLES))
def test_the_pages_show_each_role_its_customers(app_on: SharedStore, who: str) -> None:
    """The customer picker, My customers, the Alerts inbox (buttons only where the role may act) and the
    Ask chat follow the rule, for the same customers as the API and the chat."""
    role = ROLES[who]
    at = _frame(role.user, frame_show_all=role.show_all)
    picker = {BY_NAME[o.rsplit(" · ", 1)[0]] for o in at.sidebar.selectbox[0].options}  # "Name · band"
    at.switch_page("pages/my_customers.py").run()
    book = {BY_NAME[name] for name in at.dataframe[0].value["name"]}
    at.switch_page("pages/alerts.py").run()
    alerts = {BY_NAME[name] for name in table_customers(at)} if at.dataframe else set()
    if at.dataframe:
        select_alerts(at, table_ids(at))  # each selected alert opens its card
    acts = labels(at.button).count("Acknowledge") == 1
    at.switch_page("pages/chat.py").run()
    chat = {c for c in (ACME, GLOBEX) if _chat_found(at, c)}
    assert not at.exception
    assert (picker, book, alerts, acts) == (role.customers, role.customers, role.alerts,
                                            role.may_act and bool(role.alerts))
    assert chat == {ACME, GLOBEX} & role.customers


def test_app_show_all_is_audited_and_read_only(app_on: SharedStore) -> None:
    """Ben switches the sidebar's "show all" on: it is recorded, the Ask chat answers about Ana's
    customer (saying it is read-only), and the Alerts page shows her alert without buttons."""
    at = _frame(ROLES["other-csm-own"].user)
    at.switch_page("pages/chat.py").run()
    own = _chat_found(at, ACME)
    at.switch_page("app.py").run()
    at.sidebar.toggle[0].set_value(True).run()
    at.switch_page("pages/chat.py").run()
    wide = _chat_found(at, ACME)
    note = " ".join(texts(at.caption))
    at.switch_page("pages/alerts.py").run()
    assert (own, wide) == (False, True)
    assert "read-only" in note
    assert table_customers(at) == ["Acme Labs"]
    select_alerts(at, table_ids(at))
    assert "**Acme Labs** ·" in " ".join(texts(at.markdown))
    assert "Acknowledge" not in labels(at.button)
    assert any("Only the customer's CSM or a leader" in t for t in texts(at.caption))
    assert [(actor, action) for actor, action, _ in _audit(app_on.engine)] == [(BEN, "view_all_customers")]
