"""The demo's world: the labelled story world (`stories.py`) behind `make run`, with its CSCX data.

Demo mode serves `demo_world(...).subscription` as its Pendo, so the demo's customers tell the stories
the judgments are scored on: slow slides and sudden drops (usage_drop), features dropped one by one,
users leaving, sudden silence, and the look-alikes that must stay quiet. From the same world come:

- the customers (`demo.demo_customer_accounts`: every mapping case), each renewing on its story's
  renewal date (20-80 days after the last complete day);
- the renewal outcomes: each customer's story decides whether it churned or renewed, dated on that
  renewal date, so the admin back-test shows what the health score makes of the stories;
- the contacts: of the users there from the start, the most engaged as champion (teams of two or more)
  and the next as decision maker (teams of four or more), matched to their Pendo visitors by e-mail.
  Whoever the story makes leave leaves: a champion among them raises `champion_inactive`.
"""

from __future__ import annotations

from datetime import date

import numpy as np

from pendo_sim import names
from pendo_sim.demo import customer_id_of, demo_customer_accounts
from pendo_sim.stories import World, build_world

CONTACT_HEADER = ("customer_id", "name", "email", "title", "role")
OUTCOME_HEADER = ("customer_id", "outcome", "outcome_date")
CustomerAccounts = list[tuple[list[int], dict[str, str]]]


def demo_world(seed: int, accounts: int, as_of: date, tz: str, days: int) -> World:
    """The demo's labelled world: `accounts` accounts with stories, data up to `as_of` in `tz`."""
    return build_world(seed, accounts, as_of=as_of, days=days, tz=tz)


def world_customers(world: World) -> CustomerAccounts:
    """(account indices, customer row) per demo customer, renewing on its story's renewal date."""
    return demo_customer_accounts(world.subscription, renewal=lambda a: world.labels[a].outcome_date)


def world_outcomes(world: World, customers: CustomerAccounts) -> list[dict[str, str]]:
    """One outcome row per customer: its (first) account's story churned or renewed, on its renewal date."""
    rows = []
    for accounts, customer in customers:
        label = world.labels[accounts[0]]
        rows.append({"customer_id": customer["customer_id"], "outcome": "churned" if label.churned else "renewed",
                     "outcome_date": label.outcome_date.isoformat()})
    return rows


def world_contacts(world: World, customers: CustomerAccounts) -> list[dict[str, str]]:
    """Contact rows: per customer, its first account's most engaged identified user as champion and the
    next one as decision maker (teams of 2+ and 4+), matched by e-mail (Pendo visitor ids are e-mails)."""
    sub, vis = world.subscription, world.subscription.visitors
    rows = []
    for accounts, _ in customers:
        a = accounts[0]
        team = np.flatnonzero((vis.account == a) & ~vis.anonymous & ~vis.dnp & (vis.start == 0))
        ranked = team[np.argsort(-vis.engagement[team], kind="stable")].tolist()
        roles = ("champion", "decision_maker") if len(ranked) >= 4 else ("champion",) if len(ranked) >= 2 else ()
        for role, v in zip(roles, ranked, strict=False):
            email = vis.ids[v]
            rows.append({"customer_id": customer_id_of(sub, a), "name": _name_of(email),
                         "email": email, "title": names.TITLES[int(vis.title[v])], "role": role})
    return rows


def _name_of(email: str) -> str:
    """"Ada.Lovelace2@acme.com" -> "Ada Lovelace"."""
    return " ".join(part.rstrip("0123456789").capitalize() for part in email.split("@", 1)[0].split("."))
