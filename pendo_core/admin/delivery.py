"""How each CSM gets their alerts: immediately or as a daily digest, their own Slack-style webhook,
and the manager an unacknowledged alert escalates to (`csms.delivery`, `csms.webhook_*`,
`csms.manager_email`; pendo_core/alerts/routing.py reads them).

A CSM's webhook URL is a secret, kept like app_secrets: Fernet-encrypted with the configured key
(`secrets.load_cipher`), shown back only by its last characters, never logged. Every change is in
the access log. Functions take a Session and never commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import InvalidToken, MultiFernet
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pendo_core.access.rules import normalise_email
from pendo_core.admin import access_log
from pendo_core.admin.checks import InvalidInput, check_email, check_webhook_url
from pendo_core.admin.secrets import hint_of
from pendo_core.common.logging_setup import register_secret
from pendo_core.store.models import Csm, Customer

__all__ = ["MODES", "CsmDelivery", "InvalidInput", "clear_webhook", "csm_deliveries", "rotate_webhooks",
           "set_delivery", "set_webhook", "webhook_urls"]

MODES = {"immediate": "Immediately, one message per alert", "digest": "Daily digest, one message a day"}


@dataclass(frozen=True)
class CsmDelivery:
    """One CSM's delivery settings as they may be shown (the webhook by its ending only)."""

    email: str
    name: str
    customers: int
    delivery: str
    manager_email: str | None
    has_webhook: bool
    webhook_hint: str | None


def csm_deliveries(session: Session) -> list[CsmDelivery]:
    """Every CSM with how many customers they own and their delivery settings, by name."""
    owned = (select(Customer.csm_email, func.count().label("n")).group_by(Customer.csm_email).subquery())
    rows = session.execute(select(Csm, func.coalesce(owned.c.n, 0)).outerjoin(owned, owned.c.csm_email == Csm.email)
                           .order_by(func.lower(Csm.name), Csm.email)).all()
    return [CsmDelivery(c.email, c.name, int(n), c.delivery, c.manager_email, c.webhook_ciphertext is not None,
                        c.webhook_hint) for c, n in rows]


def set_delivery(session: Session, email: str, delivery: str, manager_email: str | None, *, by: str) -> dict[str, Any]:
    """Set a CSM's mode and manager (empty: no escalation); returns what changed, as audited."""
    csm = _csm(session, email)
    if delivery not in MODES:
        raise InvalidInput(f"unknown delivery {delivery!r}: use one of {', '.join(MODES)}")
    manager = check_email(manager_email, "manager's e-mail") if manager_email and manager_email.strip() else None
    if manager == normalise_email(csm.email):
        raise InvalidInput("a CSM cannot be their own manager: enter their manager's e-mail, or leave it empty")
    changes = {name: {"from": old, "to": new} for name, old, new in
               (("delivery", csm.delivery, delivery), ("manager_email", csm.manager_email, manager)) if old != new}
    if changes:
        csm.delivery, csm.manager_email = delivery, manager
        access_log.record(session, by, "csm.delivery_change", {"csm": csm.email, **changes})
    return changes


def set_webhook(session: Session, email: str, url: str, *, cipher: MultiFernet, by: str) -> str | None:
    """Store a CSM's webhook URL encrypted (replacing theirs); returns its hint (`…abcd`) if long enough."""
    csm = _csm(session, email)
    url = check_webhook_url(url)
    register_secret(url)
    csm.webhook_ciphertext = cipher.encrypt(url.encode()).decode("ascii")
    csm.webhook_hint = hint_of(url)
    access_log.record(session, by, "csm.webhook_set", {"csm": csm.email, "hint": csm.webhook_hint})
    return csm.webhook_hint


def clear_webhook(session: Session, email: str, *, by: str) -> bool:
    """Forget a CSM's webhook; False when none was stored."""
    csm = _csm(session, email)
    if csm.webhook_ciphertext is None:
        return False
    csm.webhook_ciphertext = csm.webhook_hint = None
    access_log.record(session, by, "csm.webhook_clear", {"csm": csm.email})
    return True


def webhook_urls(session: Session, cipher: Callable[[], MultiFernet]) -> dict[str, str]:
    """CSM e-mail (normalised) -> their decrypted webhook URL, for delivery; unreadable ones are left
    out. `cipher` is asked for only when some CSM has a webhook (no key is needed otherwise)."""
    stored = session.execute(select(Csm.email, Csm.webhook_ciphertext).where(Csm.webhook_ciphertext.is_not(None))).all()
    if not stored:
        return {}
    fernet = cipher()
    urls: dict[str, str] = {}
    for email, token in stored:
        try:
            url = fernet.decrypt(token.encode("ascii")).decode()
        except InvalidToken:  # saved under a key no longer configured: that CSM falls back to the team webhook
            continue
        register_secret(url)
        urls[normalise_email(email)] = url
    return urls


def rotate_webhooks(session: Session, cipher: MultiFernet) -> int:
    """Re-encrypt every CSM webhook with the first configured key (as SecretStore.rotate); how many."""
    rows = list(session.scalars(select(Csm).where(Csm.webhook_ciphertext.is_not(None))))
    for row in rows:
        row.webhook_ciphertext = cipher.rotate((row.webhook_ciphertext or "").encode("ascii")).decode("ascii")
    return len(rows)


def _csm(session: Session, email: str) -> Csm:
    csm = session.get(Csm, normalise_email(email)) or session.get(Csm, email)
    if csm is None:
        raise InvalidInput(f"no CSM {email!r}: CSMs come from the customers import (csm_email)")
    return csm
