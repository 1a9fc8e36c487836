"""Every error the Pendo client raises, and the one place httpx's errors become ours.

    PendoError                      root: catch this to handle anything from the client; raised
    │                               bare only for our own misconfiguration (a non-http URL, a key
    │                               httpx cannot put in a header)
    ├── PendoAuthError              401 / 403: wrong key or wrong region
    ├── PendoQueryError             400 (and other 4xx): Pendo rejected the request; carries its message
    ├── PendoNotFoundError          404: no such entity (Pendo also answers 404 for "no access")
    ├── PendoResponseError          a complete body that is not what we expect (HTML, wrong shape,
    │                               a redirect); retrying will not help
    └── PendoRetriableError         transient: RetryPolicy retries exactly this branch; `retry_after`
        ├── PendoRateLimitedError   429
        ├── PendoServerError        5xx
        ├── PendoTimeoutError       connect / read / write / pool timeouts, and HTTP 408
        └── PendoConnectionError    refused, reset, a body cut off mid-stream, truncated JSON

`classify_response` (status codes) and `translate_transport_error` (httpx exceptions) are the only
places that map the outside world onto this tree.

Messages are one line, name the cause and the fix, and never contain the integration key: every
text that could echo it (a server body, an httpx message) is redacted here before it is used.
"""

from __future__ import annotations

import math
import re
import time
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

KEY_HEADER = "x-pendo-integration-key"
REDACTED = "<redacted>"
_MAX_DETAIL = 200
_CONFIG_HINT = "PENDO_REGION / PENDO_BASE_URL"


class PendoError(Exception):
    """Root of every error raised by the Pendo client."""

    def __init__(self, message: str, *, status_code: int | None = None, host: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.host = host
        self.attempts: int | None = None
        self._gave_up = ""

    def note_gave_up(self, attempts: int, elapsed_s: float) -> None:
        """Record that retries stopped here, so the message says how hard we tried."""
        self.attempts = attempts
        self._gave_up = f" (gave up after {attempts} attempt{'s' if attempts != 1 else ''}, {elapsed_s:.1f}s)"

    def __str__(self) -> str:
        return self.message + self._gave_up


class PendoAuthError(PendoError):
    """Pendo refused the integration key (401/403): wrong key or wrong region."""


class PendoQueryError(PendoError):
    """Pendo rejected the request as malformed (400); `server_message` holds its short reason."""

    def __init__(
        self,
        message: str,
        *,
        server_message: str = "",
        status_code: int | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, host=host)
        self.server_message = server_message


class PendoNotFoundError(PendoError):
    """Pendo has no such resource (404)."""


class PendoResponseError(PendoError):
    """A complete response that is not the expected shape; not retriable."""


class PendoRetriableError(PendoError):
    """A transient failure; `retry_after` is the server's requested wait in seconds, if any."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status_code: int | None = None,
        host: str | None = None,
    ) -> None:
        super().__init__(message, status_code=status_code, host=host)
        self.retry_after = retry_after


class PendoRateLimitedError(PendoRetriableError):
    """Pendo is throttling us (429)."""


class PendoServerError(PendoRetriableError):
    """Pendo failed on its side (5xx)."""


class PendoTimeoutError(PendoRetriableError):
    """Pendo did not answer in time (a client timeout, or HTTP 408)."""


class PendoConnectionError(PendoRetriableError):
    """The connection failed or broke, or the body ended before the JSON did."""


# --- text helpers -------------------------------------------------------------------------------


def redact(text: str, secret: str | None) -> str:
    """`text` with every occurrence of `secret` replaced by a placeholder."""
    return text.replace(secret, REDACTED) if secret else text


def one_line(text: str, secret: str | None, limit: int = _MAX_DETAIL) -> str:
    """Collapse whitespace, redact the key, and cut to `limit` characters."""
    flat = re.sub(r"\s+", " ", redact(text, secret)).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def host_of(url: httpx.URL) -> str:
    """`host[:port]` of a URL, for messages."""
    return url.netloc.decode("ascii", errors="replace")


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date); None if absent/bad."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


# --- status codes: the one classifier ------------------------------------------------------------


def classify_response(response: httpx.Response) -> None:
    """Return if the response is 2xx, else raise the matching PendoError (reads no more body)."""
    if response.is_success:
        return
    raise _error_for_status(response)


def _error_for_status(response: httpx.Response) -> PendoError:
    status, host = response.status_code, host_of(response.request.url)
    where = f"HTTP {status} from {host}"
    if status in (401, 403):
        return PendoAuthError(
            f"Pendo refused the integration key ({where}): wrong key or wrong region. "
            f"Check PENDO_INTEGRATION_KEY and {_CONFIG_HINT}.",
            status_code=status,
            host=host,
        )
    if status == 404:
        path = response.request.url.path
        return PendoNotFoundError(
            f"Pendo has no resource at {path} ({where}): check the id, and that {_CONFIG_HINT} "
            "points at Pendo's API.",
            status_code=status,
            host=host,
        )
    if status in (408, 429) or status >= 500:
        return _retriable_for_status(response, where, host)
    if 400 <= status < 500:
        return _query_error(response, where, host)
    return PendoResponseError(
        f"Pendo answered with unexpected {where} (location: {response.headers.get('location', '-')}): "
        f"check {_CONFIG_HINT} is the https:// API host.",
        status_code=status,
        host=host,
    )


def _retriable_for_status(response: httpx.Response, where: str, host: str) -> PendoRetriableError:
    status = response.status_code
    wait = parse_retry_after(response.headers.get("retry-after"))
    if status == 408:
        return PendoTimeoutError(
            f"Pendo timed out the request ({where}): retry; if it persists, narrow the sync window.",
            retry_after=wait,
            status_code=status,
            host=host,
        )
    if status == 429:
        return PendoRateLimitedError(
            f"Pendo is rate limiting this key ({where}): retry later, or lower MAX_CONCURRENCY.",
            retry_after=wait,
            status_code=status,
            host=host,
        )
    return PendoServerError(
        f"Pendo failed on its side ({where}): retry later; if it persists, narrow the sync window.",
        retry_after=wait,
        status_code=status,
        host=host,
    )


def _query_error(response: httpx.Response, where: str, host: str) -> PendoQueryError:
    secret = response.request.headers.get(KEY_HEADER)
    try:
        said = one_line(response.text, secret) or "no message"
    except httpx.ResponseNotRead:
        said = "body not read"
    fix = (
        "fix the pipeline or filter (an unescaped quote in an id is a common cause)"
        if response.status_code == 400
        else f"check the request and {_CONFIG_HINT}"
    )
    return PendoQueryError(
        f"Pendo rejected the request ({where}: {said}): {fix}.",
        server_message=said,
        status_code=response.status_code,
        host=host,
    )


# --- transport failures: the one translator -------------------------------------------------------

_TIMEOUT_KINDS: dict[type[httpx.TimeoutException], str] = {
    httpx.ConnectTimeout: "connect",
    httpx.ReadTimeout: "read",
    httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def translate_transport_error(exc: httpx.RequestError) -> PendoError:
    """The PendoError for an httpx request failure (the caller raises it `from exc`)."""
    request = _request_of(exc)
    host = host_of(request.url) if request is not None else "Pendo"
    secret = request.headers.get(KEY_HEADER) if request is not None else None
    if isinstance(exc, httpx.TimeoutException):
        kind = _TIMEOUT_KINDS.get(type(exc), "request")
        return PendoTimeoutError(
            f"Pendo at {host} did not answer in time ({kind} timeout): retry; if it persists, "
            "narrow the sync window or raise REQUEST_TIMEOUT_S.",
            host=host,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return PendoError(f"The Pendo URL for {host} is not http(s): set {_CONFIG_HINT} like https://app.pendo.io.")
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text can quote our own headers, the key among them: say nothing more specific.
        return PendoError(
            "httpx refused to send the request (LocalProtocolError): check that PENDO_INTEGRATION_KEY "
            "has no stray characters."
        )
    reason = one_line(f"{type(exc).__name__}: {exc}", secret)
    if isinstance(exc, httpx.ConnectError | httpx.ProxyError):
        return PendoConnectionError(
            f"Cannot reach Pendo at {host} ({reason}): check the network and {_CONFIG_HINT}.", host=host
        )
    return PendoConnectionError(
        f"The connection to Pendo at {host} broke ({reason}): retry; if it persists, check the network "
        "or proxy.",
        host=host,
    )


def quotes_key(exc: httpx.RequestError) -> bool:
    """True when httpx's own text for `exc` contains the key, so it must not be chained or logged."""
    request = _request_of(exc)
    secret = request.headers.get(KEY_HEADER, "") if request is not None else ""
    return bool(secret) and (secret in str(exc) or secret in repr(exc.args))


def _request_of(exc: httpx.RequestError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # httpx raises this when the error was built without a request
        return None


def truncated_body_error(host: str, rows: int) -> PendoConnectionError:
    """The body ended before its JSON did: the connection dropped, so the window should be retried."""
    return PendoConnectionError(
        f"The response from {host} ended before its JSON was complete (after {rows} rows): "
        "retry; if it persists, narrow the sync window.",
        host=host,
    )


def malformed_body_error(host: str, detail: str) -> PendoResponseError:
    """A complete body that is not the JSON shape we asked for."""
    return PendoResponseError(
        f"{host} answered with a body that is not Pendo's JSON ({detail}): check {_CONFIG_HINT} "
        "points at Pendo's API.",
        host=host,
    )
