"""Specs for RetryPolicy: what is retried, how long it waits, and when it stops. Nothing sleeps."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest

from pendo_core.pendo.client import (
    FakeClock,
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
    RetryPolicy,
)


class Flaky:
    """A call that raises the given errors in turn, then returns "ok"; it can also take time."""

    def __init__(self, errors: list[Exception], clock: FakeClock | None = None, takes: float = 0.0) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.clock = clock
        self.takes = takes

    def __call__(self) -> str:
        self.calls += 1
        if self.clock is not None:
            self.clock.advance(self.takes)
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def _policy(**overrides: object) -> tuple[RetryPolicy, FakeClock]:
    policy = RetryPolicy.for_tests(**overrides)
    assert isinstance(policy.clock, FakeClock)
    return policy, policy.clock


RETRIABLE = [
    PendoRateLimitedError("429"),
    PendoServerError("503"),
    PendoTimeoutError("read timeout"),
    PendoConnectionError("reset"),
]


@pytest.mark.parametrize("error", RETRIABLE, ids=["rate-limited", "server", "timeout", "connection"])
def test_retriable_errors_are_retried_until_success(error: PendoRetriableError) -> None:
    """Each retriable error is retried; the call's value comes back once it succeeds."""
    policy, clock = _policy()
    call = Flaky([error, error])
    assert policy.call(call) == "ok"
    assert call.calls == 3
    assert len(clock.sleeps) == 2


@pytest.mark.parametrize(
    "error",
    [
        PendoAuthError("403"),
        PendoQueryError("400"),
        PendoNotFoundError("404"),
        PendoResponseError("bad shape"),
        PendoError("root"),
        ValueError("a bug"),
        httpx.ConnectError("untranslated"),
    ],
    ids=["auth", "query", "not-found", "response-shape", "root", "value-error", "raw-httpx"],
)
def test_other_errors_are_never_retried(error: Exception) -> None:
    """Only PendoRetriableError is retried: anything else propagates from the first call, unslept."""
    policy, clock = _policy()
    call = Flaky([error])
    with pytest.raises(type(error)):
        policy.call(call)
    assert call.calls == 1
    assert clock.sleeps == []


@pytest.mark.parametrize("attempts", [1, 3, 6], ids=["one", "three", "default-six"])
def test_attempts_are_bounded(attempts: int) -> None:
    """A call that always fails runs exactly `attempts` times; the count is in the final message."""
    policy, clock = _policy(attempts=attempts)
    call = Flaky([PendoServerError("Pendo failed on its side") for _ in range(10)])
    with pytest.raises(PendoServerError) as info:
        policy.call(call)
    assert call.calls == attempts
    assert len(clock.sleeps) == attempts - 1
    assert f"gave up after {attempts} attempt" in str(info.value)
    assert info.value.attempts == attempts


def test_total_time_is_bounded_even_with_attempts_left() -> None:
    """Slow failing calls stop before any wait would end past max_seconds."""
    # Calls take 100 s; waits are 1 s then 2 s. After call 2 (t=201) a 2 s wait would end at 203.
    policy, clock = _policy(attempts=100, max_seconds=202.0, jitter=0.0)
    call = Flaky([PendoTimeoutError("slow") for _ in range(100)], clock=clock, takes=100.0)
    ends: list[float] = []
    with pytest.raises(PendoTimeoutError, match="gave up after 2 attempts"):
        policy.call(call, on_retry=lambda exc, attempt, delay: ends.append(clock.now + delay))
    assert call.calls == 2
    assert ends == [101.0]


def test_retry_after_beyond_the_budget_gives_up_without_sleeping() -> None:
    """A server asking for a wait that would overrun max_seconds ends the retries at once."""
    policy, clock = _policy(max_seconds=600.0)
    call = Flaky([PendoRateLimitedError("429", retry_after=3600.0)])
    with pytest.raises(PendoRateLimitedError, match="gave up after 1 attempt"):
        policy.call(call)
    assert clock.sleeps == []


@pytest.mark.parametrize(
    "retry_after", [0.0, 7.0, 120.0], ids=["zero", "shorter-than-backoff-cap", "longer-than-max-delay"]
)
def test_retry_after_wins_over_backoff(retry_after: float) -> None:
    """The server's Retry-After is the wait, even past max_delay, instead of the computed backoff."""
    policy, clock = _policy(base_delay=30.0, max_delay=60.0)
    call = Flaky([PendoRateLimitedError("429", retry_after=retry_after)])
    assert policy.call(call) == "ok"
    assert clock.sleeps == [retry_after]


def test_backoff_without_retry_after_grows_exponentially() -> None:
    """Without Retry-After waits double each attempt (jitter off to see the bare curve)."""
    policy, clock = _policy(jitter=0.0, base_delay=1.0, max_delay=60.0, attempts=9)
    call = Flaky([PendoServerError("5xx") for _ in range(8)])
    policy.call(call)
    assert clock.sleeps == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4], ids=lambda s: f"seed-{s}")
def test_jitter_stays_within_bounds(seed: int) -> None:
    """Each wait lies in [base*2^(n-1), base*2^(n-1) + jitter], capped at max_delay."""
    policy = RetryPolicy.for_tests(rng=random.Random(seed), base_delay=0.5, jitter=2.0, max_delay=10.0)
    for attempt in range(1, 8):
        floor = 0.5 * 2 ** (attempt - 1)
        wait = policy.backoff(attempt)
        assert min(10.0, floor) <= wait <= min(10.0, floor + 2.0)


def test_jitter_actually_varies() -> None:
    """Jitter spreads retries: repeated waits for the same attempt are not all equal."""
    policy = RetryPolicy.for_tests(rng=random.Random(42))
    assert len({policy.backoff(1) for _ in range(20)}) > 10


def test_on_retry_is_told_error_attempt_and_delay() -> None:
    """on_retry sees each retried error with its 1-based attempt and the wait about to be slept."""
    policy, clock = _policy()
    first, second = PendoServerError("a"), PendoConnectionError("b", retry_after=5.0)
    seen: list[tuple[Exception, int, float]] = []
    policy.call(Flaky([first, second]), on_retry=lambda e, n, d: seen.append((e, n, d)))
    assert [(e, n) for e, n, _ in seen] == [(first, 1), (second, 2)]
    assert [d for *_, d in seen] == clock.sleeps
    assert seen[1][2] == 5.0


@pytest.mark.parametrize(
    "bad",
    [{"attempts": 0}, {"max_seconds": 0.0}, {"jitter": -1.0}, {"base_delay": -0.1}],
    ids=["no-attempts", "no-time", "negative-jitter", "negative-base"],
)
def test_nonsense_policies_are_rejected(bad: dict[str, float]) -> None:
    """A policy that could never call, or would wait negative time, fails at construction."""
    with pytest.raises(ValueError, match="must"):
        RetryPolicy.for_tests(**bad)


def test_default_policy_uses_real_time_but_for_tests_does_not() -> None:
    """The production defaults are the brief's numbers; for_tests swaps only sleep, clock and rng."""
    real, fake = RetryPolicy(), RetryPolicy.for_tests()
    assert (real.attempts, real.max_seconds, real.base_delay, real.max_delay, real.jitter) == (
        6,
        600.0,
        1.0,
        60.0,
        1.0,
    )
    assert isinstance(fake.clock, FakeClock)
    assert (fake.attempts, fake.max_seconds) == (real.attempts, real.max_seconds)
    sleep: Callable[[float], None] = fake.sleep
    sleep(3.0)
    assert fake.clock() == 3.0
