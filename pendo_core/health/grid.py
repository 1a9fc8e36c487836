"""Component values for every customer and day at once, from the day grids (see score.py)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pendo_core.admin.settings import HealthSettings
from pendo_core.health import score
from pendo_core.health.changes import change_components
from pendo_core.health.contacts import CONTACT_DAYS
from pendo_core.health.inputs import READ_BACK, HealthInputs
from pendo_core.usage import measures as m


@dataclass
class ScoredGrid:
    """Scored days (columns from the first scored day on): components, overall, band and their inputs."""

    components: dict[str, np.ndarray]
    overall: np.ndarray
    coverage: np.ndarray
    band: np.ndarray
    has_row: np.ndarray  # a usage row exists for the customer and day: only those days are scored
    inputs: dict[str, np.ndarray]


def score_grid(inputs: HealthInputs, settings: HealthSettings) -> ScoredGrid:
    """Every component, the overall score, coverage and band for the scored days of the grid."""
    cut = slice(READ_BACK, None)
    week_sum, week_n = (a[:, cut] for a in m.trailing_window(inputs.dau, m.STICKINESS_DAYS))
    recent_sum, recent_n = (a[:, cut] for a in m.trailing_window(inputs.dau, m.TREND_DAYS))
    prior_sum, prior_n = (a[:, cut] for a in m.trailing_window(inputs.dau, m.TREND_DAYS, end_lag=m.TREND_DAYS))
    mau = inputs.mau[:, cut]
    in_use = inputs.active[:, cut] > 0  # NaN (no row) compares False too
    dau_7 = m.synced_mean(week_sum, week_n, m.STICKINESS_DAYS)
    stickiness = m.stickiness(week_sum, week_n, mau, inputs.active[:, cut])
    recent, prior = m.trend_means(recent_sum, recent_n, prior_sum, prior_n)
    breadth = m.breadth(inputs.key_used[:, cut], inputs.key_count)
    trend = m.trend(recent, prior)
    components = {
        "engagement": score.engagement(stickiness),
        "adoption": np.where(in_use, score.adoption(breadth), np.nan),
        "trajectory": score.trajectory(recent, prior),
        "onboarding": score.onboarding(inputs.onboarding[:, cut]),
    }
    moved, moved_inputs = change_components(inputs, cut)
    components.update(moved)
    contacts_active, contacts = _contacts(inputs, cut)
    _, synced_n = (a[:, cut] for a in m.trailing_window(inputs.dau, CONTACT_DAYS))
    components["champion"] = score.champion(contacts_active, contacts, synced_n == CONTACT_DAYS)
    overall, coverage = score.combine(components, settings.weights.as_dict(), settings.coverage_floor)
    band = score.bands(overall, settings.red_below, settings.green_from)
    raw = {"stickiness": stickiness, "mau": mau, "dau_7d": dau_7, "dau_28d": recent, "dau_prior_28d": prior,
           "trend": trend, "breadth": breadth, "key_features_used": inputs.key_used[:, cut],
           "onboarding_progress": inputs.onboarding[:, cut], "key_contacts": contacts,
           "key_contacts_active": np.where(contacts > 0, contacts_active, np.nan), **moved_inputs}
    return ScoredGrid(components, overall, coverage, band, ~np.isnan(mau), raw)


def _contacts(inputs: HealthInputs, cut: slice) -> tuple[np.ndarray, np.ndarray]:
    """(key contacts active in the 14 days ending each scored day, matched key contacts) as scored-day grids."""
    shape = inputs.dau[:, cut].shape
    if inputs.contacts is None or inputs.contacts_active is None:
        return np.zeros(shape), np.zeros(shape)
    return inputs.contacts_active[:, cut], np.broadcast_to(inputs.contacts[:, None], shape).astype(float)
