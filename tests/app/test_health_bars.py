"""The Health page's "What the score is made of" bars are coloured by how good each component is (its
own score on the bands), not by its name: a perfect Breadth change is green, a weak one red."""

from __future__ import annotations

import pandas as pd
import pytest

from pages.ui.health_charts import component_band, contributions_chart
from pages.ui.panel_ui import BAND_COLORS


@pytest.mark.parametrize(("score", "band"), [(100.0, "green"), (75.0, "green"), (74.9, "yellow"), (50.0, "yellow"),
                                             (49.9, "red"), (0.0, "red"), (None, "insufficient data")],
                         ids=["perfect", "green-from", "below-green", "red-below", "below-red", "zero", "no-data"])
def test_a_component_is_coloured_by_its_own_score(score: float | None, band: str) -> None:
    """Red below 50, yellow below 75, green from 75 (the bands given), grey without a score."""
    assert component_band(score, red_below=50.0, green_from=75.0) == band


def test_a_perfect_breadth_change_is_a_green_bar() -> None:
    """The newcomer's case: Breadth change at 100 (20 of 20 points) was drawn red; now green, and a weak
    engagement red, in the chart's own data and colour scale."""
    table = pd.DataFrame({"component": ["Engagement", "Breadth change"], "score": [30.0, 100.0],
                          "weight": [0.8, 0.2], "points": [24.0, 20.0]})
    spec = contributions_chart(table, red_below=50.0, green_from=75.0).to_dict()
    rows = next(iter(spec["datasets"].values()))
    assert {r["component"]: r["quality"] for r in rows} == {"Engagement": "red", "Breadth change": "green"}
    color = spec["layer"][0]["encoding"]["color"]
    assert color["field"] == "quality"
    assert dict(zip(color["scale"]["domain"], color["scale"]["range"], strict=True))["green"] == BAND_COLORS["green"]
