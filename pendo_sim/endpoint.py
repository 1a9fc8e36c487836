"""Demo mode's Pendo: a simulated subscription served on loopback for the length of one sync."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from pendo_core.common.config import Settings


@contextmanager
def demo_server(settings: Settings, as_of: date, history_days: int) -> Iterator[str]:
    """Serve the demo's story world (seed and size from Settings) with data up to `as_of`; yields its URL.
    The simulator is imported here, not at the top: every `python -m jobs` command installs this endpoint,
    and a sync of a real subscription never starts it (its modules took 0.15-0.2 s of each start)."""
    from pendo_sim.demo_world import demo_world
    from pendo_sim.server import start_server

    world = demo_world(settings.demo_seed, settings.demo_accounts, as_of, settings.pendo_timezone, history_days)
    server = start_server(world.subscription)
    try:
        yield server.url
    finally:
        server.stop()


def install() -> None:
    """Let demo mode sync from this simulator (the library itself never imports pendo_sim)."""
    from pendo_core.pipeline import use_demo_server

    use_demo_server(demo_server)
