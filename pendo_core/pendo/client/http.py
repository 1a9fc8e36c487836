"""PendoClient: the one object that talks HTTP to Pendo (after encode/httpx's small surface).

One `httpx.Client` (HTTP/1.1, the integration key header, JSON in and out) behind a bounded
semaphore, so at most `max_concurrency` requests are in flight, a streaming response counting as in
flight until it is closed. Transport failures and status codes become PendoError subclasses
(see `errors.py`); retries follow the injected RetryPolicy.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, TypeVar

import httpx
import msgspec
from pydantic import SecretStr

from pendo_core.pendo.client._body import iter_rows, parse_json
from pendo_core.pendo.client.errors import (
    KEY_HEADER,
    PendoRetriableError,
    classify_response,
    host_of,
    malformed_body_error,
    quotes_key,
    translate_transport_error,
)
from pendo_core.pendo.client.queries import Pipeline, aggregation_request
from pendo_core.pendo.client.retry import RetryPolicy

T = TypeVar("T")
log = logging.getLogger(__name__)

AGGREGATION_PATH = "/api/v1/aggregation"
VERIFY_PATH = "/api/v1/metadata/schema/account"  # Airbyte's and tap-pendo's cheap key check (§1.4)
USER_AGENT = f"cscx-pendo-usage/0.1 (CSCX Pendo Usage sync) python-httpx/{httpx.__version__}"
_MAX_CONNECT_TIMEOUT = 30.0  # an unreachable host should fail fast even when reads may take minutes


@dataclass
class ClientStats:
    """Thread-safe counters: requests sent, retries made, body bytes received (after decoding)."""

    requests: int = 0
    retries: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, *, requests: int = 0, retries: int = 0, nbytes: int = 0) -> None:
        """Add to the counters atomically."""
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.bytes += nbytes


class PendoClient:
    """A thread-safe client for Pendo's read API: aggregations (streamed) and REST GETs."""

    def __init__(
        self,
        base_url: str,
        integration_key: str | SecretStr,
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
        retry: RetryPolicy | None = None,
        max_concurrency: int = 4,
    ) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {max_concurrency}")
        self.base_url = base_url.rstrip("/")
        self.retry = retry or RetryPolicy()
        self.stats = ClientStats()
        self._gate = threading.BoundedSemaphore(max_concurrency)
        self._http = httpx.Client(
            base_url=self.base_url,
            headers=_headers(_secret(integration_key)),
            timeout=httpx.Timeout(timeout, connect=min(timeout, _MAX_CONNECT_TIMEOUT)),
            limits=httpx.Limits(max_connections=max_concurrency, max_keepalive_connections=max_concurrency),
            transport=transport,
            http1=True,
            http2=False,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"PendoClient(base_url={self.base_url!r})"

    def __enter__(self) -> PendoClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def host(self) -> str:
        """`host[:port]` of the Pendo API, for messages."""
        return host_of(httpx.URL(self.base_url))

    def aggregate(
        self, pipeline: Pipeline, *, request_id: str | None = None, require_results: bool = False,
        row_type: type[msgspec.Struct] | None = None,
    ) -> Generator[Any, None, None]:
        """Stream the rows of one aggregation (dicts; with `row_type`, instances of it where a batch of rows
        fits it: `_body.iter_rows`); no retries here (the caller retries a whole window).

        Lazy: the request is sent on the first `next()`. A concurrency slot is held until the
        iterator is exhausted or closed, so close it (or use `contextlib.closing`) if you stop early,
        and do not open more than `max_concurrency` streams at once from one thread. With
        `require_results`, a body whose `results` is null or missing ends in a PendoResponseError.
        """
        body = aggregation_request(pipeline, request_id=request_id)
        with self._exchange("POST", AGGREGATION_PATH, json=body) as response:
            yield from iter_rows(self._counted(response.iter_bytes()), host=self.host,
                                 require_results=require_results, row_type=row_type)

    def aggregate_all(self, pipeline: Pipeline, *, request_id: str | None = None) -> list[dict[str, Any]]:
        """All rows of a small aggregation (entity queries), retried as a whole by the policy."""
        return self.retrying(lambda: list(self.aggregate(pipeline, request_id=request_id)))

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` (e.g. /api/v1/feature with {"expand": "*"}) and parse its JSON, with retries."""
        return self.retrying(lambda: self._get_json_once(path, params))

    def verify(self) -> None:
        """One cheap read call: raises PendoAuthError (wrong key/region) or PendoConnectionError.

        A single attempt, so an interactive key check answers at once; a sync run wraps it in
        `retrying` like every other request.
        """
        schema = self._get_json_once(VERIFY_PATH, None)
        if not isinstance(schema, dict):
            raise malformed_body_error(self.host, f"{VERIFY_PATH} is not a metadata schema object")

    def retrying(self, fn: Callable[[], T]) -> T:
        """Run `fn` under the retry policy, counting each retry in `stats.retries`."""
        return self.retry.call(fn, on_retry=self._count_retry)

    def _count_retry(self, exc: PendoRetriableError, attempt: int, delay: float) -> None:
        self.stats.add(retries=1)
        log.warning("Pendo call failed (attempt %d), retrying in %.1fs: %s", attempt, delay, exc)

    def _get_json_once(self, path: str, params: dict[str, Any] | None) -> Any:
        with self._exchange("GET", path, params=params) as response:
            content = response.read()
            self.stats.add(nbytes=len(content))
            return parse_json(content, host=self.host)

    def _counted(self, chunks: Iterator[bytes]) -> Iterator[bytes]:
        for chunk in chunks:
            self.stats.add(nbytes=len(chunk))
            yield chunk

    @contextmanager
    def _exchange(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Iterator[httpx.Response]:
        """Send under a concurrency slot; yield a 2xx streaming response; translate httpx errors."""
        with self._gate, _translated_transport_errors():
            request = self._http.build_request(method, path, json=json, params=params)
            self.stats.add(requests=1)
            response = self._http.send(request, stream=True)
            try:
                if not response.is_success:  # error bodies are small; the 400 message comes from it
                    self.stats.add(nbytes=len(response.read()))
                classify_response(response)
                yield response
            finally:
                response.close()


@contextmanager
def _translated_transport_errors() -> Iterator[None]:
    """The single point where httpx's request errors become PendoErrors."""
    try:
        yield
    except httpx.RequestError as exc:
        # Chaining keeps httpx's detail for tracebacks, unless that detail quotes the key.
        raise translate_transport_error(exc) from (None if quotes_key(exc) else exc)


def _secret(integration_key: str | SecretStr) -> str:
    raw = integration_key.get_secret_value() if isinstance(integration_key, SecretStr) else integration_key
    key = raw.strip()  # a trailing newline from a secrets file would make the header illegal
    if not key:
        raise ValueError("the Pendo integration key is empty: set PENDO_INTEGRATION_KEY")
    return key


def _headers(key: str) -> dict[str, str]:
    return {
        KEY_HEADER: key,
        "content-type": "application/json",
        "accept": "application/json",
        "user-agent": USER_AGENT,
    }
