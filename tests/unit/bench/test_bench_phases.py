"""The phase each post-sync step's time is counted in by the bench's stopwatch."""

from __future__ import annotations

from jobs.bench_phases import step_phase
from pendo_core.common.config import Settings
from pendo_core.pipeline.run import STEPS


def test_every_step_of_the_sync_is_timed_in_its_own_phase() -> None:
    """The read models' steps (snapshot, Portfolio days) are a phase of their own: counted as metrics,
    which is timed inside, they went untimed into "other" (22 s of a 20,000-account daily run)."""
    settings = Settings()
    phases = {make.__name__: step_phase(make(settings)) for make in STEPS}
    assert phases == {"make_metrics_step": "metrics", "make_snapshot_step": "read_models",
                      "make_health_step": "health", "make_portfolio_step": "read_models",
                      "make_alerts_step": "alerts", "make_retention_step": "retention"}
