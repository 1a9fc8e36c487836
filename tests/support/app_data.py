"""The two stores the app tests (tests/app) open screens on, both on frozen dates.

- The hand-built store (Health, Alerts, Admin): customers of two CSMs with exact scores (and a
  settings change), two alerts, a sync run and a mapping queue; every number is written out here.
- The small synthetic store (the frame and the CSM/leader screens): jobs.bench_store, the page
  benchmark's generator, at a small size: 12 customers of 3 CSMs (customer i belongs to
  csm0{i mod 3}@bench.cscx), 40 days, health scores on every day. Its bookkeeping stamps (sync run,
  mappings, alerts) are pinned to SYNCED_AT, so nothing in it depends on the day the suite runs.

Both end on LAST, synced at SYNCED_AT, a few hours before the app's frozen clock (app.NOW).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from jobs import bench_store
from pendo_core.admin.users import User
from pendo_core.store.engine import make_engine, migrate
from tests.support.health_alerts import table_insert

LAST = date(2026, 3, 18)  # the last complete day of both stores (a Wednesday)
SYNCED_AT = datetime(2026, 3, 19, 6, 0, tzinfo=UTC)  # when their last sync finished


@dataclass(frozen=True)
class Store:
    """A SQLite store file and an engine on it."""

    path: Path
    engine: Engine

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"


def new_store(path: Path) -> Store:
    """A migrated, empty SQLite store at `path`."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    return Store(path, engine)


def copy_store(template: Store, path: Path) -> Store:
    """An independent copy of a store (for tests that change data), through SQLite's backup API so
    pages still in the write-ahead log come along."""
    with sqlite3.connect(template.path) as source, sqlite3.connect(path) as target:
        source.backup(target)
    return Store(path, make_engine(f"sqlite:///{path}"))


# --- the hand-built store ----------------------------------------------------------------------

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
                                                        "score": 87.0, "reason": "similar name"}])  # 0-100
    table_insert(engine, "pendo_features", [{"feature_id": f"f{i}", "name": f"Feature {i}", "is_core_event": i < 2}
                                            for i in range(4)])
    outcomes = [{"customer_id": c, "outcome_date": LAST, "outcome": "churned" if i % 3 == 0 else "renewed"}
                for i, c in enumerate(extra)]
    table_insert(engine, "customer_outcomes", outcomes)
    table_insert(engine, "pendo_health_scores", [
        _score(c, LAST - timedelta(days=back), 30.0 + 8 * i if i % 3 else 20.0 + i, engagement=25.0 + 7 * i)
        for i, c in enumerate(extra) for back in (0, 30)])


def build_hand_built_store(engine: Engine) -> None:
    """Customers of two CSMs, scores (with a settings change), alerts, a sync run, a mapping queue."""
    _customers(engine)
    scores = [_score(ACME, LAST - timedelta(days=i), 70.0 - i / 2, 1 if i >= 10 else 2) for i in range(60)]
    scores += [_score(GLOBEX, LAST - timedelta(days=i), 40.0) for i in range(30)]
    scores += [_score(UMBRELLA, LAST, None), _score(UMBRELLA, LAST - timedelta(days=1), 55.0)]
    table_insert(engine, "pendo_health_scores", scores)
    table_insert(engine, "app_settings_versions", [
        {"version": v, "created_by": ADMIN.email, "settings": {}, "note": f"note {v}",
         "created_at": datetime(2026, 3, 1, tzinfo=UTC)} for v in (1, 2)])
    now = SYNCED_AT
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


# --- the small synthetic store -------------------------------------------------------------------

SHAPE = bench_store.StoreShape(customers=12, days=40, csms=3, features_per_customer=6)
LAST_DAY = LAST
USERS = {
    "csm": User(bench_store.csm_email(0), "CSM 00", "csm"),
    "other_csm": User(bench_store.csm_email(1), "CSM 01", "csm"),
    "leader": User("leader@demo.cscx", "Lee Leader", "leader"),
    "admin": User("admin@demo.cscx", "Ada Admin", "admin"),
}
# bench_store stamps these with the wall clock; the tests pin them (naive UTC, as SQLite keeps them)
_STAMPS = {"pendo_sync_runs": ("started_at", "finished_at"), "customers": ("updated_at",),
           "pendo_account_mapping": ("mapped_at",), "pendo_usage_alerts": ("status_at",)}


def build_small_store(path: Path) -> Store:
    """A migrated SQLite store filled with the small synthetic data set, every date frozen."""
    store = new_store(path)
    bench_store.build_store(store.engine, SHAPE, LAST_DAY)
    pinned = SYNCED_AT.replace(tzinfo=None).isoformat(sep=" ")
    with store.engine.begin() as conn:
        for table, columns in _STAMPS.items():
            conn.execute(text(f"UPDATE {table} SET {', '.join(f'{c} = :at' for c in columns)}"), {"at": pinned})
    return store


def customer_ids(store: Store, csm: str | None = None) -> list[str]:
    """Customer ids by name, optionally of one CSM."""
    from pendo_core.usage.queries import customers

    frame = customers(store.engine)
    return frame[frame["csm_email"] == csm]["customer_id"].tolist() if csm else frame["customer_id"].tolist()
