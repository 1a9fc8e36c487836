"""Fixtures the sync's integration modules share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pendo_sim.data import Subscription
from pendo_sim.server import SimServer, start_server


@pytest.fixture(scope="module")
def server(subscription: Subscription) -> Iterator[SimServer]:
    """The simulator serving the module's own `subscription` fixture over HTTP, for the module's tests."""
    sim = start_server(subscription)
    yield sim
    sim.stop()
