"""Stages that combine streams: merge (left join with a sub-pipeline), spawn/fork followed by join.

Simulator rules: merge keeps every input row; a row whose key matches a sub-pipeline row gets the
mapped fields (`mappings` dst: src) or, without mappings, every field of the first matching row.
join is a full outer join: one row per distinct key over all branches, fields merged in branch
order (a later branch wins a clash); with `"fields": []` all rows merge into one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from pendo_sim.context import QueryError
from pendo_sim.expr import field_path, parse_expression
from pendo_sim.rows import Env, Opener, Row, Rows, Stage, hashable, set_path, string_list

KeyFn = Callable[[Row], Any]


def _key_function(names: list[str], env: Env) -> KeyFn:
    getters = [parse_expression(name).fn for name in names]
    ctx = env.ctx

    def key(row: Row) -> Any:
        values = tuple([get(row, ctx) for get in getters])
        try:
            hash(values)
        except TypeError:
            return hashable(values)
        return values

    return key


def merge_stage(arg: Any, env: Env) -> Stage:
    """Left-join each row with the first row of a sub-pipeline sharing its key fields."""
    if not isinstance(arg, dict) or "pipeline" not in arg or "fields" not in arg:
        raise QueryError('merge needs {"fields": [...], "mappings": {...}, "pipeline": [...]}')
    names = string_list(arg["fields"], "merge.fields")
    key = _key_function(names, env)
    mappings = arg.get("mappings") or {}
    if not isinstance(mappings, dict) or not all(isinstance(src, str) for src in mappings.values()):
        raise QueryError("merge.mappings must be an object of destination: source field")
    copies = [(field_path(dst), parse_expression(src).fn) for dst, src in mappings.items()]
    opener, ctx = env.compile_sourced(arg["pipeline"]), env.ctx

    def merged(rows: Rows, others: Rows) -> Rows:
        index: dict[Any, Row] = {}
        for other in others:
            index.setdefault(key(other), other)
        for row in rows:
            match = index.get(key(row))
            if match is None:
                yield row
                continue
            out = dict(row)
            for steps, source in copies:
                set_path(out, steps, source(match, ctx))
            if not copies:
                out.update((name, value) for name, value in match.items() if name not in names)
            yield out

    return lambda rows: merged(rows, opener())  # opener() runs now: sub-source errors come first


def _join_key(arg: Any, width: int, env: Env) -> KeyFn:
    """Validate a join stage against the number of branches before it."""
    if not isinstance(arg, dict) or "fields" not in arg:
        raise QueryError('join needs {"fields": [...], "width": N}')
    if arg.get("width") is not None and arg["width"] != width:
        raise QueryError(f"join width {arg['width']!r} does not match the {width} branches before it")
    return _key_function(string_list(arg["fields"], "join.fields"), env)


def _joined(streams: list[Rows], key: KeyFn) -> Rows:
    merged: dict[Any, Row] = {}
    for stream in streams:
        for row in stream:
            existing = merged.get(k := key(row))
            if existing is None:
                merged[k] = dict(row)
            else:
                existing.update(row)
    yield from merged.values()


def _branches(arg: Any, what: str) -> list[Any]:
    if not isinstance(arg, list) or not arg or not all(isinstance(branch, list) for branch in arg):
        raise QueryError(f"{what} needs a non-empty list of pipelines")
    return arg


def spawn_source(arg: Any, join_arg: Any, env: Env) -> Opener:
    """Run several whole pipelines (each with its own source) and join their rows."""
    openers = [env.compile_sourced(branch) for branch in _branches(arg, "spawn")]
    key = _join_key(join_arg, len(openers), env)
    return lambda: _joined([open_branch() for open_branch in openers], key)


def fork_stage(arg: Any, join_arg: Any, env: Env) -> Stage:
    """Send the stream down several source-less branches and join what they produce."""
    stages = [env.compile_branch(branch) for branch in _branches(arg, "fork")]
    key = _join_key(join_arg, len(stages), env)

    def run(rows: Rows) -> Rows:
        copies = itertools.tee(rows, len(stages))
        return _joined([stage(copy) for stage, copy in zip(stages, copies, strict=True)], key)

    return run
