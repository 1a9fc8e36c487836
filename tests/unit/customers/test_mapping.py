"""Matching Pendo accounts to CSCX customers: automatic only on exact unique evidence, else suggestions."""

from __future__ import annotations

import random
import string
from typing import Any

import pytest

from pendo_core.common.names import domain_root
from pendo_core.customers.mapping import (
    AccountInfo,
    AutoMatch,
    CustomerInfo,
    match_accounts,
    normalise_domain,
    normalise_name,
)
from pendo_core.pendo.account_metadata import account_name_and_domain


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"agent": {"name": "Acme Corp"}, "custom": {"name": "Other"}}, ("Acme Corp", None)),
        ({"custom": {"companyname": "Globex"}}, ("Globex", None)),
        ({"custom": {"Company_Name": " Globex "}}, ("Globex", None)),
        ({"custom": {"accountname": "Initech", "name": "Initech Inc"}}, ("Initech Inc", None)),
        ({"agent": {"name": ""}, "custom": {"accountname": "Umbrella"}}, ("Umbrella", None)),
        ({"agent": {"name": 42}, "custom": {"planlevel": "pro"}}, (None, None)),
        ({"custom": {"website": "https://www.Acme.com/about"}}, (None, "acme.com")),
        ({"agent": {"emaildomain": "ACME.io"}}, (None, "acme.io")),
        ({"custom": {"domain": "n/a", "url": "http://acme.co.uk:8080"}}, (None, "acme.co.uk")),
        ({"auto": {"id": "acme"}, "agent": "not a dict"}, (None, None)),
        ({}, (None, None)),
        (None, (None, None)),
    ],
    ids=["agent-name-first", "custom-companyname", "key-spelling-and-spaces", "name-beats-accountname",
         "empty-agent-name-skipped", "non-strings-ignored", "domain-from-website", "emaildomain",
         "unusable-domain-skipped", "odd-shapes", "empty", "none"],
)
def test_account_name_and_domain(
    metadata: dict[str, Any] | None, expected: tuple[str | None, str | None]
) -> None:
    """Name and domain come from agent/custom keys of the documented lists, in priority order."""
    assert account_name_and_domain(metadata) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Acme.com", "acme.com"),
        ("https://www.acme.com/path?x=1#top", "acme.com"),
        ("HTTP://shop.Acme.co.uk:8443", "shop.acme.co.uk"),
        ("jo@acme.io", "acme.io"),
        ("acme.com.", "acme.com"),
        ("localhost", None),
        ("10.0.0.1", None),
        ("not a domain", None),
        ("", None),
        (None, None),
    ],
    ids=["lowercase", "url", "port-and-subdomain", "email", "trailing-dot", "no-dot", "ip-address", "spaces",
         "empty", "none"],
)
def test_normalise_domain(raw: str | None, expected: str | None) -> None:
    """Domains compare as bare lowercase hosts."""
    assert normalise_domain(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ACME Corp.", "acme"),
        ("Acme Corporation", "acme"),
        ("Acme, Inc", "acme"),
        ("Acme Co. Ltd", "acme"),
        ("Globex GmbH & Co. KG", "globex gmbh and"),
        ("Société Générale S.A.", "societe generale"),
        ("Procter & Gamble", "procter and gamble"),
        ("McDonald's", "mcdonalds"),
        ("Acme Labs", "acme labs"),
        ("Company", "company"),
        ("  ", ""),
        (None, ""),
    ],
    ids=["corp-dot", "corporation", "comma-inc", "two-suffixes", "suffixes-only-at-the-end", "accents-and-sa",
         "ampersand", "apostrophe", "labs-kept", "suffix-alone-kept", "blank", "none"],
)
def test_normalise_name(raw: str | None, expected: str) -> None:
    """Names compare casefolded, without punctuation, accents or trailing legal forms."""
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(
    ("domain", "root"),
    [("acme.com", "acme"), ("shop.acme.co.uk", "acme"), ("acme.com.au", "acme"), ("acme.io", "acme"),
     ("co.uk", "co"), ("acme", None)],
    ids=["com", "co-uk", "com-au", "io", "bare-suffix", "no-dot"],
)
def test_domain_root(domain: str, root: str | None) -> None:
    """The registrable label ignores country second levels."""
    assert domain_root(domain) == root


C1, C2, C3, C4 = "c1", "c2", "c3", "c4"

MATCH_CASES: list[Any] = [
    pytest.param([("a", "Roadrunner Division", "acme.com")], [(C1, "Acme", "acme.com"), (C2, "Globex", None)],
                 set(), [("a", C1, "auto_domain")], [], id="exact-domain"),
    pytest.param([("a", "Globex", None)], [(C1, "Globex", None), (C2, "Initech", None)], set(),
                 [("a", C1, "auto_name")], [], id="exact-name"),
    pytest.param([("a", "ACME Corp", None)], [(C1, "Acme Corporation", None)], set(),
                 [("a", C1, "auto_name")], [], id="name-equal-after-normalising"),
    pytest.param([("a", "Acme", "https://www.acme.com/")], [(C1, "Acme", "ACME.com")], set(),
                 [("a", C1, "auto_domain")], [], id="domain-equal-after-normalising"),
    pytest.param([("a", "Acme", None)], [(C1, "Acme Inc", None), (C2, "ACME", None)], set(),
                 [], [("a", C2, 100.0, "same name"), ("a", C1, 100.0, "same name")], id="ambiguous-name"),
    pytest.param([("a", "X", "acme.com")], [(C1, "Acme US", "acme.com"), (C2, "Acme EU", "acme.com")], set(),
                 [], [("a", C2, 100.0, "same domain acme.com"), ("a", C1, 100.0, "same domain acme.com")],
                 id="ambiguous-domain"),
    pytest.param([("a", "Acme EU", "acme.com")], [(C1, "Acme US", "acme.com"), (C2, "Acme EU", "acme.com")],
                 set(), [("a", C2, "auto_name")], [], id="shared-domain-unique-name"),
    pytest.param([("a", "Globex", "acme.com")], [(C1, "Acme", "acme.com"), (C2, "Globex", None)], set(),
                 [], [("a", C1, 100.0, "same domain acme.com"), ("a", C2, 100.0, "same name")],
                 id="domain-and-name-disagree"),
    pytest.param([("a", "Acme", None)], [(C1, "Acmee Labs", None)], set(),
                 [], [("a", C1, 90.0, "name 90% similar")], id="fuzzy-name-suggestion"),
    pytest.param([("a", "Acme", None)], [(C1, "Zenith Partners", None)], set(), [], [],
                 id="nothing-below-threshold"),
    pytest.param([("a", "Birch Technologies", "birch.net")], [(C1, "Coho Technologies", "coho.com")], set(), [], [],
                 id="alike-names-unrelated-domains"),
    pytest.param([("a", "Acme", "acme.io")], [(C1, "Acmee Labs", "acmeelabs.com")], set(),
                 [], [("a", C1, 70.0, "name 90% similar, but domain acme.io is not acmeelabs.com")],
                 id="fuzzy-name-loses-points-to-a-domain-conflict"),
    pytest.param([("a", "Acme", "acme.com")], [(C1, "Acme", "acme.com")], {"a"}, [], [],
                 id="already-mapped-untouched"),
    pytest.param([("a", "Unrelated", "acme.com")], [(C1, "Other", "acme.co.uk")], set(),
                 [], [("a", C1, 90.0, "same domain root 'acme'")], id="same-domain-root"),
    pytest.param([("a", "Initech", None)], [(C1, "IT Systems", "initech.io")], set(),
                 [], [("a", C1, 85.0, "name matches the customer's domain")], id="name-is-customer-domain"),
    pytest.param([("a", "Z", "initech.io")], [(C1, "Initech", None)], set(),
                 [], [("a", C1, 85.0, "customer name matches domain initech.io")],
                 id="domain-is-customer-name"),
    pytest.param([("a", "Jo", "gmail.com")], [(C1, "Someone", "gmail.com")], set(), [], [],
                 id="free-mail-domain-is-no-evidence"),
    pytest.param([("a", "Acme", None)], [(C1, "Acme Labs", None), (C2, "Acme Works", None),
                                         (C3, "Acme Tools", None), (C4, "Acme Foods", None)], set(),
                 [], [("a", C4, 90.0, "name 90% similar"), ("a", C1, 90.0, "name 90% similar"),
                      ("a", C3, 90.0, "name 90% similar")], id="top-three-by-score-then-name"),
    pytest.param([("a", None, None), ("b", "", "")], [(C1, "Acme", "acme.com")], set(), [], [],
                 id="no-evidence-at-all"),
    pytest.param([("a", "Acme", None), ("b", "acme inc", None)], [(C1, "Acme", None)], set(),
                 [("a", C1, "auto_name"), ("b", C1, "auto_name")], [], id="one-customer-many-accounts"),
]


@pytest.mark.parametrize(("accounts", "customers", "mapped", "auto", "suggestions"), MATCH_CASES)
def test_match_accounts(
    accounts: list[tuple[str, str | None, str | None]],
    customers: list[tuple[str, str, str | None]],
    mapped: set[str],
    auto: list[tuple[str, str, str]],
    suggestions: list[tuple[str, str, float, str]],
) -> None:
    """Exact unique evidence maps automatically; anything else is at most a ranked suggestion."""
    plan = match_accounts([AccountInfo(*a) for a in accounts], [CustomerInfo(*c) for c in customers], mapped)
    assert [tuple(m) for m in plan.auto] == auto
    assert all(isinstance(m, AutoMatch) for m in plan.auto)
    assert [(s.account_id, s.customer_id, s.score, s.reason) for s in plan.suggestions] == suggestions


def test_suggestion_scores_are_similarity_percentages() -> None:
    """A closer name scores higher; a raised threshold drops the weaker one."""
    customers = [CustomerInfo(C1, "Acme Analytics", None), CustomerInfo(C2, "Acne Analytics", None)]
    plan = match_accounts([AccountInfo("a", "Acme Analytic", None)], customers, set())
    scores = {s.customer_id: s.score for s in plan.suggestions}
    assert scores[C1] > scores[C2] >= 70
    strict = match_accounts([AccountInfo("a", "Acme Analytic", None)], customers, set(),
                            threshold=scores[C1])
    assert [s.customer_id for s in strict.suggestions] == [C1]


def _company(rng: random.Random, words: list[str]) -> str:
    suffix = rng.choice(["Inc", "Corp", "LLC", "Labs", "Group", "", ""])
    return " ".join([*(w.capitalize() for w in rng.sample(words, rng.randint(1, 3))), suffix]).strip()


def test_scale_five_thousand_by_five_thousand() -> None:
    """5,000 accounts against 5,000 customers runs through the index (no all-pairs Python loop)."""
    rng = random.Random(11)
    words = ["".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(2000)]
    customers = [CustomerInfo(f"c{i}", _company(rng, words), f"site{i}.com" if i % 2 else None)
                 for i in range(5000)]
    accounts = [AccountInfo(f"a{i}", (rng.choice(customers).name or "") + rng.choice(["", "e", " EU"]),
                            f"site{i}.com" if i % 7 == 0 else None) for i in range(5000)]
    mapped = {f"a{i}" for i in range(0, 5000, 10)}
    plan = match_accounts(accounts, customers, mapped)
    auto_ids = [m.account_id for m in plan.auto]
    suggested = {s.account_id for s in plan.suggestions}
    assert len(auto_ids) == len(set(auto_ids)) > 500
    assert not (set(auto_ids) | suggested) & mapped
    assert not set(auto_ids) & suggested
    assert all(70 <= s.score <= 100 for s in plan.suggestions)
    per_account = [s.account_id for s in plan.suggestions]
    assert max(per_account.count(a) for a in suggested) <= 3
