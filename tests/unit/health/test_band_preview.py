"""The band preview re-scores the newest day's stored components with candidate settings."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from sqlalchemy import Engine

from pendo_core.admin.settings import HealthSettings, HealthWeights
from pendo_core.health.band_preview import latest_components, preview_bands
from tests.support.health_alerts import table_insert

CUSTOMER = "00000000-0000-4000-8000-000000000001"

LATEST = pd.DataFrame({  # stored bands as an older version scored them
    "customer_id": ["a", "b", "c"], "score_date": [date(2026, 3, 18)] * 3, "band": ["green", "yellow", "yellow"],
    "engagement": [90.0, 60.0, 20.0], "adoption": [90.0, 100.0, 100.0], "trajectory": [80.0, 40.0, None],
    "onboarding": [None, None, None], "breadth_change": [None, None, None], "attrition": [None, None, None],
    "sustained_trend": [None, None, None], "champion": [None, None, None]})


@pytest.mark.parametrize(("weights", "moves"), [
    ({"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45}, {("yellow", "red"): 1}),  # the pre-issue-12 defaults
    ({"engagement": 0.0, "adoption": 1.0, "trajectory": 0.0}, {("yellow", "green"): 2}),
    ({"engagement": 0.0, "adoption": 0.0, "trajectory": 1.0}, {("yellow", "red"): 1,
                                                               ("yellow", "insufficient data"): 1}),
], ids=["default-weights", "adoption-only", "trajectory-only-leaves-c-without-data"])
def test_band_preview_counts_customers_who_change_band(weights: dict[str, float],
                                                       moves: dict[tuple[str, str], int]) -> None:
    """The preview re-scores stored components with candidate weights and counts band moves."""
    candidate = HealthWeights(**weights, onboarding=0.0, breadth_change=0.0, attrition=0.0, sustained_trend=0.0,
                              champion=0.0)
    preview = preview_bands(LATEST, HealthSettings(weights=candidate, red_below=50, green_from=75))
    found = dict(zip(zip(preview.moves["from_band"], preview.moves["to_band"], strict=True),
                     preview.moves["customers"], strict=True))
    assert (preview.customers, preview.changed, found) == (3, sum(moves.values()), moves)
    assert preview.counts.set_index("band")["now"].to_dict() == {"red": 0, "yellow": 2, "green": 1,
                                                                 "insufficient data": 0}


def test_band_preview_without_scores_is_empty() -> None:
    """No stored scores: nothing to preview, no error."""
    preview = preview_bands(LATEST.iloc[0:0], HealthSettings())
    assert (preview.customers, preview.changed, preview.moves.empty) == (0, 0, True)


def test_latest_components_reads_the_newest_day(sqlite_engine: Engine) -> None:
    """The preview starts from the newest scored day only."""
    rows = [{"customer_id": CUSTOMER, "score_date": day, "engagement": e, "adoption": None, "trajectory": None,
             "onboarding": None, "overall": e, "band": "green", "coverage": 1.0, "settings_version": 0,
             "weights": {}, "inputs": {}} for day, e in ((date(2026, 3, 17), 10.0), (date(2026, 3, 18), 80.0))]
    table_insert(sqlite_engine, "pendo_health_scores", rows)
    latest = latest_components(sqlite_engine)
    assert latest[["score_date", "engagement"]].values.tolist() == [[date(2026, 3, 18), 80.0]]
