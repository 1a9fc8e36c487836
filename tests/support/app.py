"""A small hand-built store for the Health, Alerts and Admin AppTests, and a way to open a page as a
signed-in user through the real frame (app.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import streamlit as st
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from pendo_core.admin.users import User
from pendo_core.store.engine import make_engine, migrate
from tests.support import REPO
from tests.support.health_alerts import table_insert

APP = str(REPO / "app.py")
LAST = date(2026, 3, 18)
ME, THEM = "maya@cscx.io", "jordan@cscx.io"
CSM = User(ME, "Maya Chen", "csm")
OTHER_CSM = User(THEM, "Jordan Ellis", "csm")
LEADER = User("lead@cscx.io", "Lea Leader", "leader")
ADMIN = User("admin@cscx.io", "Ada Admin", "admin")
ACME, GLOBEX, INITECH, UMBRELLA = (f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 5))
NAMES = {ACME: "Acme Corp", GLOBEX: "Globex", INITECH: "Initech", UMBRELLA: "Umbrella"}
OWNERS = {ACME: ME, GLOBEX: THEM, INITECH: ME, UMBRELLA: ME}
WEIGHTS = {"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45, "onboarding": 0.0}
PORTFOLIO = 8  # extra customers, so the back-test has outcomes of both kinds


def open_page(page: str, user: User | None, **state: Any) -> AppTest:
    """Run app.py signed in as `user`, then switch to `page` (e.g. "pages/health.py")."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=30)
    if user is not None:
        at.session_state["frame_user"] = user
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    return at.switch_page(page).run()


def _score(customer: str, day: date, overall: float | None, version: int = 0, **parts: float | None) -> dict[str, Any]:
    band = "insufficient data" if overall is None else "red" if overall < 50 else "yellow" if overall < 75 else "green"
    components = {"engagement": overall, "adoption": 80.0, "trajectory": overall, "onboarding": None} | parts
    inputs = {"mau": 10.0, "dau_7d": 3.0, "stickiness": 0.3, "dau_28d": 3.0, "dau_prior_28d": 3.2, "trend": -0.06,
              "breadth": 0.5, "key_features_used": 2.0, "key_features": 4, "onboarding_progress": None}
    if overall is None:
        inputs |= {"mau": 0.0, "dau_7d": 0.0, "dau_28d": None, "dau_prior_28d": None}
    return {"customer_id": customer, "score_date": day, **components, "overall": overall, "band": band,
            "coverage": 0.1 if overall is None else 1.0, "settings_version": version, "weights": WEIGHTS,
            "inputs": inputs}


def _customers(engine: Engine) -> None:
    table_insert(engine, "csms", [{"email": ME, "name": "Maya Chen"}, {"email": THEM, "name": "Jordan Ellis"}])
    extra = {f"00000000-0000-4000-8000-0000000001{i:02d}": f"Portfolio {i}" for i in range(PORTFOLIO)}
    rows = [{"customer_id": c, "name": n, "csm_email": OWNERS.get(c, THEM)} for c, n in (NAMES | extra).items()]
    table_insert(engine, "customers", rows)
    table_insert(engine, "pendo_accounts", [{"account_id": "acct-acme", "name": "Acme"},
                                            {"account_id": "acct-new", "name": "Globex Europe"},
                                            {"account_id": "acct-lone", "name": "Lone Ltd"}])
    table_insert(engine, "pendo_account_mapping", [{"pendo_account_id": "acct-acme", "customer_id": ACME,
                                                    "method": "import"}])
    table_insert(engine, "pendo_mapping_suggestions", [{"pendo_account_id": "acct-new", "customer_id": GLOBEX,
                                                        "score": 0.87, "reason": "similar name"}])
    table_insert(engine, "pendo_features", [{"feature_id": f"f{i}", "name": f"Feature {i}", "is_core_event": i < 2}
                                            for i in range(4)])
    outcomes = [{"customer_id": c, "outcome_date": LAST, "outcome": "churned" if i % 3 == 0 else "renewed"}
                for i, c in enumerate(extra)]
    table_insert(engine, "customer_outcomes", outcomes)
    table_insert(engine, "pendo_health_scores", [
        _score(c, LAST - timedelta(days=back), 30.0 + 8 * i if i % 3 else 20.0 + i, engagement=25.0 + 7 * i)
        for i, c in enumerate(extra) for back in (0, 30)])


def build_store(engine: Engine) -> None:
    """Customers of two CSMs, scores (with a settings change), alerts, a sync run, a mapping queue."""
    _customers(engine)
    scores = [_score(ACME, LAST - timedelta(days=i), 70.0 - i / 2, 1 if i >= 10 else 2) for i in range(60)]
    scores += [_score(GLOBEX, LAST - timedelta(days=i), 40.0) for i in range(30)]
    scores += [_score(UMBRELLA, LAST, None), _score(UMBRELLA, LAST - timedelta(days=1), 55.0)]
    table_insert(engine, "pendo_health_scores", scores)
    table_insert(engine, "app_settings_versions", [
        {"version": v, "created_by": ADMIN.email, "settings": {}, "note": f"note {v}",
         "created_at": datetime(2026, 3, 1, tzinfo=UTC)} for v in (1, 2)])
    now = datetime(2026, 3, 19, 6, tzinfo=UTC)
    base = {"subject": "", "status": "open", "triggered_on": LAST, "last_evaluated_on": LAST, "status_by": "system",
            "status_at": now}
    table_insert(engine, "pendo_usage_alerts", [
        {**base, "id": 1, "customer_id": ACME, "kind": "no_login", "severity": "high", "assigned_csm_email": ME,
         "details": {"window_days": 14, "days_without_login": 20, "last_active_day": "2026-02-26"},
         "suggested_action": "Call the champion."},
        {**base, "id": 2, "customer_id": GLOBEX, "kind": "usage_drop", "severity": "medium",
         "assigned_csm_email": THEM, "suggested_action": "Offer a usage review.",
         "details": {"window": "2026-03-12..2026-03-18", "avg_daily_users": 6.0, "baseline_avg_daily_users": 10.0,
                     "drop_pct": 40.0, "baseline_weeks": 4, "held_days": 3}}])
    table_insert(engine, "pendo_sync_runs", [{
        "id": 1, "started_at": now, "finished_at": now + timedelta(minutes=2), "status": "success", "mode": "daily",
        "as_of": LAST + timedelta(days=1), "requests": 40, "retries": 0, "bad_rows": 2,
        "stats": {"rows": {"accounts": 3, "visitor_days": 120}, "report_first": "2025-12-19",
                  "report_last": LAST.isoformat()}}])
    table_insert(engine, "pendo_data_quality_issues", [{"run_id": 1, "stream": "visitor_days",
                                                        "reason": "missing visitorId", "count": 2, "sample": "{}"}])


_TEMPLATE: dict[str, Path] = {}


def fresh_store(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Engine:
    """A fresh copy (in tmp_path) of the hand-built store, which is built once per test session."""
    if "path" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("app-template") / "store.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate(engine)
        build_store(engine)
        engine.dispose()
        _TEMPLATE["path"] = path
    copy = tmp_path / "store.db"
    shutil.copy(_TEMPLATE["path"], copy)
    return make_engine(f"sqlite:///{copy}")


def texts(at: AppTest, kind: str) -> list[str]:
    """The text (or value) of every element of one kind, e.g. "error", "markdown", "caption"."""
    return [str(getattr(e, "value", "")) for e in getattr(at, kind)]


def labels(at: AppTest, kind: str) -> list[str]:
    """The labels of every widget of one kind, e.g. "button", "slider"."""
    return [str(e.label) for e in getattr(at, kind)]
