"""Per-CSM delivery settings: digest or immediate, the escalation manager, and the CSM's own webhook
stored encrypted (never in clear, shown by its ending); each change audited; the alerts job then
routes that CSM's webhook messages to it. SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin import delivery
from pendo_core.admin.checks import InvalidInput
from pendo_core.alerts.delivery import RoutedWebhook
from pendo_core.alerts.job import evaluate_alerts
from pendo_core.store.models import AlertDelivery, AuditLog, Csm
from tests.support.health_alerts import AS_OF, add_customer, add_usage, dropped, history

ADMIN, MAYA, JO = "ada@cscx.io", "maya@cscx.io", "jo@cscx.io"
HOOK = "https://hooks.example.com/services/T000/B000/maya-secret-0042"
NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)
FALLING = history(60, 40, 6, change=dropped(0.5, 10, 40, 6))


OLD_KEY = Fernet.generate_key()


@pytest.fixture
def cipher() -> MultiFernet:
    return MultiFernet([Fernet(OLD_KEY)])


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Two CSMs with a customer each."""
    add_customer(engine, "acme", csm=MAYA, accounts=["a1"])
    add_customer(engine, "globex", csm=JO, accounts=["a2"])
    return engine


def _run(engine: Engine, change: object) -> object:
    with Session(engine) as session, session.begin():
        return change(session)  # type: ignore[operator]


def _csm(engine: Engine, email: str) -> Csm:
    with Session(engine) as session:
        row = session.get(Csm, email)
        assert row is not None
        session.expunge(row)
        return row


def _log(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with Session(engine) as session:
        rows = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
        return [(r.actor, r.action, dict(r.details or {})) for r in rows]


def test_mode_and_manager_are_stored_and_audited_with_what_changed(store: Engine) -> None:
    """Digest and a manager land on the CSM's row; the log holds old and new; saving again logs nothing."""
    changes = _run(store, lambda s: delivery.set_delivery(s, MAYA, "digest", " Lee@CSCX.io ", by=ADMIN))
    assert changes == {"delivery": {"from": "immediate", "to": "digest"},
                       "manager_email": {"from": None, "to": "lee@cscx.io"}}
    assert (_csm(store, MAYA).delivery, _csm(store, MAYA).manager_email) == ("digest", "lee@cscx.io")
    assert _run(store, lambda s: delivery.set_delivery(s, MAYA, "digest", "lee@cscx.io", by=ADMIN)) == {}
    assert _log(store) == [(ADMIN, "csm.delivery_change", {"csm": MAYA, **changes})]  # type: ignore[dict-item]


@pytest.mark.parametrize(("email", "mode", "manager", "message"), [
    (MAYA, "hourly", None, "unknown delivery"),
    (MAYA, "digest", "lee", "not an e-mail address"),
    (MAYA, "digest", MAYA, "own manager"),
    ("nobody@cscx.io", "digest", None, "no CSM"),
], ids=["unknown-mode", "bad-manager", "own-manager", "unknown-csm"])
def test_bad_delivery_settings_are_refused_in_one_line(store: Engine, email: str, mode: str, manager: str | None,
                                                       message: str) -> None:
    """Nothing changes, nothing is logged."""
    with pytest.raises(InvalidInput, match=message):
        _run(store, lambda s: delivery.set_delivery(s, email, mode, manager, by=ADMIN))
    assert _csm(store, MAYA).delivery == "immediate"
    assert _log(store) == []


def test_a_webhook_is_stored_encrypted_and_shown_by_its_ending(store: Engine, cipher: MultiFernet) -> None:
    """The row holds ciphertext only; the list and the log show `…0042`; delivery decrypts it."""
    hint = _run(store, lambda s: delivery.set_webhook(s, MAYA, HOOK, cipher=cipher, by=ADMIN))
    assert hint == "…0042"
    row = _csm(store, MAYA)
    assert row.webhook_ciphertext is not None
    assert "maya-secret" not in row.webhook_ciphertext
    listed = {c.email: (c.has_webhook, c.webhook_hint, c.customers) for c in _run(store, delivery.csm_deliveries)}
    assert listed == {JO: (False, None, 1), MAYA: (True, "…0042", 1)}
    assert _run(store, lambda s: delivery.webhook_urls(s, lambda: cipher)) == {MAYA: HOOK}
    assert _log(store) == [(ADMIN, "csm.webhook_set", {"csm": MAYA, "hint": "…0042"})]
    assert "maya-secret" not in json.dumps(_log(store))


def test_a_webhook_is_refused_unless_https(store: Engine, cipher: MultiFernet) -> None:
    """Plain http to another host is refused before anything is stored."""
    with pytest.raises(InvalidInput, match="must start with https://"):
        _run(store, lambda s: delivery.set_webhook(s, MAYA, "http://hooks.example.com/x", cipher=cipher, by=ADMIN))
    assert _csm(store, MAYA).webhook_ciphertext is None


def test_clearing_and_rotating_webhooks(store: Engine, cipher: MultiFernet) -> None:
    """Rotation re-encrypts under the new first key (the old key can go); clearing forgets it, once."""
    _run(store, lambda s: delivery.set_webhook(s, MAYA, HOOK, cipher=cipher, by=ADMIN))
    new_key = Fernet.generate_key()
    rotated = MultiFernet([Fernet(new_key), Fernet(OLD_KEY)])  # the new key first, the old one still read
    assert _run(store, lambda s: delivery.rotate_webhooks(s, rotated)) == 1
    new_only = MultiFernet([Fernet(new_key)])
    assert _run(store, lambda s: delivery.webhook_urls(s, lambda: new_only)) == {MAYA: HOOK}
    assert _run(store, lambda s: delivery.clear_webhook(s, MAYA, by=ADMIN)) is True
    assert _run(store, lambda s: delivery.clear_webhook(s, MAYA, by=ADMIN)) is False
    assert _run(store, lambda s: delivery.webhook_urls(s, lambda: new_only)) == {}


def test_no_key_is_needed_while_no_csm_has_a_webhook(store: Engine) -> None:
    """Delivery asks for the cipher only when some CSM has a webhook (so no key file is ever made)."""
    def no_key() -> MultiFernet:
        raise AssertionError("the cipher was asked for")

    assert _run(store, lambda s: delivery.webhook_urls(s, no_key)) == {}


# --- routing ---------------------------------------------------------------------------------


def _posting(posts: list[tuple[str, str]]) -> httpx.Client:
    def answer(request: httpx.Request) -> httpx.Response:
        posts.append((str(request.url), json.loads(request.content)["text"]))
        return httpx.Response(200)

    return httpx.Client(transport=httpx.MockTransport(answer))


@pytest.mark.parametrize(("team", "expected"), [
    (None, {(MAYA, HOOK)}),
    ("https://team.example.com/hook", {(MAYA, HOOK), ("(no CSM assigned)", "https://team.example.com/hook"),
                                       (JO, "https://team.example.com/hook")}),
], ids=["own-webhook-only", "with-a-team-webhook"])
def test_webhook_messages_go_to_the_csms_own_webhook(store: Engine, team: str | None,
                                                      expected: set[tuple[str, str]]) -> None:
    """Maya's alert goes to her webhook; without a team webhook nobody else's gets a webhook row at all."""
    add_customer(store, "initech", accounts=["a3"])  # no CSM
    for customer in ("acme", "globex", "initech"):
        add_usage(store, customer, FALLING)
    posts: list[tuple[str, str]] = []
    channel = RoutedWebhook(team, {MAYA.upper(): HOOK}, client=_posting(posts))
    run = evaluate_alerts(store, AS_OF, channels={"webhook": channel}, clock=lambda: NOW, sleep=lambda _s: None)
    with Session(store) as session:
        rows = session.execute(select(AlertDelivery.recipient, AlertDelivery.status)).all()
    assert {(recipient, channel.url_for(recipient)) for recipient, _ in rows} == expected
    assert {status for _, status in rows} == {"delivered"}
    assert (run.delivery.delivered if run.delivery else 0) == len(posts) == len(expected)
    assert {url for url, _ in posts} == {url for _, url in expected}
