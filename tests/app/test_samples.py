"""The small-sample rule of every page: a share from fewer than 5 reads "too few to say (n = ...)" as a figure,
and is an empty cell of a numeric table column (which sorts by the number), with the count in a caption."""

from __future__ import annotations

import math
from typing import Any

import pytest

from pages.ui.samples import left_empty, share_text, shares, too_few


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


def test_shares_keep_numbers_and_leave_too_few_empty() -> None:
    """A table column: each share with its own count, NaN (an empty cell) below 5 or without a share."""
    got = shares([0.5, 0.5, None, 0.25, 62.4], [2, 10, 12, None, 7.0])
    assert math.isnan(got[0])
    assert got[1] == 0.5
    assert math.isnan(got[2])
    assert math.isnan(got[3])
    assert got[4] == 62.4
    assert sorted(v for v in got if not math.isnan(v)) == [0.5, 62.4]  # numbers: they sort as numbers
    assert too_few(4)
    assert not too_few(5)


@pytest.mark.parametrize(("n", "expected"), [
    (3, "Adoption: too few to say (n = 3 monthly active users, fewer than 5), so it is left empty."),
    (None, "Adoption: too few to say (n = 0 monthly active users, fewer than 5), so it is left empty."),
    (5, None),
], ids=["three", "unknown", "five-is-enough"])
def test_left_empty_says_why_a_column_is_empty(n: Any, expected: str | None) -> None:
    """The caption under a column whose one count is too small names the column and the count."""
    assert left_empty("Adoption", n, "monthly active users") == expected
