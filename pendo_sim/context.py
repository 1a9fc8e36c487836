"""What every part of the query engine shares: its one error type and the evaluation context."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo


class QueryError(ValueError):
    """Anything the server cannot parse or run; the server answers 400 with str(exc)."""


@dataclass(frozen=True)
class EvalContext:
    """The simulated server clock and the subscription timezone that expressions see."""

    now_ms: int  # the simulated server clock
    tz: ZoneInfo  # subscription timezone
