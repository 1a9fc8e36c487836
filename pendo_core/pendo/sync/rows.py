"""Validation of Pendo rows: a bad row is skipped and counted with its reason, never fatal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_COUNT = 2**53


class BadRow(ValueError):
    """A row we cannot store; `reason` is short and stable so counts group by it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def text(row: Mapping[str, Any], key: str) -> str:
    """A required, non-empty id; numbers are accepted as their decimal text."""
    value = row.get(key)
    if isinstance(value, bool) or value is None:
        raise BadRow(f"missing {key}")
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str) or not value:
        raise BadRow(f"bad {key}")
    return value


def count(row: Mapping[str, Any], key: str) -> int:
    """A required non-negative whole number (events, minutes)."""
    value = row.get(key)
    if isinstance(value, bool) or value is None:
        raise BadRow(f"missing {key}")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise BadRow(f"bad {key}")
    if value < 0:
        raise BadRow(f"negative {key}")
    if value >= MAX_COUNT:
        raise BadRow(f"huge {key}")
    return value


def epoch_ms(row: Mapping[str, Any], key: str) -> int:
    """A required epoch-millisecond instant within a sane range (1990..2100)."""
    value = count(row, key)
    if not 631_152_000_000 <= value <= 4_102_444_800_000:
        raise BadRow(f"{key} out of range")
    return value


def optional_text(row: Mapping[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or value == "":
        return None
    return value if isinstance(value, str) else str(value)


def optional_ms(row: Mapping[str, Any], key: str) -> int | None:
    value = row.get(key)
    if value is None or isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def dig(row: Mapping[str, Any], path: str) -> Any:
    """`metadata.auto.lastupdated`-style lookup; None when any part is missing."""
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def unstorable(table: Any, row: Mapping[str, Any]) -> str | None:
    """Why a converted row cannot be stored as is (NUL bytes, longer than its column), else None."""
    for name, value in row.items():
        if isinstance(value, str):
            if "\x00" in value:
                return f"NUL byte in {name}"
            length = getattr(table.c[name].type, "length", None)
            if length is not None and len(value) > length:
                return f"{name} longer than {length} characters"
    return None
