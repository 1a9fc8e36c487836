"""A short-lived in-process cache for what many clients ask again within seconds.

Under load the same few answers are computed over and over (one account's usage for every CSM who
opens it, one customer's metrics): the activity they read changes only when a sync or an import
commits. `python -m api` keeps them a few seconds (`--cache-seconds`, 0 turns it off); an app built
by `create_app` without one caches nothing, so every answer is read fresh (the tests' case).

Who may see what is never cached: the routes check visibility on every request and look up only
answers that do not depend on the caller, or key lists by the caller's view (e-mail, role, scope).
Answers are kept as their JSON bytes, so a hit costs no query and no serialisation; callers missing the
same key at once (20 clients when a popular answer expires) wait for one computation of it. An alert action
through the API clears this process's answers; another worker's may lag by those few seconds.
Verified tokens are cached by their SHA-256 (never the token), so a revoked token or a changed role
takes effect within the same few seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from fastapi import Response
from pydantic import BaseModel

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
MAX_ENTRIES = 2048
WAIT_SECONDS = 30.0  # how long a caller waits for another's computation of the same key before its own


class TtlCache:
    """Values by key for `seconds` (0: nothing is kept), at most `max_entries`, least recently used out first."""

    def __init__(self, seconds: float = 0, *, max_entries: int = MAX_ENTRIES,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()
        self._items: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
        self._flights: dict[Hashable, threading.Event] = {}  # keys being computed now

    def get(self, key: Hashable) -> Any:
        """The kept value of `key` while fresh, else None."""
        if self.seconds <= 0:
            return None
        with self._lock:
            found = self._items.get(key)
            if found is None or found[0] <= self._clock():
                return None
            self._items.move_to_end(key)
            return found[1]

    def get_or_compute(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The kept value of `key` while fresh, else `compute()` (kept unless caching is off). Callers that
        miss the same key at once wait for the first one's answer instead of computing it again."""
        found = self.get(key)
        if found is not None:
            return found  # type: ignore[no-any-return]
        if self.seconds <= 0:
            return compute()
        with self._lock:
            flight = self._flights.get(key)
            first = flight is None
            if flight is None:
                flight = self._flights[key] = threading.Event()
        if not first:
            flight.wait(WAIT_SECONDS)
            found = self.get(key)
            return found if found is not None else compute()  # the first one failed: compute it here
        try:
            now = self._clock()
            value = compute()  # outside the lock: a slow read must not hold up the other keys
            self.put(key, value, now=now)
            return value
        finally:
            with self._lock:
                self._flights.pop(key, None)
            flight.set()

    def put(self, key: Hashable, value: object, *, now: float | None = None) -> None:
        """Keep `value` for `key` from `now` (default: the clock)."""
        if self.seconds <= 0:
            return
        expires = (self._clock() if now is None else now) + self.seconds
        with self._lock:
            self._items[key] = (expires, value)
            self._items.move_to_end(key)
            while len(self._items) > self._max:
                self._items.popitem(last=False)

    def clear(self) -> None:
        """Forget every kept value (after a write that may change them)."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def cached_json(cache: TtlCache, key: Hashable, build: Callable[[], M]) -> M | Response:
    """The answer `build()` makes: as the model when caching is off, else as its JSON bytes, kept under `key`."""
    if cache.seconds <= 0:
        return build()
    body = cache.get_or_compute(key, lambda: build().model_dump_json().encode())
    return Response(body, media_type="application/json")
