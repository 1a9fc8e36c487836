"""Reading the access log: filtered by person, action and UTC day, paged newest first, details on
one line, and a CSV export of every match that is itself logged. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin.access_log_queries import LogFilter, describe, export_csv, log_choices, log_page
from pendo_core.store.models import AuditLog

START = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
ENTRIES = [  # (hours after START, actor, action)
    (0, "ada@cscx.io", "settings.save"),
    (1, "maya@cscx.io", "view_all_customers"),  # 2 March, 00:30 UTC
    (25, "ada@cscx.io", "user.invite"),
    (49, "maya@cscx.io", "view_own_customers"),
    (50, "ada@cscx.io", "user.role_change"),
]


@pytest.fixture
def store(engine: Engine) -> Engine:
    with Session(engine) as session, session.begin():
        for hours, actor, action in ENTRIES:
            session.add(AuditLog(at=START + timedelta(hours=hours), actor=actor, action=action,
                                 details={"n": hours}))
    return engine


def _actions(frame: Any) -> list[str]:
    return list(frame["action"])


@pytest.mark.parametrize(("where", "expected"), [
    (LogFilter(), ["user.role_change", "view_own_customers", "user.invite", "view_all_customers", "settings.save"]),
    (LogFilter(actor="maya@cscx.io"), ["view_own_customers", "view_all_customers"]),
    (LogFilter(actions=("user.invite", "user.role_change")), ["user.role_change", "user.invite"]),
    (LogFilter(first=date(2026, 3, 2), last=date(2026, 3, 2)), ["view_all_customers"]),
    (LogFilter(first=date(2026, 3, 3)), ["user.role_change", "view_own_customers", "user.invite"]),
    (LogFilter(actor="ada@cscx.io", last=date(2026, 3, 3)), ["user.invite", "settings.save"]),
    (LogFilter(actor="nobody@cscx.io"), []),
], ids=["everything", "one-person", "some-actions", "one-utc-day", "from-a-day", "person-until-a-day", "no-match"])
def test_filters_pick_the_entries_newest_first(store: Engine, where: LogFilter, expected: list[str]) -> None:
    """Person, actions and UTC days combine; the newest entry comes first."""
    page = log_page(store, where)
    assert (_actions(page.rows), page.total) == (expected, len(expected))


@pytest.mark.parametrize(("page", "shown", "expected"), [
    (1, 1, ["user.role_change", "view_own_customers"]),
    (3, 3, ["settings.save"]),
    (9, 3, ["settings.save"]),
    (0, 1, ["user.role_change", "view_own_customers"]),
], ids=["first", "last", "past-the-end", "before-the-start"])
def test_pages_hold_a_fixed_number_of_entries(store: Engine, page: int, shown: int, expected: list[str]) -> None:
    """Two per page: three pages; a page out of range shows the nearest one."""
    result = log_page(store, LogFilter(), page=page, per_page=2)
    assert (result.page, result.pages, _actions(result.rows)) == (shown, 3, expected)


def test_the_export_holds_every_match_and_is_itself_logged(store: Engine) -> None:
    """The CSV has every matching entry (not one page) and the export names who took it and with which filter."""
    text = export_csv(store, LogFilter(actor="ada@cscx.io"), by="bo@cscx.io")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["action"] for r in rows] == ["user.role_change", "user.invite", "settings.save"]
    assert rows[0]["details"] == "n: 50"
    newest = log_page(store, LogFilter(actions=("access_log.export",))).rows.iloc[0]
    assert newest["actor"] == "bo@cscx.io"
    assert set(newest["details"].split("; ")) == {"actor: ada@cscx.io", "rows: 3"}  # PostgreSQL orders JSON keys


def test_the_filter_offers_every_actor_and_action(store: Engine) -> None:
    """The choices are the distinct people and actions in the log, sorted."""
    actors, actions = log_choices(store)
    assert actors == ["ada@cscx.io", "maya@cscx.io"]
    assert actions == sorted({a for _, _, a in ENTRIES})


@pytest.mark.parametrize(("details", "text"), [
    (None, ""),
    ({"email": "lee@cscx.io", "role": "csm"}, "email: lee@cscx.io; role: csm"),
    ({"csm": "m@x.io", "delivery": {"from": "immediate", "to": "digest"}}, "csm: m@x.io; delivery: immediate → digest"),
    ({"manager_email": {"from": None, "to": "lee@x.io"}}, "manager_email: – → lee@x.io"),
    ({"names": ["a", "b"], "note": "", "hint": None, "actions": []}, "names: a, b"),
    ({"outer": {"inner": 1}}, "outer: {inner: 1}"),
], ids=["none", "plain", "a-change", "from-nothing", "list-and-empties", "nested"])
def test_details_read_on_one_line(details: dict[str, Any] | None, text: str) -> None:
    """Keys and values in order, a change as old → new, empty values left out."""
    assert describe(details) == text
