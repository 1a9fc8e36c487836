"""Delivery channels (e-mail over SMTP, a Slack-style incoming webhook), retries and messages.

Errors a channel raises::

    DeliveryError            one message could not be delivered
     ├─ retriable=True       connection refused or dropped, timeouts, SMTP 4xx, HTTP 429 and 5xx
     └─ retriable=False      SMTP 5xx (refused sender or recipient, auth), HTTP 4xx, a bad URL

`send_with_retry` retries only retriable errors, a bounded number of attempts with exponential
backoff (a webhook's Retry-After wins, capped); `sleep` is injected so tests never wait.
"""

from __future__ import annotations

import smtplib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from pendo_core.access.rules import normalise_email
from pendo_core.alerts import kinds

MAX_RETRY_AFTER = 30.0


class DeliveryError(Exception):
    """A message that did not go through; `retriable` says whether trying again may help."""

    def __init__(self, message: str, *, retriable: bool, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retriable = retriable
        self.retry_after = retry_after


@dataclass(frozen=True)
class Message:
    """One message to one recipient (an e-mail address; the webhook names it in the text)."""

    recipient: str
    subject: str
    text: str


class Channel(Protocol):
    """Something that delivers a message or raises DeliveryError."""

    name: str

    def send(self, message: Message) -> None:
        """Deliver one message."""


class SmtpChannel:
    """E-mail through an SMTP server (STARTTLS and login when configured)."""

    name = "email"

    def __init__(self, host: str, port: int, sender: str, *, user: str | None = None, password: str | None = None,
                 starttls: bool = False, timeout: float = 10.0) -> None:
        self.host, self.port, self.sender = host, port, sender
        self.user, self.password, self.starttls, self.timeout = user, password, starttls, timeout

    def send(self, message: Message) -> None:
        """Send one e-mail; SMTP and socket errors become DeliveryError."""
        mail = EmailMessage()
        mail["From"], mail["To"], mail["Subject"] = self.sender, message.recipient, message.subject
        mail.set_content(message.text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password or "")
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            retriable = all(c < 500 for c in codes)
            raise DeliveryError(f"SMTP refused {message.recipient}: {codes}", retriable=retriable) from exc
        except smtplib.SMTPResponseException as exc:
            retriable = exc.smtp_code < 500
            raise DeliveryError(f"SMTP {exc.smtp_code}: {_text(exc.smtp_error)}", retriable=retriable) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {self.host}:{self.port} unreachable: {exc}", retriable=True) from exc


class WebhookChannel:
    """A Slack-style incoming webhook: POST {"text": ...} as JSON; any 2xx is delivered."""

    name = "webhook"

    def __init__(self, url: str, *, client: httpx.Client | None = None, timeout: float = 10.0) -> None:
        self.url = url
        self.client = client or httpx.Client(timeout=timeout)

    def send(self, message: Message) -> None:
        """Post one message; transport errors, 429 and 5xx are retriable, other statuses are not."""
        payload: dict[str, Any] = {"text": f"*{message.subject}*\n{message.text}"}
        try:
            response = self.client.post(self.url, json=payload)
        except httpx.InvalidURL as exc:
            raise DeliveryError(f"webhook URL is invalid: {exc}", retriable=False) from exc
        except httpx.TransportError as exc:
            raise DeliveryError(f"webhook unreachable: {type(exc).__name__}", retriable=True) from exc
        if response.is_success:
            return
        retriable = response.status_code == 429 or response.status_code >= 500
        raise DeliveryError(f"webhook answered HTTP {response.status_code}", retriable=retriable,
                            retry_after=_retry_after(response))


class RoutedWebhook:
    """The webhook channel when CSMs have their own webhooks (Admin → Delivery): a message goes to
    its recipient's webhook, else to the team's (ALERT_WEBHOOK_URL); `reaches` says whether either is set."""

    name = "webhook"

    def __init__(self, team_url: str | None, personal: Mapping[str, str], *, client: httpx.Client | None = None,
                 timeout: float = 10.0) -> None:
        self.team_url, self.personal = team_url, {normalise_email(k): v for k, v in personal.items()}
        self.client = client or httpx.Client(timeout=timeout)

    def url_for(self, recipient: str | None) -> str | None:
        """The recipient's own webhook, else the team's, else None."""
        return self.personal.get(normalise_email(recipient or "")) or self.team_url

    def reaches(self, recipient: str | None) -> bool:
        """True when a message to `recipient` has a webhook to go to."""
        return self.url_for(recipient) is not None

    def send(self, message: Message) -> None:
        """Post one message to the recipient's webhook (as WebhookChannel does)."""
        url = self.url_for(message.recipient)
        if url is None:
            raise DeliveryError(f"no webhook for {message.recipient}: set theirs in Admin → Delivery, or "
                                "ALERT_WEBHOOK_URL", retriable=False)
        WebhookChannel(url, client=self.client).send(message)


@dataclass(frozen=True)
class SendResult:
    """How a message fared: delivered or not, attempts made, the last error."""

    delivered: bool
    attempts: int
    error: str | None


def send_with_retry(channel: Channel, message: Message, *, attempts: int = 3, base_delay: float = 1.0,
                    sleep: Callable[[float], None] = time.sleep) -> SendResult:
    """Send, retrying retriable errors up to `attempts` times with exponential backoff."""
    error: DeliveryError | None = None
    for attempt in range(1, attempts + 1):
        try:
            channel.send(message)
            return SendResult(True, attempt, None)
        except DeliveryError as exc:
            error = exc
            if not exc.retriable or attempt == attempts:
                return SendResult(False, attempt, str(exc))
            sleep(min(exc.retry_after or base_delay * 2 ** (attempt - 1), MAX_RETRY_AFTER))
    return SendResult(False, attempts, str(error) if error else "not attempted")


# --- messages --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertNote:
    """What a message says about one alert."""

    alert_id: int
    customer: str
    kind: str
    severity: str
    triggered_on: str
    action: str | None
    details: dict[str, Any]


def alert_message(recipient: str, note: AlertNote) -> Message:
    """The immediate message for one alert."""
    label = kinds.label(note.kind)
    return Message(recipient, f"[CSCX alert] {note.customer}: {label} ({note.severity})", _block(note))


def digest_message(recipient: str, day: str, notes: Sequence[AlertNote]) -> Message:
    """The daily digest: every new alert of one CSM in one message."""
    text = "\n\n".join(_block(n) for n in notes)
    return Message(recipient, f"[CSCX alerts] Daily digest for {day}: {len(notes)} new alert(s)", text)


def escalation_message(recipient: str, note: AlertNote, csm: str | None, days: int) -> Message:
    """The message to a CSM's manager about an alert left unacknowledged."""
    label = kinds.label(note.kind)
    intro = f"Escalated: this alert has been open for {days}+ days without acknowledgement (CSM: {csm or 'none'})."
    return Message(recipient, f"[CSCX escalation] {note.customer}: {label}", f"{intro}\n\n{_block(note)}")


def _block(note: AlertNote) -> str:
    label = kinds.label(note.kind)
    figures = ", ".join(f"{k}={v}" for k, v in note.details.items() if v is not None)
    lines = [f"{note.customer} - {label} ({note.severity}), since {note.triggered_on} [alert #{note.alert_id}]",
             f"Suggested action: {note.action}" if note.action else "", f"Figures: {figures}" if figures else "",
             "Acknowledge, snooze or dismiss it in the alerts panel."]
    return "\n".join(line for line in lines if line)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _text(raw: bytes | str) -> str:
    return raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)
