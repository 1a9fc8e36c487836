"""A large synthetic store for the page benchmark, written straight into the metric tables.

Not the sync: rows are generated with numpy (whole columns at once) and inserted in bulk, so 5,000
customers and 90 days take well under a minute. The shapes follow metrics-spec.md (dau <= wau <=
mau <= active_visitors, feature rows only on days of use, raw feature-visitor rows consistent with
them), but the numbers are only plausible, not the simulator's.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, Table, insert, select, text

from pendo_core.store import models

SEGMENTS = ("Enterprise", "Mid-Market", "SMB")
FEATURES = 40
KEY_FEATURES = 6
GUIDES = 8
ONBOARDING_GUIDES = 3
GUIDES_PER_CUSTOMER = 3
BATCH = 50_000
_NS = uuid.UUID("0b7c3f0e-2f7e-4a55-9d55-6a1c1c2b9e11")
_WEIGHTS = json.dumps({"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45, "onboarding": 0.0})


@dataclass(frozen=True)
class StoreShape:
    """How big the synthetic store is."""

    customers: int = 5_000
    days: int = 90
    csms: int = 50
    features_per_customer: int = 10
    seed: int = 11


def csm_email(index: int) -> str:
    """The e-mail of bench CSM number `index` (customer i belongs to CSM i mod csms)."""
    return f"csm{index:02d}@bench.cscx"


def build_store(engine: Engine, shape: StoreShape, last_day: date) -> dict[str, int]:
    """Fill a migrated, empty store; returns rows written per table."""
    rng = np.random.default_rng(shape.seed)
    days = [last_day - timedelta(days=shape.days - 1 - i) for i in range(shape.days)]
    day_text = np.array([d.isoformat() for d in days])
    customers = np.array([str(uuid.uuid5(_NS, f"customer-{i}")) for i in range(shape.customers)])
    counts: dict[str, int] = {}
    with engine.begin() as conn:
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]

        def put(model: Any, rows: Iterable[Sequence[Any]]) -> None:
            counts[model.__tablename__] = counts.get(model.__tablename__, 0) + _insert(cursor, model, rows, engine)

        _catalogue(put, customers, shape, rng, last_day)
        dau = _usage(put, customers, day_text, rng)
        _features(put, customers, dau, day_text, per_customer=shape.features_per_customer, rng=rng)
        _guides(put, customers, day_text, rng)
        _health(put, customers, dau, day_text, rng)
        _alerts(put, customers, shape.csms, last_day, rng)
        stats = json.dumps({"report_first": days[0].isoformat(), "report_last": last_day.isoformat()})
        put(models.SyncRun, [(1, _now(), _now(), "success", "backfill", (last_day + timedelta(days=1)).isoformat(),
                              shape.days, "bench", stats, 0, 0, 0, None)])
        if engine.dialect.name == "postgresql":
            _advance_sequences(conn)
    return counts


def _advance_sequences(conn: Connection) -> None:
    """Rows written with their own ids (runs, alerts) leave PostgreSQL's sequences behind: move each past
    its table's largest id, so that the next run or alert the app records gets a free one."""
    for table in models.Base.metadata.sorted_tables:
        key = list(table.primary_key.columns)
        if len(key) == 1 and key[0].autoincrement is True:
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'), "
                              f"coalesce(max({key[0].name}), 0) + 1, false) FROM {table.name}"))


def _now() -> str:
    """UTC now as ISO text: SQLite keeps it as is, PostgreSQL casts it."""
    return datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")


def _catalogue(put: Any, customers: np.ndarray, shape: StoreShape, rng: np.random.Generator, last_day: date) -> None:
    n = len(customers)
    put(models.Csm, ((csm_email(i), f"CSM {i:02d}", None, "immediate", None, None) for i in range(shape.csms)))
    segment = rng.integers(0, len(SEGMENTS), n)
    renewal = rng.integers(10, 365, n)
    arr = rng.integers(5, 500, n) * 1000.0
    put(models.Customer, ((c, f"Customer {i:04d}", f"customer{i}.example", SEGMENTS[segment[i]], float(arr[i]),
                           (last_day + timedelta(days=int(renewal[i]))).isoformat(), csm_email(i % shape.csms), _now())
                          for i, c in enumerate(customers.tolist())))
    put(models.PendoAccount, ((f"acct-{i}", f"Customer {i:04d}", None, None, None, None, None) for i in range(n)))
    put(models.AccountMapping, ((f"acct-{i}", c, _now(), "import", None) for i, c in enumerate(customers.tolist())))
    put(models.PendoFeature, ((f"feat-{f:02d}", _feature_name(f), f"page-{f % 10}", 1, "Core", f < KEY_FEATURES, None)
                              for f in range(FEATURES)))
    put(models.PendoGuide, ((f"guide-{g}", _guide_name(g), "public", "Onboarding" if g < ONBOARDING_GUIDES else "Tips",
                             g % 2 == 0, None) for g in range(GUIDES)))


def _feature_name(f: int) -> str:
    return f"{'Key feature' if f < KEY_FEATURES else 'Feature'} {f:02d}"


def _guide_name(g: int) -> str:
    return f"Onboarding step {g + 1}" if g < ONBOARDING_GUIDES else f"Tip {g}"


def _grid(customers: np.ndarray, day_text: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Flattened (customer index, customer id, day text) of every customer-day."""
    n, d = len(customers), len(day_text)
    index = np.repeat(np.arange(n), d)
    return index, customers[index], np.tile(day_text, n)


def _usage(put: Any, customers: np.ndarray, day_text: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Usage metrics; returns the dau matrix (customers x days) the other tables follow."""
    n, d = len(customers), len(day_text)
    size = np.maximum(3, rng.lognormal(3.0, 0.9, n)).astype(int)[:, None]
    trend = 1 + np.outer(rng.uniform(-0.4, 0.3, n), np.linspace(0, 1, d))
    weekday = np.array([0.35 if date.fromisoformat(t).weekday() >= 5 else 1.0 for t in day_text])
    dau = np.floor(size * rng.uniform(0.08, 0.45, (n, 1)) * trend * weekday * rng.uniform(0.7, 1.3, (n, d))).astype(int)
    wau = np.minimum(size, np.maximum(dau, (dau * 2.2).astype(int)))
    mau = np.minimum(size, np.maximum(wau, (dau * 3.5).astype(int)))
    active = np.broadcast_to(size, (n, d))
    sessions = (dau * rng.uniform(1.0, 2.5, (n, d))).astype(int)
    minutes = (sessions * rng.uniform(4, 25, (n, d))).astype(int)
    avg = np.where(sessions > 0, minutes / np.maximum(sessions, 1), np.nan)
    index, ids, days = _grid(customers, day_text)
    columns = [ids, days, np.char.add("acct-", index.astype(str)), dau.ravel(), wau.ravel(), mau.ravel(),
               active.ravel(), sessions.ravel(), avg.ravel(), dau.ravel() * 9, dau.ravel() * 14, minutes.ravel()]
    put(models.UsageMetric, _rows(columns))
    return np.asarray(dau)


def _features(put: Any, customers: np.ndarray, dau: np.ndarray, day_text: np.ndarray, *, per_customer: int,
              rng: np.random.Generator) -> None:
    """Feature usage rows and the raw feature-visitor rows behind them (1 to 3 visitors a day)."""
    n, d = dau.shape
    chosen = np.argsort(rng.random((n, FEATURES)), axis=1)[:, :per_customer]
    use = (rng.random((n, per_customer, d)) < rng.uniform(0.2, 0.7, (n, per_customer, 1))) & (dau[:, None, :] > 0)
    i, k, j = np.nonzero(use)
    feature = chosen[i, k]
    users = np.minimum(dau[i, j], rng.integers(1, 4, len(i)))
    clicks = users * rng.integers(1, 12, len(i))
    names = np.array([_feature_name(f) for f in range(FEATURES)])
    ids = np.array([f"feat-{f:02d}" for f in range(FEATURES)])
    put(models.FeatureUsage, _rows([customers[i], ids[feature], day_text[j], names[feature], clicks * 3, clicks, users,
                                    rng.uniform(5, 120, len(i))]))
    row = np.repeat(np.arange(len(i)), users)
    visitor = np.arange(len(row)) - np.repeat(np.cumsum(users) - users, users)
    put(models.FeatureVisitorDay, _rows([np.char.add("acct-", i[row].astype(str)), day_text[j[row]],
                                         ids[feature[row]], np.char.add(np.char.add("v-", i[row].astype(str)),
                                                                        np.char.add("-", visitor.astype(str))),
                                         clicks[row] // users[row], np.ones(len(row), dtype=int)]))


def _guides(put: Any, customers: np.ndarray, day_text: np.ndarray, rng: np.random.Generator) -> None:
    """Guide metrics for a few guides per customer and onboarding progress, every day."""
    n, d = len(customers), len(day_text)
    guide = np.argsort(rng.random((n, GUIDES)), axis=1)[:, :GUIDES_PER_CUSTOMER]
    seen = rng.integers(1, 40, (n, GUIDES_PER_CUSTOMER))
    done = (seen * rng.uniform(0, 0.8, seen.shape)).astype(int)
    dismissed = (seen * rng.uniform(0, 0.3, seen.shape)).astype(int)
    i = np.repeat(np.arange(n), GUIDES_PER_CUSTOMER * d)
    g = np.repeat(np.arange(GUIDES_PER_CUSTOMER), d)
    g = np.tile(g, n)
    days = np.tile(day_text, n * GUIDES_PER_CUSTOMER)
    gid = np.char.add("guide-", guide[i, g].astype(str))
    put(models.GuideMetric, _rows([customers[i], gid, days, seen[i, g], done[i, g], dismissed[i, g],
                                   done[i, g] / seen[i, g], dismissed[i, g] / seen[i, g]]))
    completed = rng.integers(0, ONBOARDING_GUIDES + 1, n)
    index, ids, day_rows = _grid(customers, day_text)
    put(models.OnboardingProgress, _rows([ids, day_rows, np.full(len(index), ONBOARDING_GUIDES), completed[index],
                                          completed[index] / ONBOARDING_GUIDES]))


def _health(put: Any, customers: np.ndarray, dau: np.ndarray, day_text: np.ndarray, rng: np.random.Generator) -> None:
    """Health scores every day, drifting around a per-customer level."""
    n, d = dau.shape
    overall = np.clip(rng.uniform(20, 95, (n, 1)) + np.cumsum(rng.normal(0, 1.2, (n, d)), axis=1), 0, 100).ravel()
    band = np.where(overall < 50, "red", np.where(overall >= 75, "green", "yellow"))
    breadth = np.clip(overall / 100 + rng.normal(0, 0.1, n * d), 0, 1).round(4)
    stickiness = np.clip(overall / 250 + rng.normal(0, 0.03, n * d), 0, 1).round(4)
    inputs = [f'{{"stickiness": {s}, "breadth": {b}, "key_features": {KEY_FEATURES}}}'
              for s, b in zip(stickiness.tolist(), breadth.tolist(), strict=True)]
    _, ids, days = _grid(customers, day_text)
    count = len(ids)
    put(models.HealthScore, _rows([ids, days, overall, overall, overall, np.full(count, np.nan),
                                   overall, overall, overall,  # breadth change, attrition, sustained trend
                                   np.full(count, np.nan),  # champion: the bench store has no contacts
                                   overall, band, np.ones(count), np.zeros(count, dtype=int),
                                   np.full(count, _WEIGHTS), np.array(inputs)]))


ALERT_KINDS = ("usage_drop", "feature_abandonment", "no_login", "guide_dismissal")


def _alerts(put: Any, customers: np.ndarray, csms: int, last_day: date, rng: np.random.Generator) -> None:
    """Open alerts on one customer in five, routed to its CSM."""
    chosen = np.flatnonzero(rng.random(len(customers)) < 0.2)
    day = last_day.isoformat()
    details = json.dumps({"drop_pct": 40.0, "window": day})
    put(models.UsageAlert, ((n + 1, customers[i], ALERT_KINDS[i % len(ALERT_KINDS)], "", "open",
                             ("high", "medium", "low")[i % 3], day, day, None, csm_email(int(i) % csms), details,
                             "Call the champion and offer a usage review.", None, None, "system", _now(), None)
                            for n, i in enumerate(chosen.tolist())))


def _rows(columns: Sequence[np.ndarray]) -> Iterable[tuple[Any, ...]]:
    """Row tuples of plain Python values (NaN becomes NULL), from equal-length column arrays."""
    plain = [[None if isinstance(v, float) and math.isnan(v) else v for v in np.asarray(c).tolist()]
             if np.asarray(c).dtype.kind == "f" else np.asarray(c).tolist() for c in columns]
    return zip(*plain, strict=True)


def _insert(cursor: Any, model: Any, rows: Iterable[Sequence[Any]], engine: Engine) -> int:
    """executemany in batches with the driver's own placeholders; returns the rows written."""
    table: Table = model.__table__
    columns = [c.name for c in table.columns if c.name != "created_at"]
    mark = "?" if engine.dialect.name == "sqlite" else "%s"
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join([mark] * len(columns))})'
    written, batch = 0, []
    for row in rows:
        batch.append(row)
        if len(batch) >= BATCH:
            cursor.executemany(sql, batch)
            written, batch = written + len(batch), []
    if batch:
        cursor.executemany(sql, batch)
        written += len(batch)
    return written


def add_outcomes(engine: Engine, last_day: date, seed: int = 11) -> int:
    """A renewal outcome for every customer in the last 30 days, churn likelier the lower its stored score 45
    days before (for the back-test benchmark); returns how many were written."""
    h = models.HealthScore
    with engine.connect() as conn:
        rows = conn.execute(select(h.customer_id, h.overall).where(h.score_date == last_day - timedelta(days=45))).all()
    rng = np.random.default_rng(seed)
    overall = np.array([np.nan if r.overall is None else r.overall for r in rows], dtype=float)
    churned = rng.random(len(rows)) < 1 / (1 + np.exp((np.nan_to_num(overall, nan=50.0) - 45) / 8))
    back = rng.integers(0, 30, len(rows))
    outcomes = [{"customer_id": r.customer_id, "outcome_date": last_day - timedelta(days=int(b)),
                 "outcome": "churned" if c else "renewed"} for r, c, b in zip(rows, churned, back, strict=True)]
    with engine.begin() as conn:
        conn.execute(insert(models.Outcome), outcomes)
    return len(outcomes)
