"""The page benchmark's tail figure."""

from __future__ import annotations

import pytest

from jobs.bench_pages import p95


@pytest.mark.parametrize(("values", "expected"), [
    ([float(v) for v in range(1, 21)], 19.05),
    ([0.2] * 19 + [5.0], 0.44),
    ([0.3], 0.3),
], ids=["twenty-runs", "one-slow-run-of-twenty", "one-run"])
def test_p95(values: list[float], expected: float) -> None:
    """The 95th percentile interpolates between the two slowest of twenty runs; one run is its own p95."""
    assert p95(values) == pytest.approx(expected)
