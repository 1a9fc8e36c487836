"""The simulator's HTTP server: Pendo's /api/v1 routes over a Subscription, with injectable faults.

Plain `http.server` speaking HTTP/1.1 with standard reason phrases (tap-pendo looks for "Too Many
Requests"). Aggregation answers stream as chunked JSON while the pipeline yields rows; nothing is
ever compressed. Every route needs the integration key header, else 403 with an empty body.
"""

from __future__ import annotations

import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pendo_core.common.config import DEMO_KEY
from pendo_sim.context import EvalContext, QueryError
from pendo_sim.data import Subscription
from pendo_sim.fastpath import fast_rows
from pendo_sim.faults import Decision, Faults, FaultState, corrupt
from pendo_sim.pipeline import parse_request, run_pipeline
from pendo_sim.provider import SimProvider
from pendo_sim.rest import route_get

_log = logging.getLogger(__name__)
API = "/api/v1/"
AGGREGATION = API + "aggregation"
_CHUNK_BYTES = 64 * 1024
RequestLog = tuple[str, str, Any, int]  # method, path with query, JSON body or None, status (0: no answer)


@dataclass
class SimServer:
    """A running simulator; `faults` may be changed while it runs, `requests` logs what it answered."""

    subscription: Subscription
    httpd: ThreadingHTTPServer
    faults: Faults
    key: str
    sleep: Callable[[float], None]
    state: FaultState
    provider: SimProvider
    requests: list[RequestLog] = field(default_factory=list)
    thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:54321 (append /api/v1/...)."""
        host, port = self.httpd.server_address[:2]
        return f"http://{host if isinstance(host, str) else host.decode()}:{port}"

    def stop(self) -> None:
        """Stop serving and release the port."""
        self.httpd.shutdown()
        self.httpd.server_close()
        if self.thread is not None:
            self.thread.join(timeout=5)

    def log(self, method: str, path: str, body: Any, status: int) -> None:
        """Record one request (list.append is atomic under the GIL)."""
        self.requests.append((method, path, body, status))


class _Httpd(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    sim: SimServer


def start_server(
    subscription: Subscription,
    host: str = "127.0.0.1",
    port: int = 0,
    faults: Faults | None = None,
    *,
    key: str = DEMO_KEY,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> SimServer:
    """Serve `subscription` on a daemon thread; port 0 picks a free port."""
    httpd = _Httpd((host, port), _Handler)
    sim = SimServer(subscription, httpd, faults or Faults(), key, sleep, FaultState(clock), SimProvider(subscription))
    httpd.sim = sim
    sim.thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), name="pendo-simulator", daemon=True)
    sim.thread.start()
    return sim


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Httpd

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: tests and the CLI read `requests` instead."""

    def do_GET(self) -> None:
        """Every GET route."""
        self._handle("GET")

    def do_POST(self) -> None:
        """The aggregation route (POST elsewhere is 404/405)."""
        self._handle("POST")

    def _handle(self, method: str) -> None:
        sim = self.server.sim
        raw = self._read_body()
        body = _json_or_none(raw)
        path = urlsplit(self.path).path
        decision = sim.state.decide(sim.faults, method == "POST" and path == AGGREGATION)
        if decision.action == "reset":
            sim.log(method, self.path, body, 0)
            self._reset()
            return
        if decision.delay_seconds:
            sim.sleep(decision.delay_seconds)
        status = self._answer(method, path, raw, decision)
        sim.log(method, self.path, body, status)

    def _answer(self, method: str, path: str, raw: bytes, decision: Decision) -> int:
        sim = self.server.sim
        if decision.action == "rate_limited":
            extra = {} if sim.faults.retry_after is None else {"Retry-After": str(sim.faults.retry_after)}
            return self._send(429, b"Too Many Requests", "text/plain", extra)
        if decision.action == "error":
            return self._send(decision.status, b"simulated server error", "text/plain")
        if self.headers.get("x-pendo-integration-key") != sim.key:
            return self._send(403, b"")
        return self._route(method, path, raw, decision.cut_after_rows)

    def _route(self, method: str, path: str, raw: bytes, cut_after_rows: int | None) -> int:
        if path == AGGREGATION and method == "POST":
            return self._aggregate(raw, cut_after_rows)
        if path == AGGREGATION:
            return self._send(405, b"use POST", "text/plain", {"Allow": "POST"})
        if method != "GET" or not path.startswith(API):
            return self._send(404, b"not found", "text/plain")
        return self._get(path)

    def _get(self, path: str) -> int:
        sim = self.server.sim
        parts = path[len(API) :].rstrip("/").split("/")
        query = parse_qs(urlsplit(self.path).query)
        base64_ids = (self.headers.get("x-pendo-base64-encoded-params") or "").lower() == "true"
        status, payload = route_get(sim.subscription, parts, query, base64_ids)
        if status != 200:
            message = payload if isinstance(payload, str) else "not found"
            return self._send(status, message.encode(), "text/plain")
        return self._send(200, json.dumps(payload).encode(), "application/json")

    def _aggregate(self, raw: bytes, cut_after_rows: int | None) -> int:
        sim = self.server.sim
        sub = sim.subscription
        try:
            request = json.loads(raw)
        except ValueError as exc:
            return self._send(400, f"request body is not valid JSON: {exc}".encode(), "text/plain")
        ctx = EvalContext(sub.now_ms, sub.tz)
        fault = sim.state.answer_fault(sim.faults, request)
        if fault is not None and fault.no_list:
            results = "null" if fault.kind == "results_null" else None
            return self._send(200, _envelope(sub.now_ms, results).encode(), "application/json")
        encoded = _fast(request, sim.provider, ctx) if fault is None else None
        if encoded is None:
            try:
                rows = run_pipeline(parse_request(request), sim.provider, ctx)
            except QueryError as exc:
                return self._send(400, str(exc).encode(), "text/plain")
            except Exception:
                _log.exception("aggregation failed before its first row")
                return self._send(500, b"internal simulator error", "text/plain")
            encoded = (json.dumps(row) for row in (rows if fault is None else corrupt(rows, fault)))
        self._stream(encoded, sub.now_ms, cut_after_rows)
        return 200

    def _stream(self, rows: Iterator[str], start_time: int, cut_after_rows: int | None) -> None:
        """Write the envelope and rows as HTTP chunks; a cut closes the connection mid-body."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        buffer = [f'{{"startTime": {start_time}, "results": [']
        size = 0
        try:
            for count, row in enumerate(rows):
                if cut_after_rows is not None and count >= cut_after_rows:
                    self._write_chunk("".join(buffer))
                    self._hang_up()
                    return
                piece = row if count == 0 else "," + row
                buffer.append(piece)
                size += len(piece)
                if size >= _CHUNK_BYTES:
                    self._write_chunk("".join(buffer))
                    buffer, size = [], 0
        except Exception:  # a failure after the headers went out can only end the connection
            _log.exception("aggregation failed while streaming")
            self._reset()
            return
        buffer.append("]}")
        self._write_chunk("".join(buffer))
        self.wfile.write(b"0\r\n\r\n")

    def _write_chunk(self, text: str) -> None:
        data = text.encode()
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")

    def _send(
        self, status: int, body: bytes, content_type: str | None = None, headers: dict[str, str] | None = None
    ) -> int:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return status

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            return self.rfile.read(length)
        if (self.headers.get("Transfer-Encoding") or "").lower() == "chunked":
            return self._read_chunked()
        return b""

    def _read_chunked(self) -> bytes:
        parts = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            parts.append(self.rfile.read(size))
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers
            pass
        return b"".join(parts)

    def _hang_up(self) -> None:
        """Close the connection in order (FIN): what was sent arrives, the body stays unfinished."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _reset(self) -> None:
        """Drop the connection at once (RST), answering nothing more."""
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


def _envelope(start_time: int, results: str | None) -> str:
    """An answer body whose `results` is the given JSON text, or absent."""
    return f'{{"startTime": {start_time}' + ("" if results is None else f', "results": {results}') + "}"


def _fast(request: Any, provider: SimProvider, ctx: EvalContext) -> Iterator[str] | None:
    """The whole-column answer (fastpath.py) when the request has a shape it knows, else None."""
    try:
        return fast_rows(request, provider, ctx)
    except Exception:  # the general engine answers, or reports the error, instead
        _log.exception("fast path failed; answering with the general engine")
        return None


def _json_or_none(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None
