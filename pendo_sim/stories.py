"""Labelled worlds: every account follows a story with a renewal outcome, so judgments can be scored.

A story is what happens to an account and what a CSM should hear about it:

| story | what the simulator does | alerts it must raise | churns |
| --- | --- | --- | ---: |
| steady, big_steady, growing | flat use (big: 60-150 users), or +35% over four months | none | 3-5% |
| tiny_team | 1-5 users, flat | none (no_login only when 14 quiet days are plausible) | 12% |
| weekday_only | nobody on weekends | none | 5% |
| holiday_dip | a 5-9 day shutdown ending 8-20 days ago, then back | none | 5% |
| month_end_peak | about twice the use on the last 4 days of every month | none | 5% |
| false_decline | use falls by half for 2-3 weeks, recovered 7-12 days ago | none | 10% |
| unsynced_days | flat, but the evaluator removes a few synced days | none | 5% |
| sustained_decline | a slide to 30-45% over the last 8-10 weeks | usage_drop | 80% |
| sudden_drop | use cut to 30-55% 8-21 days ago | usage_drop | 75% |
| stickiness_fading | the same users come less and less (to 40-55% in 12-16 weeks) | usage_drop if big | 70% |
| attrition | 40-60% of the users leave over the last 11 weeks | usage_drop if big | 80% |
| breadth_lost | 2-3 well-used key features dropped one by one, 16-40 days ago | feature_abandonment | 65% |
| sudden_silence | nobody at all for the last 16-45 days | no_login | 95% |
| silent_churner | flat use to the end | none | 100% |
| champion_left (overlay) | a flat account's champion leaves 21-49 days ago; the team stays | champion_inactive | 55% |

Decline stories draw a quarter of their teams small (4-8 users), and may raise feature_abandonment
without it counting as false: as their users fade, a key feature a few of them used can go quiet for
real. Every account also gets day-to-day noise (lognormal, 3-20%) and the subscription's weekends and
public holidays.

Guide rejection rides on the flat stories: a fifth of the steady, big steady and growing accounts
also have one web guide (not an onboarding tour) shown to their users a lot from 10-25 days before
the end, 70% of its views dismissed at once; their label requires guide_dismissal on that guide
(`Label.rejected`). Any other guide_dismissal counts as false (every account sees the catalogue's
guides and dismisses some of them, as the simulator always does). Onboarding tours are left out:
new visitors everywhere dismiss them most of the time, and a guide everyone dismisses is the guide's
problem, which the rule leaves alone. The overlay draws from an RNG of its own, so every other draw
of a world (stories, teams, outcomes, activity) is what it would be without it.

Contacts come from the teams as the demo's do (`key_contacts`): of the identified users there from the
start, the most engaged is the champion (teams of two or more) and the next the decision maker (four
or more). **champion_left** rides on the flat stories like guide rejection: 30% of the steady, big
steady and growing accounts lose their champion (they leave the company) 21-49 days before the end,
while the rest of the team carries on, so usage falls only by one user's share (within the noise of
a team of 9 or more). Its churn chance is 55%: a champion's departure is the classic warning that
usage hides, so it churns far more than the flat stories it rides on (3-5%), yet less than the
stories whose whole team fades (65-95%), because the team still depends on the product and a new
champion can be found. The overlay draws from an RNG of its own and redraws only its accounts'
churn outcome with it, so every other account is what it would be without it. champion_inactive is
required for every key contact whose expected activity in the last 14 days is nil (who left) while
the team works, and allowed when 14 quiet days are plausible for one (at least a 1% chance).

Whether a decline is big enough is read from the *expected* visitor-days (the simulator's own
activity probabilities, no sampling): usage_drop is required when the last 28 days are down more
than 25% on the 28 before and the last week still is, or the last week is down 30% on the four
before; it is a false alert when both changes are within 10-15%; anything between may go either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from pendo_core.common.timeutil import local_midnight_ms
from pendo_sim import entities, names
from pendo_sim.activity import visitor_day_probability
from pendo_sim.catalog import FEATURES, build_catalog
from pendo_sim.data import Subscription, _adoption
from pendo_sim.demo import CSMS

DROP, ABANDON, SILENCE, DISMISS = "usage_drop", "feature_abandonment", "no_login", "guide_dismissal"
CHAMPION = "champion_inactive"
HISTORY_DAYS = 180
SUSTAINED = -0.25  # a decline of more than 25% over 28 days must be flagged
QUIET = (-0.10, -0.15)  # within these (28-day, last-week) changes, a usage_drop is a false alert
REJECTING, REJECT_SHARE = ("steady", "big_steady", "growing"), 0.2  # which accounts may reject a guide
LOSING, LOSE_SHARE, LOSE_CHURN = ("steady", "big_steady", "growing"), 0.3, 0.55  # champion_left (module doc)
CHAMPION_LEFT = "champion_left"
QUIET_DAYS = 14  # champion_inactive's default window
POPULAR_KEYS = ("Create Task", "New Project", "Export CSV", "Run Analysis", "Create Report")
_NAMESPACE = uuid.UUID("0b6c6c0e-5d8f-4a53-9a43-5f7e3c1d2a90")


@dataclass(frozen=True)
class Story:
    """A kind of account: its share of a world, churn chance, and the alerts it must or may raise."""

    name: str
    share: float
    churn: float
    expected: frozenset[str] = frozenset()
    allowed: frozenset[str] = frozenset()
    hard_negative: bool = False
    sizes: tuple[int, int] | None = None  # identified users, inclusive; None: the usual spread


def _s(name: str, share: float, churn: float, *, expected: tuple[str, ...] = (), allowed: tuple[str, ...] = (),
       hard: bool = False, sizes: tuple[int, int] | None = None) -> Story:
    return Story(name, share, churn, frozenset(expected), frozenset(allowed), hard, sizes)


STORIES: tuple[Story, ...] = (
    _s("steady", 0.13, 0.05),
    _s("big_steady", 0.05, 0.03, sizes=(60, 150)),
    _s("growing", 0.05, 0.03),
    _s("tiny_team", 0.09, 0.12, hard=True, sizes=(1, 5)),
    _s("weekday_only", 0.05, 0.05, hard=True),
    _s("holiday_dip", 0.05, 0.05, hard=True),
    _s("month_end_peak", 0.04, 0.05, hard=True),
    _s("false_decline", 0.05, 0.10, hard=True),
    _s("unsynced_days", 0.04, 0.05, hard=True),
    _s("sustained_decline", 0.08, 0.80, expected=(DROP,), allowed=(ABANDON,)),
    _s("sudden_drop", 0.05, 0.75, expected=(DROP,), allowed=(ABANDON,)),
    _s("stickiness_fading", 0.07, 0.70, allowed=(DROP, ABANDON)),
    _s("attrition", 0.07, 0.80, allowed=(DROP, ABANDON)),
    _s("breadth_lost", 0.07, 0.65, expected=(ABANDON,), sizes=(12, 40)),
    _s("sudden_silence", 0.06, 0.95, expected=(SILENCE,), allowed=(DROP, ABANDON)),
    _s("silent_churner", 0.05, 1.00),
)
BY_NAME = {s.name: s for s in STORIES}
DECLINES = {"sustained_decline", "sudden_drop", "stickiness_fading", "attrition"}


@dataclass(frozen=True)
class Label:
    """What an account's story says: the alerts it must and may raise, its renewal, its true change."""

    account_id: str
    customer_id: str
    story: str
    expected: frozenset[str]
    allowed: frozenset[str]
    churned: bool
    outcome_date: date
    hard_negative: bool
    change_28d: float  # expected visitor-days, last 28 complete days vs the 28 before
    change_7d: float  # the last 7 days vs the 4 weeks before them
    change_held: float  # the last 7 days vs the 28 days before the last 28 (still down?)
    abandoned: tuple[str, ...] = ()  # feature ids the story dropped (feature_abandonment subjects)
    unsynced: tuple[date, ...] = ()  # days whose stored metrics the evaluator removes
    rejected: tuple[str, ...] = ()  # guide ids the account's users reject (guide_dismissal subjects)
    gone: tuple[str, ...] = ()  # key contacts' e-mails with no expected activity in 14 days (champion_inactive)

    @property
    def sustained(self) -> bool:
        """A decline of more than 25% over 28 days that still holds (the sustained-recall population)."""
        return self.change_28d <= SUSTAINED and self.change_held <= SUSTAINED and SILENCE not in self.expected


@dataclass
class World:
    """A subscription whose accounts each follow a story; one customer per account."""

    seed: int
    subscription: Subscription
    labels: list[Label] = field(default_factory=list)

    @property
    def last_day(self) -> date:
        """The last complete day (the day before the simulated today)."""
        return self.subscription.as_of - timedelta(days=1)

    def customers(self) -> list[dict[str, str]]:
        """Customer rows in the import format, each listing its account explicitly."""
        sub = self.subscription
        return [{"customer_id": lab.customer_id, "name": sub.accounts.names[a], "domain": sub.accounts.domains[a],
                 "segment": "Mid-Market", "arr": "12000.00", "renewal_date": lab.outcome_date.isoformat(),
                 "csm_name": CSMS[a % len(CSMS)][0], "csm_email": CSMS[a % len(CSMS)][1],
                 "pendo_account_ids": lab.account_id} for a, lab in enumerate(self.labels)]

    def contacts(self) -> list[dict[str, str]]:
        """Contact rows in the import format: each account's champion and decision maker (`key_contacts`)."""
        return [row for a, lab in enumerate(self.labels) for row in contact_rows(self.subscription, a, lab.customer_id)]

    def outcomes(self) -> list[tuple[str, str, date]]:
        """(customer_id, "churned" or "renewed", renewal date) of every account."""
        return [(lab.customer_id, "churned" if lab.churned else "renewed", lab.outcome_date) for lab in self.labels]


def world_as_of(seed: int) -> date:
    """The simulated today of a seed's world: quiet spring, after Thanksgiving, or after New Year."""
    return (date(2026, 3, 19), date(2026, 12, 10), date(2027, 1, 14))[seed % 3]


def build_world(seed: int, accounts: int = 150, *, as_of: date | None = None, days: int = HISTORY_DAYS,
                tz: str = "UTC", champion_left: bool = True) -> World:
    """A seeded world of `accounts` accounts, each with a story, a renewal outcome and its label; days are
    local to `tz` (the demo's subscription timezone). `champion_left=False` leaves that overlay out (the
    same world otherwise), to show what the story adds."""
    rng = np.random.default_rng([seed, 0x5707])
    as_of = as_of or world_as_of(seed)
    stories = _assign(rng, accounts)
    sub = _subscription(seed, stories, rng, as_of, days, tz=tz)
    plans = [_apply(sub, a, BY_NAME[name], rng) for a, name in enumerate(stories)]
    rejected = _guide_rejections(sub, stories)
    plans = [replace(plan, rejected=(rejected[a],)) if a in rejected else plan for a, plan in enumerate(plans)]
    leaving = _champions_leaving(sub, stories) if champion_left else None
    curve = expected_visitor_days(sub, 60)
    quiet = _quiet_chance(sub, QUIET_DAYS)
    labels = [_label(sub, a, BY_NAME[name], plan, curve=curve[a], rng=rng, quiet=quiet)
              for a, (name, plan) in enumerate(zip(stories, plans, strict=True))]
    if leaving is not None:
        labels = [_champion_left(lab, leaving) if a in leaving.accounts else lab for a, lab in enumerate(labels)]
    return World(seed, sub, labels)


def _assign(rng: np.random.Generator, accounts: int) -> list[str]:
    """Story names in proportion to their shares (largest remainders), shuffled."""
    shares = np.array([s.share for s in STORIES]) / sum(s.share for s in STORIES)
    counts = np.floor(shares * accounts).astype(int)
    for i in np.argsort(-(shares * accounts - counts))[: accounts - counts.sum()]:
        counts[i] += 1
    names = [s.name for s, n in zip(STORIES, counts, strict=True) for _ in range(n)]
    return [names[i] for i in rng.permutation(len(names))]


def _subscription(seed: int, stories: list[str], rng: np.random.Generator, as_of: date, days: int, *,
                  tz: str = "UTC") -> Subscription:
    """A plain subscription built from the usual parts, with every account steady and team sizes set."""
    zone = ZoneInfo(tz)
    first = as_of - timedelta(days=days)
    midnights = np.array([local_midnight_ms(first + timedelta(days=i), zone) for i in range(-1, days + 3)])
    epoch = int(midnights[1])
    catalog = build_catalog(seed, epoch)
    accts = entities.build_accounts(seed, len(stories), days, epoch)
    tiny = np.array([s == "tiny_team" for s in stories])
    accts.archetype[:] = np.where(tiny, entities.TINY, entities.HEALTHY)
    accts.start[:], accts.churn[:] = 0, entities.NEVER
    noise = rng.uniform(0.03, 0.2, len(stories))[:, None] * rng.standard_normal((len(stories), days + 1))
    accts = replace(accts, shape=np.exp(noise))
    visitors = entities.build_visitors(seed, accts, days, epoch, sizes=_sizes(rng, stories))
    # A look-alike must not hide a real decline: its users neither join late nor leave.
    hard = np.array([BY_NAME[s].hard_negative for s in stories])[visitors.account]
    visitors.start[hard], visitors.end[hard] = 0, entities.NEVER
    adopted, abandon = _adoption(seed, accts, catalog, days)
    abandon[:] = entities.NEVER  # only stories drop features, so every abandonment is labelled
    rejects = np.full((len(stories), len(catalog.guides)), entities.NEVER, np.int64)
    return Subscription(seed, days, as_of, zone, catalog, accts, visitors, adopted, abandon, midnights,
                        rejects=rejects)


def _sizes(rng: np.random.Generator, stories: list[str]) -> np.ndarray:
    usual = np.clip(np.rint(rng.lognormal(np.log(20), 0.6, len(stories))), 9, 60)
    small = rng.integers(4, 9, len(stories))
    out = []
    for k, name in enumerate(stories):
        bounds = BY_NAME[name].sizes
        if bounds is not None:
            out.append(int(rng.integers(bounds[0], bounds[1] + 1)))
        elif name in DECLINES and rng.random() < 0.25:
            out.append(int(small[k]))
        else:
            out.append(int(usual[k]))
    return np.array(out, np.int64)


# --- what each story does --------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """What applying a story changed beyond the rhythm: dropped features, days to unsync."""

    abandoned: tuple[int, ...] = ()
    unsynced: tuple[int, ...] = ()
    rejected: tuple[int, ...] = ()


def _apply(sub: Subscription, a: int, story: Story, rng: np.random.Generator) -> Plan:
    """Write the story into account `a`'s rhythm, users, features or lifetime."""
    shape = sub.accounts.shape
    assert shape is not None
    write = _WRITERS.get(story.name)
    return (write(sub, a, shape[a], rng) or Plan()) if write else Plan()


def _growing(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    shape *= _ramp(_days(sub), _last(sub) - 120, _last(sub), 1.0, 1.35)
    return None


def _weekday_only(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    shape *= np.array([sub.day_of_index(int(i)).weekday() < 5 for i in _days(sub)])
    return None


def _holiday_dip(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    end = _last(sub) - int(rng.integers(8, 21))
    shape[end - int(rng.integers(5, 10)) + 1 : end + 1] *= 0.1
    return None


def _month_end_peak(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    day = [sub.day_of_index(int(i)) for i in _days(sub)]
    peak = np.array([(d + timedelta(days=4)).month != d.month for d in day])
    shape *= np.where(peak, rng.uniform(1.8, 2.5), 1.0)
    return None


def _false_decline(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    end = _last(sub) - int(rng.integers(7, 13))
    shape[end - int(rng.integers(14, 22)) + 1 : end + 1] *= 0.5
    return None


def _sustained_decline(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    shape *= _ramp(_days(sub), _last(sub) - int(rng.integers(56, 71)), _last(sub), 1.0, rng.uniform(0.3, 0.45))
    return None


def _sudden_drop(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    shape[_last(sub) - int(rng.integers(8, 22)) + 1 :] *= rng.uniform(0.3, 0.55)
    return None


def _stickiness_fading(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    shape *= _ramp(_days(sub), _last(sub) - int(rng.integers(84, 113)), _last(sub), 1.0, rng.uniform(0.4, 0.55))
    return None


def _attrition(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    vis = sub.visitors
    team = np.flatnonzero((vis.account == a) & ~vis.anonymous)
    leaving = team[rng.random(len(team)) < rng.uniform(0.4, 0.6)]
    vis.end[leaving] = np.minimum(vis.end[leaving], _last(sub) - rng.integers(0, 76, len(leaving)))
    return None


def _breadth_lost(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    """The account uses the popular key features, then drops 2-3 of them one by one."""
    names = [f[0] for f in FEATURES]
    popular = [names.index(n) for n in POPULAR_KEYS]
    sub.adopted[a, popular] = True
    dropped = rng.choice(popular, int(rng.integers(2, 4)), replace=False)
    for feature, (lo, hi) in zip(dropped.tolist(), ((16, 21), (23, 29), (30, 36)), strict=False):
        sub.abandon[a, feature] = _last(sub) - int(rng.integers(lo, hi)) + 1
    return Plan(abandoned=tuple(int(f) for f in dropped))


def _guide_rejections(sub: Subscription, stories: list[str]) -> dict[int, int]:
    """Account -> the guide its users reject (see the module doc), from an RNG of its own."""
    assert sub.rejects is not None
    rng = np.random.default_rng([sub.seed, 0x6D15])
    web = np.flatnonzero((sub.catalog.guide_app == 0) & ~sub.catalog.guide_onboarding)
    out = {}
    for a, name in enumerate(stories):
        if name in REJECTING and rng.random() < REJECT_SHARE:
            out[a] = int(rng.choice(web))
            sub.rejects[a, out[a]] = _last(sub) - int(rng.integers(10, 26)) + 1
    return out


def key_contacts(sub: Subscription, a: int) -> list[tuple[str, int]]:
    """(role, visitor) of account `a`'s key contacts: of its identified users there from the start, the most
    engaged as champion (teams of 2+) and the next as decision maker (teams of 4+)."""
    return _ranked(sub, np.flatnonzero(_could_be_key(sub) & (sub.visitors.account == a)))


def key_contacts_by_account(sub: Subscription) -> dict[int, list[tuple[str, int]]]:
    """`key_contacts` of every account with some, in one pass over the visitors (20,000 accounts in seconds)."""
    team = np.flatnonzero(_could_be_key(sub))
    team = team[np.argsort(sub.visitors.account[team], kind="stable")]  # by account, each in visitor order
    accounts, starts = np.unique(sub.visitors.account[team], return_index=True)
    found = {int(a): _ranked(sub, members) for a, members in zip(accounts, np.split(team, starts[1:]), strict=True)}
    return {a: contacts for a, contacts in found.items() if contacts}


def _could_be_key(sub: Subscription) -> np.ndarray:
    vis = sub.visitors
    could: np.ndarray = ~vis.anonymous & ~vis.dnp & (vis.start == 0)
    return could


def _ranked(sub: Subscription, team: np.ndarray) -> list[tuple[str, int]]:
    ranked = team[np.argsort(-sub.visitors.engagement[team], kind="stable")].tolist()
    roles = ("champion", "decision_maker") if len(ranked) >= 4 else ("champion",) if len(ranked) >= 2 else ()
    return list(zip(roles, ranked, strict=False))


def contact_rows(sub: Subscription, a: int, customer_id: str,
                 contacts: list[tuple[str, int]] | None = None) -> list[dict[str, str]]:
    """Account `a`'s key contacts (`contacts`, when already found) as import rows, matched by e-mail (Pendo
    visitor ids are e-mails)."""
    found = key_contacts(sub, a) if contacts is None else contacts
    return [{"customer_id": customer_id, "name": _name_of(sub.visitors.ids[v]), "email": sub.visitors.ids[v],
             "title": names.TITLES[int(sub.visitors.title[v])], "role": role} for role, v in found]


def _name_of(email: str) -> str:
    """"Ada.Lovelace2@acme.com" -> "Ada Lovelace"."""
    return " ".join(part.rstrip("0123456789").capitalize() for part in email.split("@", 1)[0].split("."))


@dataclass(frozen=True)
class Leaving:
    """The champion_left overlay: its accounts and the RNG that redraws their outcomes."""

    accounts: frozenset[int]
    rng: np.random.Generator


def _champions_leaving(sub: Subscription, stories: list[str]) -> Leaving:
    """Accounts whose champion leaves (see the module doc), from an RNG of its own; sets their leaving day
    (`Subscription.departed`: their sessions are still drawn and then dropped, so no other draw moves)."""
    rng = np.random.default_rng([sub.seed, 0xC4A3])
    chosen = set()
    for a, name in enumerate(stories):
        if name in LOSING and rng.random() < LOSE_SHARE:
            left = _last(sub) - int(rng.integers(21, 50)) + 1
            contacts = key_contacts(sub, a)
            # A consultant champion also works for another account, whose use must not move.
            if contacts and sub.visitors.account2[contacts[0][1]] < 0:
                if sub.departed is None:
                    sub.departed = np.full(len(sub.visitors), entities.NEVER, np.int64)
                sub.departed[contacts[0][1]] = left
                chosen.add(a)
    return Leaving(frozenset(chosen), rng)


def _champion_left(label: Label, leaving: Leaving) -> Label:
    """The label of an account whose champion left: that story, churn redrawn, champion_inactive required."""
    return replace(label, story=CHAMPION_LEFT, churned=bool(leaving.rng.random() < LOSE_CHURN))


def _quiet_chance(sub: Subscription, days: int) -> np.ndarray:
    """Per visitor, the chance of no active day in the last `days` complete days (the simulator's own odds)."""
    quiet = np.ones(len(sub.visitors))
    for i in range(sub.days - days, sub.days):
        quiet *= 1.0 - visitor_day_probability(sub, i)
    return quiet


def _sudden_silence(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    sub.accounts.churn[a] = _last(sub) - int(rng.integers(15, 45))
    return None


def _unsynced_days(sub: Subscription, a: int, shape: np.ndarray, rng: np.random.Generator) -> Plan | None:
    last = _last(sub)
    recent = rng.choice(np.arange(last - 6, last + 1), 2, replace=False)
    older = rng.choice(np.arange(last - 55, last - 6), 6, replace=False)
    return Plan(unsynced=tuple(sorted(int(i) for i in (*recent, *older))))


_WRITERS = {"growing": _growing, "weekday_only": _weekday_only, "holiday_dip": _holiday_dip,
            "month_end_peak": _month_end_peak, "false_decline": _false_decline,
            "sustained_decline": _sustained_decline, "sudden_drop": _sudden_drop,
            "stickiness_fading": _stickiness_fading, "attrition": _attrition, "breadth_lost": _breadth_lost,
            "sudden_silence": _sudden_silence, "unsynced_days": _unsynced_days}


def _days(sub: Subscription) -> np.ndarray:
    return np.arange(sub.days + 1)


def _last(sub: Subscription) -> int:
    """The index of the last complete day (the day before the simulated today)."""
    return sub.days - 1


def _ramp(days: np.ndarray, start: int, end: int, before: float, after: float) -> np.ndarray:
    """`before` until day `start`, a straight line to `after` on day `end`, `after` from then on."""
    t = np.clip((days - start) / max(end - start, 1), 0.0, 1.0)
    return np.asarray(before + (after - before) * t, dtype=float)


# --- labels ----------------------------------------------------------------------------------


def expected_visitor_days(sub: Subscription, span: int) -> np.ndarray:
    """Per account, the expected number of identified visitors active on each of the last `span` complete
    days (from the simulator's own probabilities, so no sampling noise), oldest first. A consultant's
    day counts for each of their two accounts in proportion to how much each is in use."""
    vis = sub.visitors
    keep = ~vis.anonymous
    second = np.maximum(vis.account2, 0)
    out = np.zeros((len(sub.accounts), span))
    for k, i in enumerate(range(sub.days - span, sub.days)):
        factor = sub.accounts.factor(i, sub.days)
        f1, f2 = factor[vis.account], np.where(vis.account2 >= 0, factor[second], 0.0)
        share2 = np.divide(f2, f1 + f2, out=np.zeros(len(f1)), where=(f1 + f2) > 0)
        p = visitor_day_probability(sub, i) * keep
        out[:, k] = np.bincount(vis.account, p * (1 - share2), len(sub.accounts)) + np.bincount(
            second, p * share2, len(sub.accounts))
    return out


def changes(curve: np.ndarray) -> tuple[float, float, float]:
    """(last 28 vs the 28 before, last 7 vs the 4 weeks before, last 7 vs the older 28) of a daily curve."""
    recent, prior = curve[-28:].sum(), curve[-56:-28].sum()
    week, month = curve[-7:].sum(), curve[-35:-7].sum() / 4
    return (_rel(recent, prior), _rel(week, month), _rel(week, prior / 4))


def _rel(now: float, before: float) -> float:
    return float(now / before - 1.0) if before > 0 else 0.0


def _label(sub: Subscription, a: int, story: Story, plan: Plan, *, curve: np.ndarray,
           rng: np.random.Generator, quiet: np.ndarray) -> Label:
    expected, allowed = _drop_label(story, curve)
    if plan.rejected:
        expected.add(DISMISS)
    gone = _champion_label(sub, a, quiet, expected, allowed)
    if SILENCE not in expected and _plausibly_quiet(curve[-14:]):
        allowed.add(SILENCE)
    c28, c7, held = changes(curve)
    last = sub.day_of_index(_last(sub))
    account_id = sub.accounts.ids[a]
    features = tuple(str(sub.catalog.features[f]["id"]) for f in plan.abandoned)
    guides = tuple(str(sub.catalog.guides[g]["id"]) for g in plan.rejected)
    return Label(account_id, str(uuid.uuid5(_NAMESPACE, f"{sub.seed}:{account_id}")), story.name,
                 frozenset(expected), frozenset(allowed - expected), bool(rng.random() < story.churn),
                 last + timedelta(days=int(rng.integers(20, 81))), story.hard_negative, c28, c7, held, features,
                 tuple(sub.day_of_index(i) for i in plan.unsynced), guides, gone)


def _champion_label(sub: Subscription, a: int, quiet: np.ndarray, expected: set[str],
                    allowed: set[str]) -> tuple[str, ...]:
    """The key contacts champion_inactive must name (gone: no expected activity in 14 days); it is allowed
    when one of them may plausibly be quiet, or when the whole team falls silent (no_login's to say)."""
    contacts = [v for _, v in key_contacts(sub, a)]
    gone = tuple(sub.visitors.ids[v] for v in contacts if quiet[v] >= 1.0 - 1e-12)
    if SILENCE in expected or any(quiet[v] >= 0.01 for v in contacts):
        allowed.add(CHAMPION)
    if gone and SILENCE not in expected:
        expected.add(CHAMPION)
    return gone if CHAMPION in expected else ()


def _drop_label(story: Story, curve: np.ndarray) -> tuple[set[str], set[str]]:
    """The story's expected and allowed kinds, with usage_drop settled by the expected visitor-days."""
    expected, allowed = set(story.expected), set(story.allowed)
    if SILENCE in expected:
        return expected, allowed  # no_login suppresses usage_drop: allowed, never required
    c28, c7, held = changes(curve)
    big = (c28 <= SUSTAINED and held <= SUSTAINED) or c7 <= -0.30
    quiet = c28 > QUIET[0] and c7 > QUIET[1] and held > QUIET[1]
    expected.discard(DROP)
    allowed.discard(DROP)
    if story.hard_negative:
        return expected, allowed  # a look-alike, built to have no decline left: any usage_drop is false
    if big:
        expected.add(DROP)  # a real decline whatever the story (a steady team can lose people too)
    elif not quiet:
        allowed.add(DROP)  # between clearly flat and clearly down: either verdict is fair
    return expected, allowed


def _plausibly_quiet(curve: np.ndarray) -> bool:
    """True when 14 days without anyone have at least a 1% chance (a Poisson view of the expected counts)."""
    return float(np.exp(-curve.sum())) >= 0.01
