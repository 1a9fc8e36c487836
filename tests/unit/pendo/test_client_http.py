"""Specs for PendoClient: what it sends, how it parses, when it retries, and its concurrency cap."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

import pendo_core.pendo.client as client_package
from pendo_core.pendo.client import (
    PendoAuthError,
    PendoClient,
    PendoConnectionError,
    PendoResponseError,
    PendoServerError,
    RetryPolicy,
    queries,
)

KEY = "3f1e9c2a-77aa-4b0e-8d13-5c6a9e0f1b22"
BASE = "https://app.pendo.io"
PIPELINE = queries.accounts_since(0, None, 10)
ROW = {"n": 1.5, "day": 1709614800000}
Handler = Callable[[httpx.Request], httpx.Response]


def _client(handler: Handler, **kwargs: Any) -> PendoClient:
    kwargs.setdefault("retry", RetryPolicy.for_tests())
    return PendoClient(BASE, KEY, transport=httpx.MockTransport(handler), **kwargs)


def _rows_body(rows: list[dict[str, Any]]) -> httpx.Response:
    return httpx.Response(200, json={"startTime": 1, "results": rows})


class Script:
    """A handler that plays responses in order and records every request it saw."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0)


@pytest.mark.parametrize(
    "key", [KEY, SecretStr(KEY), f"{KEY}\n"], ids=["str", "secret-str", "trailing-newline"]
)
def test_every_request_carries_the_pendo_headers(key: str | SecretStr) -> None:
    """Key header (trimmed), JSON content type and accept, and a User-Agent naming the product."""
    script = Script(httpx.Response(200, json={"auto": {}}))
    PendoClient(BASE, key, transport=httpx.MockTransport(script)).verify()
    headers = script.requests[0].headers
    assert headers["x-pendo-integration-key"] == KEY
    assert headers["content-type"] == "application/json"
    assert headers["accept"] == "application/json"
    assert "cscx-pendo-usage" in headers["user-agent"]


def test_aggregate_posts_the_envelope() -> None:
    """aggregate POSTs the §2.1 envelope with the requestId to /api/v1/aggregation."""
    script = Script(_rows_body([{"accountId": "acme"}]))
    rows = list(_client(script).aggregate(PIPELINE, request_id="accounts-1"))
    request = script.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/aggregation")
    assert json.loads(request.content) == queries.aggregation_request(PIPELINE, request_id="accounts-1")
    assert rows == [{"accountId": "acme"}]


def test_aggregate_is_lazy() -> None:
    """Nothing is sent until the first row is asked for."""
    script = Script(_rows_body([]))
    rows = _client(script).aggregate(PIPELINE)
    assert script.requests == []
    assert list(rows) == []
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"startTime": 1, "results": []}', []),
        (b'{"startTime": 1, "results": null}', []),
        (b'{"startTime": 1}', []),
        (b'{"results": [{"n": 1.5, "day": 1709614800000}], "startTime": 2}', [ROW]),
    ],
    ids=["empty-list", "null", "missing", "results-first"],
)
def test_aggregate_rows_from_well_formed_bodies(body: bytes, expected: list[dict[str, Any]]) -> None:
    """`results` empty, null or missing gives no rows; numbers come back as int or float."""
    rows = list(_client(Script(httpx.Response(200, content=body))).aggregate(PIPELINE))
    assert rows == expected
    assert all(type(r["n"]) is float and type(r["day"]) is int for r in rows)


@pytest.mark.parametrize(
    "body",
    [
        b"<html><body>Sign in</body></html>",
        b'[{"accountId": "acme"}]',
        b'{"results": "nope"}',
        b'{"results": {"accountId": "acme"}}',
        b'{"results": [1, 2]}',
        b'{"results": []} trailing',
    ],
    ids=["html", "top-level-array", "results-string", "results-object", "results-numbers", "trailing-junk"],
)
def test_complete_bodies_of_the_wrong_shape_are_response_errors(body: bytes) -> None:
    """A whole body that is not `{"results": [rows]}` is a PendoResponseError, never retried."""
    script = Script(*[httpx.Response(200, content=body)] * 3)
    with pytest.raises(PendoResponseError):
        _client(script).aggregate_all(PIPELINE)
    assert len(script.requests) == 1


@pytest.mark.parametrize(
    "body",
    [b'{"startTime": 1, "results": [{"a": 1}, {"a": 2', b'{"results": [{"a": 1}]', b""],
    ids=["mid-row", "missing-brace", "empty"],
)
def test_truncated_json_is_a_connection_error(body: bytes) -> None:
    """A body that ends before its JSON does is a broken connection: retriable, rows may have come."""
    client = _client(Script(httpx.Response(200, content=body)))
    seen: list[dict[str, Any]] = []
    with pytest.raises(PendoConnectionError, match="ended before its JSON was complete"):
        seen.extend(client.aggregate(PIPELINE))
    assert seen == [{"a": 1}][: len(seen)]


class CutOffStream(httpx.SyncByteStream):
    """A body that sends a few rows, then the connection drops (as httpcore reports it)."""

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"results": [{"a": 1}, {"a": 2},'
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def test_body_cut_off_mid_stream_is_a_connection_error() -> None:
    """Rows before the cut arrive; then the drop surfaces as PendoConnectionError."""
    client = _client(lambda request: httpx.Response(200, stream=CutOffStream()))
    seen: list[dict[str, Any]] = []
    with pytest.raises(PendoConnectionError, match="broke"):
        seen.extend(client.aggregate(PIPELINE))
    assert seen == [{"a": 1}, {"a": 2}]


def test_aggregate_does_not_retry_by_itself() -> None:
    """A 503 from aggregate is raised after one request: the caller retries the whole window."""
    script = Script(httpx.Response(503), _rows_body([]))
    client = _client(script)
    with pytest.raises(PendoServerError):
        list(client.aggregate(PIPELINE))
    assert client.stats.requests == 1
    assert client.stats.retries == 0


def test_aggregate_all_retries_transient_failures() -> None:
    """aggregate_all retries 5xx and truncated bodies, counting requests and retries."""
    truncated = httpx.Response(200, content=b'{"results": [{"a"')
    script = Script(httpx.Response(502), truncated, _rows_body([{"a": 1}]))
    client = _client(script)
    assert client.aggregate_all(PIPELINE) == [{"a": 1}]
    assert (client.stats.requests, client.stats.retries) == (3, 2)


def test_get_json_retries_and_honours_retry_after() -> None:
    """get_json waits the server's Retry-After, then returns the parsed JSON."""
    limited = httpx.Response(429, headers={"Retry-After": "12"})
    script = Script(limited, httpx.Response(200, json=[{"id": "f1"}]))
    client = _client(script)
    assert client.get_json("/api/v1/feature", params={"expand": "*"}) == [{"id": "f1"}]
    assert client.retry.clock.sleeps == [12.0]  # type: ignore[attr-defined]
    assert str(script.requests[0].url) == f"{BASE}/api/v1/feature?expand=%2A"


def test_get_json_gives_up_after_the_policy_attempts() -> None:
    """A GET that keeps failing raises the last error once the policy's attempts are spent."""
    client = _client(lambda request: httpx.Response(500), retry=RetryPolicy.for_tests(attempts=3))
    with pytest.raises(PendoServerError, match="gave up after 3 attempts"):
        client.get_json("/api/v1/page")
    assert (client.stats.requests, client.stats.retries) == (3, 2)


def test_stats_count_body_bytes() -> None:
    """stats.bytes adds up the bodies received, errors included."""
    ok, failed = b'{"results": [{"a": 1}]}', b"Pendo is down"
    client = _client(Script(httpx.Response(503, content=failed), httpx.Response(200, content=ok)))
    client.aggregate_all(PIPELINE)
    assert client.stats.bytes == len(ok) + len(failed)


@pytest.mark.parametrize("status", [401, 403], ids=["401", "403"])
def test_verify_rejects_a_bad_key(status: int) -> None:
    """verify turns 401/403 into the wrong-key-or-region error, after one request."""
    script = Script(httpx.Response(status))
    with pytest.raises(PendoAuthError, match="wrong key or wrong region"):
        _client(script).verify()
    assert script.requests[0].url.path == "/api/v1/metadata/schema/account"


@pytest.mark.parametrize(
    ("body", "error"),
    [(b'{"auto": {}, "agent": {}, "custom": {}}', None), (b"[]", PendoResponseError)],
    ids=["schema-object", "not-an-object"],
)
def test_verify_checks_the_body_is_a_schema(body: bytes, error: type[Exception] | None) -> None:
    """A 200 that is not a schema object means PENDO_BASE_URL points somewhere else."""
    client = _client(Script(httpx.Response(200, content=body)))
    if error is None:
        client.verify()
    else:
        with pytest.raises(error):
            client.verify()


def test_verify_names_an_unreachable_host() -> None:
    """A real refused connection on loopback becomes PendoConnectionError naming host and port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    client = PendoClient(f"http://127.0.0.1:{port}", KEY, retry=RetryPolicy.for_tests())
    with pytest.raises(PendoConnectionError, match=f"127.0.0.1:{port}") as info:
        client.verify()
    assert KEY not in str(info.value)


class GatedTransport(httpx.BaseTransport):
    """Counts requests in flight: from send until their body is closed.

    Each body lingers (a bounded condition wait, not a sleep) until more than `cap` requests are
    in flight, so a missing or early-released slot shows as max_in_flight > cap; with a correct
    cap the wait just times out after `grace` seconds.
    """

    def __init__(self, cap: int, grace: float = 0.02) -> None:
        self.cap, self.grace = cap, grace
        self.in_flight = self.max_in_flight = self.finished = 0
        self.cond = threading.Condition()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self.cond:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.cond.notify_all()
        return httpx.Response(200, stream=_LingeringBody(self), request=request)

    def linger(self) -> None:
        with self.cond:
            self.cond.wait_for(lambda: self.in_flight > self.cap, timeout=self.grace)

    def done(self) -> None:
        with self.cond:
            self.in_flight -= 1
            self.finished += 1
            self.cond.notify_all()


class _LingeringBody(httpx.SyncByteStream):
    def __init__(self, transport: GatedTransport) -> None:
        self.transport = transport

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"results": ['
        self.transport.linger()  # mid-body: the slot must still be held here
        yield b'{"a": 1}]}'

    def close(self) -> None:
        self.transport.done()


@pytest.mark.parametrize("cap", [1, 3], ids=["cap-1", "cap-3"])
def test_concurrency_cap_is_respected(cap: int) -> None:
    """With 12 threads at once, never more than max_concurrency requests are in flight."""
    transport = GatedTransport(cap)
    client = PendoClient(BASE, KEY, transport=transport, max_concurrency=cap, retry=RetryPolicy.for_tests())
    start = threading.Barrier(12)

    def work() -> None:
        start.wait(timeout=5)
        assert client.aggregate_all(PIPELINE) == [{"a": 1}]

    threads = [threading.Thread(target=work) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert transport.max_in_flight == cap
    assert transport.finished == 12
    assert client.stats.requests == 12


def test_closing_a_stream_early_frees_its_slot() -> None:
    """An aggregate abandoned after one row (closed) releases its slot for the next call."""
    body = b'{"results": [{"a": 1}, {"a": 2}]}'
    client = _client(lambda request: httpx.Response(200, content=body), max_concurrency=1)
    with closing(client.aggregate(PIPELINE)) as rows:
        assert next(rows) == {"a": 1}
    result: list[list[dict[str, Any]]] = []
    worker = threading.Thread(target=lambda: result.append(client.aggregate_all(PIPELINE)))
    worker.start()
    worker.join(timeout=5)
    assert result == [[{"a": 1}, {"a": 2}]]


def test_context_manager_closes_the_pool() -> None:
    """Leaving the `with` block closes the underlying httpx client."""
    with _client(Script(_rows_body([]))) as client:
        pass
    with pytest.raises(RuntimeError):
        client.get_json("/api/v1/page")


def test_public_surface_is_sorted_and_importable() -> None:
    """`pendo_core.pendo.client.__all__` is sorted and every name in it exists."""
    assert client_package.__all__ == sorted(client_package.__all__)
    assert all(hasattr(client_package, name) for name in client_package.__all__)
