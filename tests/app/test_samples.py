"""The small-sample rule of every page: a share from fewer than 5 reads "too few to say (n = ...)"."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pages.ui.samples import share_text, share_texts, too_few


@pytest.mark.parametrize(("share", "n", "fmt", "expected"), [
    (0.75, 1, "{:.0%}", "too few to say (n = 1)"),
    (0.75, 4, "{:.0%}", "too few to say (n = 4)"),
    (0.75, 5, "{:.0%}", "75%"),
    (None, 0, "{:.0%}", "too few to say (n = 0)"),
    (0.5, None, "{:.0%}", "too few to say (n = 0)"),
    (0.5, math.nan, "{:.0%}", "too few to say (n = 0)"),
    (None, 12, "{:.0%}", "–"),
    (math.nan, 12, "{:.0%}", "–"),
    (62.4, 7.0, "{:.0f}", "62"),
], ids=["one-viewer", "four", "five-is-enough", "nobody", "unknown-count", "nan-count", "no-share", "nan-share",
        "percentile"])
def test_share_text(share: Any, n: Any, fmt: str, expected: str) -> None:
    """Below 5 (or an unknown count) the count is shown, not the share; from 5 the share in its format."""
    assert share_text(share, n, fmt) == expected


def test_share_texts_pairs_each_share_with_its_count() -> None:
    """A table column: each share with its own count."""
    assert share_texts([0.5, 0.5], [2, 10]) == ["too few to say (n = 2)", "50%"]
    assert too_few(4)
    assert not too_few(5)
