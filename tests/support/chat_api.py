"""A small, fully consistent store for the chat and API tests: raw Pendo activity written by hand,
then the product's own metrics, health and alert jobs run over it (so answers can be checked
against the stored metrics), plus app users and API tokens for each role.

The portfolio (60 days ending LAST; per active visitor-day: 5 events, 3 minutes, one hour):

| customer       | segment    | CSM  | accounts           | who is active                                   |
| Acme Corp      | SMB        | ana  | acme-1, acme-2     | a1-a3 daily, a4-a6 weekdays; a1, a7, a8 weekdays in acme-2 |
| Acme Labs      | SMB        | ana  | labs-1             | l1-l4 daily; used Export only until LAST-19      |
| Umbrella Corp  | SMB        | ana  | umbrella-1         | u1-u6 daily until LAST-28, then u1 only (a drop) |
| Globex Inc     | SMB        | ben  | globex-1           | g1-g5 daily                                      |
| Initech        | Enterprise | ben  | initech-1          | i1-i8 daily                                      |
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.admin.tokens import api_tokens, issue_token
from pendo_core.alerts.job import evaluate_alerts
from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.health import compute_health
from pendo_core.store.models import AppUser, UsageMetric
from pendo_core.usage import compute_metrics
from tests.support.health_alerts import table_insert
from tests.support.store import wipe

LAST = date(2026, 3, 18)  # a Wednesday
AS_OF = LAST + timedelta(days=1)
DAYS = 60
FIRST = LAST - timedelta(days=DAYS - 1)
NOW = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
UTC_ZONE = ZoneInfo("UTC")

ACME, LABS, UMBRELLA, GLOBEX, INITECH = (f"00000000-0000-4000-8000-00000000000{i}" for i in range(1, 6))
ANA, BEN, LEE, ADA = "ana@cscx.io", "ben@cscx.io", "lee@cscx.io", "ada@cscx.io"
NAMES = {ACME: "Acme Corp", LABS: "Acme Labs", UMBRELLA: "Umbrella Corp", GLOBEX: "Globex Inc", INITECH: "Initech"}
FEATURES = {"f-search": ("Search", True), "f-report": ("Create Report", True), "f-export": ("Export CSV", True),
            "f-share": ("Share Dashboard", False), "f-admin": ("Admin Console", False)}


def _weekday(day: date) -> bool:
    return day.weekday() < 5


@dataclass(frozen=True)
class Visitor:
    """Who is active in which account on which days, and which features they click."""

    account: str
    visitor: str
    active: object  # Callable[[int, date], bool]: i = days since FIRST
    features: tuple[str, ...]


def _visitors() -> list[Visitor]:
    daily, weekdays = (lambda i, d: True), (lambda i, d: _weekday(d))
    out = [Visitor("acme-1", f"a{j}", daily, ("f-search", "f-report")) for j in (1, 2, 3)]
    out += [Visitor("acme-1", f"a{j}", weekdays, ("f-search",)) for j in (4, 5, 6)]
    out += [Visitor("acme-2", f"a{j}", weekdays, ("f-search",)) for j in (1, 7, 8)]
    out.append(Visitor("acme-1", "_PENDO_T_anon", daily, ("f-share",)))  # anonymous: never counted
    out += [Visitor("labs-1", f"l{j}", daily, ("f-search",)) for j in range(1, 5)]
    out += [Visitor("umbrella-1", f"u{j}", (lambda i, d, j=j: j == 1 or i < DAYS - 28), ("f-search", "f-export"))
            for j in range(1, 7)]
    out += [Visitor("globex-1", f"g{j}", daily, ("f-search", "f-export", "f-share")) for j in range(1, 6)]
    out += [Visitor("initech-1", f"i{j}", daily, ("f-search", "f-report", "f-export", "f-share")) for j in range(1, 9)]
    return out


def _days() -> Iterator[tuple[int, date]]:
    for i in range(DAYS):
        yield i, FIRST + timedelta(days=i)


def _activity_rows() -> dict[str, list[dict[str, object]]]:
    rows: dict[str, list[dict[str, object]]] = {"vd": [], "vh": [], "fvd": [], "pd": []}
    pages: dict[tuple[str, date], int] = {}
    for v in _visitors():
        for i, day in _days():
            if not v.active(i, day):  # type: ignore[operator]
                continue
            rows["vd"].append({"account_id": v.account, "day": day, "visitor_id": v.visitor, "num_events": 5,
                               "num_minutes": 3})
            rows["vh"].append({"account_id": v.account, "visitor_id": v.visitor, "day": day, "num_events": 5,
                               "num_minutes": 3, "hour_start": local_midnight_ms(day, UTC_ZONE) + 10 * 3_600_000})
            rows["fvd"] += [{"account_id": v.account, "day": day, "feature_id": f, "visitor_id": v.visitor,
                             "num_events": 2, "num_minutes": 1} for f in v.features]
            pages[(v.account, day)] = pages.get((v.account, day), 0) + 2
    # Acme Labs clicked Export until 19 days before LAST (three users or more), never since.
    rows["fvd"] += [{"account_id": "labs-1", "day": day, "feature_id": "f-export", "visitor_id": f"l{j}",
                     "num_events": 1, "num_minutes": 1} for i, day in _days() if 10 <= i <= DAYS - 20
                    for j in range(1, 5)]
    rows["pd"] = [{"account_id": a, "day": d, "page_id": "p-home", "num_events": n, "num_minutes": n}
                  for (a, d), n in pages.items()]
    return rows


def _catalogue(engine: Engine) -> None:
    customers = [(ACME, "SMB", ANA, ["acme-1", "acme-2"]), (LABS, "SMB", ANA, ["labs-1"]),
                 (UMBRELLA, "SMB", ANA, ["umbrella-1"]), (GLOBEX, "SMB", BEN, ["globex-1"]),
                 (INITECH, "Enterprise", BEN, ["initech-1"])]
    table_insert(engine, "csms", [{"email": e, "name": e.split("@")[0].title(), "delivery": "immediate"}
                                  for e in (ANA, BEN)])
    table_insert(engine, "customers", [{"customer_id": c, "name": NAMES[c], "segment": s, "csm_email": m}
                                       for c, s, m, _ in customers])
    accounts = [(a, c) for c, _, _, owned in customers for a in owned] + [("stray-1", None)]
    table_insert(engine, "pendo_accounts", [{"account_id": a, "name": NAMES.get(c or "", "Stray account")
                                             + (" (2)" if a == "acme-2" else "")} for a, c in accounts])
    table_insert(engine, "pendo_account_mapping", [{"pendo_account_id": a, "customer_id": c, "method": "import"}
                                                   for a, c in accounts if c])
    table_insert(engine, "pendo_features", [{"feature_id": f, "name": n, "page_id": "p-home", "is_core_event": k}
                                            for f, (n, k) in FEATURES.items()])
    table_insert(engine, "pendo_pages", [{"page_id": "p-home", "name": "Home"}])
    table_insert(engine, "pendo_guides", [{"guide_id": "g-tour", "name": "Welcome tour", "is_multi_step": True}])
    table_insert(engine, "pendo_guide_steps", [{"step_id": f"s{r}", "guide_id": "g-tour", "rank": r} for r in (1, 2)])


# In acme-1 on LAST - 2: a1 saw both steps (completed), a2 saw the first and dismissed it.
GUIDE_EVENTS = (("a1", "s1", "guideSeen"), ("a1", "s2", "guideSeen"), ("a2", "s1", "guideSeen"),
                ("a2", "s1", "guideDismissed"))


def _guide_events(engine: Engine) -> None:
    day = LAST - timedelta(days=2)
    base = local_midnight_ms(day, UTC_ZONE) + 11 * 3_600_000
    table_insert(engine, "pendo_guide_events", [
        {"visitor_id": v, "guide_id": "g-tour", "step_id": s, "event_type": t, "browser_time": base + i * 60_000,
         "account_id": "acme-1", "day": day} for i, (v, s, t) in enumerate(GUIDE_EVENTS)])


def _coverage(engine: Engine) -> None:
    streams = ("visitor_days", "visitor_hours", "page_days", "feature_days", "guide_events")
    table_insert(engine, "pendo_sync_coverage", [{"stream": s, "day": d, "synced_as_of": AS_OF, "run_id": 1}
                                                 for s in streams for _, d in _days()])
    table_insert(engine, "pendo_sync_runs", [{"started_at": NOW, "finished_at": NOW, "status": "success",
                                              "mode": "backfill", "as_of": AS_OF, "backfill_days": DAYS,
                                              "requests": 1, "retries": 0, "bad_rows": 0,
                                              "stats": {"report_first": FIRST.isoformat(),
                                                        "report_last": LAST.isoformat()}}])


def build_store(engine: Engine) -> None:
    """Write the activity, then compute metrics, health scores and alerts with the product's jobs."""
    _catalogue(engine)
    rows = _activity_rows()
    for table, name in (("vd", "pendo_visitor_days"), ("vh", "pendo_visitor_hours"),
                        ("fvd", "pendo_feature_visitor_days"), ("pd", "pendo_page_days")):
        table_insert(engine, name, rows[table])
    _guide_events(engine)
    _coverage(engine)
    compute_metrics(engine, first_day=FIRST, last_day=LAST)
    compute_health(engine, LAST - timedelta(days=29), LAST)
    evaluate_alerts(engine, AS_OF, clock=lambda: NOW)


ROLES = {ANA: "csm", BEN: "csm", LEE: "leader", ADA: "admin"}


def add_users(engine: Engine) -> dict[str, str]:
    """App users for each role and one API token each; returns e-mail -> token."""
    tokens = {}
    with Session(engine) as session, session.begin():
        for email, role in ROLES.items():
            session.add(AppUser(email=email, name=email.split("@")[0].title(), role=role, password_hash=None))
        session.flush()
        for email in ROLES:
            tokens[email], _ = issue_token(session, email, f"{email} token", by="test", now=NOW)
    return tokens


# --- one store per backend, shared by the read-only tests of a module ----------------------------

EXPECTED_ROWS = 5 * DAYS  # usage rows of a whole store: how a test sees that nobody emptied it


def _intact(engine: Engine) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(UsageMetric)).scalar() == EXPECTED_ROWS and \
            conn.execute(select(func.count()).select_from(api_tokens)).scalar() == len(ROLES)


@dataclass
class SharedStore:
    """A built store and its tokens; `fresh()` rebuilds it when another test emptied the database."""

    engine: Engine
    tokens: dict[str, str]

    def fresh(self) -> SharedStore:
        """The store, rebuilt first if it is not whole any more (PostgreSQL is shared between modules)."""
        if not _intact(self.engine):
            wipe(self.engine)
            self.tokens = build_shared_store(self.engine).tokens
        return self


def build_shared_store(engine: Engine) -> SharedStore:
    """The store and its users' tokens, built in a migrated, empty `engine`."""
    build_store(engine)
    return SharedStore(engine, add_users(engine))
