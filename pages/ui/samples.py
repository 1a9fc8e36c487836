"""Small samples: a rate from fewer than MIN_SAMPLE people (or customers) is not shown as a number.

"Completion 75%" from one viewer reads as signal; "too few to say (n = 1)" does not. Every share on the
pages that comes from a small count goes through here, so the rule and its wording live in one place: a
single figure reads as text (`share_text`); a table column stays numeric, so it sorts by the number, and is
empty where the count is too small (`shares`), with the count beside it (a column such as "Saw it") or, when
one count serves the whole column, in a caption (`left_empty`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

MIN_SAMPLE = 5
TOO_FEW = "too few to say"
HELP = f"Shown only from {MIN_SAMPLE} or more; below that it is {TOO_FEW} and left empty ('–')."


def too_few(n: Any) -> bool:
    """Whether a count is too small (or unknown) to report a rate from."""
    return n is None or (isinstance(n, float) and math.isnan(n)) or int(n) < MIN_SAMPLE


def share_text(share: Any, n: Any, fmt: str = "{:.0%}") -> str:
    """A share (0..1) as text ("75%"), or "too few to say (n = 3)" when it comes from fewer than
    MIN_SAMPLE; a dash when there is no share at all."""
    if too_few(n):
        return f"{TOO_FEW} (n = {0 if n is None or pd.isna(n) else int(n)})"
    if share is None or pd.isna(share):
        return "–"
    return fmt.format(float(share))


def shares(values: Iterable[Any], counts: Iterable[Any]) -> list[float]:
    """A table column of shares (or percentiles): each value, NaN where its count is too small or it has
    none, so the column sorts by the number and shows an empty cell where there is too little to say."""
    return [math.nan if too_few(n) or v is None or pd.isna(v) else float(v)
            for v, n in zip(values, counts, strict=True)]


def left_empty(what: str, n: Any, counted: str) -> str | None:
    """The caption of a column left empty because the one count it comes from is too small (None when it is
    not): "Adoption: too few to say (n = 3 monthly active users, fewer than 5), so it is left empty."."""
    if not too_few(n):
        return None
    count = 0 if n is None or pd.isna(n) else int(n)
    return f"{what}: {TOO_FEW} (n = {count} {counted}, fewer than {MIN_SAMPLE}), so it is left empty."
