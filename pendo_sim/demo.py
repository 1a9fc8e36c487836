"""A CSCX customer list for a synthetic subscription (`python -m jobs import-customers` format).

Mix, so that the mapping has every case to work through: about 65% of accounts listed with explicit
`pendo_account_ids` (one customer owning two accounts), 25% only by a name and domain that match the
account's metadata exactly or loosely ("Acme Corp" vs "ACME Corporation", www.acme.com vs acme.com),
and 10% of accounts with no customer at all (the unmapped queue).
"""

from __future__ import annotations

import csv
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from pendo_sim.data import Subscription
from pendo_sim.entities import CHURNING, DECLINING, WEIRD_ACCOUNT_ID

HEADER = (
    "customer_id",
    "name",
    "domain",
    "segment",
    "arr",
    "renewal_date",
    "csm_name",
    "csm_email",
    "pendo_account_ids",
)
CSMS = (
    ("Maya Chen", "maya.chen@cscx.io"),
    ("Jordan Ellis", "jordan.ellis@cscx.io"),
    ("Priya Raman", "priya.raman@cscx.io"),
    ("Tomás Ortega", "tomas.ortega@cscx.io"),
    ("Grace Whitfield", "grace.whitfield@cscx.io"),
)
_SEGMENTS = {"starter": "SMB", "professional": "Mid-Market", "enterprise": "Enterprise"}
_SEAT_PRICE = {"starter": 240, "professional": 480, "enterprise": 960}
_LONG_SUFFIX = {"Corp": "Corporation", "Inc": "Incorporated", "Co": "Company", "Labs": "Laboratories"}
_NAMESPACE = uuid.UUID("6f1c0b52-3d55-4a4e-9d3e-5b3f2d9c8a71")


def demo_customers(sub: Subscription) -> list[dict[str, str]]:
    """Customer rows (all values strings, CSV-ready) for the accounts of `sub`."""
    rng = np.random.default_rng([sub.seed, 0xC057])
    order = rng.permutation(len(sub.accounts)).tolist()
    if WEIRD_ACCOUNT_ID in sub.account_index:  # always listed by id, so imports exercise its quoting
        order.remove(sub.account_index[WEIRD_ACCOUNT_ID])
        order.append(sub.account_index[WEIRD_ACCOUNT_ID])
    unmapped, by_name = round(0.10 * len(order)), round(0.25 * len(order))
    named, explicit = order[unmapped : unmapped + by_name], order[unmapped + by_name :]
    rows = [_row(sub, rng, [a], explicit=False) for a in named]
    if len(explicit) >= 2:  # one customer owns two accounts
        rows.append(_row(sub, rng, explicit[:2], explicit=True))
        explicit = explicit[2:]
    rows += [_row(sub, rng, [a], explicit=True) for a in explicit]
    return sorted(rows, key=lambda r: r["name"].lower())


def _row(sub: Subscription, rng: np.random.Generator, accounts: list[int], explicit: bool) -> dict[str, str]:
    accts = sub.accounts
    a = accounts[0]
    plan = accts.plan[a]
    seats = int(sum(int(accts.licenses[x]) for x in accounts))
    soon = accts.archetype[a] in (CHURNING, DECLINING)
    renewal = sub.as_of + timedelta(days=int(rng.integers(10, 75) if soon else rng.integers(20, 365)))
    csm_name, csm_email = CSMS[int(rng.integers(0, len(CSMS)))]
    name, domain = accts.names[a], accts.domains[a]
    if not explicit and rng.random() < 0.5:
        name, domain = _loose_name(name, rng), _loose_domain(domain, rng)
    return {
        "customer_id": str(uuid.uuid5(_NAMESPACE, f"{sub.seed}:{accts.ids[a]}")),
        "name": name,
        "domain": domain,
        "segment": _SEGMENTS[plan],
        "arr": f"{seats * _SEAT_PRICE[plan]:.2f}",
        "renewal_date": renewal.isoformat(),
        "csm_name": csm_name,
        "csm_email": csm_email,
        "pendo_account_ids": ";".join(accts.ids[x] for x in accounts) if explicit else "",
    }


def _loose_name(name: str, rng: np.random.Generator) -> str:
    """The same company written differently: "Acme Corp" -> "ACME Corporation" or "Acme Corp, Inc."."""
    *words, suffix = name.split(" ")
    style = int(rng.integers(0, 3))
    if style == 0:
        return " ".join(w.upper() for w in words) + " " + _LONG_SUFFIX.get(suffix, suffix)
    if style == 1:
        return f"{name}, Inc."
    return name.lower()


def _loose_domain(domain: str, rng: np.random.Generator) -> str:
    """The same domain written differently: www.acme.com, https://acme.com/ or ACME.COM."""
    return (f"www.{domain}", f"https://{domain}/", domain.upper())[int(rng.integers(0, 3))]


def customer_index(rows: list[dict[str, Any]]) -> dict[str, str]:
    """Explicitly listed account id -> customer_id (what a correct mapping must contain at least)."""
    return {aid: row["customer_id"] for row in rows for aid in row["pendo_account_ids"].split(";") if aid}


def write_customers_csv(rows: list[dict[str, str]], path: str | Path) -> Path:
    """Write rows with the import header; returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=HEADER)
        writer.writeheader()
        writer.writerows(rows)
    return target


def demo_outcomes(sub: Subscription) -> list[tuple[str, str, date]]:
    """(customer_id, outcome, date) for the back-test: churning accounts churned two weeks after going
    silent; the others renewed yesterday. Customers that do not exist are filtered by the importer."""
    yesterday = (sub.now_day or sub.as_of) - timedelta(days=1)
    outcomes = []
    for a, account_id in enumerate(sub.accounts.ids):
        customer_id = str(uuid.uuid5(_NAMESPACE, f"{sub.seed}:{account_id}"))
        churned = sub.day_of_index(int(sub.accounts.churn[a])) + timedelta(days=14) \
            if sub.accounts.archetype[a] == CHURNING else None
        if churned is not None and churned <= yesterday:
            outcomes.append((customer_id, "churned", churned))
        elif churned is None:
            outcomes.append((customer_id, "renewed", yesterday))
    return outcomes
