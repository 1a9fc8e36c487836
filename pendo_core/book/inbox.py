"""The Alerts inbox's read model: the alerts a viewer sees (`queries.visible_alerts`), each with its
customer's health, ARR and renewal (`book.header`, the header's one read) and its priority
(`priority.py`), grouped by customer. No Streamlit here.

Order: customers by their most urgent alert still active (highest priority first; a customer whose
alerts are all closed last), then by name ignoring case; within a customer, active alerts first,
then by priority, the newest first. Filtering (`InboxFilter`) keeps that order.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Engine

from pendo_core.access.rules import Viewer
from pendo_core.alerts import priority
from pendo_core.alerts import queries as alerts_view
from pendo_core.book.header import CustomerHeader, customer_headers

CUSTOMER_COLUMNS = ["health", "band", "health_change", "arr", "renewal_date", "days_to_renewal", "csm_name"]
COLUMNS = [*alerts_view.COLUMNS, "rule_severity", "priority", "owner", "owner_name", *CUSTOMER_COLUMNS]


@dataclass(frozen=True)
class InboxFilter:
    """What the inbox is narrowed to; an empty collection keeps everything."""

    kinds: Collection[str] = ()
    severities: Collection[str] = ()  # weighted severities
    statuses: Collection[str] = ()
    owners: Collection[str] = ()  # the customer's CSM (else the CSM the alert is routed to)
    customers: Collection[str] = ()  # customer ids


def inbox(engine: Engine, viewer: Viewer, *, include_closed: bool, today: date) -> pd.DataFrame:
    """The viewer's alerts with their customers' facts and priorities, grouped by customer."""
    alerts = alerts_view.visible_alerts(engine, viewer, include_closed=include_closed, today=today)
    headers = customer_headers(engine, alerts["customer_id"].dropna().unique().tolist(), today)
    return arrange(with_customers(alerts, headers))


def with_customers(alerts: pd.DataFrame, headers: Mapping[str, CustomerHeader]) -> pd.DataFrame:
    """The alerts with their customer's facts, their priority points and weighted severity
    ("severity"; the rule's own is "rule_severity"), and who owns each ("owner", "owner_name": the
    customer's CSM, else the CSM the alert is routed to)."""
    facts = pd.DataFrame([_facts(headers.get(cid)) for cid in alerts["customer_id"]],
                         columns=[*CUSTOMER_COLUMNS, "_rank"], index=alerts.index)
    frame = pd.concat([alerts.rename(columns={"severity": "rule_severity"}), facts], axis=1)
    weighed = [priority.priority(sev, arr_rank=rank, days_to_renewal=_days(days)) for sev, rank, days
               in zip(frame["rule_severity"], frame["_rank"], frame["days_to_renewal"], strict=True)]
    frame["priority"] = [p.points for p in weighed]
    frame["severity"] = [p.severity for p in weighed]
    frame["owner"] = frame["customer_csm"].where(frame["customer_csm"] != "", frame["csm"])
    frame["owner_name"] = frame["csm_name"].where(frame["csm_name"].notna() & (frame["customer_csm"] != ""),
                                                  frame["owner"])
    return frame[COLUMNS]


def arrange(frame: pd.DataFrame) -> pd.DataFrame:
    """Grouped by customer, most urgent customer first (see the module docstring)."""
    active = frame["status"].isin(alerts_view.OPEN_STATUSES)
    keys = pd.DataFrame({
        "top": frame["priority"].where(active, -1.0).groupby(frame["customer_id"]).transform("max"),
        "name": frame["customer"].astype(str).str.casefold(), "customer_id": frame["customer_id"],
        "active": active, "priority": frame["priority"], "rank": frame["rule_severity"].map(priority.severity_rank),
        "triggered_on": frame["triggered_on"], "id": frame["id"]}, index=frame.index)
    order = keys.sort_values(["top", "name", "customer_id", "active", "priority", "rank", "triggered_on", "id"],
                             ascending=[False, True, True, False, False, True, False, False]).index
    return frame.loc[order].reset_index(drop=True)


def filter_inbox(frame: pd.DataFrame, chosen: InboxFilter) -> pd.DataFrame:
    """The rows matching every non-empty part of the filter, in their order."""
    keep = pd.Series(True, index=frame.index)
    for column, values in (("kind", chosen.kinds), ("severity", chosen.severities), ("status", chosen.statuses),
                           ("owner", chosen.owners), ("customer_id", chosen.customers)):
        if values:
            keep &= frame[column].isin(list(values))
    return frame[keep]


def _facts(header: CustomerHeader | None) -> list[object]:
    if header is None:  # an alert on a customer since deleted: nothing known about it
        return [None] * (len(CUSTOMER_COLUMNS) + 1)
    return [header.score, header.band, header.health_change, header.arr, header.renewal_date,
            header.days_to_renewal, header.csm_name, header.arr_rank]


def _days(value: object) -> int | None:
    return None if value is None or pd.isna(value) else int(value)  # type: ignore[call-overload]
