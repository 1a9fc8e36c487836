"""Operator semantics of the expression language (the rules are listed in expr.py's docstring)."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

Number = int | float


def is_number(value: Any) -> bool:
    """True for ints and floats; booleans are not numbers here."""
    kind = type(value)
    return kind is int or kind is float


def eq(a: Any, b: Any) -> bool:
    """Equality: null == null, 1 == 1.0, but true != 1 and "1" != 1."""
    return a == b and (type(a) is bool) == (type(b) is bool)


def ne(a: Any, b: Any) -> bool:
    """Negated equality."""
    return not eq(a, b)


def lt(a: Any, b: Any) -> bool:
    """Ordering: false when either side is null or the types cannot be ordered."""
    if a is None or b is None:
        return False
    try:
        return bool(a < b)
    except TypeError:
        return False


def le(a: Any, b: Any) -> bool:
    """a <= b with lt's rules (null and mismatched types are false)."""
    if a is None or b is None:
        return False
    try:
        return bool(a <= b)
    except TypeError:
        return False


def gt(a: Any, b: Any) -> bool:
    """a > b with lt's rules."""
    return lt(b, a)


def ge(a: Any, b: Any) -> bool:
    """a >= b with lt's rules."""
    return le(b, a)


def add(a: Any, b: Any) -> Any:
    """Numbers add, strings concatenate; anything else (null included) gives null."""
    if is_number(a) and is_number(b):
        return a + b
    if type(a) is str and type(b) is str:
        return a + b
    return None


def sub(a: Any, b: Any) -> Any:
    """Numeric subtraction; null for non-numbers."""
    return a - b if is_number(a) and is_number(b) else None


def mul(a: Any, b: Any) -> Any:
    """Numeric multiplication; null for non-numbers."""
    return a * b if is_number(a) and is_number(b) else None


def div(a: Any, b: Any) -> Any:
    """Division: an exact int quotient stays an int; division by zero gives null."""
    if not (is_number(a) and is_number(b)) or b == 0:
        return None
    if type(a) is int and type(b) is int and a % b == 0:
        return a // b
    return a / b


def mod(a: Any, b: Any) -> Any:
    """Remainder with the sign of the dividend (as in Go and C); null on zero or non-numbers."""
    if not (is_number(a) and is_number(b)) or b == 0:
        return None
    if type(a) is int and type(b) is int:
        rem = abs(a) % abs(b)
        return -rem if a < 0 else rem
    return math.fmod(a, b)


def neg(a: Any) -> Any:
    """Unary minus; null for non-numbers."""
    return -a if is_number(a) else None


def not_(a: Any) -> bool:
    """Logical not of a value's truthiness."""
    return not a


BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "==": eq,
    "!=": ne,
    "<": lt,
    "<=": le,
    ">": gt,
    ">=": ge,
    "+": add,
    "-": sub,
    "*": mul,
    "/": div,
    "%": mod,
}

_NATIVE: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq, "!=": operator.ne, "<": operator.lt,
    "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}
RowFn = Callable[[Mapping[str, Any], Any], Any]


def field_vs_constant(name: str, op: str, constant: Any) -> RowFn | None:
    """One closure for `field <op> constant` (the hot filter shape), or None when it does not apply.

    Same results as BINARY[op]; values of the constant's own type skip the generic rules.
    """
    native, generic = _NATIVE.get(op), BINARY[op]
    if native is None:
        return None
    if type(constant) is str:
        def with_string(row: Mapping[str, Any], _ctx: Any) -> Any:
            value = row.get(name)
            return native(value, constant) if type(value) is str else generic(value, constant)

        return with_string
    if is_number(constant):
        def with_number(row: Mapping[str, Any], _ctx: Any) -> Any:
            value = row.get(name)
            kind = type(value)
            return native(value, constant) if kind is int or kind is float else generic(value, constant)

        return with_number
    return None
