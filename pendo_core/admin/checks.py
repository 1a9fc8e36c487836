"""Checks of what an admin types: e-mail addresses and webhook URLs, each refused with one line.

A webhook URL is a secret (whoever holds it may post to the channel), so a refusal names only its
scheme and host, never the path that carries the secret.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from pendo_core.access.rules import normalise_email

__all__ = ["InvalidInput", "check_email", "check_webhook_url"]

# The imports' rule (customers and contacts CSVs): something@host.tld, no spaces.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
MAX_EMAIL = 320  # the e-mail columns' width
MAX_URL = 2000


class InvalidInput(ValueError):
    """A value an admin typed that cannot be used; the message is one line naming the fix."""


def check_email(raw: str, what: str = "e-mail") -> str:
    """The address normalised (trimmed, case folded), or InvalidInput naming `what` was wrong."""
    email = normalise_email(raw)
    if not email:
        raise InvalidInput(f"the {what} is empty: enter an address such as name@example.com")
    if len(email) > MAX_EMAIL or not EMAIL.match(email):
        raise InvalidInput(f"the {what} {email[:60]!r} is not an e-mail address such as name@example.com")
    return email


def check_webhook_url(raw: str) -> str:
    """The URL trimmed when it is https://, or http:// to this machine (a local relay); else InvalidInput."""
    url = raw.strip()
    if not url:
        raise InvalidInput("the webhook URL is empty: paste the incoming-webhook URL (https://...)")
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        raise InvalidInput("the webhook URL cannot be read: paste it again, starting with https://") from None
    shown = f"{parts.scheme or '(no scheme)'}://{host or '(no host)'}"
    if len(url) > MAX_URL or any(c.isspace() for c in url):
        raise InvalidInput(f"the webhook URL ({shown}/...) holds spaces or is too long: paste it again")
    if host and (parts.scheme == "https" or (parts.scheme == "http" and _loopback(host))):
        return url
    raise InvalidInput(f"the webhook URL must start with https:// (http:// only to localhost); got {shown}")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
