"""The customer header's read model: who a customer is, what is at stake and how it is doing, in one
read for one customer or many. No Streamlit here.

`customer_headers(engine, customer_ids, today)` is what the header on every per-customer screen and
the Alerts inbox read (the inbox for its health, ARR and renewal columns and its priorities):

- name, segment, owner (the CSM's name and e-mail);
- ARR (in `CURRENCY`: the customer import carries no currency) and its rank among all customers;
- the renewal date and the days from `today` to it (negative once it has passed);
- the newest health score with its band and day, and its change in points against the score 28
  days before that day (`pendo_core.health.score.CHANGE_DAYS`; the Health page, My customers and the chat say the same);
- the alerts that still need someone (open or acknowledged), counted by their weighted severity
  (`pendo_core.alerts.priority`, as the inbox shows them).
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, func, select

from pendo_core.alerts import priority
from pendo_core.alerts.risk import HealthWindow
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.store.models import Csm, Customer, HealthScore, UsageAlert
from pendo_core.store.scope import chunks

CURRENCY = "USD"
CURRENCY_SYMBOL = "$"
ARR_FORMAT = f"{CURRENCY_SYMBOL}%,.0f"  # a table's number format (printf-style, thousands separated)
NEEDS_SOMEONE = ("open", "acknowledged")  # snoozed alerts are quiet on purpose; dismissed ones are closed


@dataclass(frozen=True)
class CustomerHeader:
    """One customer as its header shows it; None where the store has nothing."""

    customer_id: str
    name: str
    segment: str | None = None
    csm_email: str | None = None
    csm_name: str | None = None
    arr: float | None = None
    arr_rank: float | None = None  # 0 (smallest ARR of all customers) to 1 (largest)
    renewal_date: date | None = None
    days_to_renewal: int | None = None
    score: float | None = None
    band: str | None = None  # red | yellow | green | insufficient data; None: never scored
    score_day: date | None = None
    health_change: float | None = None  # points against the score CHANGE_DAYS before score_day
    alerts: dict[str, int] = field(default_factory=dict)  # weighted severity -> alerts needing someone

    @property
    def open_alerts(self) -> int:
        """How many alerts still need someone (open or acknowledged)."""
        return sum(self.alerts.values())


def customer_header(engine: Engine, customer_id: str, today: date) -> CustomerHeader | None:
    """The header of one customer, or None when it does not exist."""
    return customer_headers(engine, [customer_id], today).get(customer_id)


def customer_headers(engine: Engine, customer_ids: Collection[str], today: date) -> dict[str, CustomerHeader]:
    """The headers of the customers that exist among `customer_ids`, by id."""
    ids = sorted(set(customer_ids))
    base = _customers(engine, ids, today)
    if not base:
        return {}
    arr_of_all = all_arr(engine)
    health = _health(engine, list(base))
    alerts = _alert_severities(engine, list(base))
    out = {}
    for cid, row in base.items():
        rank = priority.arr_rank(row["arr"], arr_of_all)
        counts = priority.weighted_counts(alerts.get(cid, []), arr_rank=rank, days_to_renewal=row["days_to_renewal"])
        out[cid] = CustomerHeader(**row, arr_rank=rank, **health.get(cid, {}), alerts=counts)
    return out


def format_arr(arr: float | None) -> str:
    """ARR with its currency, e.g. "$168,000"; an en dash when unknown."""
    if arr is None or math.isnan(arr):
        return "–"
    return f"{CURRENCY_SYMBOL}{arr:,.0f}"


def _customers(engine: Engine, ids: list[str], today: date) -> dict[str, dict[str, Any]]:
    c = Customer
    stmt = select(c.customer_id, c.name, c.segment, c.csm_email, Csm.name, c.arr, c.renewal_date).outerjoin(
        Csm, Csm.email == c.csm_email)
    out: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for chunk in chunks(ids):
            for cid, name, segment, csm, csm_name, arr, renewal in conn.execute(stmt.where(c.customer_id.in_(chunk))):
                out[cid] = {"customer_id": cid, "name": name, "segment": segment, "csm_email": csm,
                            "csm_name": csm_name, "arr": None if arr is None else float(arr), "renewal_date": renewal,
                            "days_to_renewal": (renewal - today).days if renewal is not None else None}
    return out


def all_arr(engine: Engine) -> list[float]:
    """Every customer's known ARR, ascending (the rank is among all customers, whoever looks)."""
    stmt = select(Customer.arr).where(Customer.arr.is_not(None)).order_by(Customer.arr)
    with engine.connect() as conn:
        return [float(a) for a in conn.execute(stmt).scalars() if a is not None]


def _health(engine: Engine, ids: list[str]) -> dict[str, dict[str, Any]]:
    """Per customer: the newest score, its band and day, and the change against CHANGE_DAYS before.

    Most customers are scored on the store's newest scored day, so that day is read for all of them
    first; only those without a score on it are looked up one by one (their own newest day)."""
    h = HealthScore
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(h.score_date))).scalar()
        if newest is None:
            return {}
        day_of = dict.fromkeys(ids, newest)
        scores = _scores_on(conn, day_of)
        stale = [cid for cid in ids if (cid, newest) not in scores]
        own = select(h.customer_id, func.max(h.score_date)).group_by(h.customer_id)
        day_of |= {cid: day for chunk in chunks(stale)
                   for cid, day in conn.execute(own.where(h.customer_id.in_(chunk)))}
        scores |= _scores_on(conn, {cid: day_of[cid] for cid in stale if cid in day_of})
    return {cid: _health_row(scores, cid, day) for cid, day in day_of.items() if (cid, day) in scores}


Scored = tuple[float | None, str, float, int]  # overall, band, coverage, settings version


def _scores_on(conn: Connection, day_of: dict[str, date]) -> dict[tuple[str, date], Scored]:
    """Each customer's score on its day and CHANGE_DAYS before, where scored."""
    h = HealthScore
    by_day: dict[date, list[str]] = {}
    for cid, day in day_of.items():
        by_day.setdefault(day, []).append(cid)
    out: dict[tuple[str, date], Scored] = {}
    for day, customers in by_day.items():
        days = (day, day - timedelta(days=CHANGE_DAYS))
        for chunk in chunks(sorted(customers)):
            stmt = select(h.customer_id, h.score_date, h.overall, h.band, h.coverage, h.settings_version).where(
                h.customer_id.in_(chunk), h.score_date.in_(days))
            out |= {(cid, d): (o, b, float(c), int(v)) for cid, d, o, b, c, v in conn.execute(stmt)}
    return out


def _health_row(scores: dict[tuple[str, date], Scored], cid: str, day: date) -> dict[str, Any]:
    """The score of `day` and its change in points against CHANGE_DAYS before (as the Health page, My
    customers and the chat say it; the health_drop alert also asks that both were computed alike)."""
    score, band, _, _ = scores[(cid, day)]
    then = scores.get((cid, day - timedelta(days=CHANGE_DAYS)))
    window = HealthWindow(day, score, band, then[0] if then else None)
    return {"score": score, "band": band, "score_day": day, "health_change": window.change}


def _alert_severities(engine: Engine, ids: list[str]) -> dict[str, list[str]]:
    """Per customer, the rule severity of each alert still needing someone."""
    a = UsageAlert
    stmt = select(a.customer_id, a.severity).where(a.status.in_(NEEDS_SOMEONE))
    out: dict[str, list[str]] = {}
    with engine.connect() as conn:
        for chunk in chunks(ids):
            for cid, severity in conn.execute(stmt.where(a.customer_id.in_(chunk))):
                out.setdefault(cid, []).append(severity)
    return out
