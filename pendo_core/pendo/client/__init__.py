"""The Pendo HTTP client: a small deliberate surface; see each module for the details."""

from __future__ import annotations

from pendo_core.pendo.client import queries
from pendo_core.pendo.client.errors import (
    PendoAuthError,
    PendoConnectionError,
    PendoError,
    PendoNotFoundError,
    PendoQueryError,
    PendoRateLimitedError,
    PendoResponseError,
    PendoRetriableError,
    PendoServerError,
    PendoTimeoutError,
    classify_response,
    translate_transport_error,
)
from pendo_core.pendo.client.http import ClientStats, PendoClient
from pendo_core.pendo.client.retry import FakeClock, RetryPolicy

__all__ = [
    "ClientStats",
    "FakeClock",
    "PendoAuthError",
    "PendoClient",
    "PendoConnectionError",
    "PendoError",
    "PendoNotFoundError",
    "PendoQueryError",
    "PendoRateLimitedError",
    "PendoResponseError",
    "PendoRetriableError",
    "PendoServerError",
    "PendoTimeoutError",
    "RetryPolicy",
    "classify_response",
    "queries",
    "translate_transport_error",
]
