"""Retrying Pendo calls: which errors, how long to wait, when to stop (after hynek/stamina).

Only `PendoRetriableError` is retried (rate limits, 5xx, timeouts, broken connections); every other
error, ours or not, propagates at once. Waits grow exponentially with random jitter; a server's
`Retry-After` wins over the computed wait. Retries stop at `attempts` calls or when the next wait
would end past `max_seconds` since the first call, whichever comes first; the last error is then
re-raised with the attempt count in its message.

Pendo's aggregation endpoint is a read-only POST, so retrying it is safe on purpose.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pendo_core.pendo.client.errors import PendoRetriableError

T = TypeVar("T")
OnRetry = Callable[[PendoRetriableError, int, float], None]

_MAX_EXPONENT = 64  # beyond this the wait is max_delay anyway; avoids float overflow


@dataclass
class FakeClock:
    """A clock that moves only when slept on or advanced: deterministic retries, no real sleeping."""

    now: float = 0.0
    sleeps: list[float] = field(default_factory=list)

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and move time forward by it."""
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        """Move time forward without sleeping (a slow call)."""
        self.now += seconds


@dataclass(frozen=True)
class RetryPolicy:
    """How a failed Pendo call is retried: bounded by attempts and by total time."""

    attempts: int = 6
    max_seconds: float = 600.0
    base_delay: float = 1.0
    max_delay: float = 60.0
    jitter: float = 1.0
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError(f"attempts must be at least 1, got {self.attempts}")
        if self.max_seconds <= 0:
            raise ValueError(f"max_seconds must be positive, got {self.max_seconds}")
        if min(self.base_delay, self.max_delay, self.jitter) < 0:
            raise ValueError("base_delay, max_delay and jitter must not be negative")

    @classmethod
    def for_tests(cls, **overrides: Any) -> RetryPolicy:
        """A policy on a FakeClock (reachable as `.clock`) with a seeded rng: no test sleeps for real."""
        clock = FakeClock()
        settings: dict[str, Any] = {"sleep": clock.sleep, "clock": clock, "rng": random.Random(0)}
        return cls(**(settings | overrides))

    def backoff(self, attempt: int) -> float:
        """The computed wait after failed attempt number `attempt` (1-based), jitter included."""
        exponential = self.base_delay * 2.0 ** min(attempt - 1, _MAX_EXPONENT)
        return min(self.max_delay, exponential + self.rng.uniform(0.0, self.jitter))

    def delay_for(self, exc: PendoRetriableError, attempt: int) -> float:
        """The wait before the next attempt: the server's Retry-After, else the backoff."""
        return exc.retry_after if exc.retry_after is not None else self.backoff(attempt)

    def call(self, fn: Callable[[], T], *, on_retry: OnRetry | None = None) -> T:
        """Call `fn()` until it succeeds, retrying only PendoRetriableError within the bounds."""
        start = self.clock()
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except PendoRetriableError as exc:  # the only branch retried: no catch-all
                delay = self.delay_for(exc, attempt)
                elapsed = self.clock() - start
                if attempt >= self.attempts or elapsed + delay > self.max_seconds:
                    exc.note_gave_up(attempt, elapsed)
                    raise
                if on_retry is not None:
                    on_retry(exc, attempt, delay)
                self.sleep(delay)
