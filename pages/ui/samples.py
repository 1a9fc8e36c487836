"""Small samples: a rate from fewer than MIN_SAMPLE people (or customers) is not shown as a number.

"Completion 75%" from one viewer reads as signal; "too few to say (n = 1)" does not. Every share on the
pages that comes from a small count goes through `share_text`, so the rule and its wording live here.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import pandas as pd

MIN_SAMPLE = 5
TOO_FEW = "too few to say"
HELP = f"Shown only from {MIN_SAMPLE} or more; below that it reads '{TOO_FEW}' with the count n."


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


def share_texts(shares: Iterable[Any], counts: Iterable[Any], fmt: str = "{:.0%}") -> list[str]:
    """`share_text` of each (share, count) pair, for a table column."""
    return [share_text(s, n, fmt) for s, n in zip(shares, counts, strict=True)]
