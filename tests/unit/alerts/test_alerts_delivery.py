"""Routing and delivery through a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

import email
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.alerts.delivery import Channel, DeliveryError, Message, SmtpChannel, WebhookChannel, send_with_retry
from pendo_core.alerts.job import evaluate_alerts
from pendo_core.alerts.repo import act_on_alert, alert_events, list_alerts
from pendo_core.store.models import AlertDelivery, UsageAlert
from tests.support.health_alerts import AS_OF, LAST, add_customer, add_usage, dropped, history

NOW = datetime(2026, 3, 19, 6, 30, tzinfo=UTC)
FALLING = history(60, 40, 6, change=dropped(0.5, 10, 40, 6))


# --- loopback servers ------------------------------------------------------------------------


class _Inbox:
    """aiosmtpd handler keeping every message; refuses recipients at `refused.example`."""

    def __init__(self) -> None:
        self.messages: list[email.message.Message] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address.endswith("@refused.example"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"


class _LoopbackController(Controller):
    """aiosmtpd on port 0: learn the bound port before the readiness probe connects."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


@dataclass
class SmtpServer:
    port: int
    inbox: _Inbox


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A real SMTP server on loopback."""
    inbox = _Inbox()
    controller = _LoopbackController(inbox, hostname="127.0.0.1", port=0)
    controller.start()
    try:
        yield SmtpServer(controller.port, inbox)
    finally:
        controller.stop()


@dataclass
class Webhook:
    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200


@pytest.fixture
def webhook() -> Iterator[Webhook]:
    """A real HTTP receiver on loopback that records JSON posts and answers scripted statuses."""
    state = Webhook("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.statuses.pop(0) if state.statuses else 200
            if status == 200:
                state.posts.append(json.loads(body))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def _channels(smtp: SmtpServer | None, hook: Webhook | None, *, smtp_port: int | None = None) -> dict[str, Channel]:
    channels: dict[str, Channel] = {}
    if smtp is not None or smtp_port is not None:
        port = smtp_port if smtp_port is not None else smtp.port  # type: ignore[union-attr]
        channels["email"] = SmtpChannel("127.0.0.1", port, "alerts@cscx.io", timeout=2.0)
    if hook is not None:
        channels["webhook"] = WebhookChannel(hook.url, timeout=2.0)
    return channels


def _run(engine: Engine, channels: dict[str, Channel], *, as_of: date = AS_OF, now: datetime = NOW,
         sleeps: list[float] | None = None) -> Any:
    return evaluate_alerts(engine, as_of, channels=channels, clock=lambda: now,
                           sleep=(sleeps.append if sleeps is not None else lambda _s: None))


def _body(mail: email.message.Message) -> str:
    payload = mail.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def _deliveries(engine: Engine) -> list[tuple[str, str, str, int]]:
    with Session(engine) as session:
        rows = session.execute(select(AlertDelivery).order_by(AlertDelivery.alert_id, AlertDelivery.channel))
        return [(d.channel, d.recipient, d.status, d.attempts) for d in rows.scalars()]


# --- tests -----------------------------------------------------------------------------------


def test_immediate_alert_reaches_the_csm_once_per_channel(engine: Engine, smtp: SmtpServer,
                                                            webhook: Webhook) -> None:
    """A new alert goes by e-mail to the assigned CSM and to the webhook; a rerun sends nothing."""
    add_customer(engine, "acme", csm="maya@cscx.io", accounts=["a1"])
    add_usage(engine, "acme", FALLING)
    channels = _channels(smtp, webhook)
    _run(engine, channels)
    _run(engine, channels)
    assert len(smtp.inbox.messages) == 1
    mail = smtp.inbox.messages[0]
    assert (mail["To"], mail["From"]) == ("maya@cscx.io", "alerts@cscx.io")
    assert "acme Inc: Usage drop" in mail["Subject"]
    assert "drop_pct=50.0" in _body(mail)
    assert len(webhook.posts) == 1
    assert "acme Inc" in webhook.posts[0]["text"]
    assert _deliveries(engine) == [("email", "maya@cscx.io", "delivered", 1),
                                   ("webhook", "maya@cscx.io", "delivered", 1)]


def test_digest_csm_gets_one_message_a_day(sqlite_engine: Engine, smtp: SmtpServer) -> None:
    """A digest CSM gets all new alerts in one e-mail; more alerts the same day wait for tomorrow."""
    for customer in ("acme", "globex"):
        add_customer(sqlite_engine, customer, csm="jo@cscx.io", delivery="digest")
        add_usage(sqlite_engine, customer, FALLING)
    channels = _channels(smtp, None)
    _run(sqlite_engine, channels)
    assert len(smtp.inbox.messages) == 1
    assert "2 new alert(s)" in smtp.inbox.messages[0]["Subject"]
    body = _body(smtp.inbox.messages[0])
    assert "acme Inc - Usage drop" in body
    assert "globex Inc - Usage drop" in body
    add_customer(sqlite_engine, "initech", csm="jo@cscx.io", delivery="digest")
    add_usage(sqlite_engine, "initech", FALLING)
    stats = _run(sqlite_engine, channels, now=NOW + timedelta(hours=2)).delivery
    assert (stats.held, len(smtp.inbox.messages)) == (1, 1)
    _run(sqlite_engine, channels, now=NOW + timedelta(days=1))
    assert len(smtp.inbox.messages) == 2
    assert "1 new alert(s)" in smtp.inbox.messages[1]["Subject"]


def test_failing_webhook_is_retried_within_the_run(sqlite_engine: Engine, webhook: Webhook) -> None:
    """Two 503s then a 200: delivered on the third attempt, with backoff through the injected sleep."""
    add_customer(sqlite_engine, "acme")
    add_usage(sqlite_engine, "acme", FALLING)
    webhook.statuses = [503, 503]
    sleeps: list[float] = []
    _run(sqlite_engine, _channels(None, webhook), sleeps=sleeps)
    assert len(webhook.posts) == 1
    assert sleeps == [1.0, 2.0]
    assert _deliveries(sqlite_engine) == [("webhook", "(no CSM assigned)", "delivered", 3)]


def test_unreachable_smtp_is_recorded_and_delivered_by_a_later_run(sqlite_engine: Engine, smtp: SmtpServer) -> None:
    """A delivery that fails every attempt stays recorded as failed, and the next run delivers it."""
    add_customer(sqlite_engine, "acme", csm="maya@cscx.io")
    add_usage(sqlite_engine, "acme", FALLING)
    closed = _free_port()
    stats = _run(sqlite_engine, _channels(None, None, smtp_port=closed)).delivery
    assert (stats.failed, stats.delivered) == (1, 0)
    with Session(sqlite_engine) as session:
        row = session.execute(select(AlertDelivery)).scalar_one()
        assert (row.status, row.attempts) == ("failed", 3)
        assert "unreachable" in (row.last_error or "")
    _run(sqlite_engine, _channels(smtp, None))
    assert len(smtp.inbox.messages) == 1
    assert _deliveries(sqlite_engine) == [("email", "maya@cscx.io", "delivered", 4)]


def test_refused_recipient_is_not_retried(sqlite_engine: Engine, smtp: SmtpServer) -> None:
    """An SMTP 5xx for the recipient is permanent: one attempt, the error kept."""
    add_customer(sqlite_engine, "acme", csm="gone@refused.example")
    add_usage(sqlite_engine, "acme", FALLING)
    _run(sqlite_engine, _channels(smtp, None))
    with Session(sqlite_engine) as session:
        row = session.execute(select(AlertDelivery)).scalar_one()
    assert (row.status, row.attempts) == ("failed", 1)
    assert "550" in (row.last_error or "")


def test_unacknowledged_alert_escalates_to_the_manager_once(sqlite_engine: Engine, smtp: SmtpServer) -> None:
    """After 3 days open the manager gets one escalation e-mail; an acknowledged alert does not escalate."""
    quiet = history(70, 8, 0, last=LAST + timedelta(days=5), change=lambda i, d: 0 if i < 25 else 8)
    for customer in ("acme", "globex"):
        add_customer(sqlite_engine, customer, csm="maya@cscx.io", manager="lee@cscx.io")
        add_usage(sqlite_engine, customer, quiet)
    channels = _channels(smtp, None)
    _run(sqlite_engine, channels)
    with Session(sqlite_engine) as session, session.begin():
        globex = list_alerts(session, customer_id="globex")[0].id
        act_on_alert(session, globex, "acknowledge", "maya@cscx.io", today=AS_OF, now=NOW)
    for days in (2, 3, 4):
        _run(sqlite_engine, channels, as_of=AS_OF + timedelta(days=days), now=NOW + timedelta(days=days))
    to_manager = [m for m in smtp.inbox.messages if m["To"] == "lee@cscx.io"]
    assert len(to_manager) == 1
    assert "[CSCX escalation] acme Inc" in to_manager[0]["Subject"]
    with Session(sqlite_engine) as session:
        acme = session.execute(select(UsageAlert).where(UsageAlert.customer_id == "acme")).scalar_one()
        assert acme.escalated_at is not None
        assert "escalated" in [e.action for e in alert_events(session, acme.id)]


def test_alert_closed_before_delivery_is_skipped(sqlite_engine: Engine, webhook: Webhook) -> None:
    """A pending delivery of an alert dismissed meanwhile is recorded as skipped, never sent."""
    add_customer(sqlite_engine, "acme")
    add_usage(sqlite_engine, "acme", FALLING)
    webhook.statuses = [500, 500, 500]
    _run(sqlite_engine, _channels(None, webhook))
    with Session(sqlite_engine) as session, session.begin():
        alert_id = list_alerts(session)[0].id
        act_on_alert(session, alert_id, "dismiss", "maya@cscx.io", today=AS_OF, now=NOW, reason="known outage")
    _run(sqlite_engine, _channels(None, webhook))
    assert webhook.posts == []
    assert _deliveries(sqlite_engine)[0][2] == "skipped"


# --- retries with a hand-written fake channel ------------------------------------------------


class _FlakyChannel:
    name = "fake"

    def __init__(self, errors: list[DeliveryError]) -> None:
        self.errors, self.calls = errors, 0

    def send(self, message: Message) -> None:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)


@pytest.mark.parametrize(("errors", "delivered", "attempts", "sleeps"), [
    pytest.param([], True, 1, [], id="first-try"),
    pytest.param([DeliveryError("busy", retriable=True)], True, 2, [1.0], id="retried-once"),
    pytest.param([DeliveryError("429", retriable=True, retry_after=7.0)], True, 2, [7.0], id="retry-after-wins"),
    pytest.param([DeliveryError("down", retriable=True)] * 3, False, 3, [1.0, 2.0], id="gives-up-after-3"),
    pytest.param([DeliveryError("404", retriable=False)], False, 1, [], id="permanent-not-retried"),
])
def test_send_with_retry(errors: list[DeliveryError], delivered: bool, attempts: int, sleeps: list[float]) -> None:
    """Only retriable errors are retried, a bounded number of times with exponential backoff."""
    slept: list[float] = []
    result = send_with_retry(_FlakyChannel(list(errors)), Message("a@b.io", "s", "t"), sleep=slept.append)
    assert (result.delivered, result.attempts, slept) == (delivered, attempts, sleeps)


def _free_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
