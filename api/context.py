"""What every request needs, built once at the edge: the store, settings, clock and the two actions
that reach outside (a sync run, a Pendo key check), all injectable so tests use fakes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from fastapi import Request
from sqlalchemy import Engine

from api.cache import TtlCache
from pendo_core import pipeline
from pendo_core.admin.background import BackgroundSync
from pendo_core.admin.secrets import KeyCheck
from pendo_core.common.config import Settings
from pendo_core.common.timeutil import today_in

# (key, region, base_url or None, who) -> outcome; the default validates with Pendo and stores it encrypted.
Connect = Callable[[str, str, str | None, str], KeyCheck]
# Runs one sync to the end and returns its one-line summary; raises with a one-line reason on failure.
RunSync = Callable[[], str]


def pipeline_sync(settings: Settings, engine: Engine) -> RunSync:
    """The daily incremental run through the sync pipeline (as `python -m jobs sync`), for `run_sync`."""
    def run() -> str:
        return pipeline.brief(pipeline.run_sync(settings, engine))

    return run


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class ApiContext:
    """The API's edges: the store, settings, a clock, and the outside actions (None: not offered)."""

    engine: Engine
    settings: Settings
    clock: Callable[[], datetime] = _utc_now
    run_sync: RunSync | None = None
    connect: Connect | None = None
    sync_job: BackgroundSync = field(default_factory=BackgroundSync)
    # Caller-independent answers and verified tokens, kept a few seconds; off unless given (api.cache).
    answers: TtlCache = field(default_factory=TtlCache)
    tokens: TtlCache = field(default_factory=TtlCache)

    def today(self) -> date:
        """Today in the subscription's timezone (never a complete day)."""
        return today_in(self.settings.tz, self.clock())


def context(request: Request) -> ApiContext:
    """The context the app was created with."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
