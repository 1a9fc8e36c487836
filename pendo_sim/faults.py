"""Failure modes the simulator can inject, chosen by request count so tests are deterministic.

Requests are numbered from 1 in arrival order (every request counts, whatever its route or key).
For request number n, in this order:
  reset_every K     n % K == 0: the connection is closed (reset) without any response
  delay_seconds S   the response waits S seconds before its headers
  rate_limit_per_second N   more than N arrivals within one second: 429 Too Many Requests
                    (with `Retry-After: retry_after` when set); counted on the server's clock
  error_every K     n % K == 0: a 5xx, cycling through error_statuses
  cut_after_rows R  an aggregation answer stops after R rows: the connection closes without
                    finishing the chunked body (every aggregation, or every cut_every-th one)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Action = Literal["reset", "rate_limited", "error", "serve"]


@dataclass
class Faults:
    """Fault settings; tests mutate them while the server runs (None or 0 switches one off)."""

    rate_limit_per_second: int | None = None
    retry_after: int | None = None
    error_every: int | None = None
    error_statuses: tuple[int, ...] = (500, 502, 503)
    delay_seconds: float = 0.0
    cut_after_rows: int | None = None
    cut_every: int = 1
    reset_every: int | None = None


@dataclass(frozen=True)
class Decision:
    """What to do with one request."""

    number: int
    action: Action
    status: int = 200
    delay_seconds: float = 0.0
    cut_after_rows: int | None = None


@dataclass
class FaultState:
    """Counts requests and arrivals; decide() is safe to call from the server's threads."""

    clock: Callable[[], float]
    requests: int = 0
    aggregations: int = 0
    errors: int = 0
    _arrivals: deque[float] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def decide(self, faults: Faults, is_aggregation: bool) -> Decision:
        """Number the request and pick its fate from the current settings."""
        with self._lock:
            self.requests += 1
            n = self.requests
            now = self.clock()
            self._arrivals.append(now)
            while self._arrivals and self._arrivals[0] <= now - 1.0:
                self._arrivals.popleft()
            if _hits(n, faults.reset_every):
                return Decision(n, "reset")
            delay = max(faults.delay_seconds, 0.0)
            limit = faults.rate_limit_per_second
            if limit is not None and len(self._arrivals) > limit:
                return Decision(n, "rate_limited", 429, delay)
            if _hits(n, faults.error_every) and faults.error_statuses:
                self.errors += 1
                status = faults.error_statuses[(self.errors - 1) % len(faults.error_statuses)]
                return Decision(n, "error", status, delay)
            return Decision(n, "serve", 200, delay, self._cut(faults, is_aggregation))

    def _cut(self, faults: Faults, is_aggregation: bool) -> int | None:
        if not is_aggregation:
            return None
        self.aggregations += 1
        if faults.cut_after_rows is None or not _hits(self.aggregations, max(faults.cut_every, 1)):
            return None
        return faults.cut_after_rows


def _hits(n: int, every: int | None) -> bool:
    return bool(every) and every is not None and every > 0 and n % every == 0
