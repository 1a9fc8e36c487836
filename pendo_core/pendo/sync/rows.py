"""Validation of Pendo rows: a bad row is skipped and counted with its reason, never fatal to the run
(whether its window is applied is guard.py's call)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

MAX_COUNT = 2**53
EARLIEST_MS, LATEST_MS = 631_152_000_000, 4_102_444_800_000  # an instant Pendo gives: 1990..2100
SAMPLE_LEN = 300


class BadRow(ValueError):
    """A row we cannot store; `reason` is short and stable so counts group by it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class BadRows:
    """Bad rows of a window or a run: counts per (stream, reason) and one sample each."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, stream: str, reason: str, row: Any) -> None:
        key = (stream, reason)
        self.counts[key] += 1
        self.samples.setdefault(key, repr(row)[:SAMPLE_LEN])

    def merge(self, other: BadRows) -> None:
        self.counts.update(other.counts)
        for key, sample in other.samples.items():
            self.samples.setdefault(key, sample)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def commonest(self) -> tuple[str, str | None] | None:
        """(reason, sample) of the most frequent reason, or None without bad rows."""
        if not self.counts:
            return None
        key = self.counts.most_common(1)[0][0]
        return key[1], self.samples.get(key)


def text(row: Mapping[str, Any], key: str) -> str:
    """A required, non-empty id; numbers are accepted as their decimal text."""
    value = row.get(key)
    if type(value) is str and value:  # the common case first: this runs for every id of every row
        return value
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
    if type(value) is int and 0 <= value < MAX_COUNT:  # the common case first (bool is not `int` here)
        return value
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
    if not EARLIEST_MS <= value <= LATEST_MS:
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


def unstorable_values(table: Any, names: tuple[str, ...], values: tuple[Any, ...]) -> str | None:
    """`unstorable` for a row given as values in the order of `names` (the usage streams' rows)."""
    for index, name, length in _text_columns(table, names):
        value = values[index]
        if "\x00" in value:
            return f"NUL byte in {name}"
        if length is not None and len(value) > length:
            return f"{name} longer than {length} characters"
    return None


@cache
def _text_columns(table: Any, names: tuple[str, ...]) -> tuple[tuple[int, str, int | None], ...]:
    """(position, name, maximum length) of each text column among `names`, looked up once per stream."""
    lengths = _lengths(table)
    return tuple((i, name, lengths[name]) for i, name in enumerate(names)
                 if getattr(table.c[name].type, "python_type", None) is str)


def unstorable(table: Any, row: Mapping[str, Any]) -> str | None:
    """Why a converted row cannot be stored as is (NUL bytes, longer than its column), else None."""
    lengths = _lengths(table)
    for name, value in row.items():
        if isinstance(value, str):
            if "\x00" in value:
                return f"NUL byte in {name}"
            length = lengths[name]
            if length is not None and len(value) > length:
                return f"{name} longer than {length} characters"
    return None


@cache
def _lengths(table: Any) -> dict[str, int | None]:
    """Each column's maximum length (None: unbounded), looked up once per table."""
    return {c.name: getattr(c.type, "length", None) for c in table.columns}
