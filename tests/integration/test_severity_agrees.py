"""One severity: on one store (SQLite and PostgreSQL), the customer header, My customers (its read model
and the page's Alerts column), the risk order, the Alerts inbox and the chat's alert list count a
customer's alerts by the same weighted severity (`pendo_core.alerts.priority`), also where it differs
from the rule's.

Big Co's rule-medium alert weighs high (largest ARR, renewal 100 days ahead: 30 + 25 + 13.3 points);
Small Co's rule-high alert weighs medium (smallest ARR, no renewal: 50 points). Both are red, neither is
renewing within 90 days or falling, so the high-severity alert decides which comes first: by the rule's
severity Small Co would, by the weighted one Big Co does."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine

from pendo_core.access.rules import Viewer
from pendo_core.admin.users import User
from pendo_core.book import book
from pendo_core.book.header import customer_headers
from pendo_core.book.inbox import inbox
from pendo_core.chat import Viewer as ChatViewer
from pendo_core.chat import respond
from tests.support.app import TODAY, open_page, use_store
from tests.support.health_alerts import table_insert

DAY = TODAY - timedelta(days=1)  # the data day; the app's clock is a day later, so renewals count alike
ANA, LEE = "ana@cscx.io", "lee@cscx.io"
BIG, SMALL, MID = "c-big", "c-small", "c-mid"
NAMES = {BIG: "Big Co", SMALL: "Small Co", MID: "Mid Co"}
# customer: (ARR, renewal days from TODAY, score, rule severities of its open alerts)
CUSTOMERS: dict[str, tuple[float, int | None, float, tuple[str, ...]]] = {
    BIG: (1_000_000.0, 100, 40.0, ("medium",)),
    SMALL: (10_000.0, None, 30.0, ("high",)),
    MID: (100_000.0, None, 35.0, ("low",)),
}
EXPECTED = {BIG: {"high": 1}, SMALL: {"medium": 1}, MID: {"low": 1}}


def _score(cid: str, day: date, overall: float) -> dict[str, Any]:
    return {"customer_id": cid, "score_date": day, "engagement": overall, "adoption": overall, "trajectory": overall,
            "onboarding": None, "overall": overall, "band": "red", "coverage": 1.0, "settings_version": 0,
            "weights": {"engagement": 0.5, "trajectory": 0.5}, "inputs": {"breadth": 0.5, "trend": 0.0}}


def _build(engine: Engine) -> None:
    table_insert(engine, "csms", [{"email": ANA, "name": "Ana Lima"}])
    table_insert(engine, "customers", [
        {"customer_id": cid, "name": NAMES[cid], "segment": "SMB", "arr": arr, "csm_email": ANA,
         "renewal_date": None if days is None else TODAY + timedelta(days=days)}
        for cid, (arr, days, _, _) in CUSTOMERS.items()])
    table_insert(engine, "pendo_health_scores", [
        _score(cid, d, score) for cid, (_, _, score, _) in CUSTOMERS.items() for d in (DAY, DAY - timedelta(days=28))])
    table_insert(engine, "pendo_usage_alerts", [
        {"customer_id": cid, "kind": "usage_drop", "subject": f"s{n}", "status": "open", "severity": severity,
         "triggered_on": DAY, "last_evaluated_on": DAY, "assigned_csm_email": ANA, "details": {}}
        for cid, (_, _, _, rules) in CUSTOMERS.items() for n, severity in enumerate(rules)])


def _book_counts(row: Any) -> dict[str, int]:
    return {s: int(row[f"alerts_{s}"]) for s in ("high", "medium", "low") if row[f"alerts_{s}"]}


def test_header_book_risk_order_and_inbox_count_one_severity(engine: Engine) -> None:
    """Each surface counts Big Co's alert high, Small Co's medium, Mid Co's low; the risk order puts Big Co
    (a high alert) before Small Co (none, though its rule says high) and says so in its reasons."""
    _build(engine)
    viewer = Viewer(ANA, "csm")
    headers = customer_headers(engine, list(CUSTOMERS), TODAY)
    frame = book(engine, viewer, DAY).set_index("customer_id")
    alerts = inbox(engine, viewer, include_closed=False, today=TODAY)
    for cid, expected in EXPECTED.items():
        assert headers[cid].alerts == expected, f"header of {NAMES[cid]}"
        assert _book_counts(frame.loc[cid]) == expected, f"My customers of {NAMES[cid]}"
        rows = alerts[alerts["customer_id"] == cid]
        assert rows["severity"].value_counts().to_dict() == expected, f"inbox of {NAMES[cid]}"
    assert alerts.set_index("customer_id").loc[SMALL, "rule_severity"] == "high"  # the case differs from the rule
    assert frame.sort_values("risk_rank")["name"].tolist() == ["Big Co", "Small Co", "Mid Co"]
    assert frame.loc[BIG, "risk_reasons"] == "1 high-severity alert"
    assert frame.loc[SMALL, "risk_reasons"] == ""


def test_the_my_customers_page_shows_the_weighted_severity(engine: Engine) -> None:
    """The page's Alerts column reads "1H" for Big Co and "1M" for Small Co, as the header's badges."""
    _build(engine)
    with use_store(engine.url.render_as_string(hide_password=False)):
        at = open_page("pages/my_customers.py", User(ANA, "Ana Lima", "csm"))
    shown = at.dataframe[0].value.set_index("name")["alerts"].to_dict()
    assert shown == {"Big Co": "1H", "Small Co": "1M", "Mid Co": "1L"}


def test_the_chat_lists_the_alerts_by_the_same_severity(engine: Engine) -> None:
    """The chat's alert list says "high" for Big Co's alert and "medium" for Small Co's, as the inbox."""
    _build(engine)
    table_insert(engine, "pendo_usage_metrics", [  # the chat's as-of day is the newest day of usage
        {"customer_id": cid, "metric_date": DAY, "pendo_account_id": "a", "dau": 1, "wau": 1, "mau": 1,
         "active_visitors": 1, "session_count": 1, "avg_session_minutes": 1.0, "page_views": 1,
         "feature_events": 1, "time_in_app_minutes": 1} for cid in CUSTOMERS])
    answer = respond(engine, ChatViewer(ANA, "csm"), "Any usage alerts for my portfolio?")
    rows = {row["customer"]: row["severity"] for row in answer.table}
    assert rows == {"Big Co": "high", "Small Co": "medium", "Mid Co": "low"}
    lines = [line for line in answer.text.splitlines() if line.startswith("- **")]
    assert lines[0].startswith("- **Big Co**")
    assert " · high · " in lines[0]
