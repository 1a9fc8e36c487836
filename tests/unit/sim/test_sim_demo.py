"""The demo customer list: every mapping case, in the import CSV format."""

from __future__ import annotations

import csv
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from pendo_sim.data import Subscription, generate
from pendo_sim.demo import CSMS, HEADER, customer_index, demo_customers, write_customers_csv
from pendo_sim.entities import WEIRD_ACCOUNT_ID


@pytest.fixture(scope="module")
def sub() -> Subscription:
    return generate(seed=7, accounts=200, days=10, as_of=date(2024, 3, 15))


def test_customers_are_deterministic(sub: Subscription) -> None:
    """Same subscription, same customers; ids are UUIDs."""
    rows = demo_customers(sub)
    again = demo_customers(generate(seed=7, accounts=200, days=10, as_of=date(2024, 3, 15)))
    assert rows == again
    assert all(uuid.UUID(r["customer_id"]) for r in rows)
    assert len({r["customer_id"] for r in rows}) == len(rows)


def test_mapping_cases_are_all_present(sub: Subscription) -> None:
    """~65% of accounts listed by id (one customer with two), ~25% by name only, ~10% with no customer."""
    rows = demo_customers(sub)
    listed = customer_index(rows)
    by_name = [r for r in rows if not r["pendo_account_ids"]]
    n = len(sub.accounts)
    assert 0.6 * n <= len(listed) <= 0.7 * n
    assert len(by_name) == round(0.25 * n)
    assert n - len(listed) - len(by_name) == round(0.10 * n)
    assert Counter(listed.values()).most_common(1)[0][1] == 2
    assert set(listed) <= set(sub.accounts.ids)


def test_name_only_customers_match_exactly_or_loosely(sub: Subscription) -> None:
    """Name-only rows carry the account's name/domain as written, or a loose variant of them."""
    names = {name.lower() for name in sub.accounts.names}
    by_name = [r for r in demo_customers(sub) if not r["pendo_account_ids"]]
    exact = [r for r in by_name if r["name"] in sub.accounts.names and r["domain"] in sub.accounts.domains]
    loose = [r for r in by_name if r not in exact]
    assert exact
    assert loose
    assert any(r["domain"].startswith(("www.", "https://")) or r["domain"].isupper() for r in loose)
    assert any(r["name"].lower() not in names for r in loose)


def test_segments_csms_and_values(sub: Subscription) -> None:
    """Segments SMB / Mid-Market / Enterprise, five CSMs, positive ARR, renewals after as_of."""
    rows = demo_customers(sub)
    assert {r["segment"] for r in rows} == {"SMB", "Mid-Market", "Enterprise"}
    assert {(r["csm_name"], r["csm_email"]) for r in rows} == set(CSMS)
    assert all(float(r["arr"]) > 0 for r in rows)
    assert all(date.fromisoformat(r["renewal_date"]) > sub.as_of for r in rows)


def test_csv_round_trip(sub: Subscription, tmp_path: Path) -> None:
    """The CSV has the import header and reads back to the same rows (the weird id survives quoting)."""
    rows = demo_customers(sub)
    path = write_customers_csv(rows, tmp_path / "out" / "customers.csv")
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert tuple(reader.fieldnames or ()) == HEADER
        assert list(reader) == rows
    assert WEIRD_ACCOUNT_ID in customer_index(rows)
