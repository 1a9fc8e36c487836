"""Scoring judgments against labelled truth: hits, false alerts and misses per kind; AUC; churn by band."""

from __future__ import annotations

import pytest

from pendo_core.evaluation import (
    BandChurn,
    Case,
    case_frame,
    churn_aucs,
    churn_by_band,
    monotone,
    score_kind,
    sustained_recall,
)
from pendo_core.health.score import COMPONENTS

SIGNALS = {"mau_change_30d": 0.0, "dau_recent_vs_baseline": 0.0, "dau_last_week": 5.0, "days_since_login": 1.0}


def case(expected: dict[str, frozenset[str]], alerts: set[tuple[str, str]], *, allowed: frozenset[str] = frozenset(),
         churned: bool = False, health: float = 80.0, band: str = "green", sustained: bool = False) -> Case:
    return Case("c", "story", expected, allowed, churned, False, sustained, frozenset(alerts), health, band, SIGNALS)


@pytest.mark.parametrize(("c", "counts"), [
    pytest.param(case({"usage_drop": frozenset({""})}, {("usage_drop", "")}), (1, 0, 0), id="required-and-raised"),
    pytest.param(case({"usage_drop": frozenset({""})}, set()), (0, 0, 1), id="required-and-missed"),
    pytest.param(case({}, {("usage_drop", "")}), (0, 1, 0), id="raised-but-not-required"),
    pytest.param(case({}, {("usage_drop", "")}, allowed=frozenset({"usage_drop"})), (0, 0, 0), id="allowed"),
    pytest.param(case({}, set()), (0, 0, 0), id="quiet-and-right"),
])
def test_alerts_count_as_hits_false_or_misses(c: Case, counts: tuple[int, int, int]) -> None:
    """A required alert raised is a hit, one not raised a miss, an unrequired one false unless allowed."""
    s = score_kind([c], "usage_drop")
    assert (s.hits, s.false, s.misses) == counts


def test_subjects_are_scored_one_by_one() -> None:
    """feature_abandonment is right per feature: the dropped one is a hit, another one a false alert."""
    c = case({"feature_abandonment": frozenset({"f1", "f2"})}, {("feature_abandonment", "f1"),
                                                              ("feature_abandonment", "f9")})
    s = score_kind([c], "feature_abandonment")
    assert (s.hits, s.false, s.misses, s.precision, s.recall) == (1, 1, 1, 0.5, 0.5)


def test_auc_bands_and_sustained_recall() -> None:
    """Churners scored lower give AUC 1; churn falling red > yellow > green is monotone."""
    cases = [case({}, set(), churned=True, health=30, band="red", sustained=True),
             case({}, {("usage_drop", "")}, churned=True, health=60, band="yellow", sustained=True),
             case({}, set(), health=90), case({}, set(), health=95)]
    assert churn_aucs(cases)["health"] == 1.0
    assert churn_by_band(cases) == [BandChurn("red", 1, 1), BandChurn("yellow", 1, 1), BandChurn("green", 2, 0)]
    assert not monotone(churn_by_band(cases))
    assert monotone([BandChurn("red", 4, 3), BandChurn("yellow", 4, 1), BandChurn("green", 4, 0)])
    assert sustained_recall(cases) == (1, 2)


def test_the_dump_has_a_row_per_case_with_every_component_and_signal() -> None:
    """case_frame: one row per case; a component the case lacks is empty, not 0 (so a refit renormalises)."""
    c = Case("c1", "champion_left", {}, frozenset(), True, False, False, frozenset(), 61.0, "red", SIGNALS,
             {"engagement": 50.0, "champion": None})
    frame = case_frame([c])
    assert frame.columns.tolist() == ["customer_id", "story", "churned", "health", "band", *COMPONENTS, *SIGNALS]
    row = frame.iloc[0]
    assert (row["story"], row["churned"], row["engagement"], row["dau_last_week"]) == ("champion_left", True, 50.0, 5.0)
    assert row["champion"] is None
    assert row["attrition"] is None
