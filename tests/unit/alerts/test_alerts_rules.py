"""Alert rules on hand-built histories: each fires on a real case and stays quiet on hard negatives."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pendo_core.alerts.kinds import CustomerData, evaluate_customer, suppress
from pendo_core.alerts.rules import (
    ABANDONMENT_ACTION,
    DISMISSAL_ACTION,
    FeatureWindow,
    Finding,
    GuideWindow,
    binomial_tail,
    counts_elsewhere,
    feature_abandonment,
    guide_dismissal,
    no_login,
    usage_drop,
)
from pendo_core.alerts.settings import AbandonmentSettings, AlertSettings, GuideDismissalSettings, NoLoginSettings
from pendo_core.alerts.settings import UsageDropSettings as Drop
from tests.support.health_alerts import LAST, dropped, history

DROP = Drop()


def _holiday(days_ago: set[int], weekday: int, weekend: int) -> dict[date, int]:
    """Steady use with near-zero holidays `days_ago` (0 = the last complete day)."""
    return history(60, weekday, weekend, change=lambda i, d: 1 if i in days_ago else (weekend if d.weekday() >= 5
                                                                                        else weekday))


def _without(dau: dict[date, int], days_ago: range) -> dict[date, int]:
    """The history with some days not synced (missing, not zero)."""
    gone = {LAST - timedelta(days=i) for i in days_ago}
    return {d: n for d, n in dau.items() if d not in gone}


@pytest.mark.parametrize(("dau", "status"), [
    pytest.param(history(60, 40, 6, change=dropped(0.5, 10, 40, 6)), "fire", id="halved-for-10-days"),
    pytest.param(history(60, 40, 6, change=dropped(0.6, 14, 40, 6)), "fire", id="down-40pct-for-2-weeks"),
    pytest.param(history(60, 40, 6), "clear", id="steady"),
    pytest.param(history(60, 40, 6, change=dropped(0.85, 14, 40, 6)), "clear", id="down-15pct-below-threshold"),
    pytest.param(history(60, 40, 6, change=dropped(0.3, 3, 40, 6)), "clear", id="too-recent-to-hold"),
    pytest.param(_holiday({3, 4, 5}, 40, 6), "clear", id="holiday-dip-that-recovered"),
    pytest.param(_holiday({1}, 40, 6), "clear", id="yesterday-a-holiday-one-day"),
    pytest.param(_holiday({17, 24}, 40, 6), "clear", id="holidays-in-the-baseline"),
    pytest.param(history(60, 40, 0), "clear", id="weekend-rhythm-zero-weekends"),
    pytest.param(history(60, 3, 0, change=dropped(0.67, 14, 3, 0)), "clear", id="tiny-3-to-2-users"),
    pytest.param(history(60, 6, 1, change=dropped(0.6, 14, 6, 1)), "fire", id="small-team-below-the-old-floor"),
    pytest.param(history(60, 8, 2, change=dropped(0.75, 14, 8, 2)), "fire", id="small-regular-drop-92pct-sure"),
    pytest.param(history(60, 8, 2, change=dropped(0.75, 5, 8, 2)), "clear", id="small-drop-five-days-old"),
    pytest.param(_without(history(60, 40, 6, change=dropped(0.5, 10, 40, 6)), range(2)), "unknown",
                 id="latest-days-not-synced"),
    pytest.param(_without(history(60, 40, 6), range(8, 36)), "unknown", id="baseline-not-synced"),
    pytest.param(_without(history(60, 40, 6, change=dropped(0.5, 10, 40, 6)), range(14, 21)), "fire",
                 id="one-baseline-week-missing"),
])
def test_usage_drop(dau: dict[date, int], status: str) -> None:
    """usage_drop compares the last 7 complete days with the same weekdays of the 4 weeks before."""
    assert usage_drop(dau, LAST, DROP).status == status


def test_usage_drop_reports_its_figures() -> None:
    """A firing drop carries the numbers that triggered it, a severity and an outreach action."""
    finding = usage_drop(history(60, 40, 6, change=dropped(0.5, 10, 40, 6)), LAST, DROP)
    assert finding.details["visitor_days"] == 5 * 20 + 2 * 3
    assert finding.details["baseline_visitor_days"] == 5 * 40 + 2 * 6
    assert finding.details["drop_pct"] == pytest.approx(50.0, abs=0.1)
    assert finding.severity == "high"
    assert finding.action is not None
    assert "champion" in finding.action


def test_usage_drop_never_reads_the_day_in_progress() -> None:
    """Today's partial row (after the last complete day) changes nothing."""
    dau = history(60, 40, 6)
    dau[LAST + timedelta(days=1)] = 2  # today, a few hours in
    assert usage_drop(dau, LAST, DROP).status == "clear"


def test_usage_drop_thresholds_are_settings() -> None:
    """A 15% drop fires once the admin lowers the threshold to 10%."""
    dau = history(60, 200, 30, change=dropped(0.85, 14, 200, 30))
    assert usage_drop(dau, LAST, Drop(drop_pct=10)).status == "fire"


@pytest.mark.parametrize(("dau", "status"), [
    pytest.param(history(40, 5, 0, change=lambda i, d: 0 if i < 20 else 5), "fire", id="quiet-for-20-days"),
    pytest.param(history(40, 5, 0, change=lambda i, d: 0 if i < 14 else 5), "fire", id="quiet-exactly-14"),
    pytest.param(history(40, 5, 0, change=lambda i, d: 0 if i < 13 else 5), "clear", id="active-13-days-ago"),
    pytest.param(history(40, 1, 0, change=lambda i, d: 1 if i % 10 == 3 else 0), "clear",
                 id="tiny-account-every-10-days"),
    pytest.param(history(40, 9, 0), "clear", id="weekdays-only"),
    pytest.param(_without(history(40, 0, 0), range(3, 5)), "unknown", id="quiet-but-partly-synced"),
    pytest.param(_without(history(40, 0, 0, change=lambda i, d: 2 if i == 1 else 0), range(3, 5)), "clear",
                 id="active-in-a-synced-day"),
    pytest.param(history(10, 0, 0), "unknown", id="fewer-synced-days-than-the-window"),
])
def test_no_login(dau: dict[date, int], status: str) -> None:
    """no_login needs every one of the last 14 days synced with nobody active."""
    assert no_login(dau, LAST, NoLoginSettings()).status == status


def test_no_login_says_since_when() -> None:
    """The details name the last active day and the quiet days; the action is an outreach."""
    finding = no_login(history(40, 5, 0, change=lambda i, d: 0 if i < 20 else 5), LAST, NoLoginSettings())
    last_active = next(LAST - timedelta(days=i) for i in range(20, 40) if (LAST - timedelta(days=i)).weekday() < 5)
    assert finding.details["last_active_day"] == last_active.isoformat()
    assert finding.details["days_without_login"] == (LAST - last_active).days
    assert finding.action is not None
    assert "Reach out" in finding.action


@pytest.mark.parametrize(("feature", "synced", "status"), [
    pytest.param(FeatureWindow("reports", "Reports", 4, 0, LAST - timedelta(days=20), 12), True, "fire",
                 id="used-12-visitor-days-silent-20"),
    pytest.param(FeatureWindow("reports", "Reports", 3, 0, LAST - timedelta(days=14), 12), True, "fire",
                 id="exactly-three-users"),
    pytest.param(FeatureWindow("reports", "Reports", 2, 0, LAST - timedelta(days=30), 30), True, "clear",
                 id="tiny-two-users"),
    pytest.param(FeatureWindow("reports", "Reports", 9, 1, LAST - timedelta(days=1), 40), True, "clear",
                 id="still-used"),
    pytest.param(FeatureWindow("reports", "Reports", 9, 0, LAST - timedelta(days=20), 40), False, "unknown",
                 id="recent-days-not-synced"),
    # (1 - S/42) ** n against 1%: n = 11 visitor-days silent 14 days is 1.2%, n = 12 is 0.8%.
    pytest.param(FeatureWindow("reports", "Reports", 5, 0, LAST - timedelta(days=14), 11), True, "clear",
                 id="rarely-used-14-quiet-days-by-chance"),
    pytest.param(FeatureWindow("reports", "Reports", 3, 0, LAST - timedelta(days=14), 4), True, "clear",
                 id="three-users-four-visitor-days"),
    pytest.param(FeatureWindow("reports", "Reports", 3, 0, LAST - timedelta(days=35), 4), True, "fire",
                 id="same-use-silent-35-days"),
    pytest.param(FeatureWindow("reports", "Reports", 3, 0, None, 12), True, "fire", id="no-last-use-date"),
])
def test_feature_abandonment(feature: FeatureWindow, synced: bool, status: str) -> None:
    """A key feature with >= 3 users in the 28 days before the last 14, no use since, and a silence its own
    prior use makes unlikely (at most 1%)."""
    (finding,) = feature_abandonment([feature], synced, AbandonmentSettings(), LAST)
    assert finding.status == status


def test_abandonment_suggests_enablement() -> None:
    """The action for an abandoned feature is enablement content with the numbers; the subject is the feature."""
    feature = FeatureWindow("reports", "Reports", 12, 0, LAST - timedelta(days=20), 30)
    (finding,) = feature_abandonment([feature], True, AbandonmentSettings(), LAST)
    assert (finding.subject, finding.severity) == ("reports", "high")
    assert finding.details["silent_days"] == 20
    assert finding.details["chance"] == pytest.approx((1 - 20 / 42) ** 30, abs=1e-4)
    assert finding.action == ('12 people used the key feature "Reports" on 30 visitor-days in the 28 days before, '
                              "and nobody has in 20 days (<0.1% likely by chance). " + ABANDONMENT_ACTION)


@pytest.mark.parametrize(("guide", "synced", "status"), [
    pytest.param(GuideWindow("tour", "Tour", 10, 8, 300, 90), True, "fire", id="8-of-10-vs-30pct-elsewhere"),
    pytest.param(GuideWindow("tour", "Tour", 5, 5, 300, 90), True, "fire", id="all-5-of-the-fewest"),
    pytest.param(GuideWindow("tour", "Tour", 4, 4, 300, 90), True, "clear", id="too-few-saw-it"),
    pytest.param(GuideWindow("tour", "Tour", 10, 5, 300, 90), True, "clear", id="5-of-10-could-be-chance"),
    pytest.param(GuideWindow("tour", "Tour", 10, 9, 300, 249), True, "clear", id="everyone-dismisses-it"),
    pytest.param(GuideWindow("tour", "Tour", 200, 95, 1000, 200), True, "clear", id="big-team-under-half"),
    pytest.param(GuideWindow("tour", "Tour", 200, 110, 1000, 200), True, "fire", id="big-team-over-half"),
    pytest.param(GuideWindow("tour", "Tour", 10, 10), True, "fire", id="nobody-else-saw-it-all-dismiss"),
    pytest.param(GuideWindow("tour", "Tour", 10, 7), True, "clear", id="nobody-else-saw-it-7-of-10"),
    pytest.param(GuideWindow("tour", "Tour", 10, 10, 4, 0), True, "fire", id="too-few-elsewhere-even-odds"),
    pytest.param(GuideWindow("tour", "Tour", 10, 8, 300, 90), False, "unknown", id="day-not-synced"),
])
def test_guide_dismissal(guide: GuideWindow, synced: bool, status: str) -> None:
    """A guide this customer's viewers dismiss clearly more than other customers' (>= 5 viewers, >= 50%,
    20 points above the others' share, 95% sure by a binomial test)."""
    (finding,) = guide_dismissal([guide], synced, GuideDismissalSettings())
    assert finding.status == status


def test_guide_dismissal_says_the_numbers() -> None:
    """The alert names the guide, its viewers and dismissers, and the share across the other customers."""
    (finding,) = guide_dismissal([GuideWindow("tour", "Setup tour", 9, 7, 412, 115)], True,
                                 GuideDismissalSettings())
    assert finding.status == "fire"
    assert finding.details["others_dismissal_rate"] == 0.279
    assert finding.details["sure"] == pytest.approx(1 - binomial_tail(7, 9, 115 / 412), abs=1e-4)
    assert finding.action == ("7 of 9 viewers dismissed “Setup tour” in 30 days (78%), against 28% across the other "
                              "customers (412 viewers). " + DISMISSAL_ACTION)


@pytest.mark.parametrize(("counts", "elsewhere"), [
    pytest.param({"a": (10, 3), "b": (20, 6), "c": (30, 9)}, {"a": (50, 15), "b": (40, 12), "c": (30, 9)},
                 id="nobody-rejects-it-everyone-else-counts"),
    pytest.param({"a": (10, 9), "b": (40, 36), "c": (60, 15)}, {"a": (60, 15), "b": (60, 15), "c": (0, 0)},
                 id="rejecting-customers-are-left-out-for-the-others"),
    pytest.param({"a": (10, 5), "b": (40, 36), "c": (60, 15)}, {"a": (60, 15), "b": (70, 20), "c": (10, 5)},
                 id="only-the-rejecting-one-is-left-out"),
    pytest.param({"a": (10, 9), "b": (100, 85), "c": (100, 85)}, {"a": (200, 170), "b": (110, 94),
                                                                 "c": (110, 94)}, id="everyone-dismisses-it"),
    pytest.param({"a": (10, 10)}, {"a": (0, 0)}, id="one-customer"),
])
def test_counts_elsewhere_leave_out_other_rejecting_customers(counts: dict[str, tuple[int, int]],
                                                              elsewhere: dict[str, tuple[int, int]]) -> None:
    """Each customer is compared with the other customers, without those who reject the guide themselves."""
    assert counts_elsewhere(counts, GuideDismissalSettings()) == elsewhere


@pytest.mark.parametrize(("k", "n", "p", "expected"), [
    (0, 5, 0.3, 1.0), (6, 5, 0.3, 0.0), (5, 5, 0.5, 1 / 32), (9, 10, 0.5, 11 / 1024), (1, 3, 0.0, 0.0),
])
def test_binomial_tail(k: int, n: int, p: float, expected: float) -> None:
    """P(X >= k) for a binomial count, exact on small cases."""
    assert binomial_tail(k, n, p) == pytest.approx(expected)


def test_no_login_suppresses_drop_and_abandonment() -> None:
    """With no_login firing, usage_drop and feature_abandonment turn into clears; guides stay."""
    findings = [Finding("no_login", "fire"), Finding("usage_drop", "fire"),
                Finding("feature_abandonment", "fire", "reports"), Finding("guide_dismissal", "fire", "tour")]
    got = {f.kind: f.status for f in suppress(findings)}
    assert got == {"no_login": "fire", "usage_drop": "clear", "feature_abandonment": "clear",
                   "guide_dismissal": "fire"}


def test_evaluate_customer_runs_every_rule() -> None:
    """A customer gone quiet gets no_login only; its old feature use does not also alert."""
    dau = history(60, 30, 4, change=lambda i, d: 0 if i < 20 else (4 if d.weekday() >= 5 else 30))
    data = CustomerData(LAST, dau, [FeatureWindow("reports", "Reports", 8, 0, LAST - timedelta(days=30), 40)])
    findings = evaluate_customer(data, AlertSettings())
    assert {f.kind for f in findings if f.status == "fire"} == {"no_login"}
    assert {f.kind for f in findings} == {"no_login", "usage_drop", "feature_abandonment", "health_drop",
                                          "renewal_risk"}
