"""The admin's Pendo connection test: one cheap authenticated read, nothing stored, the problem named."""

from __future__ import annotations

from dataclasses import dataclass

from pendo_core.admin.secrets import explain_key_error, key_problem
from pendo_core.common.config import REGION_HOSTS
from pendo_core.common.logging_setup import redact_secret
from pendo_core.pendo.client import PendoClient, PendoError

__all__ = ["CONNECT_TIMEOUT_S", "ConnectionCheck", "check_connection", "pendo_host"]

CONNECT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of a connection test: did the key work, and a one-line reason naming the fix."""

    ok: bool
    message: str


def pendo_host(region: str, base_url: str | None = None) -> str:
    """The API host a test or sync talks to: an explicit base URL wins over the region."""
    return (base_url or REGION_HOSTS[region]).strip().rstrip("/")


def check_connection(key: str, region: str, base_url: str | None = None, *,
                     timeout: float = CONNECT_TIMEOUT_S) -> ConnectionCheck:
    """Try one cheap authenticated read against Pendo without storing anything; name the problem."""
    key = key.strip()
    problem = key_problem(key)
    if problem is not None:
        return ConnectionCheck(False, problem)
    url = pendo_host(region, base_url)
    try:
        with PendoClient(url, key, timeout=timeout, max_concurrency=1) as client:
            client.verify()
    except (PendoError, ValueError) as exc:  # ValueError: a key or URL httpx cannot even send
        return ConnectionCheck(False, redact_secret(explain_key_error(exc, url, region), key))
    return ConnectionCheck(True, f"Connected to {url}: Pendo accepted the key.")
