"""Accounts and visitors of the synthetic subscription, held as numpy columns (scales to 500k visitors)."""

from __future__ import annotations

import itertools
import string
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from pendo_sim import names

ARCHETYPES = ("healthy", "growing", "declining", "churning", "new", "tiny")
HEALTHY, GROWING, DECLINING, CHURNING, NEW, TINY = range(6)
_ARCHETYPE_P = (0.42, 0.14, 0.13, 0.09, 0.12, 0.10)
WEIRD_ACCOUNT_ID = 'weird"id\\01'  # a double quote and a backslash: clients must escape filter literals
NEVER = 1 << 30  # day index meaning "no end"
PLANS = ("starter", "professional", "enterprise")
_ANON_ALPHABET = np.array(list(string.ascii_letters + string.digits))


@dataclass(frozen=True)
class Accounts:
    """One entry per Pendo account; day fields are indices from the history's first day."""

    ids: list[str]
    names: list[str]
    domains: list[str]
    agent_domain: np.ndarray  # bool: domain in metadata.agent.domain, else custom.website
    archetype: np.ndarray  # int8, index into ARCHETYPES
    start: np.ndarray  # first day index with activity
    churn: np.ndarray  # first silent day index (NEVER when not churning)
    level: np.ndarray  # engagement multiplier
    plan: list[str]
    licenses: np.ndarray
    geo: np.ndarray  # index into names.GEOS
    created_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    def factor(self, i: int, days: int) -> np.ndarray:
        """Per-account activity multiplier on day index `i` (0 while not active)."""
        t = i / max(days, 1)
        a = self.archetype
        base = np.select(
            [a == GROWING, a == DECLINING, a == CHURNING, a == NEW],
            [
                0.45 + 0.75 * t,
                1.15 - 0.75 * t,
                1.1 - 0.6 * t,
                0.55 + 0.45 * np.clip((i - self.start) / 14, 0, 1),
            ],
            1.0,
        )
        alive = (i >= self.start) & (i < self.churn)
        return np.where(alive, base * self.level, 0.0)


@dataclass
class Visitors:
    """One entry per Pendo visitor; `account2` >= 0 for consultants who work in two accounts."""

    ids: list[str]
    account: np.ndarray  # int32
    account2: np.ndarray  # int32, -1 when none
    anonymous: np.ndarray  # bool
    dnp: np.ndarray  # bool: metadata.pendo.donotprocess
    start: np.ndarray  # first possible active day index
    end: np.ndarray  # first day index after the visitor left (NEVER)
    engagement: np.ndarray  # weekday probability of being active
    night_owl: np.ndarray  # bool
    mobile: np.ndarray  # bool: also uses the mobile app
    rate: np.ndarray  # events per active minute
    ua: np.ndarray  # (n, 3) user agent index for web, second web client, mobile app
    ip_int: np.ndarray  # (n, 2) uint32: office and home address
    title: np.ndarray  # index into names.TITLES
    created_ms: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)

    @cached_property
    def ips(self) -> list[tuple[str, str]]:
        """Dotted addresses (office, elsewhere) per visitor, built on first use."""
        octets = [(self.ip_int >> s) & 255 for s in (24, 16, 8, 0)]
        dotted = [".".join(map(str, parts)) for parts in zip(*(o.ravel().tolist() for o in octets), strict=True)]
        return list(zip(dotted[0::2], dotted[1::2], strict=True))


def build_accounts(seed: int, count: int, days: int, epoch_ms: int) -> Accounts:
    """`count` accounts with names, domains, archetypes and lifecycles."""
    rng = np.random.default_rng([seed, 0xACC])
    archetype = rng.choice(len(ARCHETYPES), size=count, p=_ARCHETYPE_P).astype(np.int8)
    start = np.where(archetype == NEW, np.maximum(0, days - rng.integers(10, 46, count)), 0)
    churn_at = np.maximum(1, days - rng.integers(14, 50, count))
    churn = np.where(archetype == CHURNING, churn_at, NEVER)
    company, domains = _companies(rng, count)
    plan_idx = np.clip(rng.choice(3, size=count, p=(0.45, 0.35, 0.2)) - (archetype == TINY), 0, 2)
    return Accounts(
        ids=_account_ids(rng, count),
        names=company,
        domains=domains,
        agent_domain=rng.random(count) < 0.7,
        archetype=archetype,
        start=start.astype(np.int32),
        churn=churn.astype(np.int32),
        level=np.clip(rng.lognormal(0, 0.25, count), 0.4, 1.5),
        plan=[PLANS[i] for i in plan_idx],
        licenses=(rng.integers(1, 8, count) * 25 * (1 + plan_idx)).astype(np.int32),
        geo=rng.integers(0, len(names.GEOS), count).astype(np.int16),
        # A new account signed up a few days before its first activity; the others long before the history.
        created_ms=epoch_ms
        + np.where(archetype == NEW, start - rng.integers(0, 6, count), -rng.integers(30, 900, count))
        * np.int64(86_400_000),
    )


def _account_ids(rng: np.random.Generator, count: int) -> list[str]:
    kinds = rng.random(count)
    sf_chars = np.array(list(string.ascii_letters + string.digits))
    ids: list[str] = []
    for i, kind in enumerate(kinds.tolist()):
        if kind < 0.62:
            ids.append(f"acct-{i + 1:06d}")
        else:  # salesforce-style 18-character ids
            ids.append("001" + "".join(sf_chars[rng.integers(0, len(sf_chars), 15)]))
    if count > 3:
        ids[3] = WEIRD_ACCOUNT_ID
    seen: set[str] = set()
    for i, value in enumerate(ids):
        ids[i] = value if value not in seen else f"acct-{i + 1:06d}x"
        seen.add(ids[i])
    return ids


def _companies(rng: np.random.Generator, count: int) -> tuple[list[str], list[str]]:
    words, suffixes = names.COMPANY_WORDS, names.COMPANY_SUFFIXES
    singles = len(words) * len(suffixes)
    picks = rng.permutation(singles)[: min(count, singles * 3 // 4)].tolist()
    out_names: list[str] = []
    out_domains: list[str] = []
    taken: set[str] = set()
    for i in range(count):
        if i < len(picks):
            word, suffix = words[picks[i] // len(suffixes)], suffixes[picks[i] % len(suffixes)]
        else:  # two-word names once the single-word space is used up
            w = rng.integers(0, len(words), 2)
            word, suffix = f"{words[w[0]]} {words[w[1]]}", suffixes[int(rng.integers(0, len(suffixes)))]
        out_names.append(f"{word} {suffix}")
        out_domains.append(_domain(word, suffix, str(rng.choice(names.TLDS)), taken))
    return out_names, out_domains


def _domain(word: str, suffix: str, tld: str, taken: set[str]) -> str:
    slug, tail = word.lower().replace(" ", ""), suffix.lower()
    candidates = [slug + tld] if suffix in names.GENERIC_SUFFIXES else []
    candidates += [slug + tail + tld, slug + "-" + tail + tld]
    numbered = (f"{slug}{tail}{n}{tld}" for n in itertools.count(2))
    domain = next(c for c in itertools.chain(candidates, numbered) if c not in taken)
    taken.add(domain)
    return domain


def build_visitors(seed: int, accounts: Accounts, days: int, epoch_ms: int,
                   sizes: np.ndarray | None = None) -> Visitors:
    """Visitors per account (lognormal sizes unless `sizes` gives them), consultants in two accounts, anonymous ones."""
    rng = np.random.default_rng([seed, 0x715])
    drawn = np.clip(np.rint(rng.lognormal(np.log(21), 0.75, len(accounts))), 5, 400).astype(np.int64)
    drawn = np.where(accounts.archetype == TINY, rng.integers(1, 4, len(accounts)), drawn)
    sizes = drawn if sizes is None else np.asarray(sizes, np.int64)
    anon = np.where(rng.random(len(accounts)) < 0.15, rng.integers(1, 6, len(accounts)), 0)
    account = np.repeat(np.arange(len(accounts), dtype=np.int32), sizes + anon)
    anonymous = np.concatenate([np.r_[np.zeros(s, bool), np.ones(k, bool)] for s, k in zip(sizes, anon, strict=True)])
    n = len(account)
    ids = _visitor_ids(rng, accounts, account, anonymous)
    consultant = (~anonymous) & (rng.random(n) < 0.03) & (len(accounts) > 1)
    other = (account + rng.integers(1, max(len(accounts), 2), n)) % max(len(accounts), 1)
    start, end = _tenures(rng, accounts, account, days)
    dnp = (~anonymous) & (rng.random(n) < 0.003)
    engagement = np.where(anonymous, 0.08, rng.beta(1.6, 2.2, n)) * (~dnp)
    return Visitors(
        ids=ids,
        account=account,
        account2=np.where(consultant, other, -1).astype(np.int32),
        anonymous=anonymous,
        dnp=dnp,
        start=start,
        end=end,
        engagement=engagement.astype(np.float32),
        night_owl=rng.random(n) < 0.03,
        mobile=(~anonymous) & (rng.random(n) < 0.15),
        rate=rng.uniform(0.4, 2.2, n).astype(np.float32),
        ua=_user_agents(rng, n),
        ip_int=_ips(rng, account, n),
        title=rng.integers(0, len(names.TITLES), n).astype(np.int16),
        created_ms=np.where(
            start > 0,
            epoch_ms + start.astype(np.int64) * 86_400_000,
            epoch_ms - rng.integers(1, 700, n) * 86_400_000,
        ),
    )


def _tenures(rng: np.random.Generator, accounts: Accounts, account: np.ndarray, days: int) -> tuple[np.ndarray, ...]:
    n = len(account)
    a = accounts.archetype[account]
    acc_start, churn = accounts.start[account], accounts.churn[account]
    late_share = np.select([a == GROWING, a == NEW], [0.5, 0.0], 0.15)
    joins_late = rng.random(n) < late_share
    late_day = (rng.random(n) * np.minimum(churn, days + 1)).astype(np.int32)
    start = np.where(joins_late, late_day, 0)
    start = np.where(a == NEW, acc_start + rng.geometric(0.35, n) - 1, start)
    leave_share = np.select([a == DECLINING, a == CHURNING], [0.35, 0.2], 0.05)
    leaves = (rng.random(n) < leave_share) & (a != TINY)
    leave_day = start + 1 + (rng.random(n) * np.maximum(days - start, 1)).astype(np.int32)
    return start.astype(np.int32), np.where(leaves, leave_day, NEVER).astype(np.int32)


def _visitor_ids(rng: np.random.Generator, accounts: Accounts, account: np.ndarray, anonymous: np.ndarray) -> list[str]:
    firsts = rng.integers(0, len(names.FIRST_NAMES), len(account)).tolist()
    lasts = rng.integers(0, len(names.LAST_NAMES), len(account)).tolist()
    anon_chars = _ANON_ALPHABET[rng.integers(0, len(_ANON_ALPHABET), (int(anonymous.sum()), 11))]
    anon_ids = iter("_PENDO_T_" + "".join(row) for row in anon_chars)
    ids: list[str] = []
    taken: set[str] = set()
    for acct, anon, f, s in zip(account.tolist(), anonymous.tolist(), firsts, lasts, strict=True):
        if anon:
            ids.append(next(anon_ids))
            continue
        local = f"{names.FIRST_NAMES[f]}.{names.LAST_NAMES[s]}"
        candidate, k = f"{local}@{accounts.domains[acct]}", 1
        while candidate in taken:
            k += 1
            candidate = f"{local}{k}@{accounts.domains[acct]}"
        taken.add(candidate)
        ids.append(candidate)
    return ids


def _user_agents(rng: np.random.Generator, n: int) -> np.ndarray:
    desktop, mobile_browser = len(names.DESKTOP_AGENTS), len(names.MOBILE_BROWSER_AGENTS)
    primary = rng.integers(0, desktop, n)
    second = np.where(rng.random(n) < 0.6, desktop + rng.integers(0, mobile_browser, n), (primary + 1) % desktop)
    app = desktop + mobile_browser + rng.integers(0, len(names.APP_AGENTS), n)
    return np.stack([primary, second, app], axis=1).astype(np.int16)


def _ips(rng: np.random.Generator, account: np.ndarray, n: int) -> np.ndarray:
    # An office /24 per account (the account index spread over 100.64.0.0/10-like space) plus a home address.
    office_net = (np.uint32(45) << 24) + (account.astype(np.uint32) * np.uint32(256)) % np.uint32(1 << 24)
    office = office_net + rng.integers(2, 250, n).astype(np.uint32)
    home = (rng.integers(60, 220, n).astype(np.uint32) << 24) + rng.integers(0, 1 << 24, n).astype(np.uint32)
    return np.stack([office, home], axis=1).astype(np.uint32)
