"""One origin day of activity, generated on demand and vectorised over visitors.

An *origin day* holds the sessions that start on that local day; a night owl's session may run past
midnight, so the rows of a calendar day come from its own origin day and the one before (see
`daybook`). Each origin day draws from its own RNG streams seeded from (seed, day ordinal), so any
day can be generated alone, in any order, with the same result.

Grain: a *cell* is one events hourRange row, keyed by visitor, account slot (0 = the visitor's
account, 1 = a consultant's second account), client (0/1 = two web user agents, 2 = the mobile app)
and absolute hour. Page and feature rows hang off cells and are subsets of them by construction:
a cell's numEvents = page views + feature clicks + other events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from pendo_core.common.timeutil import HOUR_MS

if TYPE_CHECKING:
    from pendo_sim.data import Subscription

GUIDE_TYPES = ("guideSeen", "guideAdvanced", "guideDismissed", "guideActivity", "guideTimeout")
SEEN, ADVANCED, DISMISSED, ACTIVITY, TIMEOUT = range(5)
_MIN_MS = 60_000
# Share of sessions starting at each local wall hour: office hours with a lunch dip.
_OFFICE = np.array([1, 1, 1, 1, 1, 2, 6, 20, 55, 80, 85, 70, 45, 60, 75, 70, 55, 35, 18, 12, 9, 6, 4, 2], float)
_OFFICE_P = _OFFICE / _OFFICE.sum()
_PAGE_SHARE = (0.7, 0.22, 0.08)
_CLICK_SHARE = (0.6, 0.2, 0.05, 0.15)  # three page draws, then app-wide features


def _i64(n: int = 0) -> np.ndarray:
    return np.zeros(n, np.int64)


@dataclass
class Activity:
    """Columns of cells, page rows, feature rows and raw guide events (all at hour grain)."""

    v: np.ndarray = field(default_factory=_i64)  # visitor index
    slot: np.ndarray = field(default_factory=_i64)  # account slot
    ua: np.ndarray = field(default_factory=_i64)  # client: 0, 1 web; 2 mobile app
    hour: np.ndarray = field(default_factory=_i64)  # bucket start epoch ms
    events: np.ndarray = field(default_factory=_i64)
    minutes: np.ndarray = field(default_factory=_i64)
    first: np.ndarray = field(default_factory=_i64)
    last: np.ndarray = field(default_factory=_i64)
    page_cell: np.ndarray = field(default_factory=_i64)  # page rows: cell index, page, events, minutes
    page: np.ndarray = field(default_factory=_i64)
    page_events: np.ndarray = field(default_factory=_i64)
    page_minutes: np.ndarray = field(default_factory=_i64)
    feat_cell: np.ndarray = field(default_factory=_i64)  # feature rows
    feat: np.ndarray = field(default_factory=_i64)
    feat_events: np.ndarray = field(default_factory=_i64)
    feat_minutes: np.ndarray = field(default_factory=_i64)
    g_cell: np.ndarray = field(default_factory=_i64)  # guide events: the cell they happened in
    g_guide: np.ndarray = field(default_factory=_i64)
    g_step: np.ndarray = field(default_factory=_i64)
    g_type: np.ndarray = field(default_factory=_i64)
    g_prefixed: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    g_time: np.ndarray = field(default_factory=_i64)  # browserTime
    g_lag: np.ndarray = field(default_factory=_i64)  # guideTimestamp - browserTime
    g_load: np.ndarray = field(default_factory=_i64)


def visitor_day_probability(sub: Subscription, i: int) -> np.ndarray:
    """Probability that each visitor is active on origin day index `i`."""
    chance: np.ndarray = _drawn_probability(sub, i) * present(sub, i)
    return chance


def present(sub: Subscription, i: int) -> np.ndarray:
    """Which visitors have not departed (`Subscription.departed`) by day index `i`."""
    return np.ones(len(sub.visitors), bool) if sub.departed is None else sub.departed > i


def _drawn_probability(sub: Subscription, i: int) -> np.ndarray:
    """The probability each visitor's day is drawn with (departed ones included, dropped after drawing)."""
    vis, day = sub.visitors, sub.day_of_index(i)
    factor = sub.accounts.factor(i, sub.days)
    f1 = factor[vis.account]
    f2 = np.where(vis.account2 >= 0, factor[np.maximum(vis.account2, 0)], 0.0)
    rhythm = (0.2 if day.weekday() >= 5 else 1.0) * (0.25 if is_holiday(day) else 1.0)
    alive = (i >= vis.start) & (i < vis.end)
    chance: np.ndarray = np.clip(vis.engagement * np.maximum(f1, f2) * rhythm, 0.0, 0.97) * alive
    return chance


def active_mask(sub: Subscription, i: int) -> np.ndarray:
    """Which visitors start at least one session on origin day index `i` (cheap: no session detail)."""
    mask: np.ndarray = _drawn(sub, i) & present(sub, i)
    return mask


def _drawn(sub: Subscription, i: int) -> np.ndarray:
    rng = np.random.default_rng([sub.seed, sub.day_of_index(i).toordinal(), 1])
    return rng.random(len(sub.visitors)) < _drawn_probability(sub, i)


def is_holiday(day: date) -> bool:
    """A few public holidays on which almost nobody works."""
    fixed = {(1, 1), (7, 4), (12, 24), (12, 25), (12, 26), (12, 31)}
    if (day.month, day.day) in fixed:
        return True
    nth = (day.day - 1) // 7 + 1
    thanksgiving = day.month == 11 and day.weekday() == 3 and nth == 4
    labor_day = day.month == 9 and day.weekday() == 0 and nth == 1
    memorial_day = day.month == 5 and day.weekday() == 0 and day.day > 24
    return thanksgiving or labor_day or memorial_day


def generate_origin_day(sub: Subscription, i: int) -> Activity:
    """Sessions starting on origin day index `i`, cut at the simulated now."""
    if i < 0 or i > sub.days:
        return Activity()
    rng = np.random.default_rng([sub.seed, sub.day_of_index(i).toordinal(), 2])
    active = np.flatnonzero(_drawn(sub, i))
    act = _cells(sub, i, active, rng)
    keep = act.hour < sub.now_ms
    for name in CELL_COLUMNS:
        setattr(act, name, getattr(act, name)[keep])
    _pages_and_features(sub, i, act, rng)
    _guide_events(sub, i, act, rng)
    return act if sub.departed is None else _drop_departed(act, present(sub, i))


CELL_COLUMNS = ("v", "slot", "ua", "hour", "events", "minutes", "first", "last")
SUB_COLUMNS = {  # rows that point at a cell: their cell column first
    "page": ("page_cell", "page", "page_events", "page_minutes"),
    "feat": ("feat_cell", "feat", "feat_events", "feat_minutes"),
    "g": ("g_cell", "g_guide", "g_step", "g_type", "g_prefixed", "g_time", "g_lag", "g_load"),
}


def _drop_departed(act: Activity, here: np.ndarray) -> Activity:
    """`act` without the cells (and their page, feature and guide rows) of visitors no longer `here`."""
    kept = here[act.v]
    renumber = np.cumsum(kept) - 1
    for cell, *columns in SUB_COLUMNS.values():
        rows = kept[getattr(act, cell)]
        for name in columns:
            setattr(act, name, getattr(act, name)[rows])
        setattr(act, cell, renumber[getattr(act, cell)[rows]])
    for name in CELL_COLUMNS:
        setattr(act, name, getattr(act, name)[kept])
    return act


def _sessions(sub: Subscription, i: int, active: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """Per session: visitor, account slot, client, start hour offset, length in hours."""
    vis, m = sub.visitors, len(active)
    n_sess = 1 + (rng.random(m) < 0.3) + (rng.random(m) < 0.06)
    split_day = np.repeat(rng.random(m) < 0.12, n_sess)
    sv = np.repeat(active, n_sess)
    sess_no = np.arange(len(sv)) - np.repeat(np.cumsum(n_sess) - n_sess, n_sess)
    owl = vis.night_owl[sv] & (sess_no == 0)
    start = np.where(owl, rng.integers(22, 24, len(sv)), rng.choice(24, size=len(sv), p=_OFFICE_P))
    length = np.where(owl, 2 + (rng.random(len(sv)) < 0.5), 1 + (rng.random(len(sv)) < 0.45))
    length = length + (rng.random(len(sv)) < 0.08)
    slot = _account_slots(sub, i, sv, rng)
    ua = np.where(vis.mobile[sv] & (rng.random(len(sv)) < 0.35), 2, np.where(split_day & (sess_no >= 1), 1, 0))
    return sv, slot, ua, start, length


def _account_slots(sub: Subscription, i: int, sv: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Consultants work in whichever of their two accounts is alive, weighted by activity."""
    vis, factor = sub.visitors, sub.accounts.factor(i, sub.days)
    second = vis.account2[sv]
    f1 = factor[vis.account[sv]]
    f2 = np.where(second >= 0, factor[np.maximum(second, 0)], 0.0)
    share2 = np.divide(f2, f1 + f2, out=np.zeros(len(sv)), where=(f1 + f2) > 0)
    slots: np.ndarray = (rng.random(len(sv)) < share2).astype(np.int64)
    return slots


def _cells(sub: Subscription, i: int, active: np.ndarray, rng: np.random.Generator) -> Activity:
    sv, slot, ua, start, length = _sessions(sub, i, active, rng)
    offsets = np.cumsum(length) - length
    within = np.arange(int(length.sum())) - np.repeat(offsets, length)
    cv, cslot, cua = np.repeat(sv, length), np.repeat(slot, length), np.repeat(ua, length)
    rel_hour = np.repeat(start, length) + within
    n = len(cv)
    minutes = np.clip(np.rint(rng.gamma(2.0, 9.0, n)), 1, 60).astype(np.int64)
    events = 1 + rng.poisson(minutes * sub.visitors.rate[cv])
    first = (rng.random(n) * (HOUR_MS - minutes * _MIN_MS + 1)).astype(np.int64)
    last = first + np.maximum(0, minutes * _MIN_MS - rng.integers(1, _MIN_MS + 1, n))
    # Two sessions of one visitor may share an hour: merge them into one cell (one row per grain).
    key = ((cv * 2 + cslot) * 3 + cua) * 64 + rel_hour
    uniq, inv = np.unique(key, return_inverse=True)
    size = len(uniq)
    hour = sub.midnight_of_index(i) + (uniq % 64) * HOUR_MS
    vkey = uniq // 64
    return Activity(
        v=vkey // 6,
        slot=(vkey // 3) % 2,
        ua=vkey % 3,
        hour=hour,
        events=np.bincount(inv, events, size).astype(np.int64),
        minutes=np.minimum(np.bincount(inv, minutes, size).astype(np.int64), 60),
        first=hour + _reduce(np.minimum, inv, first, size, np.iinfo(np.int64).max),
        last=hour + _reduce(np.maximum, inv, last, size, 0),
    )


def _reduce(op: np.ufunc, inv: np.ndarray, values: np.ndarray, size: int, fill: int) -> np.ndarray:
    out = np.full(size, fill, np.int64)
    op.at(out, inv, values)
    return out


def _pages_and_features(sub: Subscription, i: int, act: Activity, rng: np.random.Generator) -> None:
    """Split each cell's events into page views, feature clicks and other events."""
    cat, n = sub.catalog, len(act.v)
    app = (act.ua == 2).astype(np.int64)
    pv = 1 + rng.binomial(act.events - 1, 0.3)
    clicks = rng.binomial(act.events - pv, 0.5)
    pages = np.stack([_pick_page(cat.page_cdf, app, rng.random(n)) for _ in range(3)], axis=1)
    pv_split = _split(rng, pv, _PAGE_SHARE)
    click_split = _split(rng, clicks, _CLICK_SHARE)
    click_split[:, 0] += np.where(app == 1, click_split[:, 3], 0)  # no app-wide features on mobile
    click_split[:, 3] *= app == 0
    _set_subrows(act, "page", pages, pv_split)
    feats = [_pick(cat.page_feat_cdf[pages[:, j]], rng.random(n)) for j in range(3)]
    feats = [cat.page_feats[pages[:, j], feats[j]] for j in range(3)]
    wide_p = cat.feature_weight[cat.appwide] / cat.feature_weight[cat.appwide].sum()
    feats.append(cat.appwide[rng.choice(len(cat.appwide), size=n, p=wide_p)])
    targets = np.stack(feats, axis=1)
    acct = sub.account_of(act.v, act.slot)[:, None]
    usable = sub.adopted[acct, targets] & (i < sub.abandon[acct, targets])
    _set_subrows(act, "feat", targets, np.where(usable, click_split, 0))


def _pick(cdf: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Row-wise inverse-CDF draw: index of the first cdf entry above u."""
    index: np.ndarray = (cdf <= u[:, None]).sum(axis=1)
    return index


def _pick_page(cdf: np.ndarray, app: np.ndarray, u: np.ndarray) -> np.ndarray:
    """A page of each cell's app, drawn by popularity."""
    return np.where(app == 0, np.searchsorted(cdf[0], u, "right"), np.searchsorted(cdf[1], u, "right"))


def _split(rng: np.random.Generator, total: np.ndarray, shares: tuple[float, ...]) -> np.ndarray:
    """A multinomial split of each total over `shares`, as a chain of binomials (much faster)."""
    out = np.zeros((len(total), len(shares)), np.int64)
    left, mass = total.astype(np.int64), 1.0
    for j, share in enumerate(shares[:-1]):
        out[:, j] = rng.binomial(left, min(share / mass, 1.0))
        left, mass = left - out[:, j], mass - share
    out[:, -1] = left
    return out


def _set_subrows(act: Activity, prefix: str, targets: np.ndarray, counts: np.ndarray) -> None:
    """Merge each cell's draws of the same target and store rows with numEvents > 0 (cell order kept)."""
    order = np.argsort(targets, axis=1, kind="stable")
    targets, counts = np.take_along_axis(targets, order, 1), np.take_along_axis(counts, order, 1).copy()
    for j in range(targets.shape[1] - 1, 0, -1):
        same = targets[:, j] == targets[:, j - 1]
        counts[:, j - 1] += np.where(same, counts[:, j], 0)
        counts[:, j] *= ~same
    keep = counts.ravel() > 0
    cells = np.repeat(np.arange(len(targets)), targets.shape[1])[keep]
    events = counts.ravel()[keep]
    minutes = np.clip(np.rint(act.minutes[cells] * events / act.events[cells]), 1, act.minutes[cells])
    for name, value in (
        ("cell", cells),
        ("", targets.ravel()[keep]),
        ("events", events),
        ("minutes", minutes),
    ):
        setattr(act, f"{prefix}_{name}" if name else prefix, value.astype(np.int64))


def _guide_events(sub: Subscription, i: int, act: Activity, rng: np.random.Generator) -> None:
    """Guide impressions in some cells, each a short run of raw events."""
    cat, vis = sub.catalog, sub.visitors
    young = (i - vis.start[act.v]) < 21
    app = (act.ua == 2).astype(np.int64)
    chance = np.where(young & (app == 0), 0.08, 0.006) * ~vis.anonymous[act.v]
    cells = np.flatnonzero(rng.random(len(act.v)) < chance)
    weight = cat.guide_weight[None, :] * (cat.guide_app[None, :] == app[cells, None])
    weight = weight * np.where(cat.guide_onboarding[None, :], 6.0 * young[cells, None], 1.0)
    total = weight.sum(axis=1)
    cells, weight = cells[total > 0], weight[total > 0]
    cdf = np.cumsum(weight, axis=1) / weight.sum(axis=1, keepdims=True)
    cdf[cdf > 1 - 1e-9] = 1.0
    guides = _pick(cdf, rng.random(len(cells)))
    out: list[tuple[int, int, int, int, bool, int]] = []
    for cell, guide in zip(cells.tolist(), guides.tolist(), strict=True):
        start = int(act.first[cell]) + int(rng.integers(0, 90_000))
        out.extend(_walk(cell, guide, len(cat.guide_steps[guide]), start, web=bool(app[cell] == 0), rng=rng))
    _store_guides(act, out, rng)
    if sub.rejects is not None and (sub.rejects <= i).any():
        rejects = np.random.default_rng([sub.seed, sub.day_of_index(i).toordinal(), 3])
        _store_guides(act, _rejections(sub, i, act, rejects), rejects)


REJECT_SHOWN, REJECT_DISMISSED = 0.25, 0.7  # a rejected guide: shown in a quarter of web cells, dismissed 70%


def _rejections(sub: Subscription, i: int, act: Activity,
                rng: np.random.Generator) -> list[tuple[int, int, int, int, bool, int]]:
    """Views of a guide an account's users reject (`Subscription.rejects`): shown often on the web, most
    views dismissed at once. Drawn from a stream of their own, so every other account's events stay as they were."""
    assert sub.rejects is not None
    accounts = sub.account_of(act.v, act.slot)
    out = []
    for cell in np.flatnonzero((act.ua != 2) & (rng.random(len(act.v)) < REJECT_SHOWN)).tolist():
        for guide in np.flatnonzero(sub.rejects[accounts[cell]] <= i).tolist():
            t = int(act.first[cell]) + int(rng.integers(2_000, 90_000))
            out.append((cell, guide, 0, SEEN, False, t))
            kind, lag = (DISMISSED, 3_000) if rng.random() < REJECT_DISMISSED else (ADVANCED, 4_000)
            out.append((cell, guide, 0, kind, False, t + lag))
    return out


def _walk(
    cell: int, guide: int, steps: int, t: int, *, web: bool, rng: np.random.Generator
) -> list[tuple[int, int, int, int, bool, int]]:
    """A visitor's path through one guide: seen, maybe activity, then advance, dismiss or walk away."""
    events = []
    for step in range(steps):
        t += int(rng.integers(2_000, 40_000))
        prefixed = web and rng.random() < 0.05
        if rng.random() < 0.03:
            events.append((cell, guide, step, TIMEOUT, prefixed, t))
            break
        events.append((cell, guide, step, SEEN, prefixed, t))
        if rng.random() < 0.1:
            events.append((cell, guide, step, ACTIVITY, False, t + 1_500))
        r = rng.random()
        if r < (0.3 if steps == 1 else 0.15):
            events.append((cell, guide, step, DISMISSED, prefixed, t + 3_000))
            break
        if r > 0.9:
            break
        events.append((cell, guide, step, ADVANCED, prefixed, t + 4_000))
    return events


def _store_guides(act: Activity, out: list[tuple[int, int, int, int, bool, int]], rng: np.random.Generator) -> None:
    """Append raw guide events (cell, guide, step, type, prefixed, time) to the activity's guide columns."""
    if not out:
        return
    cols = list(zip(*out, strict=True))
    cell = np.array(cols[0], np.int64)
    lag = rng.integers(20, 900, len(out))
    # Events stay inside their cell's hour, so a raw event sits in the bucket of its cell.
    time = np.minimum(np.array(cols[5], np.int64), act.hour[cell] + HOUR_MS - 1_000 - lag)
    load = np.where(rng.random(len(out)) < 0.6, 0, rng.integers(80, 2_500, len(out)))
    new = {"g_cell": cell, "g_guide": np.array(cols[1], np.int64), "g_step": np.array(cols[2], np.int64),
           "g_type": np.array(cols[3], np.int64), "g_prefixed": np.array(cols[4], bool), "g_time": time,
           "g_lag": lag, "g_load": load}
    for name, values in new.items():
        setattr(act, name, np.concatenate([getattr(act, name), values]))
