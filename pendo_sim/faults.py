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

`answer` (an AnswerFault) corrupts complete, well-formed answers instead: `results` null or
missing, a field set to a wrong value or removed, rows sent twice or left out. It hits the answers
of one source (and time period), all of them or the first `answers` ones.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Action = Literal["reset", "rate_limited", "error", "serve"]
AnswerKind = Literal["results_null", "results_missing", "set", "delete", "duplicate", "drop"]


@dataclass(frozen=True)
class AnswerFault:
    """A corruption of aggregation answers from `source` (and `period`, when given).

    `results_null` / `results_missing`: the answer carries no list. `set`: `field` becomes `value`
    on the rows hit; `delete`: `field` is removed from them; `duplicate`: they are sent twice;
    `drop`: they are left out. Rows hit: every `every`-th from index `offset` (every=1: all).
    `answers`: how many matching answers to corrupt (None: every one).
    """

    source: str
    kind: AnswerKind
    field: str = ""
    value: Any = None
    every: int = 1
    offset: int = 0
    period: str | None = None
    answers: int | None = None

    @property
    def no_list(self) -> bool:
        """The answer has no `results` list at all."""
        return self.kind in ("results_null", "results_missing")

    def matches(self, request: Any) -> bool:
        """Whether an aggregation request (the POSTed JSON) asks this fault's source and period."""
        try:
            first = request["request"]["pipeline"][0]["source"]
        except (KeyError, IndexError, TypeError):
            return False
        period = (first.get("timeSeries") or {}).get("period")
        return self.source in first and (self.period is None or period == self.period)

    def hits(self, index: int) -> bool:
        """Whether row number `index` (from 0) is corrupted."""
        return index >= self.offset and (index - self.offset) % max(self.every, 1) == 0


def corrupt(rows: Iterable[dict[str, Any]], fault: AnswerFault) -> Iterator[dict[str, Any]]:
    """The answer's rows as the fault leaves them (none for an answer without a list)."""
    if fault.no_list:
        return
    for index, row in enumerate(rows):
        if not fault.hits(index):
            yield row
        elif fault.kind == "set":
            yield {**row, fault.field: fault.value}
        elif fault.kind == "delete":
            yield {k: v for k, v in row.items() if k != fault.field}
        elif fault.kind == "duplicate":
            yield row
            yield dict(row)
        # "drop": the row is left out


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
    answer: AnswerFault | None = None


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
    corrupted: int = 0
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

    def answer_fault(self, faults: Faults, request: Any) -> AnswerFault | None:
        """The fault to apply to this served aggregation's answer, counting it, or None."""
        fault = faults.answer
        with self._lock:
            if fault is None or not fault.matches(request):
                return None
            if fault.answers is not None and self.corrupted >= fault.answers:
                return None
            self.corrupted += 1
            return fault

    def _cut(self, faults: Faults, is_aggregation: bool) -> int | None:
        if not is_aggregation:
            return None
        self.aggregations += 1
        if faults.cut_after_rows is None or not _hits(self.aggregations, max(faults.cut_every, 1)):
            return None
        return faults.cut_after_rows


def _hits(n: int, every: int | None) -> bool:
    return bool(every) and every is not None and every > 0 and n % every == 0
