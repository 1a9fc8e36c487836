"""Specs for streaming aggregations: rows flow while the body is still arriving, and real cut-offs fail."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pendo_core.pendo.client import PendoClient, PendoConnectionError, RetryPolicy, queries

KEY = "demo-key"
PIPELINE = queries.events_by_visitor_day(1709614800000, 1709614800000, identified_only=True)
ROWS, ROWS_PER_CHUNK = 200_000, 1_000


def _row(i: int) -> str:
    return (
        f'{{"accountId": "acct-{i % 997}", "visitorId": "visitor-{i}", "day": 1709614800000, '
        f'"numEvents": {i % 50}, "numMinutes": {i % 7}.5}}'
    )


class LazyBody(httpx.SyncByteStream):
    """A 200k-row aggregation body produced chunk by chunk, counting how many rows it has made."""

    def __init__(self) -> None:
        self.produced = 0

    def __iter__(self) -> Iterator[bytes]:
        yield b'{"startTime": 1709700000000, "results": ['
        for start in range(0, ROWS, ROWS_PER_CHUNK):
            rows = ",".join(_row(i) for i in range(start, start + ROWS_PER_CHUNK))
            self.produced += ROWS_PER_CHUNK
            yield (("," if start else "") + rows).encode()
        yield b"]}"


def test_rows_stream_while_the_body_is_produced() -> None:
    """200k rows: each row is yielded at most one chunk behind the producer, so memory stays flat."""
    body = LazyBody()
    transport = httpx.MockTransport(lambda request: httpx.Response(200, stream=body))
    client = PendoClient("https://app.pendo.io", KEY, transport=transport)
    first_seen_at, max_lead, count = None, 0, 0
    for row in client.aggregate(PIPELINE):
        if first_seen_at is None:
            first_seen_at = body.produced
        max_lead = max(max_lead, body.produced - count)
        count += 1
        assert isinstance(row["numMinutes"], float)
    assert count == ROWS
    assert first_seen_at == ROWS_PER_CHUNK  # the first row came after 0.5 % of the body
    assert max_lead <= ROWS_PER_CHUNK  # never more than one chunk of rows held at once
    assert client.stats.bytes > 20_000_000


class CutOffHandler(BaseHTTPRequestHandler):
    """A real HTTP/1.1 server that starts a body, sends a few rows, then drops the connection."""

    protocol_version = "HTTP/1.1"
    framing = "chunked"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["content-length"]))
        head = b'{"startTime": 1, "results": [{"accountId": "a1"}, {"accountId": "a2"}, {"accountId": "a3"},'
        self.send_response(200)
        self.send_header("content-type", "application/json")
        if self.framing == "chunked":
            self.send_header("transfer-encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(head), head))  # no terminating 0-chunk follows
        else:
            self.send_header("content-length", str(len(head) * 10))  # promises more than it sends
            self.end_headers()
            self.wfile.write(head)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
        return


class ContentLengthCutOffHandler(CutOffHandler):
    framing = "content-length"


@pytest.fixture(params=[CutOffHandler, ContentLengthCutOffHandler], ids=["chunked", "content-length"])
def cut_off_server(request: pytest.FixtureRequest) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_real_connection_dropped_mid_body(cut_off_server: str) -> None:
    """Over a real socket, a body cut off after three rows yields them, then PendoConnectionError."""
    seen: list[dict[str, Any]] = []
    client = PendoClient(cut_off_server, KEY, retry=RetryPolicy.for_tests(), timeout=10.0)
    with client, pytest.raises(PendoConnectionError) as info:
        seen.extend(client.aggregate(PIPELINE))
    assert [row["accountId"] for row in seen] == ["a1", "a2", "a3"]
    assert "127.0.0.1" in str(info.value)
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


def test_real_cut_off_is_retried_by_aggregate_all(cut_off_server: str) -> None:
    """aggregate_all treats the real cut-off as transient and retries it up to the policy's bound."""
    with PendoClient(cut_off_server, KEY, retry=RetryPolicy.for_tests(attempts=3), timeout=10.0) as client:
        with pytest.raises(PendoConnectionError, match="gave up after 3 attempts"):
            client.aggregate_all(PIPELINE)
        assert (client.stats.requests, client.stats.retries) == (3, 2)
