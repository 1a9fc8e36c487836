"""pendo_guide_metrics and pendo_onboarding_progress follow metrics-spec.md, on both stores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from tests.support.metrics import Activity, GEvent, Guide, Step, named, run_metrics

D = date(2024, 6, 15)
STEPS = [Step("one", "single", 0),
         Step("m1", "multi", 0), Step("m2", "multi", 1), Step("m3", "multi", 2),
         Step("t-last", "tie", 7), Step("t-other", "tie", 7), Step("t-first", "tie", 1)]


def event(guide: str, step: str, kind: str, visitor: str = "v1", *, days_ago: int = 0, account: str = "a1",
          at: int = 0) -> GEvent:
    """A guide event of `kind` (guideSeen, ...) `days_ago` days before D."""
    return GEvent(visitor, guide, step, kind, at, account, D - timedelta(days=days_ago))


@pytest.mark.parametrize(("events", "expected"), [
    pytest.param([event("single", "one", "guideAdvanced")], (0, 1, 0), id="one-step-advanced-completes"),
    pytest.param([event("single", "one", "guideSeen")], (1, 0, 0), id="one-step-seen-does-not-complete"),
    pytest.param([event("multi", "m3", "guideSeen")], (1, 1, 0), id="multi-step-seen-last-completes"),
    pytest.param([event("multi", "m3", "guideAdvanced")], (0, 1, 0), id="multi-step-advanced-last-completes"),
    pytest.param([event("multi", "m2", "guideAdvanced"), event("multi", "m1", "guideSeen")], (1, 0, 0),
                 id="multi-step-middle-does-not-complete"),
    pytest.param([event("multi", "m3", "guideDismissed")], (0, 0, 1), id="dismissed-last-is-not-completed"),
    pytest.param([event("tie", "t-other", "guideSeen")], (1, 1, 0), id="tied-highest-rank-completes"),
    pytest.param([event("nosteps", "x", "guideAdvanced"), event("nosteps", "x", "guideSeen", at=1)], (1, 0, 0),
                 id="guide-without-steps-never-completes"),
    pytest.param([event("multi", "m1", "guideSeen"), event("multi", "m2", "guideSeen", at=1),
                  event("multi", "m1", "guideSeen", "v2", account="a2")], (2, 0, 0),
                 id="seen-counts-distinct-visitors-across-accounts"),
    pytest.param([event("multi", "m1", "guideSeen", "_PENDO_T_x")], None, id="anonymous-no-row"),
    pytest.param([event("multi", "m1", "guideTimeout")], None, id="other-types-no-row"),
])
def test_seen_completed_dismissed(store: Engine, events: list[GEvent], expected: tuple[int, ...] | None) -> None:
    """Completion: one-step guideAdvanced; multi-step guideSeen/guideAdvanced on the highest rank."""
    activity = Activity(mapping={"a1": "c1", "a2": "c1"}, guide_steps=STEPS, guide_events=events)
    row = named(run_metrics(store, activity, D), "pendo_guide_metrics", ("c1", events[0].guide_id, D))
    counts = None if row is None else (row["seen_visitors"], row["completed_visitors"], row["dismissed_visitors"])
    assert counts == expected


@pytest.mark.parametrize(("days_ago", "present"), [
    pytest.param(0, True, id="d"), pytest.param(29, True, id="d-29-in-window"),
    pytest.param(30, False, id="d-30-out-of-window"), pytest.param(-1, False, id="d+1-not-yet"),
])
def test_window_is_30_days(store: Engine, days_ago: int, present: bool) -> None:
    """Guide metrics on d cover events of [d-29, d]; a row exists only with something to count."""
    activity = Activity(mapping={"a1": "c1"}, guide_steps=STEPS,
                        guide_events=[event("multi", "m1", "guideSeen", days_ago=days_ago)])
    out = run_metrics(store, activity, D)
    assert (("c1", "multi", D) in out["pendo_guide_metrics"]) == present


@pytest.mark.parametrize(("events", "rates"), [
    pytest.param([event("multi", "m1", "guideSeen", "v1"), event("multi", "m3", "guideSeen", "v2"),
                  event("multi", "m2", "guideDismissed", "v1"), event("multi", "m1", "guideSeen", "v3"),
                  event("multi", "m1", "guideSeen", "v4")], (0.25, 0.25), id="over-seen"),
    pytest.param([event("single", "one", "guideAdvanced"), event("single", "one", "guideDismissed")],
                 (None, None), id="null-when-nobody-saw-it"),
    pytest.param([event("single", "one", "guideSeen", days_ago=3), event("single", "one", "guideAdvanced", "v1"),
                  event("single", "one", "guideAdvanced", "v2", days_ago=1)], (2.0, 0.0),
                 id="sets-counted-independently"),
])
def test_rates(store: Engine, events: list[GEvent], rates: tuple[float | None, float | None]) -> None:
    """completion_rate = completed ÷ seen and dismissal_rate = dismissed ÷ seen, NULL when seen is 0."""
    activity = Activity(mapping={"a1": "c1"}, guide_steps=STEPS, guide_events=events)
    row = named(run_metrics(store, activity, D), "pendo_guide_metrics", ("c1", events[0].guide_id, D))
    assert row is not None
    assert (row["completion_rate"], row["dismissal_rate"]) == rates


ONBOARDING_GUIDES = [Guide("single", "Onboarding: welcome"), Guide("multi", "Setup", "Customer ONBOARDING"),
                     Guide("tie", "Release notes", None)]


@pytest.mark.parametrize(("given", "expected"), [
    pytest.param(None, [(2, 1, 0.5), (2, 2, 1.0)], id="by-name-or-group"),
    pytest.param(["tie"], [(1, 0, 0.0), (1, 0, 0.0)], id="configured-ids"),
    pytest.param(["multi", "single", "tie"], [(3, 1, 1 / 3), (3, 2, 2 / 3)], id="configured-several"),
    pytest.param([], [(0, 0, None), (0, 0, None)], id="none-configured"),
])
def test_onboarding_progress(store: Engine, given: list[str] | None, expected: list[tuple]) -> None:
    """Progress on d = onboarding guides completed by any visitor of the customer on or before d."""
    activity = Activity(
        mapping={"a1": "c1", "b1": "c2"}, guides=ONBOARDING_GUIDES, guide_steps=STEPS,
        guide_events=[event("single", "one", "guideAdvanced", days_ago=400),
                      event("multi", "m3", "guideSeen", "v2", days_ago=-1),
                      event("multi", "m3", "guideSeen", "_PENDO_T_x", days_ago=5),
                      event("tie", "t-first", "guideAdvanced", days_ago=5),
                      event("multi", "m3", "guideSeen", account="b1", days_ago=5)],
    )
    out = run_metrics(store, activity, D, D + timedelta(days=1), onboarding_guide_ids=given)
    rows = [named(out, "pendo_onboarding_progress", ("c1", D + timedelta(days=i))) for i in range(2)]
    assert [(r["onboarding_guides"], r["completed_guides"], r["progress"]) for r in rows if r] == expected
