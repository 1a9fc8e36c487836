"""The book of business: one row per customer a viewer sees, most at risk first. No Streamlit here.

`book(engine, viewer, day)` is what the My customers page, its CSV export and the chat's "which of
my customers are at risk?" read. A handful of queries (customers; WAU and MAU on 12 week-end days;
the last active day; health scores on two days; open alerts), each aggregated in SQL over the
customers the access rule lets the viewer see and none per customer, so it stays fast at thousands
of customers; the risk order is `pendo_core.book.risk`.

Health, breadth and the usage trend are the newest health score's and the inputs it was computed
from (`pendo_health_scores.inputs`), so My customers, the Health page and the score itself quote one
number each: the health job computes them with the product's one definition of each
(`pendo_core.usage.measures`: `trend`, `breadth`).

Columns of the frame (`COLUMNS`), one row per customer:

| column | meaning |
| --- | --- |
| customer_id, name, segment, csm_email, csm_name | who (segment "No segment" when blank) |
| arr | annual recurring revenue, in `view.CURRENCY` (the customer import carries no currency) |
| renewal_date, days_to_renewal | the renewal date and the days from the as-of day (`day` + 1) to it |
| score, band | the newest health score on or before `day` (band "not scored" without one) |
| health_change | that score minus the score 28 days before it, in points |
| breadth | key-feature breadth (30 days) the score was computed from, 0..1 |
| usage_change | the 28-day trend the score was computed from: mean DAU of 28 days ÷ the 28 before - 1 |
| mau | monthly active users on `day` |
| usage_weeks | WAU on `day` and every 7th day before, `WEEKS` in all, oldest first (days not stored left out) |
| last_active | the newest day with an active visitor in the `ACTIVE_DAYS` ending `day` (None: nobody) |
| alerts_high, alerts_medium, alerts_low, alerts_open | alerts needing someone (open, acknowledged), weighted severity |
| alert_kinds | the kinds of those alerts, sorted |
| risk_rank, at_risk, risk_reasons | place in the risk order (1 = first), the chat's "at risk", why (words) |

An alert's severity here is its weighted severity (`pendo_core.alerts.priority.weighted_counts`: the
rule's weighed with the customer's ARR rank and renewal), as the customer header and the Alerts inbox
count it; the risk order's "high-severity alert" is the same.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, case, func, select

from pendo_core.access.rules import Viewer
from pendo_core.access.sql import customer_filter
from pendo_core.alerts import priority
from pendo_core.book import risk
from pendo_core.book.header import all_arr
from pendo_core.book.risk import NOT_SCORED
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.store.models import Csm, Customer, HealthScore, UsageAlert
from pendo_core.usage import queries as usage_queries
from pendo_core.usage.queries import NO_SEGMENT, Keep, last_active_days, weekly_wau

WEEKS = usage_queries.WEEKS
ACTIVE_DAYS = usage_queries.ACTIVE_DAYS  # how far back "last active" looks
NEEDS_ATTENTION = ("open", "acknowledged")  # as the Alerts screen's count: snoozed ones are quiet on purpose
COLUMNS = ["customer_id", "name", "segment", "csm_email", "csm_name", "arr", "renewal_date", "days_to_renewal",
           "score", "band", "health_change", "breadth", "mau", "usage_change", "usage_weeks", "last_active",
           "alerts_high", "alerts_medium", "alerts_low", "alerts_open", "alert_kinds", "risk_rank", "at_risk",
           "risk_reasons"]


def book(engine: Engine, viewer: Viewer | None, day: date) -> pd.DataFrame:
    """Every customer the viewer sees (None: every customer), with health, usage, open alerts, ARR and
    renewal, most at risk first. The data day is `day`; renewals count from the day after."""
    return ranked(standing(engine, viewer, day), open_alerts(engine, viewer), day)


def standing(engine: Engine, viewer: Viewer | None, day: date) -> pd.DataFrame:
    """The part that changes only with a sync: customers, usage and health (cache it until the next).
    Its `arr_rank` (among all customers, whoever looks) weighs the alerts' severity in `ranked`."""
    customers = _customers(engine, viewer)
    if customers.empty:
        return customers
    arr_of_all = all_arr(engine)
    customers["arr_rank"] = [priority.arr_rank(None if pd.isna(a) else float(a), arr_of_all)
                             for a in customers["arr"]]
    return (customers.merge(_weekly_users(engine, viewer, day), on="customer_id", how="left")
            .merge(_last_active(engine, viewer, day), on="customer_id", how="left")
            .merge(_health(engine, viewer, day), on="customer_id", how="left"))


def _customers(engine: Engine, viewer: Viewer | None) -> pd.DataFrame:
    c = Customer
    query = (select(c.customer_id, c.name, c.segment, c.csm_email, Csm.name, c.arr, c.renewal_date)
             .outerjoin(Csm, Csm.email == c.csm_email))
    if viewer is not None:
        query = query.where(customer_filter(viewer, c.csm_email))
    frame = _frame(engine, query, ["customer_id", "name", "segment", "csm_email", "csm_name", "arr", "renewal_date"])
    frame["csm_email"] = frame["csm_email"].str.strip().str.lower()
    frame["segment"] = frame["segment"].fillna(NO_SEGMENT)
    return frame


def _visible(query: Select[Any], viewer: Viewer | None, customer_column: Any) -> Select[Any]:
    """`query` kept to the customers the viewer sees (no filter when they see every customer)."""
    if viewer is None or viewer.sees_all:
        return query
    mine = select(Customer.customer_id).where(customer_filter(viewer, Customer.csm_email))
    return query.where(customer_column.in_(mine))


def _weekly_users(engine: Engine, viewer: Viewer | None, day: date) -> pd.DataFrame:
    """Per customer: WAU at the end of each of the last WEEKS weeks (oldest first; days not stored left
    out) and MAU on `day` (`usage.queries.weekly_wau`)."""
    return weekly_wau(engine, day, _keeper(viewer))


def _last_active(engine: Engine, viewer: Viewer | None, day: date) -> pd.DataFrame:
    """Per customer active in the ACTIVE_DAYS days ending `day`: the newest day anyone was active."""
    return last_active_days(engine, day, _keeper(viewer))


def _keeper(viewer: Viewer | None) -> Keep:
    def keep(query: Select[Any], customer_column: Any) -> Select[Any]:
        return _visible(query, viewer, customer_column)

    return keep


def _health(engine: Engine, viewer: Viewer | None, day: date) -> pd.DataFrame:
    """Per customer: the newest score on or before `day`, its band, its 28-day change, and the inputs
    it was computed from that the book shows (key-feature breadth and the 28-day usage trend)."""
    h = HealthScore
    with engine.connect() as conn:
        newest = conn.execute(select(func.max(h.score_date)).where(h.score_date <= day)).scalar()
    columns = ["customer_id", "score", "band", "breadth", "usage_change", "score_before"]
    if newest is None:
        return pd.DataFrame(columns=[*columns[:-1], "health_change"])
    before = newest - timedelta(days=CHANGE_DAYS)
    now = h.score_date == newest
    parts = [h.overall, h.band, h.inputs["breadth"].as_float(), h.inputs["trend"].as_float()]
    query = _visible(select(h.customer_id, *(func.max(case((now, part))) for part in parts),
                            func.max(case((h.score_date == before, h.overall)))), viewer, h.customer_id)
    frame = _frame(engine, query.where(h.score_date.in_([newest, before])).group_by(h.customer_id), columns)
    frame = frame[frame["band"].notna()]  # scored 28 days ago but not on the newest day: not scored now
    numbers = ["score", "breadth", "usage_change", "score_before"]
    frame[numbers] = frame[numbers].astype(float)
    frame["health_change"] = frame["score"] - frame["score_before"]
    return frame.drop(columns="score_before")


def open_alerts(engine: Engine, viewer: Viewer | None) -> pd.DataFrame:
    """The part that changes as people act: per customer with alerts still needing someone (open or
    acknowledged), their rule severities (`ranked` weighs them), the total and the kinds."""
    a = UsageAlert
    query = _visible(select(a.customer_id, a.severity, a.kind), viewer, a.customer_id)
    severities: dict[str, list[str]] = {}
    kinds: dict[str, set[str]] = {}
    with engine.connect() as conn:
        for customer_id, severity, kind in conn.execute(query.where(a.status.in_(NEEDS_ATTENTION))):
            severities.setdefault(customer_id, []).append(severity)
            kinds.setdefault(customer_id, set()).add(kind)
    return pd.DataFrame({"customer_id": list(severities),
                         "rule_severities": [tuple(v) for v in severities.values()],
                         "alerts_open": [len(v) for v in severities.values()],
                         "alert_kinds": [tuple(sorted(kinds[c])) for c in severities]},
                        columns=["customer_id", "rule_severities", "alerts_open", "alert_kinds"])


def ranked(standing: pd.DataFrame, alerts: pd.DataFrame, day: date) -> pd.DataFrame:
    """`standing` and `open_alerts` joined, gaps filled, days to renewal counted from the day after
    `day`, most at risk first (`risk_rank` 1 to n)."""
    if standing.empty:
        return pd.DataFrame(columns=COLUMNS)
    frame = standing.merge(alerts, on="customer_id", how="left")
    as_of = day + timedelta(days=1)
    frame["alerts_open"] = pd.to_numeric(frame["alerts_open"]).fillna(0).astype(int)
    frame["alert_kinds"] = [k if isinstance(k, tuple) else () for k in frame["alert_kinds"]]  # no alert at all
    frame["usage_weeks"] = [w if isinstance(w, list) else [] for w in frame["usage_weeks"]]
    frame["band"] = frame["band"].fillna(NOT_SCORED)
    numbers = ["arr", "score", "health_change", "breadth", "mau", "usage_change"]
    frame[numbers] = frame[numbers].astype(float)
    frame["days_to_renewal"] = [(d - as_of).days if isinstance(d, date) else None for d in frame["renewal_date"]]
    frame["days_to_renewal"] = frame["days_to_renewal"].astype("Int64")
    frame = _weighted_alerts(frame)
    facts = _facts(frame)
    keys = [risk.risk_key(f) for f in facts]
    order = sorted(range(len(facts)), key=keys.__getitem__)
    frame["risk_rank"] = pd.Series(range(1, len(order) + 1), index=order).sort_index().to_numpy()
    frame["at_risk"] = [risk.at_risk(f) for f in facts]
    frame["risk_reasons"] = ["; ".join(risk.reasons(f)) for f in facts]
    return frame.sort_values("risk_rank")[COLUMNS].reset_index(drop=True)


def _weighted_alerts(frame: pd.DataFrame) -> pd.DataFrame:
    """`alerts_high`, `alerts_medium` and `alerts_low`: the rule severities weighed with the customer's
    ARR rank and days to renewal, as the customer header and the Alerts inbox weigh them."""
    counts = [priority.weighted_counts(rules if isinstance(rules, tuple) else (),
                                       arr_rank=None if pd.isna(rank) else float(rank),
                                       days_to_renewal=None if pd.isna(days) else int(days))
              for rules, rank, days in zip(frame["rule_severities"], frame["arr_rank"], frame["days_to_renewal"],
                                           strict=True)]
    for severity in priority.SEVERITIES:
        frame[f"alerts_{severity}"] = [c.get(severity, 0) for c in counts]
    return frame


def _facts(frame: pd.DataFrame) -> list[risk.RiskFacts]:
    """What the risk order reads of each row (NaN and <NA> as None)."""
    days = [None if pd.isna(d) else int(d) for d in frame["days_to_renewal"]]
    bands = [None if b == NOT_SCORED else b for b in frame["band"]]
    columns = zip(frame["customer_id"], frame["name"], bands, frame["score"], frame["health_change"],
                  frame["usage_change"], days, frame["alerts_high"], frame["arr"], strict=True)
    return [risk.RiskFacts(cid, name, band, score, health, usage, renewal, int(high), arr)
            for cid, name, band, score, health, usage, renewal, high, arr in columns]


def _frame(engine: Engine, query: Select[Any], columns: list[str]) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.DataFrame(conn.execute(query).all(), columns=columns)
