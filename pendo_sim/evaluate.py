"""Run labelled worlds end to end and score the judgments: simulator over HTTP, sync, metrics, health, alerts.

Each world (`stories.build_world`) is served by the simulator on loopback and synced into a fresh
SQLite store exactly as a customer's Pendo would be (a backfill of `BACKFILL_DAYS` reported days);
its key contacts (champions and decision makers, `World.contacts`) are imported as the demo's are;
the days the `unsynced_days` story names are then removed from the stored metrics (not synced:
unknown, not zero). The health score is computed for the last complete day and the alert rules
run as the next morning's sync would. What is open at the end, the score and the naive signals
become one `pendo_core.evaluation.Case` per account.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, delete, select

from pendo_core.alerts.job import evaluate_alerts
from pendo_core.common.config import DEMO_KEY, Settings
from pendo_core.customers.contacts import parse_contacts_csv
from pendo_core.customers.contacts_repo import upsert_contacts
from pendo_core.customers.csv_parse import parse_customers_csv
from pendo_core.customers.repo import upsert_customers
from pendo_core.evaluation import Case
from pendo_core.health import naive
from pendo_core.health.job import compute_health
from pendo_core.health.score import COMPONENTS
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.runner import SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store.engine import make_engine, migrate, session_factory
from pendo_core.store.models import HealthScore, UsageAlert, UsageMetric
from pendo_sim.demo import HEADER
from pendo_sim.demo_world import CONTACT_HEADER
from pendo_sim.server import start_server
from pendo_sim.stories import ABANDON, CHAMPION, DISMISS, DROP, Label, World, build_world

BACKFILL_DAYS = 90  # production's default; the sustained rule reads 84 days back from the last day (+2 held)
ACCOUNTS = 150  # seeds 101-108 chose the defaults (health weights and bands, usage_drop confidence); 1-3 report
OPEN = ("open", "acknowledged", "snoozed", "dismissed")  # raised at some point and still holding
KINDS = (DROP, ABANDON, "no_login", DISMISS, CHAMPION)


def evaluate_seeds(seeds: Sequence[int], accounts: int = ACCOUNTS, *, workdir: Path | None = None,
                   progress: Callable[[str], None] = print, champion_left: bool = True) -> list[Case]:
    """Every account of every seed's world as a scored case (`champion_left=False`: worlds without that story)."""
    cases: list[Case] = []
    with tempfile.TemporaryDirectory(prefix="cscx-evaluate-") as scratch:
        for seed in seeds:
            world = build_world(seed, accounts, champion_left=champion_left)
            started = datetime.now(UTC)
            cases.extend(run_world(world, Path(workdir or scratch) / f"world-{seed}.db"))
            seconds = (datetime.now(UTC) - started).total_seconds()
            progress(f"world {seed}: {accounts} accounts, as of {world.subscription.as_of}, {seconds:.0f} s")
    return cases


def run_world(world: World, store: Path) -> list[Case]:
    """Sync the world into a new store at `store`, score and evaluate it, and read the cases back."""
    store.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{store}")
    try:
        migrate(engine)
        _import_customers(engine, world)
        _import_contacts(engine, world)
        _sync(engine, world)
        _unsync(engine, world.labels)
        compute_health(engine, world.last_day, world.last_day)
        as_of = world.subscription.as_of
        evaluate_alerts(engine, as_of, clock=lambda: datetime.combine(as_of, time(7), UTC))
        return _cases(engine, world)
    finally:
        engine.dispose()


def _import_customers(engine: Engine, world: World) -> None:
    rows = world.customers()
    lines = [",".join(HEADER) + "\n"] + [",".join(_csv(r[h]) for h in HEADER) + "\n" for r in rows]
    parsed = parse_customers_csv(lines)
    with session_factory(engine).begin() as session:
        upsert_customers(session, parsed.rows)


def _import_contacts(engine: Engine, world: World) -> None:
    lines = [",".join(CONTACT_HEADER) + "\n"] + [",".join(_csv(r[h]) for h in CONTACT_HEADER) + "\n"
                                                  for r in world.contacts()]
    with session_factory(engine).begin() as session:
        upsert_contacts(session, parse_contacts_csv(lines).rows)


def _csv(value: str) -> str:
    return '"' + value.replace('"', '""') + '"' if any(c in value for c in ',"\n') else value


def _sync(engine: Engine, world: World) -> None:
    server = start_server(world.subscription)
    try:
        settings = Settings(pendo_integration_key=DEMO_KEY, pendo_base_url=server.url, pendo_timezone="UTC")
        with PendoClient(server.url, DEMO_KEY, retry=RetryPolicy(attempts=3), timeout=120) as client:
            runner = sync_runner(settings, engine, client, steps=INGEST_STEPS)
            runner.run(SyncRequest(world.subscription.as_of, BACKFILL_DAYS))
    finally:
        server.stop()


def _unsync(engine: Engine, labels: Sequence[Label]) -> None:
    """Remove the metrics of the days each story says were never synced."""
    with engine.begin() as conn:
        for label in labels:
            if label.unsynced:
                conn.execute(delete(UsageMetric).where(UsageMetric.customer_id == label.customer_id,
                                                       UsageMetric.metric_date.in_(label.unsynced)))


def _cases(engine: Engine, world: World) -> list[Case]:
    alerts = _open_alerts(engine)
    scores = _scores(engine, world.last_day)
    usage = _usage(engine, world.last_day)
    cases = []
    for label in world.labels:
        score = scores.get(label.customer_id, {})
        cases.append(Case(
            label.customer_id, label.story, _expected(label), label.allowed, label.churned, label.hard_negative,
            label.sustained, frozenset(alerts.get(label.customer_id, ())), score.get("overall"), score.get("band"),
            naive_signals(usage.get(label.customer_id, {}), world.last_day), score))
    return cases


def _expected(label: Label) -> dict[str, frozenset[str]]:
    """Kind -> required subjects: the dropped features for feature_abandonment, the rejected guides for
    guide_dismissal, the departed key contacts' e-mails for champion_inactive, the customer otherwise."""
    subjects = {ABANDON: frozenset(label.abandoned), DISMISS: frozenset(label.rejected),
                CHAMPION: frozenset(label.gone)}
    return {kind: subjects.get(kind, frozenset({""})) for kind in label.expected}


def _open_alerts(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    out: dict[str, set[tuple[str, str]]] = {}
    stmt = select(UsageAlert.customer_id, UsageAlert.kind, UsageAlert.subject).where(UsageAlert.status.in_(OPEN))
    with engine.connect() as conn:
        for customer, kind, subject in conn.execute(stmt):
            out.setdefault(customer, set()).add((kind, subject or ""))
    return out


def _scores(engine: Engine, day: date) -> dict[str, dict[str, Any]]:
    table = HealthScore.__table__
    with engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.score_date == day)).mappings().all()
    return {r["customer_id"]: {**(r["inputs"] or {}), **{k: r[k] for k in (*COMPONENTS, "overall", "band")}}
            for r in rows}


def _usage(engine: Engine, last_day: date) -> dict[str, dict[date, tuple[int, int]]]:
    """Customer -> day -> (DAU, MAU) over the last 90 days."""
    t = UsageMetric.__table__
    stmt = select(t.c.customer_id, t.c.metric_date, t.c.dau, t.c.mau).where(
        t.c.metric_date.between(last_day - timedelta(days=89), last_day))
    out: dict[str, dict[date, tuple[int, int]]] = {}
    with engine.connect() as conn:
        for customer, day, dau, mau in conn.execute(stmt):
            out.setdefault(customer, {})[day] = (int(dau), int(mau))
    return out


def naive_signals(days: dict[date, tuple[int, int]], last_day: date) -> dict[str, float]:
    """The naive single signals (`pendo_core.health.naive`) of one customer on its last day."""
    span = naive.HISTORY_DAYS
    grid = np.full((2, span), np.nan)
    for day, (dau, mau) in days.items():
        col = span - 1 - (last_day - day).days
        if 0 <= col < span:
            grid[:, col] = (dau, mau)
    signals = naive.naive_signals(grid[:1], grid[1:], np.array([span - 1]))
    return {name: float(values[0]) for name, values in signals.items()}
