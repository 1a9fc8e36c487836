"""Types shared by the pipeline stages, and copy-on-write writes into rows.

Rows that a SourceProvider yields may be its own stored objects, so no stage mutates a row it was
given: stages that write (eval, unwind, merge) copy the row and every container on the written path.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from pendo_sim.context import EvalContext, QueryError
from pendo_sim.expr import Expr, Step, parse_expression
from pendo_sim.timeseries import TimeRange

Row = dict[str, Any]
Rows = Iterator[Row]
Stage = Callable[[Rows], Rows]  # applied when the pipeline is opened; returns a lazy iterator
Opener = Callable[[], Rows]  # opens a validated pipeline: calls the provider, returns its rows


class SourceProvider(Protocol):
    """Where the rows of each source come from (the simulator's data store)."""

    def rows(
        self, name: str, params: Mapping[str, Any] | None, time_range: TimeRange | None
    ) -> Iterator[dict[str, Any]]:
        """Rows of a source. Event sources get a TimeRange (None for entity sources).

        Unknown source -> raise QueryError.
        """
        ...


@dataclass(frozen=True)
class Env:
    """What compiling a stage may need: the context, the provider and sub-pipeline compilers."""

    ctx: EvalContext
    provider: SourceProvider
    compile_sourced: Callable[[Any], Opener]  # a whole sub-pipeline that starts with its source
    compile_branch: Callable[[Any], Stage]  # a source-less branch (fork)


def expression(arg: Any, what: str) -> Expr:
    """Parse an operator's expression argument, which must be a string."""
    if not isinstance(arg, str):
        raise QueryError(f"{what} must be an expression string, got {arg!r}")
    return parse_expression(arg)


def row_getter(expr: Expr, ctx: EvalContext) -> Callable[[Row], Any]:
    """A one-argument reader of expr over a row; a plain top-level field skips the closure."""
    if expr.path is not None and len(expr.path) == 1:
        return operator.methodcaller("get", expr.path[0])
    fn = expr.fn
    return lambda row: fn(row, ctx)


def string_list(arg: Any, what: str) -> list[str]:
    """A list of strings (a lone string counts as a list of one)."""
    if isinstance(arg, str):
        return [arg]
    if not isinstance(arg, list) or not all(isinstance(item, str) for item in arg):
        raise QueryError(f"{what} must be a list of field names, got {arg!r}")
    return list(arg)


def count_arg(arg: Any, what: str) -> int:
    """A non-negative integer operator argument (limit, skip)."""
    if type(arg) is not int or arg < 0:
        raise QueryError(f"{what} must be a non-negative integer, got {arg!r}")
    return arg


def primed(rows: Iterable[Row]) -> Rows:
    """Pull the first row now, so a provider that fails lazily fails before any row is sent."""
    iterator = iter(rows)
    for first in iterator:
        return itertools.chain((first,), iterator)
    return iter(())


def hashable(value: Any) -> Any:
    """A dict key standing for value (lists and maps become tagged tuples, also inside tuples)."""
    if isinstance(value, tuple):
        return tuple(hashable(item) for item in value)
    if isinstance(value, list):
        return ("\x00list", *(hashable(item) for item in value))
    if isinstance(value, dict):
        return ("\x00map", *sorted((key, hashable(item)) for key, item in value.items()))
    return value


def set_path(row: Row, steps: tuple[Step, ...], value: Any) -> None:
    """Write value at steps inside row (a fresh copy), copying each container on the way.

    Missing maps are created; a missing list or an index out of range makes the write a no-op.
    """
    container: Any = row
    for step, following in itertools.pairwise(steps):
        child = _child(container, step)
        if child is None and isinstance(following, int):
            return
        child = dict(child) if isinstance(child, dict) else list(child) if isinstance(child, list) else {}
        if not _assign(container, step, child):
            return
        container = child
    _assign(container, steps[-1], value)


def _child(container: Any, step: Step) -> Any:
    if isinstance(container, dict) and isinstance(step, str):
        return container.get(step)
    if isinstance(container, list) and isinstance(step, int) and -len(container) <= step < len(container):
        return container[step]
    return None


def _assign(container: Any, step: Step, value: Any) -> bool:
    if isinstance(container, dict) and isinstance(step, str):
        container[step] = value
        return True
    if isinstance(container, list) and isinstance(step, int) and -len(container) <= step < len(container):
        container[step] = value
        return True
    return False
