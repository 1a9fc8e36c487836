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
  Whoever the story makes leave leaves: a champion among them raises `champion_inactive`, and so does
  every champion_left customer's (the overlay of `stories.py`: the champion leaves, the team stays).
"""

from __future__ import annotations

from datetime import date

from pendo_sim.demo import customer_id_of, demo_customer_accounts
from pendo_sim.stories import World, build_world, contact_rows

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
    """Contact rows: per customer, its first account's key contacts (`stories.key_contacts`: the most engaged
    identified user as champion, the next as decision maker, teams of 2+ and 4+), matched by e-mail."""
    sub = world.subscription
    firsts = [accounts[0] for accounts, _ in customers]
    return [row for a in firsts for row in contact_rows(sub, a, customer_id_of(sub, a))]
