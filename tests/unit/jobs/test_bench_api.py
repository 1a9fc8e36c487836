"""The API load script's arithmetic: percentiles and the per-endpoint summary."""

from __future__ import annotations

import math

import pytest

from jobs.bench_api import Summary, percentile, summarise


@pytest.mark.parametrize(("values", "pct", "expected"), [
    ([5.0], 50, 5.0),
    ([1.0, 2.0, 3.0, 4.0, 5.0], 50, 3.0),
    ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
    ([4.0, 1.0, 3.0, 2.0], 0, 1.0),
    ([4.0, 1.0, 3.0, 2.0], 100, 4.0),
    ([float(i) for i in range(1, 101)], 95, 95.05),
    ([float(i) for i in range(1, 101)], 99, 99.01),
], ids=["one", "odd-median", "even-median-interpolated", "min", "max-unsorted", "p95-of-100", "p99-of-100"])
def test_percentile_interpolates_between_closest_ranks(values: list[float], pct: float, expected: float) -> None:
    """A percentile is the linear interpolation between the two closest ranks of the sorted values."""
    assert percentile(values, pct) == pytest.approx(expected)


def test_percentile_of_nothing_is_nan() -> None:
    """No samples: no percentile (NaN), never a made-up 0."""
    assert math.isnan(percentile([], 50))


@pytest.mark.parametrize(("latencies", "errors", "elapsed", "expected"), [
    ([10.0, 20.0, 30.0, 40.0], 1, 2.0, Summary("e", 4, 1, 2.0, 25.0, 38.5, 39.7)),
    ([100.0] * 10, 0, 0.5, Summary("e", 10, 0, 20.0, 100.0, 100.0, 100.0)),
], ids=["spread-with-error", "flat"])
def test_summary_counts_rate_and_percentiles(latencies: list[float], errors: int, elapsed: float,
                                             expected: Summary) -> None:
    """The summary is requests ÷ elapsed seconds and the p50/p95/p99 of the latencies, rounded to 0.1."""
    assert summarise("e", latencies, errors, elapsed) == expected


def test_summary_of_no_time_has_no_rate() -> None:
    """A run that took no time has no rate (NaN), not a division error."""
    assert math.isnan(summarise("e", [1.0], 0, 0.0).rps)
