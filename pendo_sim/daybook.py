"""Calendar days of activity assembled from origin days, rolled up to day grain, kept in small LRU caches."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from pendo_sim.activity import CELL_COLUMNS as _CELL_COLS
from pendo_sim.activity import SUB_COLUMNS as _SUB_COLS
from pendo_sim.activity import Activity, generate_origin_day

if TYPE_CHECKING:
    from pendo_sim.data import Subscription



class _Lru:
    """A tiny thread-safe LRU map; concurrent requests for one missing key build it once."""

    def __init__(self, size: int) -> None:
        self._size, self._items, self._lock = size, OrderedDict[int, Activity](), threading.Lock()
        self._building: dict[int, threading.Lock] = {}

    def get(self, key: int, build: Callable[[int], Activity]) -> Activity:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            key_lock = self._building.setdefault(key, threading.Lock())
        with key_lock:
            with self._lock:
                if key in self._items:
                    return self._items[key]
            value = build(key)
            with self._lock:
                self._items[key] = value
                self._building.pop(key, None)
                while len(self._items) > self._size:
                    self._items.popitem(last=False)
        return value


class DayBook:
    """Hands out one calendar day of activity at hour grain or day grain."""

    def __init__(self, sub: Subscription, cache_days: int | None = None) -> None:
        self._sub = sub
        size = cache_days or cache_days_for(len(sub.visitors))
        self._origins = _Lru(4)  # an origin day feeds only itself and the day after
        self._hours = _Lru(size)
        self._days = _Lru(size)

    def origin(self, i: int) -> Activity:
        """Sessions that start on day index `i`."""
        return self._origins.get(i, lambda k: generate_origin_day(self._sub, k))

    def hours(self, i: int) -> Activity:
        """Hour cells (and their page, feature and guide rows) inside day index `i`."""
        return self._hours.get(i, self._assemble)

    def day(self, i: int) -> Activity:
        """Day index `i` rolled up to one cell per (visitor, account, client); `hour` holds the day start."""
        return self._days.get(i, lambda k: rollup(self.hours(k), self._sub.midnight_of_index(k)))

    def _assemble(self, i: int) -> Activity:
        if i < 0 or i > self._sub.days:
            return Activity()
        lo, hi = self._sub.midnight_of_index(i), self._sub.midnight_of_index(i + 1)
        parts = [self.origin(k) for k in (i - 1, i)]
        return concat([subset(p, (p.hour >= lo) & (p.hour < hi)) for p in parts])


def cache_days_for(visitors: int, budget_bytes: float = 4e8) -> int:
    """How many days to keep: a day at hour and day grain costs roughly 200 bytes per visitor."""
    return int(min(200, max(8, budget_bytes / (200 * max(visitors, 1)))))


def subset(act: Activity, keep: np.ndarray) -> Activity:
    """The cells in `keep` with the rows hanging off them, re-indexed."""
    new_index = np.cumsum(keep) - 1
    out = Activity(**{c: getattr(act, c)[keep] for c in _CELL_COLS})
    for cols in _SUB_COLS.values():
        mask = keep[getattr(act, cols[0])]
        for c in cols:
            setattr(out, c, getattr(act, c)[mask])
        setattr(out, cols[0], new_index[getattr(out, cols[0])])
    return out


def concat(parts: list[Activity]) -> Activity:
    """Activities appended one after the other (cell references shifted)."""
    out = Activity()
    offsets = np.cumsum([0] + [len(p.v) for p in parts[:-1]])
    for c in _CELL_COLS:
        setattr(out, c, np.concatenate([getattr(p, c) for p in parts]))
    for cols in _SUB_COLS.values():
        setattr(
            out,
            cols[0],
            np.concatenate([getattr(p, cols[0]) + o for p, o in zip(parts, offsets, strict=True)]),
        )
        for c in cols[1:]:
            setattr(out, c, np.concatenate([getattr(p, c) for p in parts]))
    return out


def rollup(act: Activity, day_start: int) -> Activity:
    """One cell per (visitor, account slot, client) summing the day's hour cells; sub-rows likewise."""
    key = (act.v * 2 + act.slot) * 3 + act.ua
    uniq, inv = np.unique(key, return_inverse=True)
    n = len(uniq)
    out = Activity(
        v=uniq // 6,
        slot=(uniq // 3) % 2,
        ua=uniq % 3,
        hour=np.full(n, day_start, np.int64),
        events=_sum(inv, act.events, n),
        minutes=_sum(inv, act.minutes, n),
        first=_extreme(np.minimum, inv, act.first, n),
        last=_extreme(np.maximum, inv, act.last, n),
    )
    for prefix in ("page", "feat"):
        cell, target, events, minutes = (getattr(act, c) for c in _SUB_COLS[prefix])
        sub_key = inv[cell] * 64 + target
        u, sinv = np.unique(sub_key, return_inverse=True)
        values = (u // 64, u % 64, _sum(sinv, events, len(u)), _sum(sinv, minutes, len(u)))
        for c, value in zip(_SUB_COLS[prefix], values, strict=True):
            setattr(out, c, value)
    for c in _SUB_COLS["g"]:
        setattr(out, c, getattr(act, c))
    out.g_cell = inv[act.g_cell]
    return out


def _sum(inv: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    return np.bincount(inv, values, n).astype(np.int64)


def _extreme(op: np.ufunc, inv: np.ndarray, values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, np.iinfo(np.int64).max if op is np.minimum else np.iinfo(np.int64).min, np.int64)
    op.at(out, inv, values)
    return out
