"""Whole-column answers to the pipelines a sync sends most, so the simulator keeps up with a big world.

The general engine (pipeline.py) builds a dict per source row and runs each stage in Python; at a
million visitors that is what a benchmark would time instead of the sync. Two shapes carry almost
every byte a sync reads, and are answered here from the day's numpy columns instead:

- usage groups: `source` events / pageEvents / featureEvents with a timeSeries, an optional
  `{"identified": "visitorId"}`, then `group` on accountId, visitorId, pageId, featureId and the
  period's bucket (day or hour) with `sum` of numEvents / numMinutes, and an optional ascending
  `sort` on the group's keys;
- keyset pages of entities: `source` visitors / accounts, `sort` on [metadata.auto.lastupdated, id],
  `filter` "lastupdated >= T" or the strictly-after-(T, id) form, `limit` N.

Each answer is exactly the general engine's: the same rows, values and order (first appearance for
groups, as group_stage does, then a stable sort), encoded as json.dumps would (tests/unit/sim/test_sim_fastpath.py).
Anything else returns None and takes the general path.
"""

from __future__ import annotations

import bisect
import json
import re
import threading
from collections.abc import Iterator, Mapping
from functools import cached_property
from typing import Any

import numpy as np

from pendo_sim.context import EvalContext, QueryError
from pendo_sim.provider import SimProvider, app_indices
from pendo_sim.records import account_row, visitor_row
from pendo_sim.stages import ANONYMOUS_PREFIX
from pendo_sim.timeseries import TimeRange, parse_time_series

_USAGE_SOURCES = {"events": None, "pageEvents": ("pageId", "page"), "featureEvents": ("featureId", "feat")}
_SUMMABLE = {"numEvents": "events", "numMinutes": "minutes"}
_CURSOR = "metadata.auto.lastupdated"
_SINCE = re.compile(rf"^{re.escape(_CURSOR)} >= (\d+)$")
_AFTER = re.compile(
    rf'^{re.escape(_CURSOR)} > (\d+) \|\| \({re.escape(_CURSOR)} == (\d+) && (\w+) > "((?:[^"\\]|\\.)*)"\)$'
)


def fast_rows(body: Any, provider: SimProvider, ctx: EvalContext) -> Iterator[str] | None:
    """Each answer row as json.dumps text, or None when the request is not a shape answered here."""
    try:
        pipeline = body["request"]["pipeline"]
        if not isinstance(pipeline, list) or not pipeline or set(body) - {"request", "response"}:
            return None
        source = pipeline[0]["source"]
        names = [key for key in source if key != "timeSeries"]
    except (KeyError, TypeError, IndexError):
        return None
    if len(names) != 1 or not isinstance(source[names[0]], Mapping | None):
        return None
    if names[0] in _USAGE_SOURCES:
        return _usage_group(names[0], source, pipeline[1:], provider, ctx)
    if names[0] in ("visitors", "accounts"):
        return _keyset_page(names[0], source[names[0]], pipeline[1:], provider)
    return None


# --- usage groups -------------------------------------------------------------------------------


def _usage_group(name: str, source: Mapping[str, Any], rest: list[Any], provider: SimProvider,
                 ctx: EvalContext) -> Iterator[str] | None:
    identified = bool(rest) and rest[0] == {"identified": "visitorId"}
    stages = rest[1:] if identified else rest
    sort: Any = None
    if len(stages) == 2 and isinstance(stages[1], dict) and set(stages[1]) == {"sort"}:
        sort, stages = stages[1]["sort"], stages[:1]
    if len(stages) != 1 or not isinstance(stages[0], dict) or set(stages[0]) != {"group"}:
        return None
    spec = stages[0]["group"]
    try:
        time_range = parse_time_series(source["timeSeries"], ctx)
        apps = app_indices(source[name])
    except (KeyError, QueryError):
        return None
    plan = _GroupPlan.of(name, spec, time_range.period, source[name])
    if plan is None or (sort is not None and not plan.sorts_by(sort)):
        return None
    return plan.rows(provider, apps, time_range, identified, sort or [])


class _GroupPlan:
    """Which columns key the groups and which are summed, checked against what the source rows hold."""

    def __init__(self, name: str, keys: list[str], sums: list[tuple[str, str]], bucket: str) -> None:
        self.name, self.keys, self.sums, self.bucket = name, keys, sums, bucket
        self.sub_rows = _USAGE_SOURCES[name]

    @classmethod
    def of(cls, name: str, spec: Any, bucket: str, params: Mapping[str, Any] | None) -> _GroupPlan | None:
        """The plan of a group spec, or None when it asks for something else than keys and sums."""
        if not isinstance(spec, dict) or set(spec) != {"group", "fields"} or params is None \
                or set(params) - {"appId"}:
            return None
        keys, fields = spec["group"], spec["fields"]
        target = _USAGE_SOURCES[name]
        allowed = {"accountId", "visitorId", bucket} | ({target[0]} if target else set())
        if not isinstance(keys, list) or not keys or not set(keys) <= allowed or len(set(keys)) != len(keys):
            return None
        if not isinstance(fields, dict) or not fields:
            return None
        sums = []
        for out, agg in fields.items():
            if not isinstance(agg, dict) or list(agg) != ["sum"] or agg["sum"] not in _SUMMABLE or out in keys:
                return None
            sums.append((out, _SUMMABLE[agg["sum"]]))
        return cls(name, keys, sums, bucket)

    def sorts_by(self, names: Any) -> bool:
        """Whether a `sort` after the group is answered here: ascending, on the group's own keys."""
        return isinstance(names, list) and bool(names) and len(set(names)) == len(names) \
            and all(isinstance(n, str) and n in self.keys for n in names)

    def rows(self, provider: SimProvider, apps: set[int], time_range: TimeRange,
             identified: bool, sort: list[str]) -> Iterator[str]:
        """The group rows, in order of first appearance (then by `sort`, a stable sort), as JSON text."""
        cols = self._columns(provider, apps, time_range, identified)
        codes = {"accountId": cols["acct"], "visitorId": cols["v"], self.bucket: cols["bucket"]}
        if self.sub_rows:
            codes[self.sub_rows[0]] = cols["target"]
        key = np.zeros(len(cols["v"]), np.int64)
        for name in self.keys:  # dense codes per key column, then one mixed-radix int64 per key tuple
            values, dense = np.unique(codes[name], return_inverse=True)
            key = key * max(len(values), 1) + dense.reshape(-1)
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        sums = [np.bincount(inverse, cols[col], len(first)).astype(np.int64)[order] for _, col in self.sums]
        at = first[order]
        if sort:  # np.lexsort is stable and takes its most significant key last
            by = np.lexsort([self._sort_key(provider, cols, at, name) for name in reversed(sort)])
            at, sums = at[by], [s[by] for s in sums]
        return _encode(self._key_texts(provider, cols, at) + [s.tolist() for s in sums],
                       self.keys + [out for out, _ in self.sums])

    def _columns(self, provider: SimProvider, apps: set[int], time_range: TimeRange,
                 identified: bool) -> dict[str, np.ndarray]:
        sub = provider.sub
        parts: dict[str, list[np.ndarray]] = {c: [] for c in ("v", "acct", "bucket", "target", "events", "minutes")}
        for i in _days(provider, time_range):
            act = sub.daybook.day(i) if time_range.period == "day" else sub.daybook.hours(i)
            in_app = np.isin((act.ua == 2).astype(np.int64), list(apps))
            cells = in_app & (act.hour >= time_range.start_ms) & (act.hour < time_range.end_ms)
            if self.sub_rows is None:
                idx = np.flatnonzero(cells)
                cell, own = idx, {"events": act.events[idx], "minutes": act.minutes[idx]}
                target = np.zeros(len(idx), np.int64)
            else:
                prefix = self.sub_rows[1]
                idx = np.flatnonzero(cells[getattr(act, f"{prefix}_cell")])
                cell = getattr(act, f"{prefix}_cell")[idx]
                own = {c: getattr(act, f"{prefix}_{c}")[idx] for c in ("events", "minutes")}
                target = getattr(act, prefix)[idx]
            v = act.v[cell]
            keep = _identified(provider)[v] if identified else np.ones(len(v), bool)
            for column, values in (("v", v), ("acct", sub.account_of(v, act.slot[cell])), ("bucket", act.hour[cell]),
                                   ("target", target), ("events", own["events"]), ("minutes", own["minutes"])):
                parts[column].append(values[keep])
        return {c: np.concatenate(p) if p else np.zeros(0, np.int64) for c, p in parts.items()}

    def _sort_key(self, provider: SimProvider, cols: dict[str, np.ndarray], at: np.ndarray, name: str) -> np.ndarray:
        """The rows' values of one key as numbers in the sort stage's order (ids by their rank as text)."""
        if name == self.bucket:
            return np.asarray(cols["bucket"][at])
        ranks = _ranks(provider)
        rank, column = {"accountId": (ranks.accounts, "acct"), "visitorId": (ranks.visitors, "v"),
                        "pageId": (ranks.pages, "target"), "featureId": (ranks.features, "target")}[name]
        return np.asarray(rank[cols[column][at]])

    def _key_texts(self, provider: SimProvider, cols: dict[str, np.ndarray], at: np.ndarray) -> list[list[Any]]:
        texts = _texts(provider)
        out: list[list[Any]] = []
        for name in self.keys:
            if name == "accountId":
                out.append([texts.accounts[a] for a in cols["acct"][at].tolist()])
            elif name == "visitorId":
                out.append([texts.visitors[v] for v in cols["v"][at].tolist()])
            elif name == self.bucket:
                out.append(cols["bucket"][at].tolist())
            else:
                ids = texts.pages if name == "pageId" else texts.features
                out.append([ids[t] for t in cols["target"][at].tolist()])
        return out


def _days(provider: SimProvider, time_range: TimeRange) -> range:
    """The day indices a time range touches (as SimProvider reads them)."""
    sub = provider.sub
    first = max(0, sub.index_of_ms(time_range.start_ms))
    last = min(sub.days, sub.index_of_ms(time_range.end_ms - 1))
    return range(first, last + 1)


def _encode(columns: list[list[Any]], names: list[str]) -> Iterator[str]:
    """Rows as json.dumps writes them: `{"a": 1, "b": "x"}` (strings arrive already encoded)."""
    template = "{{" + ", ".join(f"{json.dumps(n)}: {{}}" for n in names) + "}}"
    return (template.format(*row) for row in zip(*columns, strict=True))


class _Texts:
    """Ids of one subscription, JSON-encoded once."""

    def __init__(self, provider: SimProvider) -> None:
        sub, cat = provider.sub, provider.sub.catalog
        self.visitors = [json.dumps(v) for v in sub.visitors.ids]
        self.accounts = [json.dumps(a) for a in sub.accounts.ids]
        self.pages = [json.dumps(p["id"]) for p in cat.pages]
        self.features = [json.dumps(f["id"]) for f in cat.features]


class _Ranks:
    """Each id's place among its kind in text order, as the sort stage orders strings."""

    def __init__(self, provider: SimProvider) -> None:
        sub, cat = provider.sub, provider.sub.catalog
        self.visitors = _rank(list(sub.visitors.ids))
        self.accounts = _rank(list(sub.accounts.ids))
        self.pages = _rank([p["id"] for p in cat.pages])
        self.features = _rank([f["id"] for f in cat.features])


def _rank(ids: list[str]) -> np.ndarray:
    rank = np.empty(len(ids), np.int64)
    rank[sorted(range(len(ids)), key=ids.__getitem__)] = np.arange(len(ids))
    return rank


_cache_lock = threading.Lock()


def _cached(provider: SimProvider, name: str, build: Any) -> Any:
    """A per-provider value built once (the provider lives as long as its server)."""
    cache: dict[str, Any] = provider.__dict__.setdefault("_fastpath_cache", {})
    with _cache_lock:
        if name not in cache:
            cache[name] = build(provider)
        return cache[name]


def _texts(provider: SimProvider) -> _Texts:
    return _cached(provider, "texts", _Texts)  # type: ignore[no-any-return]


def _ranks(provider: SimProvider) -> _Ranks:
    return _cached(provider, "ranks", _Ranks)  # type: ignore[no-any-return]


def _identified(provider: SimProvider) -> np.ndarray:
    """Per visitor: what the identified stage keeps (an id that is not empty and not anonymous)."""
    return _cached(provider, "identified", lambda p: np.array(  # type: ignore[no-any-return]
        [bool(v) and not v.startswith(ANONYMOUS_PREFIX) for v in p.sub.visitors.ids], bool))


# --- keyset pages of visitors and accounts --------------------------------------------------------


class _Keyset:
    """One entity source sorted by (lastupdated, id), as the sort stage orders it."""

    def __init__(self, provider: SimProvider, name: str, identified: bool) -> None:
        sub = provider.sub
        if name == "visitors":
            ids, updated = sub.visitors.ids, sub.recency[2]
            members = np.flatnonzero(~sub.visitors.anonymous) if identified else np.arange(len(ids))
        else:
            ids, updated = sub.accounts.ids, sub.account_recency[2]
            members = np.arange(len(ids))
        stamps = updated.tolist()
        order = sorted(members.tolist(), key=lambda i: (stamps[i], ids[i]))
        self.index = order
        self.keys = [(stamps[i], ids[i]) for i in order]
        self.id_field = "visitorId" if name == "visitors" else "accountId"

    @cached_property
    def stamps(self) -> list[int]:
        """The lastupdated of each position."""
        return [k[0] for k in self.keys]


def _keyset_page(name: str, params: Mapping[str, Any] | None, rest: list[Any],
                 provider: SimProvider) -> Iterator[str] | None:
    id_field = "visitorId" if name == "visitors" else "accountId"
    if len(rest) != 3 or rest[0] != {"sort": [_CURSOR, id_field]} or set(rest[1]) != {"filter"} \
            or set(rest[2]) != {"limit"}:
        return None
    limit = rest[2]["limit"]
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        return None
    identified = name == "visitors" and bool(params and params.get("identified"))
    if params and set(params) - ({"identified"} if name == "visitors" else {"appId"}):
        return None
    start = _start(rest[1]["filter"], id_field)
    if start is None:
        return None
    keyset: _Keyset = _cached(provider, f"{name}:{identified}", lambda p: _Keyset(p, name, identified))
    row = visitor_row if name == "visitors" else account_row
    position = start(keyset)
    return (json.dumps(row(provider.sub, i)) for i in keyset.index[position:position + limit])


def _start(condition: Any, id_field: str) -> Any:
    """The first sorted position the filter keeps, as a function of the keyset (None: not a keyset filter)."""
    if not isinstance(condition, str):
        return None
    if match := _SINCE.match(condition):
        since = int(match.group(1))
        return lambda keyset: bisect.bisect_left(keyset.stamps, since)
    match = _AFTER.match(condition)
    if not match or match.group(1) != match.group(2) or match.group(3) != id_field:
        return None
    stamp, after = int(match.group(1)), re.sub(r"\\(.)", r"\1", match.group(4))
    return lambda keyset: bisect.bisect_right(keyset.keys, (stamp, after))
