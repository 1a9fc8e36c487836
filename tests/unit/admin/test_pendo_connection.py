"""The admin's Pendo connection test names the problem, and the host follows the region."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import date

import pytest

from pendo_core.admin.pendo_connection import check_connection, pendo_host
from pendo_sim.data import generate
from pendo_sim.server import SimServer, start_server


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimServer]:
    """A tiny simulated Pendo on loopback that accepts the key `demo-key`."""
    server = start_server(generate(seed=3, accounts=3, days=5, as_of=date(2026, 3, 19)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections but never answers (a host that hangs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize(("key", "where", "outcome"), [
    ("demo-key", "simulator", (True, "Pendo accepted the key")),
    ("wrong-secret-123", "simulator", (False, "wrong key or wrong region")),
    ("demo-key", "closed", (False, "Cannot reach http://127.0.0.1")),
    ("demo-key", "silent", (False, "did not answer in time")),
    ("   ", "simulator", (False, "Enter the integration key")),
    ("bad\nkey-0123", "simulator", (False, "could not be checked")),
], ids=["good-key", "wrong-key", "unreachable", "hangs", "no-key", "unsendable-key"])
def test_connection_test_names_the_problem(simulator: SimServer, silent_port: int, key: str, where: str,
                                           outcome: tuple[bool, str]) -> None:
    """A connection test says plainly whether the key works, and if not, why; never echoing the key."""
    url = {"simulator": simulator.url, "closed": f"http://127.0.0.1:{_closed_port()}",
           "silent": f"http://127.0.0.1:{silent_port}"}[where]
    check = check_connection(key, "us", url, timeout=0.3)
    assert (check.ok, outcome[1] in check.message) == (outcome[0], True), check.message
    assert key.strip() == "" or key not in check.message


@pytest.mark.parametrize(("region", "base_url", "expected"), [
    ("us", None, "https://app.pendo.io"),
    ("eu", None, "https://app.eu.pendo.io"),
    ("eu", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
], ids=["us", "eu", "override-wins"])
def test_host_follows_region_unless_overridden(region: str, base_url: str | None, expected: str) -> None:
    """The tested host is the region's, unless a base URL is given."""
    assert pendo_host(region, base_url) == expected
