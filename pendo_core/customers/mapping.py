"""Which CSCX customer owns a Pendo account: pure matching rules over plain values (no I/O).

Rules (what operators see in the mapping queue):

- **Automatic** only on exact evidence: the account's normalised domain equals exactly one customer's
  (`auto_domain`), or else its normalised name equals exactly one customer's (`auto_name`). When a
  unique domain match and a unique name match point at different customers, nothing is automatic.
- **Suggestions** for every other unmapped account, the best `limit` (3) customers scoring at least
  `threshold` (70), each with a reason: an exact but shared domain or name (100), the same domain root
  under another suffix, `acme.com` vs `acme.co.uk` (90), the name equal to the other side's domain
  label, `Acme` vs `acme.io` (85), or fuzzy name similarity (rapidfuzz `token_sort_ratio` against every
  customer; `WRatio` against customers whose first name token starts with the same 3 characters, which
  also catches one name extending the other, `Acme` vs `Acmee Labs`). A fuzzy name match loses
  `DOMAIN_CONFLICT` (20) points when both sides have a domain and the domains share no root
  (`Birch Technologies`, birch.net, is not `Coho Technologies`, coho.com, however alike the names read).
- Free-mail domains (`gmail.com`, ...) never count as evidence; domain roots and names shorter than
  3 characters only count when they are equal exactly.
- Accounts in `already_mapped` are left alone: no automatic mapping, no suggestion.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from rapidfuzz import fuzz, process

from pendo_core.common.names import (
    FREE_MAIL_DOMAINS,
    compact_name,
    domain_root,
    normalise_domain,
    normalise_name,
)

__all__ = [
    "AccountInfo",
    "AutoMatch",
    "CustomerInfo",
    "MatchPlan",
    "Suggestion",
    "match_accounts",
    "normalise_domain",
    "normalise_name",
]

MatchMethod = Literal["auto_domain", "auto_name"]

# Keys of `metadata.agent` / `metadata.custom` read as the account's name or domain, in priority
# order; compared casefolded with `_`, `-` and spaces removed (`company_name` == `companyname`).

SCORE_EXACT = 100.0
SCORE_SAME_ROOT = 90.0
SCORE_NAME_IS_DOMAIN = 85.0
DOMAIN_CONFLICT = 20.0  # off a fuzzy name score when both sides' domains are known and unrelated
_MIN_FUZZY_LEN = 3
_CHUNK = 1000  # account names per rapidfuzz cdist call: bounds the score matrix to ~20 MB


MATCH_THRESHOLD = 70.0  # the lowest fuzzy score suggested
MATCH_LIMIT = 3  # customers suggested per account at most

@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A Pendo account as the matcher sees it."""

    account_id: str
    name: str | None
    domain: str | None


@dataclass(frozen=True, slots=True)
class CustomerInfo:
    """A CSCX customer as the matcher sees it."""

    customer_id: str
    name: str | None
    domain: str | None


class AutoMatch(NamedTuple):
    """An exact, unique match: mapped without asking anyone."""

    account_id: str
    customer_id: str
    method: MatchMethod


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A candidate customer for an unmapped account, for a person to confirm."""

    account_id: str
    customer_id: str
    score: float
    reason: str


@dataclass(frozen=True, slots=True)
class MatchPlan:
    """What matching decided: automatic mappings and suggestions for the rest."""

    auto: list[AutoMatch]
    suggestions: list[Suggestion]


# --- the customer index ----------------------------------------------------------------------


@dataclass(slots=True)
class _Index:
    """Customers looked up by exact domain, name, domain root and compact name; fuzzy choices."""

    names: dict[str, str]  # customer_id -> casefolded display name (deterministic tie-breaks)
    domains: dict[str, str]  # customer_id -> usable domain, for customers that have one
    by_domain: dict[str, list[str]]
    by_name: dict[str, list[str]]
    by_root: dict[str, list[str]]
    by_compact: dict[str, list[str]]
    choices: list[str]  # distinct normalised names, the fuzzy choices
    choice_ids: list[list[str]]
    by_prefix: dict[str, list[int]]  # first-token prefix -> indexes into choices


def _build_index(customers: Iterable[CustomerInfo]) -> _Index:
    index = _Index({}, {}, defaultdict(list), defaultdict(list), defaultdict(list), defaultdict(list),
                   [], [], defaultdict(list))
    for customer in customers:
        index.names[customer.customer_id] = (customer.name or "").casefold()
        domain = _usable_domain(customer.domain)
        if domain:
            index.domains[customer.customer_id] = domain
            index.by_domain[domain].append(customer.customer_id)
            _add_root(index.by_root, domain, customer.customer_id)
        name = normalise_name(customer.name)
        if name:
            index.by_name[name].append(customer.customer_id)
            index.by_compact[compact_name(name)].append(customer.customer_id)
    _fill_choices(index)
    return index


def _fill_choices(index: _Index) -> None:
    for name, ids in index.by_name.items():
        index.by_prefix[_prefix(name)].append(len(index.choices))
        index.choices.append(name)
        index.choice_ids.append(ids)


def _add_root(by_root: dict[str, list[str]], domain: str, customer_id: str) -> None:
    root = domain_root(domain)
    if root and len(root) >= _MIN_FUZZY_LEN:
        by_root[root].append(customer_id)


def _usable_domain(raw: str | None) -> str | None:
    domain = normalise_domain(raw)
    return None if domain in FREE_MAIL_DOMAINS else domain


def _prefix(name: str) -> str:
    return name.split(" ", 1)[0][:_MIN_FUZZY_LEN]


# --- matching --------------------------------------------------------------------------------


def match_accounts(
    accounts: list[AccountInfo],
    customers: list[CustomerInfo],
    already_mapped: set[str],
    *,
    threshold: float = MATCH_THRESHOLD,
    limit: int = MATCH_LIMIT,
) -> MatchPlan:
    """Map accounts on exact unique evidence; suggest the best `limit` customers for the rest."""
    index = _build_index(customers)
    pending = [a for a in accounts if a.account_id not in already_mapped]
    auto: list[AutoMatch] = []
    unmatched: list[AccountInfo] = []
    for account in pending:
        decided = _exact_match(account, index)
        if decided:
            auto.append(decided)
        else:
            unmatched.append(account)
    fuzzy = _fuzzy_scores(unmatched, index, threshold)
    suggestions = [s for a in unmatched for s in _suggest(a, index, fuzzy, threshold, limit)]
    return MatchPlan(auto=auto, suggestions=suggestions)


def _exact_match(account: AccountInfo, index: _Index) -> AutoMatch | None:
    domain_ids = index.by_domain.get(_usable_domain(account.domain) or "", [])
    name_ids = index.by_name.get(normalise_name(account.name), [])
    by_domain = domain_ids[0] if len(domain_ids) == 1 else None
    by_name = name_ids[0] if len(name_ids) == 1 else None
    if by_domain and by_name and by_domain != by_name:
        return None  # two exact signals disagree: a person decides
    if by_domain:
        return AutoMatch(account.account_id, by_domain, "auto_domain")
    if by_name:
        return AutoMatch(account.account_id, by_name, "auto_name")
    return None


def _suggest(
    account: AccountInfo,
    index: _Index,
    fuzzy: Mapping[str, dict[str, float]],
    threshold: float,
    limit: int,
) -> list[Suggestion]:
    best: dict[str, tuple[float, str]] = {}
    name = normalise_name(account.name)
    for customer_id, score, reason in _candidates(account, name, index, fuzzy.get(name, {})):
        if score >= threshold and score > best.get(customer_id, (-1.0, ""))[0]:
            best[customer_id] = (score, reason)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1][0], index.names[kv[0]], kv[0]))
    return [Suggestion(account.account_id, cid, score, reason) for cid, (score, reason) in ranked[:limit]]


def _candidates(
    account: AccountInfo, name: str, index: _Index, fuzzy: Mapping[str, float]
) -> Iterator[tuple[str, float, str]]:
    """Every (customer, score, reason) the evidence supports; the caller keeps the best."""
    domain = _usable_domain(account.domain)
    if domain:
        yield from _domain_candidates(domain, index)
    if name:
        for cid in index.by_name.get(name, []):
            yield cid, SCORE_EXACT, "same name"
        for cid in _root_ids(index.by_root, compact_name(name)):
            yield cid, SCORE_NAME_IS_DOMAIN, "name matches the customer's domain"
    for cid, score in fuzzy.items():
        other = index.domains.get(cid)
        if domain and other and domain_root(domain) != domain_root(other):
            yield cid, score - DOMAIN_CONFLICT, f"name {score:.0f}% similar, but domain {domain} is not {other}"
        else:
            yield cid, score, f"name {score:.0f}% similar"


def _domain_candidates(domain: str, index: _Index) -> Iterator[tuple[str, float, str]]:
    for cid in index.by_domain.get(domain, []):
        yield cid, SCORE_EXACT, f"same domain {domain}"
    root = domain_root(domain)
    if root and len(root) >= _MIN_FUZZY_LEN:
        for cid in index.by_root.get(root, []):
            yield cid, SCORE_SAME_ROOT, f"same domain root {root!r}"
        for cid in index.by_compact.get(root, []):
            yield cid, SCORE_NAME_IS_DOMAIN, f"customer name matches domain {domain}"


def _root_ids(by_root: Mapping[str, list[str]], compact: str) -> list[str]:
    return by_root.get(compact, []) if len(compact) >= _MIN_FUZZY_LEN else []


# --- fuzzy name similarity -------------------------------------------------------------------


def _fuzzy_scores(
    accounts: list[AccountInfo], index: _Index, threshold: float
) -> dict[str, dict[str, float]]:
    """Per distinct normalised account name: customer_id -> best fuzzy score at or above threshold."""
    queries = sorted({n for a in accounts if len(n := normalise_name(a.name)) >= _MIN_FUZZY_LEN})
    scores: dict[str, dict[str, float]] = {q: {} for q in queries}
    if not queries or not index.choices:
        return scores
    _add_token_sort(queries, index, threshold, scores)
    for query in queries:
        _add_wratio(query, index, threshold, scores[query])
    return scores


def _add_token_sort(
    queries: list[str], index: _Index, threshold: float, scores: dict[str, dict[str, float]]
) -> None:
    """All queries against all customer names, in C, in bounded chunks (the all-pairs part)."""
    for start in range(0, len(queries), _CHUNK):
        chunk = queries[start : start + _CHUNK]
        matrix = process.cdist(chunk, index.choices, scorer=fuzz.token_sort_ratio,
                               score_cutoff=threshold, dtype=np.uint8, workers=-1)
        for row, col in zip(*np.nonzero(matrix), strict=True):
            _keep(scores[chunk[row]], index.choice_ids[col], float(matrix[row, col]))


def _add_wratio(query: str, index: _Index, threshold: float, scores: dict[str, float]) -> None:
    """WRatio only within the query's prefix block: it is too slow for all pairs."""
    block = index.by_prefix.get(_prefix(query), [])
    names = [index.choices[i] for i in block]
    for _name, score, pos in process.extract(query, names, scorer=fuzz.WRatio,
                                             score_cutoff=threshold, limit=None):
        _keep(scores, index.choice_ids[block[pos]], float(round(score)))


def _keep(scores: dict[str, float], customer_ids: list[str], score: float) -> None:
    for cid in customer_ids:
        if score > scores.get(cid, -1.0):
            scores[cid] = score
