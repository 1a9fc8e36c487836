"""Run a Pendo aggregation pipeline over rows from a SourceProvider.

run_pipeline works in two steps, both before it returns: it validates the whole pipeline (every
operator's shape, every expression, the timeSeries), then opens the sources (calling the provider
and pulling one row, so an unknown source fails too). Any QueryError therefore reaches the caller
before the first row exists and can become a 400. The returned iterator is lazy: filter, select,
eval, identified, unwind, limit and skip stream; group, reduce, sort, count and join read all
their input; limit stops pulling from upstream once it has its rows.

Operators: source (first), spawn + join (in place of a source), filter, identified, select, eval,
group, reduce, sort, limit, skip, count, merge, unwind, cat, fork + join. Rules for each are in
stages.py, aggregate.py and joins.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

from pendo_sim.aggregate import group_stage, reduce_stage
from pendo_sim.context import EvalContext, QueryError
from pendo_sim.joins import fork_stage, merge_stage, spawn_source
from pendo_sim.rows import Env, Opener, Rows, SourceProvider, Stage, primed
from pendo_sim.stages import (
    cat_stage,
    count_stage,
    eval_stage,
    filter_stage,
    identified_stage,
    limit_stage,
    select_stage,
    skip_stage,
    sort_stage,
    unwind_stage,
)
from pendo_sim.timeseries import parse_time_series

__all__ = ["SourceProvider", "parse_request", "run_pipeline"]

_STAGES: dict[str, Callable[[Any, Env], Stage]] = {
    "filter": filter_stage,
    "identified": identified_stage,
    "select": select_stage,
    "eval": eval_stage,
    "group": group_stage,
    "reduce": reduce_stage,
    "sort": sort_stage,
    "limit": limit_stage,
    "skip": skip_stage,
    "count": count_stage,
    "merge": merge_stage,
    "unwind": unwind_stage,
    "cat": cat_stage,
}
# Real Pendo operators this simulator does not implement: named, so the 400 says so.
_UNSUPPORTED = frozenset({"bulkExpand", "expand", "segment", "unmarshal", "switch", "useReportingTimezone"})
Step = tuple[str, Any]
T = TypeVar("T")


def parse_request(body: Any) -> list[dict[str, Any]]:
    """Validate the {"response": ..., "request": {"pipeline": [...]}} envelope and return the pipeline."""
    if not isinstance(body, dict):
        raise QueryError("the body must be a JSON object with a 'request'")
    if "request" not in body:
        if "requests" in body:
            raise QueryError("the 'requests' list form is not supported: send one 'request' object")
        raise QueryError("the body needs a 'request' object holding a 'pipeline'")
    _check_response(body.get("response"))
    request = body["request"]
    if not isinstance(request, dict):
        raise QueryError("'request' must be an object holding a 'pipeline'")
    pipeline = request.get("pipeline")
    if not isinstance(pipeline, list) or not pipeline:
        raise QueryError("'request.pipeline' must be a non-empty list of stages")
    return pipeline


def _check_response(response: Any) -> None:
    if response is None:
        return
    if not isinstance(response, dict):
        raise QueryError("'response' must be an object such as {\"mimeType\": \"application/json\"}")
    mime = response.get("mimeType")
    if mime is not None and mime != "application/json":
        raise QueryError(f"response.mimeType {mime!r} is not supported: use application/json")


def run_pipeline(
    pipeline: list[dict[str, Any]], provider: SourceProvider, ctx: EvalContext
) -> Iterator[dict[str, Any]]:
    """Validate and open the pipeline now (QueryError if invalid); return its rows lazily."""
    return _Compiler(provider, ctx).sourced(pipeline)()


def _steps(pipeline: Any) -> list[Step]:
    """Each stage as (operator, argument); QueryError unless each is a one-key object."""
    if not isinstance(pipeline, list) or not pipeline:
        raise QueryError("a pipeline must be a non-empty list of stages")
    steps: list[Step] = []
    for number, stage in enumerate(pipeline, 1):
        if not isinstance(stage, dict) or len(stage) != 1:
            raise QueryError(f"stage {number}: each stage must be an object with exactly one operator")
        steps.append(next(iter(stage.items())))
    return steps


class _Compiler:
    """Validates stages into Stage functions; sub-pipelines (merge, spawn, fork) recurse through it."""

    def __init__(self, provider: SourceProvider, ctx: EvalContext) -> None:
        self.env = Env(ctx, provider, self.sourced, self.branch)

    def sourced(self, pipeline: Any) -> Opener:
        """A pipeline whose first stage is a source (or spawn + join)."""
        steps = _steps(pipeline)
        op, arg = steps[0]
        if op == "source":
            head, used = _at(1, op, lambda: self._source(arg)), 1
        elif op == "spawn":
            join = _join_after(steps, 0)
            head, used = _at(1, op, lambda: spawn_source(arg, join, self.env)), 2
        else:
            raise QueryError(f"stage 1 ({op}): a pipeline must start with a source")
        body = self._compose(steps[used:], used + 1)
        return lambda: body(head())

    def branch(self, pipeline: Any) -> Stage:
        """A source-less branch of a fork."""
        return self._compose(_steps(pipeline), 1)

    def _compose(self, steps: list[Step], first_number: int) -> Stage:
        stages: list[Stage] = []
        index = 0
        while index < len(steps):
            stage, used = self._numbered(steps, index, first_number + index)
            stages.append(stage)
            index += used
        return _chain(stages)

    def _numbered(self, steps: list[Step], index: int, number: int) -> tuple[Stage, int]:
        """The stage at steps[index] and how many steps it used (fork takes its join too)."""
        op, arg = steps[index]
        if op == "fork":
            join = _join_after(steps, index, number)
            return _at(number, op, lambda: fork_stage(arg, join, self.env)), 2
        return _at(number, op, lambda: self._stage(op, arg)), 1

    def _stage(self, op: str, arg: Any) -> Stage:
        if op in _STAGES:
            return _STAGES[op](arg, self.env)
        if op in ("source", "spawn"):
            raise QueryError(f"{op} is only allowed as the first stage")
        if op == "join":
            raise QueryError("join must directly follow spawn or fork")
        if op in _UNSUPPORTED:
            raise QueryError(f"operator {op!r} is not supported by this simulator")
        raise QueryError(f"unknown pipeline operator {op!r}")

    def _source(self, arg: Any) -> Opener:
        if not isinstance(arg, dict):
            raise QueryError('source must be an object such as {"visitors": null}')
        names = [key for key in arg if key != "timeSeries"]
        if len(names) != 1:
            raise QueryError(f"source needs exactly one source name beside timeSeries, got {names}")
        name, params = names[0], arg[names[0]]
        if params is not None and not isinstance(params, Mapping):
            raise QueryError(f"the parameters of source {name!r} must be an object or null")
        series = arg.get("timeSeries")
        time_range = None if series is None else parse_time_series(series, self.env.ctx)
        provider = self.env.provider
        return lambda: _at(1, "source", lambda: primed(provider.rows(name, params, time_range)))


def _join_after(steps: list[Step], index: int, number: int = 1) -> Any:
    """The argument of the join that must follow a spawn/fork at steps[index]."""
    if index + 1 >= len(steps) or steps[index + 1][0] != "join":
        raise QueryError(f"stage {number} ({steps[index][0]}): must be followed by a join stage")
    return steps[index + 1][1]


def _at(number: int, op: str, build: Callable[[], T]) -> T:
    """Run build, prefixing any QueryError with the stage it belongs to."""
    try:
        return build()
    except QueryError as exc:
        raise QueryError(f"stage {number} ({op}): {exc}") from None


def _chain(stages: list[Stage]) -> Stage:
    def run(rows: Rows) -> Rows:
        for stage in stages:
            rows = stage(rows)
        return rows

    return run
