"""The run's first request (the key check) is retried like every other: one 503 or 429 costs a retry,
not the run. A real PendoClient over httpx.MockTransport; the policy's clock is fake, so nothing sleeps."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import Engine

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.client.http import VERIFY_PATH
from pendo_core.pendo.sync.runner import SyncError, SyncRequest, SyncRunner

BASE = "https://app.pendo.io"
EMPTY = {"startTime": 1, "results": []}


class Pendo:
    """Answers the key check with `first` (in order) then a schema; every other request with no rows."""

    def __init__(self, *first: httpx.Response) -> None:
        self.first = list(first)
        self.checks = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == VERIFY_PATH:
            self.checks += 1
            return self.first.pop(0) if self.first else httpx.Response(200, json={"auto": {}})
        if request.method == "POST":
            return httpx.Response(200, json=EMPTY)
        return httpx.Response(200, json=[])


def _run(engine: Engine, pendo: Pendo, attempts: int = 6) -> int:
    """Retries the run made; raises SyncError when it failed."""
    settings = Settings(pendo_integration_key="k", pendo_base_url=BASE)
    retry = RetryPolicy.for_tests(attempts=attempts)
    with PendoClient(BASE, "k", transport=httpx.MockTransport(pendo), retry=retry) as client:
        return SyncRunner(settings, engine, client).run(SyncRequest(date(2024, 3, 20), 2)).retries


@pytest.mark.parametrize("first", [
    [httpx.Response(503)],
    [httpx.Response(429, headers={"Retry-After": "3"})],
    [httpx.Response(502), httpx.Response(429), httpx.Response(500)],
], ids=["one-503", "one-429", "three-transient-failures"])
def test_transient_failures_of_the_first_request_are_retried(sqlite_engine: Engine,
                                                             first: list[httpx.Response]) -> None:
    """The run succeeds; each failure counts as one retry of the key check."""
    pendo = Pendo(*first)
    assert _run(sqlite_engine, pendo) == len(first)
    assert pendo.checks == len(first) + 1


def test_a_first_request_that_keeps_failing_fails_the_run_after_the_policy(sqlite_engine: Engine) -> None:
    """Past the policy's attempts the run stops with one line saying how hard it tried."""
    pendo = Pendo(*[httpx.Response(503)] * 5)
    with pytest.raises(SyncError, match="gave up after 3 attempts"):
        _run(sqlite_engine, pendo, attempts=3)
    assert pendo.checks == 3


def test_a_refused_key_is_not_retried(sqlite_engine: Engine) -> None:
    """403 is wrong key or region: retrying cannot help, so the run stops after one request."""
    pendo = Pendo(httpx.Response(403))
    with pytest.raises(SyncError, match="wrong key or wrong region"):
        _run(sqlite_engine, pendo)
    assert pendo.checks == 1
