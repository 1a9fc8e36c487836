"""Row-by-row pipeline stages (filter, identified, select, eval, unwind, limit, skip, cat) and sort/count.

Each `*_stage(arg, env)` validates its argument and returns a Stage. Streaming stages return lazy
generators; sort and count must read their whole input. Stage rules chosen by the simulator:
- identified: a visitor is anonymous when its id is missing, empty or starts with "_PENDO_T_"; an
  account is unidentified when its id is missing or empty.
- select: output rows have exactly the named keys (names are used as given, dots included).
- eval: assignments run in order, so a later expression sees an earlier target; dotted targets
  create nested maps.
- sort: ascending puts nulls first, then booleans, numbers, strings, then lists/maps; "-f" reverses.
- unwind: a list field yields one row per element (with its position in `index`); a scalar counts
  as a one-element list; a missing/null/empty field drops the row unless keepEmpty is true.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable
from typing import Any

from pendo_sim.context import EvalContext, QueryError
from pendo_sim.expr import Fn, field_path, parse_expression
from pendo_sim.expr_functions import to_string
from pendo_sim.expr_ops import is_number
from pendo_sim.rows import Env, Row, Rows, Stage, count_arg, expression, set_path, string_list

ANONYMOUS_PREFIX = "_PENDO_T_"


def filter_stage(arg: Any, env: Env) -> Stage:
    """Keep rows where the expression is truthy."""
    predicate, ctx = expression(arg, "filter").fn, env.ctx
    return lambda rows: (row for row in rows if predicate(row, ctx))


def _visitor_identified(row: Row) -> bool:
    visitor = row.get("visitorId")
    return visitor is not None and visitor != "" and not str(visitor).startswith(ANONYMOUS_PREFIX)


def _account_identified(row: Row) -> bool:
    account = row.get("accountId")
    return account is not None and account != ""


_IDENTIFIED: dict[str, tuple[Callable[[Row], bool], bool]] = {
    "visitorId": (_visitor_identified, True),
    "!visitorId": (_visitor_identified, False),
    "accountId": (_account_identified, True),
    "!accountId": (_account_identified, False),
}


def identified_stage(arg: Any, env: Env) -> Stage:
    """Keep identified (or, with "!", only anonymous) visitors or accounts."""
    if arg not in _IDENTIFIED:
        raise QueryError(f"identified must be one of {', '.join(_IDENTIFIED)}, got {arg!r}")
    test, wanted = _IDENTIFIED[arg]
    return lambda rows: (row for row in rows if test(row) is wanted)


def _assignments(arg: Any, what: str) -> list[tuple[str, Any]]:
    if not isinstance(arg, dict) or not arg:
        raise QueryError(f"{what} must be a non-empty object of name: expression")
    return [(name, expression(text, f"{what}.{name}").fn) for name, text in arg.items()]


def select_stage(arg: Any, env: Env) -> Stage:
    """Project each row to exactly the named expressions."""
    pairs, ctx = _assignments(arg, "select"), env.ctx
    return lambda rows: ({name: fn(row, ctx) for name, fn in pairs} for row in rows)


def eval_stage(arg: Any, env: Env) -> Stage:
    """Add or overwrite fields, dotted targets included, on a copy of each row."""
    pairs = [(field_path(name), fn) for name, fn in _assignments(arg, "eval")]
    ctx = env.ctx

    def apply(row: Row) -> Row:
        out = dict(row)
        for steps, fn in pairs:
            set_path(out, steps, fn(out, ctx))
        return out

    return lambda rows: (apply(row) for row in rows)


def limit_stage(arg: Any, _env: Env) -> Stage:
    """The first N rows; stops pulling from upstream once it has them."""
    size = count_arg(arg, "limit")
    return lambda rows: itertools.islice(rows, size)


def skip_stage(arg: Any, _env: Env) -> Stage:
    """Drop the first N rows."""
    size = count_arg(arg, "skip")
    return lambda rows: itertools.islice(rows, size, None)


def cat_stage(_arg: Any, _env: Env) -> Stage:
    """Pass rows through unchanged."""
    return lambda rows: rows


def count_stage(arg: Any, _env: Env) -> Stage:
    """Replace the stream with one row {"count": N}."""
    if arg is not None:
        raise QueryError(f"count takes null, got {arg!r}")

    def run(rows: Rows) -> Rows:
        yield {"count": sum(1 for _ in rows)}

    return run


def _sort_rank(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, 0)
    if type(value) is bool:
        return (1, value)
    if is_number(value):
        return (2, value)
    if type(value) is str:
        return (3, value)
    return (4, to_string(value))


def _row_rank(fn: Fn, ctx: EvalContext, row: Row) -> tuple[int, Any]:
    return _sort_rank(fn(row, ctx))


def sort_stage(arg: Any, env: Env) -> Stage:
    """Sort by several keys; "-field" sorts that key descending."""
    names = string_list(arg, "sort")
    keys = [(parse_expression(name.removeprefix("-")).fn, name.startswith("-")) for name in names]
    ctx = env.ctx

    def run(rows: Rows) -> Rows:
        ordered = list(rows)
        for fn, descending in reversed(keys):  # stable sorts, least significant key first
            ordered.sort(key=functools.partial(_row_rank, fn, ctx), reverse=descending)
        return iter(ordered)

    return run


def unwind_stage(arg: Any, env: Env) -> Stage:
    """One row per element of a list field."""
    spec = {"field": arg} if isinstance(arg, str) else arg
    if not isinstance(spec, dict) or not isinstance(spec.get("field"), str):
        raise QueryError("unwind needs {\"field\": \"<list field>\"}")
    steps = field_path(spec["field"])
    index = field_path(spec["index"]) if spec.get("index") is not None else None
    keep_empty = bool(spec.get("keepEmpty", False))
    getter = parse_expression(spec["field"]).fn
    ctx = env.ctx

    def expand(row: Row) -> Rows:
        value = getter(row, ctx)
        items = value if isinstance(value, list) else [] if value is None else [value]
        if not items and keep_empty:
            yield row
        for position, item in enumerate(items):
            out = dict(row)
            set_path(out, steps, item)
            if index is not None:
                set_path(out, index, position)
            yield out

    return lambda rows: (out for row in rows for out in expand(row))
