"""The health score as pure functions over numbers (numpy arrays or scalars; NaN means "no data").

Components, each on 0..100 for customer c on day d (windows end on d, only synced days count):

- **engagement** from stickiness ``s = mean DAU of the 7 days [d-6, d] / MAU of d`` (a whole week,
  so weekends weigh the same for everyone; all 7 days must be synced): ``100 * min(1, s / 0.4)``;
  a stickiness of 0.4 or more (the average monthly user active on 40% of days) scores 100.
  MAU 0 scores 0 (nobody active for 30 days) when someone was active in the 90 days before d.
- **adoption** from key-feature breadth ``b`` (share of the key features used by at least one
  visitor in [d-29, d], metrics-spec.md): ``100 * min(1, b / 0.8)``; using 80% of the key features
  scores 100. No data when there is no key feature.
- **trajectory** from the 28-day trend ``r = mean DAU of [d-27, d] ÷ mean DAU of [d-55, d-28]``
  (synced days only, at least 14 in each window): ``clip(75 + 125 * (r - 1), 0, 100)``; flat
  usage scores 75, +20% scores 100, -20% scores 50, -60% or worse scores 0. Growth from a prior
  mean of 0 scores 100; no use in either window has no trend (no data).
- **onboarding** from onboarding progress ``p`` (share of onboarding guides completed):
  ``100 * p``; no data when there is no onboarding guide.
- **breadth_change** from ``l``, the net share of the key features used in the 14 days ending
  28 days before d that are no longer used in the 14 days ending on d (``changes.breadth_lost``):
  ``100 * (1 - min(1, l / 0.5))``; keeping every feature scores 100, losing half of them 0. No
  data when no key feature was used 4 weeks before.
- **attrition** from ``g``, the share of the visitors active in the 90 days ending on d who were
  not active in the last 30 (``(active_visitors - MAU) / active_visitors``):
  ``100 * clip((0.35 - g) / 0.30, 0, 1)``; 5% or less (occasional users) scores 100, 35% or more 0.
- **sustained_trend** from ``c``, the least-squares slope of the last 8 weekly visitor-day totals as the
  change over 4 weeks relative to their mean (``changes.trend_change``; the line the usage_drop
  alert's sustained rule tests): ``clip(75 + 125 * c, 0, 100)``, like trajectory but one odd week
  (a holiday) moves it less. No data when a week has fewer than 5 synced days.

- **champion** from the customer's key contacts (champions and decision makers from ``import-contacts``,
  those a Pendo visitor matches): ``100 * (key contacts active in [d-13, d]) / (matched key contacts)``;
  every one active scores 100, a champion gone quiet for 14 days while the rest of the team works
  lowers it (one of two: 50), and a team all silent scores 0 (its champions are quiet too, as the
  page's "0 of 1 active" says). No data when the customer has no matched key contact (so a customer
  without contacts scores as before, its weight renormalised away) or when a day of the 14 is not
  synced (unknown, not quiet). The champion_inactive alert's rule as a share, except that the alert
  leaves a silent team to no_login: a departed champion is the churn warning usage hides (in a team
  of 10 it is a 10% fall).

A customer with no active visitor in the 90 days ending on d (a mapped account not in use yet)
has no engagement and no adoption either: its score is "insufficient data", not 0.

Overall = the weighted mean of the components that have data (weights renormalised over them);
coverage = the share of the total weight that had data. Below the coverage floor (or at 0) the
overall score is None and the band is "insufficient data". Bands: red below `red_below`, green
from `green_from`, yellow between. The default weights and bands were chosen by back-test on the
simulator's labelled training worlds (README, "Judgments on labelled worlds").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

COMPONENTS = ("engagement", "adoption", "trajectory", "onboarding", "breadth_change", "attrition", "sustained_trend",
              "champion")
FULL_STICKINESS = 0.4
FULL_BREADTH_LOSS = 0.5
USUAL_ATTRITION, FULL_ATTRITION = 0.05, 0.35
FULL_BREADTH = 0.8
FLAT_TRAJECTORY = 75.0
TRAJECTORY_SLOPE = 125.0
INSUFFICIENT = "insufficient data"
# A score's change is over CHANGE_DAYS: the score on a day against the one 28 days before. Every screen
# that says "health change" (My customers, the customer header, Portfolio, the chat, the health_drop
# alert) uses this window; the Health page also shows a 7-day change, labelled as such.
CHANGE_DAYS = 28

Floats = NDArray[np.float64]


def engagement(stickiness: ArrayLike) -> Floats:
    """Engagement 0..100 from stickiness (mean DAU ÷ MAU); NaN stays NaN."""
    s = np.asarray(stickiness, dtype=float)
    return np.asarray(np.minimum(1.0, np.maximum(s, 0.0) / FULL_STICKINESS) * 100.0, dtype=float)


def adoption(breadth: ArrayLike) -> Floats:
    """Adoption 0..100 from key-feature breadth (0..1); NaN stays NaN."""
    b = np.asarray(breadth, dtype=float)
    return np.asarray(np.minimum(1.0, np.maximum(b, 0.0) / FULL_BREADTH) * 100.0, dtype=float)


def trajectory(recent_mean: ArrayLike, prior_mean: ArrayLike) -> Floats:
    """Trajectory 0..100 from the mean DAU of the last 28 days and of the 28 days before."""
    recent = np.asarray(recent_mean, dtype=float)
    prior = np.asarray(prior_mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = recent / prior
    score = np.clip(FLAT_TRAJECTORY + TRAJECTORY_SLOPE * (ratio - 1.0), 0.0, 100.0)
    score = np.where((prior == 0) & (recent > 0), 100.0, score)
    return np.where((prior == 0) & (recent == 0), np.nan, score)


def onboarding(progress: ArrayLike) -> Floats:
    """Onboarding 0..100 from the share of onboarding guides completed; NaN stays NaN."""
    return np.asarray(np.clip(np.asarray(progress, dtype=float), 0.0, 1.0) * 100.0, dtype=float)


def breadth_change(lost: ArrayLike) -> Floats:
    """Breadth change 0..100 from the net share of key features lost since 4 weeks before; NaN stays NaN."""
    share = np.asarray(lost, dtype=float)
    return np.asarray(100.0 * (1.0 - np.minimum(1.0, np.maximum(share, 0.0) / FULL_BREADTH_LOSS)), dtype=float)


def attrition(gone: ArrayLike) -> Floats:
    """Attrition 0..100 from the share of the quarter's active visitors gone for the last 30 days."""
    share = np.asarray(gone, dtype=float)
    span = FULL_ATTRITION - USUAL_ATTRITION
    return np.asarray(100.0 * np.clip((FULL_ATTRITION - share) / span, 0.0, 1.0), dtype=float)


def sustained_trend(change: ArrayLike) -> Floats:
    """Sustained trend 0..100 from the 8-week least-squares change over 4 weeks (-0.2 = down 20%); NaN stays NaN."""
    c = np.asarray(change, dtype=float)
    return np.asarray(np.clip(FLAT_TRAJECTORY + TRAJECTORY_SLOPE * c, 0.0, 100.0), dtype=float)


def champion(active: ArrayLike, contacts: ArrayLike, synced: ArrayLike) -> Floats:
    """Champion 0..100: the share of matched key contacts active in the last 14 days; NaN without a matched
    contact or where `synced` is False (a day of the 14 unsynced)."""
    act, n = np.asarray(active, dtype=float), np.asarray(contacts, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.clip(act / n, 0.0, 1.0) * 100.0
    return np.asarray(np.where((n > 0) & np.asarray(synced, dtype=bool), share, np.nan), dtype=float)


def combine(components: Mapping[str, ArrayLike], weights: Mapping[str, float],
            coverage_floor: float) -> tuple[Floats, Floats]:
    """(overall, coverage): the weighted mean over components with data, NaN below the floor."""
    total = sum(max(0.0, weights.get(name, 0.0)) for name in COMPONENTS)
    if total <= 0:
        raise ValueError("the health weights sum to 0; give at least one component a weight above 0")
    shape = np.broadcast_shapes(*(np.shape(v) for v in components.values()))
    covered, weighted = np.zeros(shape), np.zeros(shape)
    for name in COMPONENTS:
        w = max(0.0, weights.get(name, 0.0))
        values = np.broadcast_to(np.asarray(components.get(name, np.nan), dtype=float), shape)
        has = ~np.isnan(values)
        covered += np.where(has, w, 0.0)
        weighted += np.where(has, w * np.nan_to_num(values), 0.0)
    coverage = covered / total
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = weighted / covered
    ok = (covered > 0) & (coverage >= coverage_floor - 1e-9)
    return np.where(ok, overall, np.nan), coverage


def bands(overall: ArrayLike, red_below: float, green_from: float) -> NDArray[np.str_]:
    """"red", "yellow", "green" or "insufficient data" (NaN) for each overall score."""
    o = np.asarray(overall, dtype=float)
    return np.select([np.isnan(o), o < red_below, o < green_from], [INSUFFICIENT, "red", "yellow"], "green")


# --- explanation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreParts:
    """One stored score: component values (None: no data), the weights it used, its overall."""

    components: Mapping[str, float | None]
    weights: Mapping[str, float]
    overall: float | None


@dataclass(frozen=True)
class ComponentExplanation:
    """A component's value, its renormalised weight, its contribution in points, and its moves."""

    name: str
    value: float | None
    weight: float
    contribution: float | None
    change_7d: float | None
    change_28d: float | None


@dataclass(frozen=True)
class Explanation:
    """Why a score is what it is: per component, and the overall change since 7 and 28 days ago."""

    overall: float | None
    components: list[ComponentExplanation]
    change_7d: float | None
    change_28d: float | None
    biggest_mover_28d: str | None


def contributions(parts: ScoreParts) -> dict[str, float | None]:
    """Points each component adds to the overall (renormalised weight * value); None without data."""
    used = {n: w for n, w in parts.weights.items() if parts.components.get(n) is not None and w > 0}
    total = sum(used.values())
    return {n: (round(used[n] / total * float(parts.components[n] or 0.0), 2) if n in used and total else None)
            for n in COMPONENTS}


def explain(today: ScoreParts, week_ago: ScoreParts | None, month_ago: ScoreParts | None) -> Explanation:
    """Each component's value, weight, contribution and change in points since 7 and 28 days ago."""
    now = contributions(today)
    before = {key: contributions(p) if p else None for key, p in (("7", week_ago), ("28", month_ago))}
    total = sum(w for n, w in today.weights.items() if today.components.get(n) is not None and w > 0)
    rows = [ComponentExplanation(
        name, today.components.get(name), round(today.weights.get(name, 0.0) / total, 4) if total else 0.0, now[name],
        _delta(now[name], before["7"][name] if before["7"] else None),
        _delta(now[name], before["28"][name] if before["28"] else None),
    ) for name in COMPONENTS if today.weights.get(name, 0.0) > 0 or today.components.get(name) is not None]
    moved = [r for r in rows if r.change_28d is not None and abs(r.change_28d) >= 0.05]
    mover = max(moved, key=lambda r: abs(r.change_28d or 0.0)).name if moved else None
    return Explanation(today.overall, rows, _delta(today.overall, week_ago.overall if week_ago else None),
                       _delta(today.overall, month_ago.overall if month_ago else None), mover)


def _delta(now: float | None, then: float | None) -> float | None:
    return None if now is None or then is None else round(now - then, 2)
