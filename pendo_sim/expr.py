"""Pendo's aggregation expression language: parse once, compile to Python closures, run per row.

Grammar (C precedence, loosest first): `||`, `&&`, `== !=`, `< <= > >=`, `+ -`, `* / %`, unary
`! -`, then postfix `.name` and `[index]`. Operands: numbers, "double-quoted" strings (escapes
`\\"`, `\\\\`, `\\n`, `\\t`, `\\uXXXX`...), `backtick` strings (raw), `null`, `true`, `false`, field
paths (`metadata.auto.lastvisit`, `polls[0].id`, `s[-1].x`) and function calls (expr_functions.py,
plus `if(c, a, b)` and `map(x, list, expr)`). `in [...]`, list literals, unknown functions, wrong
argument counts, unterminated strings and trailing junk raise QueryError naming the position.

Value rules (the real service does not document them; these are the simulator's):
- A missing field, a field of a non-object, or an index out of range is null.
- A dotted path whose first name is absent from the row is also tried as one key, so a group
  output key such as "metadata.auto.id" can be referenced by later stages.
- `==`/`!=`: null == null is true; null equals nothing else; 1 == 1.0; true != 1; "1" != 1.
- `< <= > >=`: numbers by value, strings lexicographically (code points, as Go compares UTF-8);
  false whenever either side is null or the two types cannot be ordered (never an error).
- `+` adds numbers or concatenates two strings; `- * / %` need numbers. Any other operand (null
  included) gives null. `/` of two ints stays an int when exact, else a float; `x / 0` and `x % 0`
  are null; `%` takes the dividend's sign, as in Go.
- Truthiness (filter, `!`, `&&`, `||`, `if`): null, false, 0, "" and empty lists/maps are false.
  `&&`/`||` short-circuit and return booleans.
- Functions return null on values they cannot use, so a row never aborts a running query.
- Times are epoch ms; calendar functions (date, dateAdd in days/weeks/months, startOfPeriod,
  formatTime) work in the subscription timezone; dateAdd in hours is absolute time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pendo_sim.context import EvalContext, QueryError
from pendo_sim.expr_functions import ALL_APPS, FUNCTIONS, AllApps
from pendo_sim.expr_lexer import fail
from pendo_sim.expr_ops import BINARY, field_vs_constant, neg
from pendo_sim.expr_parser import Access, Binary, Call, Const, Node, Parser, Path, Step, Unary, walk

__all__ = ["ALL_APPS", "AllApps", "EvalContext", "Expr", "Fn", "QueryError", "Step", "eval_text",
           "evaluate", "field_path", "parse_expression"]

Fn = Callable[[Mapping[str, Any], EvalContext], Any]
_RUNTIME_ERRORS = (ValueError, TypeError, OverflowError, ArithmeticError)


@dataclass(frozen=True)
class Expr:
    """A parsed expression: its text, compiled closure, and its field path when it is a bare path."""

    text: str
    fn: Fn = field(compare=False, repr=False)
    path: tuple[Step, ...] | None = None


def parse_expression(text: str) -> Expr:
    """Parse and compile an expression (cached); QueryError names the problem and its position."""
    if not isinstance(text, str):
        raise QueryError(f"expression must be a string, got {text!r}")
    return _parse_cached(text)


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> Expr:
    try:
        node = Parser(text).parse()
        return Expr(text, _Compiler(text).compile(node), node.steps if isinstance(node, Path) else None)
    except RecursionError:
        raise QueryError(f"expression nested too deeply: {text[:80]!r}") from None


def evaluate(expr: Expr, row: Mapping[str, Any], ctx: EvalContext) -> Any:
    """Evaluate a parsed expression against one row."""
    return expr.fn(row, ctx)


def eval_text(text: str, row: Mapping[str, Any], ctx: EvalContext) -> Any:
    """Parse (cached) and evaluate an expression against one row."""
    return parse_expression(text).fn(row, ctx)


def field_path(text: str) -> tuple[Step, ...]:
    """The steps of a bare field path ("a.b[0].c"); QueryError if the text is anything else."""
    path = parse_expression(text).path
    if path is None:
        raise QueryError(f"{text!r} is not a field path")
    return path


class _Scope(Mapping[str, Any]):
    """A row seen through map()'s loop variable."""

    __slots__ = ("name", "row", "value")

    def __init__(self, row: Mapping[str, Any], name: str, value: Any) -> None:
        self.row, self.name, self.value = row, name, value

    def get(self, key: str, default: Any = None) -> Any:
        return self.value if key == self.name else self.row.get(key, default)

    def __getitem__(self, key: str) -> Any:
        return self.value if key == self.name else self.row[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self.row, self.name: self.value})

    def __len__(self) -> int:
        return len({**self.row, self.name: self.value})


class _Compiler:
    """Turns a syntax tree into nested closures `fn(row, ctx)`; checks functions as it goes."""

    def __init__(self, text: str) -> None:
        self.text = text

    def compile(self, node: Node) -> Fn:
        if isinstance(node, Const):
            value = node.value
            return lambda _row, _ctx: value
        if isinstance(node, Path):
            return _path_getter(node.steps)
        if isinstance(node, Access):
            base, steps = self.compile(node.base), node.steps
            return lambda row, ctx: walk(base(row, ctx), steps)
        if isinstance(node, Unary):
            return self._unary(node)
        if isinstance(node, Binary):
            return self._binary(node)
        return self._call(node)

    def _unary(self, node: Unary) -> Fn:
        operand = self.compile(node.operand)
        if node.op == "!":
            return lambda row, ctx: not operand(row, ctx)
        return lambda row, ctx: neg(operand(row, ctx))

    def _binary(self, node: Binary) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)
        if node.op == "&&":
            return lambda row, ctx: bool(left(row, ctx)) and bool(right(row, ctx))
        if node.op == "||":
            return lambda row, ctx: bool(left(row, ctx)) or bool(right(row, ctx))
        op = BINARY[node.op]
        if isinstance(node.right, Const):  # the common `field >= 1709614800000` shape
            constant = node.right.value
            if isinstance(node.left, Path) and len(node.left.steps) == 1:
                fast = field_vs_constant(str(node.left.steps[0]), node.op, constant)
                if fast is not None:
                    return fast
            return lambda row, ctx: op(left(row, ctx), constant)
        return lambda row, ctx: op(left(row, ctx), right(row, ctx))

    def _call(self, node: Call) -> Fn:
        if node.name == "if":
            return self._if(node)
        if node.name == "map":
            return self._map(node)
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise fail(self.text, f"unknown function '{node.name}'", node.pos)
        if len(node.args) not in function.arities:
            counts = " or ".join(str(n) for n in sorted(function.arities))
            message = f"{node.name}() takes {counts} argument(s), got {len(node.args)}"
            raise fail(self.text, message, node.pos)
        self._check_choices(node, function.choices)
        return _call_closure(function.impl, [self.compile(arg) for arg in node.args])

    def _check_choices(self, node: Call, choices: Mapping[int, frozenset[str]]) -> None:
        for index, allowed in choices.items():
            arg = node.args[index]
            if isinstance(arg, Const) and arg.value not in allowed:
                expected = ", ".join(sorted(allowed))
                message = f"{node.name}(): {arg.value!r} is not one of {expected}"
                raise fail(self.text, message, node.pos)

    def _if(self, node: Call) -> Fn:
        if len(node.args) != 3:
            raise fail(self.text, f"if() takes 3 arguments, got {len(node.args)}", node.pos)
        cond, yes, no = (self.compile(arg) for arg in node.args)
        return lambda row, ctx: yes(row, ctx) if cond(row, ctx) else no(row, ctx)

    def _map(self, node: Call) -> Fn:
        if len(node.args) != 3 or not (isinstance(node.args[0], Path) and len(node.args[0].steps) == 1):
            raise fail(self.text, "map() takes a variable name, a list and an expression", node.pos)
        name = str(node.args[0].steps[0])
        items, body = self.compile(node.args[1]), self.compile(node.args[2])

        def run(row: Mapping[str, Any], ctx: EvalContext) -> Any:
            values = items(row, ctx)
            if not isinstance(values, list):
                return None
            return [body(_Scope(row, name, value), ctx) for value in values]

        return run


def _path_getter(steps: tuple[Step, ...]) -> Fn:
    first, rest = str(steps[0]), steps[1:]
    if not rest:
        return lambda row, _ctx: row.get(first)
    dotted = ".".join(steps) if all(type(s) is str for s in steps) else None  # type: ignore[arg-type]

    def get(row: Mapping[str, Any], _ctx: EvalContext) -> Any:
        value = row.get(first)
        if value is None:
            return row.get(dotted) if dotted is not None else None
        return walk(value, rest)

    return get


def _call_closure(impl: Callable[..., Any], args: list[Fn]) -> Fn:
    """A closure calling impl(ctx, *args); a run-time error in a function yields null."""
    if not args:
        return lambda _row, ctx: impl(ctx)

    def call(row: Mapping[str, Any], ctx: EvalContext) -> Any:
        try:
            return impl(ctx, *[arg(row, ctx) for arg in args])
        except _RUNTIME_ERRORS:
            return None

    return call
