"""Specs for error classification: statuses and transport failures become our errors, key-free."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from pendo_core.pendo.client import (
    PendoAuthError,
    PendoClient,
    PendoConnectionError,
    PendoError,
    PendoNotFoundError,
    PendoQueryError,
    PendoRateLimitedError,
    PendoResponseError,
    PendoRetriableError,
    PendoServerError,
    PendoTimeoutError,
    RetryPolicy,
    classify_response,
    translate_transport_error,
)
from pendo_core.pendo.client.errors import parse_retry_after

KEY = "0b7c3e1a-5f2d-4c4e-9a51-2d9f8e6b7a10.us"
HOST = "app.pendo.io"


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> PendoClient:
    """A client on a MockTransport that tries once (classification, not retrying, is under test)."""
    transport, retry = httpx.MockTransport(handler), RetryPolicy.for_tests(attempts=1)
    return PendoClient(f"https://{HOST}", KEY, transport=transport, retry=retry)


def _error_for(status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> PendoError | None:
    """What a GET answered with `status` raises through the whole client, or None."""
    client = _client(lambda request: httpx.Response(status, headers=headers, content=body or b"{}"))
    try:
        client.get_json("/api/v1/feature")
    except PendoError as exc:
        return exc
    return None


@pytest.mark.parametrize(
    ("status", "headers", "expected", "retry_after"),
    [
        (200, None, None, None),
        (400, None, PendoQueryError, None),
        (401, None, PendoAuthError, None),
        (403, None, PendoAuthError, None),
        (404, None, PendoNotFoundError, None),
        (408, None, PendoTimeoutError, None),
        (429, None, PendoRateLimitedError, None),
        (429, {"Retry-After": "7"}, PendoRateLimitedError, 7.0),
        (500, None, PendoServerError, None),
        (502, None, PendoServerError, None),
        (503, {"Retry-After": "30"}, PendoServerError, 30.0),
        (504, None, PendoServerError, None),
        (302, {"Location": "https://elsewhere/"}, PendoResponseError, None),
        (418, None, PendoQueryError, None),
    ],
    ids=[
        "200-ok",
        "400-query",
        "401-auth",
        "403-auth",
        "404-not-found",
        "408-timeout",
        "429-no-retry-after",
        "429-retry-after",
        "500",
        "502",
        "503-retry-after",
        "504",
        "302-redirect",
        "418-other-4xx",
    ],
)
def test_status_classification(
    status: int, headers: dict[str, str] | None, expected: type[PendoError] | None, retry_after: float | None
) -> None:
    """Each status maps to exactly one error class (or none for 2xx), Retry-After carried along."""
    error = _error_for(status, headers)
    if expected is None:
        assert error is None
        return
    assert type(error) is expected
    assert error.status_code == status
    assert error.host == HOST
    if isinstance(error, PendoRetriableError):
        assert error.retry_after == retry_after


@pytest.mark.parametrize(
    ("error_class", "retriable"),
    [
        (PendoAuthError, False),
        (PendoQueryError, False),
        (PendoNotFoundError, False),
        (PendoResponseError, False),
        (PendoRateLimitedError, True),
        (PendoServerError, True),
        (PendoTimeoutError, True),
        (PendoConnectionError, True),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_the_tree_marks_what_is_retriable(error_class: type[PendoError], retriable: bool) -> None:
    """The retriable branch is exactly rate limits, 5xx, timeouts and broken connections."""
    assert issubclass(error_class, PendoError)
    assert issubclass(error_class, PendoRetriableError) is retriable


@pytest.mark.parametrize("status", [401, 403], ids=["401", "403"])
def test_auth_error_message_says_key_or_region(status: int) -> None:
    """The auth message names the cause (key or region) and the settings to fix."""
    error = _error_for(status)
    assert str(error) == (
        f"Pendo refused the integration key (HTTP {status} from {HOST}): wrong key or wrong region. "
        "Check PENDO_INTEGRATION_KEY and PENDO_REGION / PENDO_BASE_URL."
    )


def test_query_error_carries_the_servers_short_message() -> None:
    """A 400 keeps Pendo's reason, flattened to one line, for the operator to read."""
    error = _error_for(400, body=b"invalid filter:\n  unterminated string at 12\n")
    assert isinstance(error, PendoQueryError)
    assert error.server_message == "invalid filter: unterminated string at 12"
    assert "unterminated string at 12" in str(error)


def test_retry_after_as_http_date() -> None:
    """Retry-After may be an HTTP-date; it becomes seconds from now, never negative."""
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:30 GMT", now=1445412480.0) == 30.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=1445412480.0 + 99) == 0.0
    assert parse_retry_after("soon") is None


ECHOING_STATUSES = [400, 403, 404, 429, 500, 503]


@pytest.mark.parametrize("status", ECHOING_STATUSES, ids=str)
def test_key_never_in_status_error_messages(status: int) -> None:
    """Even a server that echoes the key in its error body cannot get it into our messages."""
    error = _error_for(status, body=f"bad key {KEY} for\nthis request".encode())
    assert error is not None
    for text in (str(error), repr(error), error.message, getattr(error, "server_message", "")):
        assert KEY not in text
        assert "\n" not in text


TRANSPORT_ERRORS: list[tuple[httpx.RequestError, type[PendoError]]] = [
    (httpx.ConnectError(f"refused while sending {KEY}"), PendoConnectionError),
    (httpx.ConnectTimeout("connect timed out"), PendoTimeoutError),
    (httpx.ReadTimeout("read timed out"), PendoTimeoutError),
    (httpx.PoolTimeout("pool exhausted"), PendoTimeoutError),
    (httpx.ReadError("connection reset by peer"), PendoConnectionError),
    (httpx.RemoteProtocolError("peer closed connection: incomplete chunked read"), PendoConnectionError),
    (httpx.LocalProtocolError(f"Illegal header value b'{KEY}'"), PendoError),
    (httpx.UnsupportedProtocol("Request URL has an unsupported protocol 'ftp://'"), PendoError),
    (httpx.DecodingError("bad gzip stream"), PendoConnectionError),
]


@pytest.mark.parametrize(
    ("raised", "expected"),
    TRANSPORT_ERRORS,
    ids=["connect", "connect-timeout", "read-timeout", "pool", "reset", "cut-off", "local", "scheme", "gzip"],
)
def test_transport_errors_are_translated(raised: httpx.RequestError, expected: type[PendoError]) -> None:
    """Every httpx failure surfaces as one of ours, one line, key-free, naming the host."""

    def fail(request: httpx.Request) -> httpx.Response:
        raised.request = request
        raise raised

    with pytest.raises(PendoError) as info:
        _client(fail).get_json("/api/v1/page")
    error = info.value
    assert type(error) is expected
    assert KEY not in str(error)
    assert KEY not in repr(error)
    assert "\n" not in str(error)
    assert error.__cause__ is None or KEY not in str(error.__cause__)  # a key-quoting cause is dropped
    if expected is not PendoError:
        assert HOST in str(error)


def test_translate_without_a_request_still_works() -> None:
    """An httpx error built without a request still translates (host unknown)."""
    error = translate_transport_error(httpx.ReadTimeout("late"))
    assert isinstance(error, PendoTimeoutError)
    assert "Pendo" in str(error)


def test_classify_response_accepts_every_2xx() -> None:
    """Any 2xx passes the classifier without raising."""
    request = httpx.Request("GET", f"https://{HOST}/api/v1/page")
    for status in (200, 201, 204):
        classify_response(httpx.Response(status, request=request))


def test_key_never_in_client_reprs() -> None:
    """The client and its counters print without the key, whether it came as str or SecretStr."""
    client = _client(lambda request: httpx.Response(200, json={}))
    for text in (repr(client), str(client), repr(client.stats), repr(client.retry)):
        assert KEY not in text
