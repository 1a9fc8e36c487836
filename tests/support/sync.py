"""End-to-end helpers: run the sync against the simulator, and rebuild the expected activity
straight from the simulator's raw (ungrouped) source rows, independently of the sync's code."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, text

from pendo_core.common.config import Settings
from pendo_core.common.timeutil import day_of_ms, local_midnight_ms
from pendo_core.customers.csv_parse import parse_customers_csv
from pendo_core.customers.repo import confirm_mapping, list_unmapped_accounts, upsert_customers
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.pipeline.run import StepFactory
from pendo_core.store import models
from pendo_core.store.engine import make_engine, migrate, session_factory
from pendo_sim.data import Subscription
from pendo_sim.demo import demo_customers
from pendo_sim.expr import EvalContext
from pendo_sim.provider import SimProvider
from pendo_sim.timeseries import parse_time_series
from tests.support.metrics import Activity, FDay, Feature, GEvent, Guide, PDay, Step, VDay, VHour

ALL_APPS = {"appId": 'expandAppIds("*")'}
ANON = "_PENDO_T_"


def import_demo_customers(engine: Engine, sub: Subscription) -> None:
    rows = demo_customers(sub)
    header = list(rows[0])
    lines = [",".join(header) + "\n"] + [",".join(_csv(r[h]) for h in header) + "\n" for r in rows]
    result = parse_customers_csv(lines)
    assert not result.errors, result.errors
    with session_factory(engine).begin() as session:
        upsert_customers(session, result.rows)


def map_an_unmapped_account(engine: Engine, *, by_sql: bool = False) -> str:
    """Map the first unmapped Pendo account to the first mapped customer (a remap); returns that customer.
    `by_sql`: by an INSERT of its own, as a change made outside the app would be (nothing keeps the customer
    for its recompute; the next metrics step finds it by its changed accounts)."""
    with session_factory(engine).begin() as session:
        unmapped = [a.account_id for a in list_unmapped_accounts(session)]
        owner = session.scalars(select(models.AccountMapping.customer_id)).first()
        assert unmapped
        assert owner is not None
        if by_sql:
            session.execute(models.table_of(models.AccountMapping).insert().values(
                pendo_account_id=unmapped[0], customer_id=owner, method="manual"))
        else:
            confirm_mapping(session, unmapped[0], owner, by="admin@test")
    return owner


def _csv(value: Any) -> str:
    text_value = "" if value is None else str(value)
    if any(c in text_value for c in ',"\n'):
        return '"' + text_value.replace('"', '""') + '"'
    return text_value


def run_sync(engine: Engine, url: str, tz: str, as_of: date, backfill_days: int | None,
             *, retry: RetryPolicy | None = None, steps: tuple[StepFactory, ...] = INGEST_STEPS,
             **settings: Any) -> RunSummary:
    """One in-process sync run against `url` (no sleeping); by default the data steps only."""
    config = Settings(pendo_integration_key="demo-key", pendo_base_url=url, pendo_timezone=tz, **settings)
    with PendoClient(url, "demo-key", retry=retry or RetryPolicy.for_tests(), timeout=30) as client:
        return sync_runner(config, engine, client, steps=steps).run(SyncRequest(as_of, backfill_days))


def synced_sqlite(path: Path, sub: Subscription, url: str, *, tz: str, as_of: date, backfill_days: int) -> Engine:
    """A new SQLite store at `path`: migrated, the demo customers of `sub` imported, one clean backfill synced."""
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    import_demo_customers(engine, sub)
    run_sync(engine, url, tz, as_of, backfill_days)
    return engine


def expected_activity(engine: Engine, sub: Subscription, first: date, last: date) -> Activity:
    """The activity tables the sync should hold for reported days [first, last], from raw rows."""
    tz = ZoneInfo(sub.tz_name)
    provider = SimProvider(sub)
    ctx = EvalContext(now_ms=sub.now_ms, tz=tz)

    def raw(source: str, period: str, since: date, until: date) -> Iterable[dict[str, Any]]:
        spec = {"period": period, "first": local_midnight_ms(since, tz),
                "last": local_midnight_ms(until + timedelta(days=1), tz) - 1}
        rows = provider.rows(source, ALL_APPS, parse_time_series(spec, ctx))
        return (r for r in rows if not str(r.get("visitorId", "")).startswith(ANON))

    act = Activity(mapping=_mapping(engine))
    act.visitor_days = [VDay(a, d, v, e, m) for (a, d, v), (e, m) in _sum(
        raw("events", "dayRange", first - timedelta(days=89), last),
        lambda r: (r["accountId"], day_of_ms(r["day"], tz), r["visitorId"])).items()]
    act.visitor_hours = [VHour(a, v, h, day_of_ms(h, tz), e, m) for (a, v, h), (e, m) in _sum(
        raw("events", "hourRange", first - timedelta(days=1), last),
        lambda r: (r["accountId"], r["visitorId"], r["hour"])).items()]
    act.page_days = [PDay(a, d, p, e, m) for (a, d, p), (e, m) in _sum(
        raw("pageEvents", "dayRange", first, last),
        lambda r: (r["accountId"], day_of_ms(r["day"], tz), r["pageId"])).items()]
    act.feature_visitor_days = [FDay(a, d, f, v, e, m) for (a, d, f, v), (e, m) in _sum(
        raw("featureEvents", "dayRange", first - timedelta(days=41), last),
        lambda r: (r["accountId"], day_of_ms(r["day"], tz), r["featureId"], r["visitorId"])).items()]
    act.guide_events = sorted({
        GEvent(r["visitorId"], r["guideId"], r["guideStepId"], r["type"].rsplit(":", 1)[-1], r["browserTime"],
               r["accountId"], day_of_ms(r["browserTime"], tz))
        for r in raw("guideEvents", "dayRange", first - timedelta(days=29), last)
        if r["type"].rsplit(":", 1)[-1] in {"guideSeen", "guideAdvanced", "guideDismissed"}
    })
    act.features = [Feature(f["id"], f.get("name"), f.get("pageId") or None, f.get("isCoreEvent") is True)
                    for f in provider.rows("features", ALL_APPS, None)]
    guides = list(provider.rows("guides", ALL_APPS, None))
    act.guides = [Guide(g["id"], g.get("name"), (g.get("group") or {}).get("name")) for g in guides]
    act.guide_steps = [Step(s["id"], g["id"], s["rank"]) for g in guides for s in g.get("steps") or []]
    return act


def _sum(rows: Iterable[dict[str, Any]], key: Any) -> dict[Any, tuple[int, int]]:
    totals: dict[Any, list[int]] = defaultdict(lambda: [0, 0])
    for row in rows:
        total = totals[key(row)]
        total[0] += row["numEvents"]
        total[1] += row["numMinutes"]
    return {k: (v[0], v[1]) for k, v in totals.items()}


def _mapping(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(models.AccountMapping.pendo_account_id,
                                        models.AccountMapping.customer_id)).all())


# Tables and the columns that must match between two stores (bookkeeping columns left out).
SNAPSHOT = {
    "pendo_visitor_days": "account_id, day, visitor_id, num_events, num_minutes",
    "pendo_visitor_hours": "account_id, visitor_id, hour_start, day, num_events, num_minutes",
    "pendo_page_days": "account_id, day, page_id, num_events, num_minutes",
    "pendo_feature_visitor_days": "account_id, day, feature_id, visitor_id, num_events, num_minutes",
    "pendo_guide_events": "visitor_id, guide_id, step_id, event_type, browser_time, account_id, day",
    "pendo_accounts": "account_id, name, domain, last_updated",
    "pendo_visitors": "visitor_id, email, last_updated",
    "pendo_features": "feature_id, name, page_id, is_core_event",
    "pendo_guide_steps": "step_id, guide_id, rank",
    "pendo_account_mapping": "pendo_account_id, customer_id, method",
    "pendo_usage_metrics": "customer_id, metric_date, pendo_account_id, dau, wau, mau, active_visitors, "
                           "session_count, avg_session_minutes, page_views, feature_events, time_in_app_minutes",
    "pendo_feature_usage": "customer_id, feature_id, metric_date, views, clicks, unique_visitors, avg_time_seconds",
    "pendo_guide_metrics": "customer_id, guide_id, metric_date, seen_visitors, completed_visitors, dismissed_visitors",
    "pendo_onboarding_progress": "customer_id, metric_date, onboarding_guides, completed_guides, progress",
}


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every data row of the store, sorted, for comparing two stores or two moments."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for name, columns in SNAPSHOT.items():
            rows = conn.execute(text(f"SELECT {columns} FROM {name}")).all()
            out[name] = sorted((tuple(_norm(v) for v in row) for row in rows), key=repr)
    return out


def _norm(value: Any) -> Any:
    """Same value, same form on both stores (SQLite hands raw SQL dates back as text)."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return round(value, 9) if isinstance(value, float) else value
