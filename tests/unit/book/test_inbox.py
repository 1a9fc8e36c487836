"""The Alerts inbox's read model (SQLite and PostgreSQL): the viewer's alerts with their customer's
health, ARR and renewal, weighted by priority, grouped by customer (most urgent first), filtered."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from pendo_core.access.rules import Viewer
from pendo_core.book.inbox import InboxFilter, filter_inbox, inbox
from tests.support.health_alerts import table_insert

TODAY = date(2026, 3, 19)
LAST = TODAY - timedelta(days=1)
MAYA, JORDAN = "maya@cscx.io", "jordan@cscx.io"
LEADER = Viewer("lead@cscx.io", "leader")


def _alert(alert_id: int, customer: str, kind: str, severity: str, status: str = "open", *,
           csm: str = MAYA, opened: int = 1) -> dict[str, Any]:
    return {"id": alert_id, "customer_id": customer, "kind": kind, "subject": str(alert_id), "status": status,
            "severity": severity, "triggered_on": LAST - timedelta(days=opened), "last_evaluated_on": LAST,
            "details": {}, "assigned_csm_email": csm, "resolved_on": LAST if status == "resolved" else None}


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Northstar (largest ARR, renewing in 40 days, red), Acme (small), Globex (Jordan's)."""
    table_insert(engine, "csms", [{"email": MAYA, "name": "Maya Chen"}, {"email": JORDAN, "name": "Jordan Ellis"}])
    table_insert(engine, "customers", [
        {"customer_id": "north", "name": "Northstar Corp", "arr": 900_000.0, "renewal_date": TODAY + timedelta(40),
         "csm_email": MAYA},
        {"customer_id": "acme", "name": "acme corp", "arr": 10_000.0, "renewal_date": None, "csm_email": MAYA},
        {"customer_id": "globex", "name": "Globex", "arr": 120_000.0, "renewal_date": None, "csm_email": JORDAN}])
    table_insert(engine, "pendo_health_scores", [
        {"customer_id": "north", "score_date": LAST, "overall": 44.6, "band": "red", "coverage": 1.0,
         "settings_version": 0, "weights": {}},
        {"customer_id": "north", "score_date": LAST - timedelta(days=28), "overall": 66.6, "band": "yellow",
         "coverage": 1.0, "settings_version": 0, "weights": {}}])
    table_insert(engine, "pendo_usage_alerts", [
        _alert(1, "acme", "no_login", "high"),
        _alert(2, "north", "usage_drop", "medium", opened=3),
        _alert(3, "globex", "guide_dismissal", "low", csm=JORDAN),
        _alert(4, "acme", "guide_dismissal", "low", "acknowledged"),
        _alert(5, "north", "feature_abandonment", "low", "resolved"),
        _alert(6, "north", "health_drop", "high", opened=2)])
    return engine


def _ids(frame: Any) -> list[int]:
    return [int(i) for i in frame["id"]]


def test_grouped_by_customer_most_urgent_first_with_its_facts(store: Engine) -> None:
    """Northstar's big renewal outranks Acme's no_login; a customer's alerts sit together by priority."""
    frame = inbox(store, LEADER, include_closed=True, today=TODAY)
    assert _ids(frame) == [6, 2, 5, 1, 4, 3]
    north = frame[frame["customer_id"] == "north"].iloc[0]
    assert (north["health"], north["band"], north["health_change"]) == (44.6, "red", -22.0)
    assert (north["arr"], north["days_to_renewal"], north["owner"], north["owner_name"]) == (
        900_000.0, 40, MAYA, "Maya Chen")
    assert list(frame["rule_severity"]) == ["high", "medium", "low", "high", "low", "low"]
    # Northstar's are raised (largest ARR, renewal in 40 days), Acme's no_login lowered (smallest ARR, no renewal).
    assert list(frame["severity"]) == ["high", "high", "medium", "medium", "low", "low"]
    assert list(frame["priority"]) == [98.3, 78.3, 58.3, 50.0, 10.0, 22.5]


@pytest.mark.parametrize(("viewer", "closed", "ids"), [
    (Viewer(MAYA, "csm"), False, [6, 2, 1, 4]),
    (Viewer(MAYA, "csm"), True, [6, 2, 5, 1, 4]),
    (Viewer(JORDAN, "csm"), False, [3]),
    (Viewer(MAYA, "csm", show_all=True), False, [6, 2, 1, 4, 3]),
    (Viewer("new@cscx.io", "csm"), False, []),
], ids=["csm", "csm-with-closed", "other-csm", "csm-show-all", "csm-without-customers"])
def test_each_viewer_sees_their_alerts(store: Engine, viewer: Viewer, closed: bool, ids: list[int]) -> None:
    """The access rule decides which alerts; the order stays the inbox's."""
    assert _ids(inbox(store, viewer, include_closed=closed, today=TODAY)) == ids


@pytest.mark.parametrize(("chosen", "ids"), [
    (InboxFilter(), [6, 2, 5, 1, 4, 3]),
    (InboxFilter(kinds=["guide_dismissal"]), [4, 3]),
    (InboxFilter(severities=["high"]), [6, 2]),
    (InboxFilter(statuses=["acknowledged", "resolved"]), [5, 4]),
    (InboxFilter(owners=[JORDAN]), [3]),
    (InboxFilter(customers=["acme"]), [1, 4]),
    (InboxFilter(kinds=["no_login", "usage_drop"], owners=[MAYA]), [2, 1]),
    (InboxFilter(kinds=["renewal_risk"]), []),
], ids=["none", "kind", "weighted-severity", "status", "csm", "customer", "combined", "nothing-matches"])
def test_filters_narrow_and_keep_the_order(store: Engine, chosen: InboxFilter, ids: list[int]) -> None:
    """Kind, severity, status, CSM and customer filters each narrow the list; all together combine."""
    assert _ids(filter_inbox(inbox(store, LEADER, include_closed=True, today=TODAY), chosen)) == ids
