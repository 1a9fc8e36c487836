"""The group and reduce stages and their aggregators.

Aggregators (argument = an expression, usually a field name):
  sum (numbers only; 0 when none), count null (rows), count field (distinct non-null values),
  {"count": null, "if": expr} (rows where expr is truthy), min/max (null when no non-null value),
  first/last (the value on the first/last row, null included), list (non-null values in order),
  avg and median (over numbers; null when none; median of an even count is the mean of the middle two).
Group output rows hold the group keys (a dotted key keeps its full dotted name) then the aggregates,
one row per key tuple in order of first appearance; without fields, group is a distinct.
Reduce always yields exactly one row, even from an empty stream (counts and sums 0, others null, list []).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pendo_sim.context import EvalContext, QueryError
from pendo_sim.expr_ops import div, lt
from pendo_sim.rows import Env, Row, Rows, Stage, expression, hashable, row_getter, string_list

Getter = Callable[[Row], Any]


class _Accumulator:
    """Folds the rows of one group into one value."""

    __slots__ = ("get", "value")

    def __init__(self, get: Getter) -> None:
        self.get = get
        self.value: Any = self.start()

    def start(self) -> Any:
        return None

    def add(self, row: Row) -> None:
        raise NotImplementedError

    def result(self) -> Any:
        return self.value


class _Sum(_Accumulator):
    __slots__ = ()

    def start(self) -> Any:
        return 0

    def add(self, row: Row) -> None:
        value = self.get(row)
        kind = type(value)
        if kind is int or kind is float:
            self.value += value


class _CountRows(_Accumulator):
    __slots__ = ()

    def start(self) -> Any:
        return 0

    def add(self, row: Row) -> None:
        self.value += 1


class _CountIf(_CountRows):
    __slots__ = ()

    def add(self, row: Row) -> None:
        if self.get(row):
            self.value += 1


class _CountDistinct(_Accumulator):
    __slots__ = ()

    def start(self) -> Any:
        return set()

    def add(self, row: Row) -> None:
        value = self.get(row)
        if value is not None:
            try:
                self.value.add(value)
            except TypeError:  # lists and maps count by content
                self.value.add(hashable(value))

    def result(self) -> Any:
        return len(self.value)


class _Min(_Accumulator):
    __slots__ = ()

    def add(self, row: Row) -> None:
        value = self.get(row)
        if value is not None and (self.value is None or lt(value, self.value)):
            self.value = value


class _Max(_Accumulator):
    __slots__ = ()

    def add(self, row: Row) -> None:
        value = self.get(row)
        if value is not None and (self.value is None or lt(self.value, value)):
            self.value = value


class _First(_Accumulator):
    __slots__ = ()

    def start(self) -> Any:
        return _UNSET

    def add(self, row: Row) -> None:
        if self.value is _UNSET:
            self.value = self.get(row)

    def result(self) -> Any:
        return None if self.value is _UNSET else self.value


class _Last(_Accumulator):
    __slots__ = ()

    def add(self, row: Row) -> None:
        self.value = self.get(row)


class _List(_Accumulator):
    __slots__ = ()

    def start(self) -> Any:
        return []

    def add(self, row: Row) -> None:
        value = self.get(row)
        if value is not None:
            self.value.append(value)


class _Numbers(_List):
    __slots__ = ()

    def add(self, row: Row) -> None:
        value = self.get(row)
        kind = type(value)
        if kind is int or kind is float:
            self.value.append(value)


class _Avg(_Numbers):
    __slots__ = ()

    def result(self) -> Any:
        return div(sum(self.value), len(self.value)) if self.value else None


class _Median(_Numbers):
    __slots__ = ()

    def result(self) -> Any:
        if not self.value:
            return None
        ordered = sorted(self.value)
        middle = len(ordered) // 2
        if len(ordered) % 2:
            return ordered[middle]
        return div(ordered[middle - 1] + ordered[middle], 2)


_UNSET = object()
_AGGREGATORS: dict[str, type[_Accumulator]] = {
    "sum": _Sum, "min": _Min, "max": _Max, "first": _First, "last": _Last,
    "list": _List, "avg": _Avg, "median": _Median,
}
Factory = Callable[[], _Accumulator]


def _factory(out: str, spec: Any, ctx: EvalContext) -> Factory:
    """Validate one aggregate spec ({"sum": "numEvents"}, {"count": null, "if": "..."}, ...)."""
    if isinstance(spec, dict) and set(spec) == {"count", "if"} and spec["count"] is None:
        predicate = row_getter(expression(spec["if"], f"{out}.if"), ctx)
        return lambda: _CountIf(predicate)
    if not isinstance(spec, dict) or len(spec) != 1:
        raise QueryError(f"aggregate {out!r} must be one {{aggregator: argument}} object, got {spec!r}")
    name, arg = next(iter(spec.items()))
    if name == "count":
        if arg is None:
            return lambda: _CountRows(_no_value)
        getter = row_getter(expression(arg, f"{out}.count"), ctx)
        return lambda: _CountDistinct(getter)
    kind = _AGGREGATORS.get(name)
    if kind is None:
        raise QueryError(f"unknown aggregator {name!r} in {out!r}")
    getter = row_getter(expression(arg, f"{out}.{name}"), ctx)
    return lambda: kind(getter)


def _no_value(_row: Row) -> None:
    return None


def _fields(arg: Any, ctx: EvalContext) -> list[tuple[str, Factory]]:
    """Map form {"out": spec, ...} or list form [{"out": spec}, ...] ({"count": "f"} names itself)."""
    if arg is None:
        return []
    if isinstance(arg, dict):
        return [(out, _factory(out, spec, ctx)) for out, spec in arg.items()]
    if not isinstance(arg, list):
        raise QueryError(f"aggregate fields must be an object or a list, got {arg!r}")
    pairs: list[tuple[str, Factory]] = []
    for item in arg:
        if not isinstance(item, dict) or len(item) != 1:
            raise QueryError(f"each aggregate in a list must be a one-key object, got {item!r}")
        out, spec = next(iter(item.items()))
        pairs.append((out, _factory(out, spec if isinstance(spec, dict) else item, ctx)))
    return pairs


def _key_function(getters: list[Getter]) -> Callable[[Row], tuple[Any, ...]]:
    if len(getters) == 1:
        (first,) = getters
        return lambda row: (first(row),)
    if len(getters) == 2:
        first, second = getters
        return lambda row: (first(row), second(row))
    return lambda row: tuple([get(row) for get in getters])


def group_stage(arg: Any, env: Env) -> Stage:
    """One row per distinct key tuple: the keys plus the aggregates."""
    if not isinstance(arg, dict) or "group" not in arg:
        raise QueryError('group needs {"group": [keys], "fields": {...}}')
    names = string_list(arg["group"], "group.group")
    key_of = _key_function([row_getter(expression(name, "group key"), env.ctx) for name in names])
    fields = _fields(arg.get("fields"), env.ctx)

    def run(rows: Rows) -> Rows:
        groups: dict[Any, tuple[tuple[Any, ...], list[_Accumulator]]] = {}
        for row in rows:
            key = values = key_of(row)
            try:
                entry = groups.get(key)
            except TypeError:  # a list or map in a key
                entry = groups.get(key := hashable(values))
            if entry is None:
                entry = groups[key] = (values, [make() for _, make in fields])
            for accumulator in entry[1]:
                accumulator.add(row)
        for values, accumulators in groups.values():
            yield dict(zip(names, values, strict=True)) | _results(fields, accumulators)

    return run


def _results(fields: list[tuple[str, Factory]], accumulators: list[_Accumulator]) -> Row:
    return {out: acc.result() for (out, _), acc in zip(fields, accumulators, strict=True)}


def reduce_stage(arg: Any, env: Env) -> Stage:
    """Collapse the whole stream into one row of aggregates."""
    fields = _fields(arg, env.ctx)
    if not fields:
        raise QueryError("reduce needs at least one aggregate")

    def run(rows: Rows) -> Rows:
        accumulators = [make() for _, make in fields]
        for row in rows:
            for accumulator in accumulators:
                accumulator.add(row)
        yield _results(fields, accumulators)

    return run
