"""Usage metrics as metrics-spec.md defines them: computed in DuckDB, stored, and read back."""

from __future__ import annotations

from pendo_core.usage.adoption import (
    AbandonedFeature,
    FeatureAdoption,
    abandoned_key_features,
    feature_adoption,
    feature_breadth,
    peer_summary,
    percentile_rank,
)
from pendo_core.usage.compute import MetricsResult, compute_metrics

__all__ = [
    "AbandonedFeature",
    "FeatureAdoption",
    "MetricsResult",
    "abandoned_key_features",
    "compute_metrics",
    "feature_adoption",
    "feature_breadth",
    "peer_summary",
    "percentile_rank",
]
