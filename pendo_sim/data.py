"""The synthetic Pendo subscription: entities up front, activity one day at a time on demand.

Everything is deterministic from (seed, accounts, days, as_of, tz). The simulated "now" is 06:00 on
`as_of` in the subscription timezone, so `as_of` itself is a partial day and nothing happens after now.
Day indices count from the first day of history (`as_of - days`, index 0) to `as_of` (index `days`).

`now` moves the clock without moving the timeline: `generate(as_of=END, now=D)` is the same
subscription as of an earlier day D, so a day's activity is the same whichever day the sync runs
(what a daily run after a backfill needs).
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from pendo_core.common.timeutil import HOUR_MS, day_of_ms, local_midnight_ms
from pendo_sim import entities
from pendo_sim.activity import active_mask
from pendo_sim.catalog import Catalog, build_catalog
from pendo_sim.daybook import DayBook
from pendo_sim.entities import Accounts, Visitors

NOW_HOUR = 6  # the simulated now is this local hour on as_of


@dataclass
class Subscription:
    """A generated subscription; `daybook` hands out the activity of any day."""

    seed: int
    days: int
    as_of: date
    tz: ZoneInfo
    catalog: Catalog
    accounts: Accounts
    visitors: Visitors
    adopted: np.ndarray  # (accounts, features) bool: the account uses the feature at all
    abandon: np.ndarray  # (accounts, features) day index from which it stops using it
    midnights: np.ndarray = field(repr=False)  # local midnight of day index -1 .. days + 2
    now_day: date | None = None  # the clock's day when earlier than as_of (the timeline's end)
    # (accounts, guides) day index from which the account's users are shown the guide often and reject
    # it (the labelled worlds' guide_rejection story); None: nobody does
    rejects: np.ndarray | None = field(default=None, repr=False)
    # per visitor, the day index from which they are gone (the champion_left story): their sessions are
    # still drawn, then dropped, so no other visitor's draws move; None: nobody leaves this way
    departed: np.ndarray | None = field(default=None, repr=False)
    daybook: DayBook = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.daybook = DayBook(self)

    @property
    def tz_name(self) -> str:
        """The IANA name of the subscription timezone."""
        return self.tz.key

    @property
    def first_day(self) -> date:
        """The first day of simulated history (day index 0)."""
        return self.as_of - timedelta(days=self.days)

    @property
    def now_ms(self) -> int:
        """The simulated server clock: 06:00 local on the clock's day (as_of unless `now` was given)."""
        today = self.now_day or self.as_of
        return int(datetime.combine(today, time(NOW_HOUR), tzinfo=self.tz).timestamp() * 1000)

    @property
    def epoch_ms(self) -> int:
        """Local midnight starting the simulated history."""
        return self.midnight_of_index(0)

    def day_of_index(self, i: int) -> date:
        """The calendar day of a day index."""
        return self.first_day + timedelta(days=i)

    def index_of_ms(self, ms: int) -> int:
        """The day index of the local day holding the instant `ms`."""
        return (day_of_ms(ms, self.tz) - self.first_day).days

    def midnight_of_index(self, i: int) -> int:
        """Epoch ms of local midnight starting day index `i`."""
        if -1 <= i <= self.days + 2:
            return int(self.midnights[i + 1])
        return local_midnight_ms(self.day_of_index(i), self.tz)

    def account_of(self, v: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Account index of each (visitor, account slot)."""
        accounts: np.ndarray = np.where(slot == 1, self.visitors.account2[v], self.visitors.account[v])
        return accounts

    @cached_property
    def recency(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per visitor (firstvisit, lastvisit, lastupdated) epoch ms, from a cheap scan of active days.

        lastvisit is mid-morning of the visitor's last active day before as_of (day-accurate, not
        the exact time of the last event), or firstvisit when the visitor never came back.
        """
        last_i = np.full(len(self.visitors), -1, np.int64)
        for i in range(((self.now_day or self.as_of) - self.first_day).days):
            last_i[active_mask(self, i)] = i
        firstvisit = np.minimum(self.visitors.created_ms, self.now_ms - HOUR_MS)
        jitter = (np.arange(len(last_i)) * 7_919_000) % (6 * HOUR_MS)
        midnights = self.midnights[np.clip(last_i, 0, None) + 1]
        lastvisit = np.where(last_i >= 0, np.maximum(midnights + 9 * HOUR_MS + jitter, firstvisit), firstvisit)
        lastupdated = np.minimum(lastvisit + 45_000, self.now_ms - 1)
        return firstvisit, lastvisit, lastupdated

    @cached_property
    def account_recency(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per account (firstvisit, lastvisit, lastupdated) from its visitors (and its creation)."""
        first, last, _ = self.recency
        acct_first = np.minimum(self.accounts.created_ms, self.now_ms - HOUR_MS)
        np.minimum.at(acct_first, self.visitors.account, first)
        acct_last = acct_first.copy()
        np.maximum.at(acct_last, self.visitors.account, last)
        return acct_first, acct_last, np.minimum(acct_last + 60_000, self.now_ms - 1)

    @cached_property
    def visitor_index(self) -> dict[str, int]:
        """Visitor id -> index."""
        return {vid: i for i, vid in enumerate(self.visitors.ids)}

    @cached_property
    def account_index(self) -> dict[str, int]:
        """Account id -> index."""
        return {aid: i for i, aid in enumerate(self.accounts.ids)}


def generate(
    seed: int = 7, accounts: int = 300, days: int = 180, as_of: date | None = None, tz: str = "UTC",
    *, now: date | None = None, visitors: int | None = None,
) -> Subscription:
    """Build a subscription; activity is generated lazily, one day at a time.

    `visitors` asks for about that many visitors in all (team sizes scaled to match; the benchmark's
    million-visitor world), instead of the usual ~25 per account.
    """
    if accounts < 1 or days < 1:
        raise ValueError("a subscription needs at least one account and one day of history")
    zone = ZoneInfo(tz)
    as_of = as_of or datetime.now(zone).date()
    first_day = as_of - timedelta(days=days)
    midnights = np.array([local_midnight_ms(first_day + timedelta(days=i), zone) for i in range(-1, days + 3)])
    epoch = int(midnights[1])
    catalog = build_catalog(seed, epoch)
    accts = entities.build_accounts(seed, accounts, days, epoch)
    sizes = None if visitors is None else team_sizes(seed, accts, visitors)
    people = entities.build_visitors(seed, accts, days, epoch, sizes)
    adopted, abandon = _adoption(seed, accts, catalog, days)
    if now is not None and not first_day < now <= as_of:
        raise ValueError(f"now {now} must fall inside the history ({first_day} .. {as_of})")
    return Subscription(seed, days, as_of, zone, catalog, accts, people, adopted, abandon, midnights, now)


def team_sizes(seed: int, accounts: Accounts, total: int) -> np.ndarray:
    """Identified visitors per account adding up to about `total` (anonymous ones come on top, ~1%).

    Lognormal like the default sizes (tiny teams stay at 1-3), with the median scaled to the target.
    """
    rng = np.random.default_rng([seed, 0x715, 1])
    tiny = accounts.archetype == entities.TINY
    tiny_sizes = rng.integers(1, 4, len(accounts))
    shape = rng.lognormal(0.0, 0.75, len(accounts))
    room = max(total - int(tiny_sizes[tiny].sum()), 0)
    scale = room / max(float(shape[~tiny].sum()), 1e-9)
    sizes = np.maximum(np.rint(shape * scale), 1).astype(np.int64)
    return np.where(tiny, tiny_sizes, sizes)


def _adoption(seed: int, accounts: Accounts, catalog: Catalog, days: int) -> tuple[np.ndarray, np.ndarray]:
    """Which features each account uses, and the key features some accounts abandon."""
    rng = np.random.default_rng([seed, 0xADD])
    n, f = len(accounts), len(catalog.features)
    popularity = catalog.feature_weight / catalog.feature_weight.max()
    chance = np.where(catalog.feature_core, 0.55 + 0.35 * popularity, 0.3 + 0.6 * popularity)
    tiny = accounts.archetype == entities.TINY
    adopted = rng.random((n, f)) < chance[None, :] * np.where(tiny, 0.6, 1.0)[:, None]
    abandon = np.full((n, f), entities.NEVER, np.int32)
    a = accounts.archetype
    quits = rng.random(n) < np.select([a == entities.DECLINING, a == entities.CHURNING], [0.6, 0.6], 0.05)
    core = np.flatnonzero(catalog.feature_core)
    for acct in np.flatnonzero(quits).tolist():
        used = core[adopted[acct, core]]
        if len(used):
            abandon[acct, int(rng.choice(used))] = max(1, days - int(rng.integers(15, 40)))
    return adopted, abandon


def id_hash(value: str) -> int:
    """Pendo's `idhash` stand-in: a stable 32-bit hash of an id."""
    return zlib.crc32(value.encode())
