"""Answer faults: the simulator corrupts well-formed answers of one source on purpose, for sync tests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.client import PendoClient, PendoResponseError, RetryPolicy, queries
from pendo_sim.data import generate
from pendo_sim.faults import AnswerFault, corrupt
from pendo_sim.server import SimServer, start_server

ROWS = [{"id": i, "n": i * 10} for i in range(5)]


@pytest.mark.parametrize(("fault", "expected"), [
    (AnswerFault("events", "set", field="n", value="x", every=2),
     [{"id": 0, "n": "x"}, {"id": 1, "n": 10}, {"id": 2, "n": "x"}, {"id": 3, "n": 30}, {"id": 4, "n": "x"}]),
    (AnswerFault("events", "delete", field="n", offset=3, every=99), [*ROWS[:3], {"id": 3}, ROWS[4]]),
    (AnswerFault("events", "duplicate", offset=1, every=99), [ROWS[0], ROWS[1], ROWS[1], *ROWS[2:]]),
    (AnswerFault("events", "drop", offset=2), ROWS[:2]),
    (AnswerFault("events", "results_null"), []),
], ids=["set-every-other", "delete-one-field", "duplicate-one-row", "drop-from-offset", "no-list"])
def test_corrupt_hits_the_rows_it_names(fault: AnswerFault, expected: list[dict[str, Any]]) -> None:
    """Rows hit are every `every`-th from `offset`; the rest pass unchanged and in order."""
    assert list(corrupt(iter(ROWS), fault)) == expected


@pytest.mark.parametrize(("fault", "period", "hit"), [
    (AnswerFault("events", "drop"), "dayRange", True),
    (AnswerFault("events", "drop", period="hourRange"), "dayRange", False),
    (AnswerFault("pageEvents", "drop"), "dayRange", False),
], ids=["source", "other-period", "other-source"])
def test_a_fault_matches_its_source_and_period(fault: AnswerFault, period: str, hit: bool) -> None:
    """Matching reads the request's first source and its timeSeries period."""
    request = {"request": {"pipeline": [{"source": {"events": None, "timeSeries": {"period": period}}}]}}
    assert fault.matches(request) is hit


@pytest.fixture
def server() -> Iterator[SimServer]:
    sub = generate(seed=3, accounts=6, days=20, as_of=date(2024, 3, 15), tz="UTC")
    srv = start_server(sub)
    yield srv
    srv.stop()


def _events(server: SimServer, *, require_results: bool = False) -> list[dict[str, Any]]:
    day = local_midnight_ms(date(2024, 3, 12), server.subscription.tz)
    with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client:
        pipeline = queries.events_by_visitor_day(day, day, True)
        return list(client.aggregate(pipeline, require_results=require_results))


@pytest.mark.parametrize("kind", ["results_null", "results_missing"])
def test_an_answer_without_its_list_reaches_the_client(server: SimServer, kind: str) -> None:
    """Over HTTP: a lenient read sees no rows; a read that requires the list gets a PendoResponseError."""
    server.faults.answer = AnswerFault("events", kind)  # type: ignore[arg-type]
    assert _events(server) == []
    with pytest.raises(PendoResponseError, match="without a list of rows"):
        _events(server, require_results=True)


def test_only_the_first_answers_are_corrupted(server: SimServer) -> None:
    """`answers=1`: the first matching answer is corrupted, the next one is whole again."""
    clean = _events(server)
    server.faults.answer = AnswerFault("events", "set", field="numEvents", value="7", answers=1)
    corrupted = _events(server)
    assert {r["numEvents"] for r in corrupted} == {"7"}
    assert _events(server) == clean
    assert isinstance(clean[0]["numEvents"], int)
