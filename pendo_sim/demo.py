"""A CSCX customer list for a synthetic subscription (`python -m jobs import-customers` format).

Mix, so that the mapping has every case to work through: about 65% of accounts listed with explicit
`pendo_account_ids` (one customer owning two accounts), 25% only by a name and domain that match the
account's metadata exactly or loosely ("Acme Corp" vs "ACME Corporation", www.acme.com vs acme.com),
and 10% of accounts with no customer at all (the unmapped queue).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Callable
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
Renewal = Callable[[int], date]  # account index -> its customer's renewal date


def demo_customers(sub: Subscription, renewal: Renewal | None = None) -> list[dict[str, str]]:
    """Customer rows (all values strings, CSV-ready) for the accounts of `sub`."""
    return [row for _, row in demo_customer_accounts(sub, renewal)]


def demo_customer_accounts(sub: Subscription, renewal: Renewal | None = None) -> list[tuple[list[int], dict[str, str]]]:
    """(the customer's account indices, its row) per customer, by name; `renewal(account)` dates a
    customer's renewal (default: 10-75 days ahead for declining or churning accounts, else 20-365)."""
    rng = np.random.default_rng([sub.seed, 0xC057])
    order = rng.permutation(len(sub.accounts)).tolist()
    if WEIRD_ACCOUNT_ID in sub.account_index:  # always listed by id, so imports exercise its quoting
        order.remove(sub.account_index[WEIRD_ACCOUNT_ID])
        order.append(sub.account_index[WEIRD_ACCOUNT_ID])
    unmapped, by_name = round(0.10 * len(order)), round(0.25 * len(order))
    named, explicit = order[unmapped : unmapped + by_name], order[unmapped + by_name :]
    groups = [[a] for a in named] + ([explicit[:2]] if len(explicit) >= 2 else [])  # one customer owns two
    groups += [[a] for a in (explicit[2:] if len(explicit) >= 2 else explicit)]
    rows = [(g, _row(sub, rng, g, explicit=k >= len(named), renewal=renewal)) for k, g in enumerate(groups)]
    return sorted(rows, key=lambda r: r[1]["name"].lower())


def customer_id_of(sub: Subscription, account: int) -> str:
    """The demo customer id of the customer whose (first) account is `account`."""
    return str(uuid.uuid5(_NAMESPACE, f"{sub.seed}:{sub.accounts.ids[account]}"))


def _row(sub: Subscription, rng: np.random.Generator, accounts: list[int], explicit: bool,
         renewal: Renewal | None) -> dict[str, str]:
    accts = sub.accounts
    a = accounts[0]
    plan = accts.plan[a]
    seats = int(sum(int(accts.licenses[x]) for x in accounts))
    soon = accts.archetype[a] in (CHURNING, DECLINING)
    renews = sub.as_of + timedelta(days=int(rng.integers(10, 75) if soon else rng.integers(20, 365)))
    renews = renewal(a) if renewal else renews
    csm_name, csm_email = CSMS[int(rng.integers(0, len(CSMS)))]
    name, domain = accts.names[a], accts.domains[a]
    if not explicit and rng.random() < 0.5:
        name, domain = _loose_name(name, rng), _loose_domain(domain, rng)
    return {
        "customer_id": customer_id_of(sub, a),
        "name": name,
        "domain": domain,
        "segment": _SEGMENTS[plan],
        "arr": f"{seats * _SEAT_PRICE[plan]:.2f}",
        "renewal_date": renews.isoformat(),
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
    return write_csv(rows, HEADER, path)


def write_csv(rows: list[dict[str, str]], header: tuple[str, ...], path: str | Path) -> Path:
    """Write rows under `header` (an import file: customers, contacts, outcomes); returns the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=header)
        writer.writeheader()
        writer.writerows(rows)
    return target
