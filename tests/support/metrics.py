"""Plain activity rows for metrics tests: build them, seed a store with them, read metrics back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple

from sqlalchemy import Engine, Table, select

from pendo_core.store.models import Base
from pendo_core.usage import compute_metrics

Key = tuple[Any, ...]
Outputs = dict[str, dict[Key, tuple[Any, ...]]]


class VDay(NamedTuple):
    account_id: str
    day: date
    visitor_id: str
    num_events: int = 1
    num_minutes: int = 0


class VHour(NamedTuple):
    account_id: str
    visitor_id: str
    hour_start: int
    day: date
    num_events: int = 1
    num_minutes: int = 0


class PDay(NamedTuple):
    account_id: str
    day: date
    page_id: str
    num_events: int = 1
    num_minutes: int = 0


class FDay(NamedTuple):
    account_id: str
    day: date
    feature_id: str
    visitor_id: str
    num_events: int = 1
    num_minutes: int = 0


class Feature(NamedTuple):
    feature_id: str
    name: str | None = None
    page_id: str | None = None
    is_core_event: bool = False


class Guide(NamedTuple):
    guide_id: str
    name: str | None = None
    group_name: str | None = None


class Step(NamedTuple):
    step_id: str
    guide_id: str
    rank: int


class GEvent(NamedTuple):
    visitor_id: str
    guide_id: str
    step_id: str
    event_type: str
    browser_time: int
    account_id: str
    day: date


@dataclass
class Activity:
    """A small store's worth of input rows; `mapping` is Pendo account -> customer."""

    mapping: dict[str, str] = field(default_factory=dict)
    visitor_days: list[VDay] = field(default_factory=list)
    visitor_hours: list[VHour] = field(default_factory=list)
    page_days: list[PDay] = field(default_factory=list)
    feature_visitor_days: list[FDay] = field(default_factory=list)
    features: list[Feature] = field(default_factory=list)
    guides: list[Guide] = field(default_factory=list)
    guide_steps: list[Step] = field(default_factory=list)
    guide_events: list[GEvent] = field(default_factory=list)


INPUTS = {
    "visitor_days": "pendo_visitor_days",
    "visitor_hours": "pendo_visitor_hours",
    "page_days": "pendo_page_days",
    "feature_visitor_days": "pendo_feature_visitor_days",
    "features": "pendo_features",
    "guides": "pendo_guides",
    "guide_steps": "pendo_guide_steps",
    "guide_events": "pendo_guide_events",
}

# Output table -> (key columns, value columns), the shape both the store and the reference give.
OUTPUTS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pendo_usage_metrics": (
        ("customer_id", "metric_date"),
        ("pendo_account_id", "dau", "wau", "mau", "active_visitors", "session_count",
         "avg_session_minutes", "page_views", "feature_events", "time_in_app_minutes"),
    ),
    "pendo_feature_usage": (
        ("customer_id", "feature_id", "metric_date"),
        ("feature_name", "views", "clicks", "unique_visitors", "avg_time_seconds"),
    ),
    "pendo_guide_metrics": (
        ("customer_id", "guide_id", "metric_date"),
        ("seen_visitors", "completed_visitors", "dismissed_visitors", "completion_rate", "dismissal_rate"),
    ),
    "pendo_onboarding_progress": (
        ("customer_id", "metric_date"),
        ("onboarding_guides", "completed_guides", "progress"),
    ),
}


def table(name: str) -> Table:
    """The model's table by name."""
    return Base.metadata.tables[name]


def seed(engine: Engine, activity: Activity, extra_customers: tuple[str, ...] = ()) -> None:
    """Insert the activity, its customers and mapping into the store."""
    customers = sorted({*activity.mapping.values(), *extra_customers})
    with engine.begin() as conn:
        if customers:
            conn.execute(table("customers").insert(), [{"customer_id": c, "name": c} for c in customers])
        mapping = [{"pendo_account_id": a, "customer_id": c, "method": "manual"} for a, c in activity.mapping.items()]
        if mapping:
            conn.execute(table("pendo_account_mapping").insert(), mapping)
        for attr, name in INPUTS.items():
            rows = [row._asdict() for row in getattr(activity, attr)]
            if rows:
                conn.execute(table(name).insert(), rows)


def insert_outputs(engine: Engine, outputs: Outputs) -> None:
    """Write metric rows directly (stale rows a run must replace or leave alone)."""
    with engine.begin() as conn:
        for name, rows in outputs.items():
            keys, values = OUTPUTS[name]
            dicts = [dict(zip(keys + values, key + value, strict=True)) for key, value in rows.items()]
            if dicts:
                conn.execute(table(name).insert(), dicts)


def read_outputs(engine: Engine) -> Outputs:
    """Every stored metric row, keyed like the reference's answer."""
    out: Outputs = {}
    with engine.connect() as conn:
        for name, (keys, values) in OUTPUTS.items():
            t = table(name)
            rows = conn.execute(select(*(t.c[k] for k in keys + values)))
            out[name] = {tuple(r[: len(keys)]): tuple(r[len(keys) :]) for r in rows}
    return out


def run_metrics(engine: Engine, activity: Activity, first_day: date, last_day: date | None = None,
                **options: Any) -> Outputs:
    """Seed the activity, compute metrics for [first_day, last_day] and read every table back."""
    seed(engine, activity)
    compute_metrics(engine, first_day=first_day, last_day=last_day or first_day, **options)
    return read_outputs(engine)


def named(outputs: Outputs, name: str, key: Key) -> dict[str, Any] | None:
    """One stored row as {column: value}, None when missing."""
    values = outputs[name].get(key)
    return None if values is None else dict(zip(OUTPUTS[name][1], values, strict=True))
