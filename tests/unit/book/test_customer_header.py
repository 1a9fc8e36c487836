"""The customer header's read model (SQLite and PostgreSQL): who the customer is, ARR and its rank,
the renewal and the days to it, the newest health score with its 28-day change, and the alerts
still needing someone counted by weighted severity."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from pendo_core.book.header import CustomerHeader, customer_header, customer_headers, format_arr
from tests.support.health_alerts import table_insert

TODAY = date(2026, 3, 19)
LAST = TODAY - timedelta(days=1)


def _score(customer: str, day: date, overall: float | None, band: str, coverage: float = 1.0) -> dict[str, Any]:
    return {"customer_id": customer, "score_date": day, "overall": overall, "band": band, "coverage": coverage,
            "settings_version": 0, "weights": {}}


def _alert(alert_id: int, customer: str, severity: str, status: str = "open") -> dict[str, Any]:
    return {"id": alert_id, "customer_id": customer, "kind": "usage_drop", "subject": str(alert_id), "status": status,
            "severity": severity, "triggered_on": LAST, "last_evaluated_on": LAST, "details": {}}


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Four customers: a large one renewing soon and falling, a small one, one never scored, one unknown ARR."""
    table_insert(engine, "csms", [{"email": "maya@cscx.io", "name": "Maya Chen"},
                                  {"email": "sam@cscx.io", "name": "Sam Lee"}])
    none = {"segment": None, "arr": None, "renewal_date": None, "csm_email": None}
    table_insert(engine, "customers", [none | row for row in (
        {"customer_id": "big", "name": "Northstar Corp", "segment": "Enterprise", "arr": 900_000.0,
         "renewal_date": TODAY + timedelta(days=45), "csm_email": "maya@cscx.io"},
        {"customer_id": "small", "name": "Tiny Ltd", "segment": "SMB", "arr": 10_000.0,
         "renewal_date": TODAY - timedelta(days=5), "csm_email": "maya@cscx.io"},
        {"customer_id": "mid", "name": "Midway", "arr": 120_000.0},
        {"customer_id": "nobody", "name": "No ARR Inc", "csm_email": "sam@cscx.io"})])
    table_insert(engine, "pendo_health_scores", [
        _score("big", LAST, 44.6, "red"), _score("big", LAST - timedelta(days=28), 66.6, "yellow"),
        _score("big", LAST - timedelta(days=40), 80.0, "green"),
        _score("small", LAST - timedelta(days=2), None, "insufficient data"),
        _score("nobody", LAST, 81.0, "green"), _score("mid", LAST, 60.0, "yellow"),
        _score("mid", LAST - timedelta(days=28), 100.0, "green", coverage=0.8)])
    table_insert(engine, "pendo_usage_alerts", [
        _alert(1, "big", "medium"), _alert(2, "big", "low", "acknowledged"), _alert(3, "big", "high", "snoozed"),
        _alert(4, "small", "high"), _alert(5, "small", "medium", "dismissed"), _alert(6, "small", "low", "resolved")])
    return engine


def test_a_customer_with_everything(store: Engine) -> None:
    """Name, segment, owner, ARR and rank, renewal, score with its 28-day change, alerts by weighted severity."""
    assert customer_header(store, "big", TODAY) == CustomerHeader(
        customer_id="big", name="Northstar Corp", segment="Enterprise", csm_email="maya@cscx.io",
        csm_name="Maya Chen", arr=900_000.0, arr_rank=1.0, renewal_date=TODAY + timedelta(days=45),
        days_to_renewal=45, score=44.6, band="red", score_day=LAST, health_change=-22.0,
        alerts={"high": 1, "medium": 1})  # medium and low raised one step: the largest ARR, renewing in 45 days


@pytest.mark.parametrize(("customer", "expected"), [
    ("small", {"arr_rank": 0.0, "days_to_renewal": -5, "score": None, "band": "insufficient data",
               "score_day": LAST - timedelta(days=2), "health_change": None, "alerts": {"medium": 1}}),
    ("mid", {"csm_email": None, "csm_name": None, "segment": None, "arr_rank": 0.5, "band": "yellow", "score": 60.0,
             "health_change": -40.0, "days_to_renewal": None, "alerts": {}}),
    ("nobody", {"arr": None, "arr_rank": None, "csm_name": "Sam Lee", "score": 81.0, "band": "green",
                "health_change": None, "alerts": {}}),
], ids=["small-renewal-passed-insufficient-data", "no-owner-plain-28-day-change",
        "unknown-arr-no-history"])
def test_what_is_missing_stays_missing(store: Engine, customer: str, expected: dict[str, Any]) -> None:
    """Unknown facts are None, never zero; only open and acknowledged alerts count."""
    header = customer_header(store, customer, TODAY)
    assert header is not None
    assert {k: getattr(header, k) for k in expected} == expected


def test_many_customers_in_one_read_and_unknown_ids_left_out(store: Engine) -> None:
    """The inbox reads every customer of its alerts at once; an id that does not exist is absent."""
    headers = customer_headers(store, ["big", "small", "gone", "big"], TODAY)
    assert sorted(headers) == ["big", "small"]
    assert customer_header(store, "gone", TODAY) is None
    assert headers["big"].open_alerts == 2


@pytest.mark.parametrize(("arr", "text"), [(168_000.0, "$168,000"), (5_000_000.0, "$5,000,000"), (999.6, "$1,000"),
                                           (None, "–"), (float("nan"), "–")], ids=str)
def test_arr_reads_with_its_currency(arr: float | None, text: str) -> None:
    """Money always shows its currency and whole units."""
    assert format_arr(arr) == text
