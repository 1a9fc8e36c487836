"""Reading the access log (`app_audit_log`): who saw what and who changed what, filtered by person,
action and day (UTC), a page at a time, and exported as CSV (the export itself is logged)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import ColumnElement, Engine, Select, func, select
from sqlalchemy.orm import Session

from pendo_core.admin import access_log
from pendo_core.common import csv_export
from pendo_core.store.models import AuditLog

__all__ = ["COLUMNS", "EXPORT_MAX", "LogFilter", "LogPage", "describe", "export_csv", "log_choices", "log_page"]

COLUMNS = ["at", "actor", "action", "details"]
EXPORT_MAX = 100_000  # rows in one CSV export: a spreadsheet still opens it


@dataclass(frozen=True)
class LogFilter:
    """Which entries to show: one person (None: everyone), some actions (empty: all), days in UTC."""

    actor: str | None = None
    actions: tuple[str, ...] = ()
    first: date | None = None
    last: date | None = None

    def where(self) -> list[ColumnElement[bool]]:
        """The filter as SQL conditions on app_audit_log."""
        conditions: list[ColumnElement[bool]] = []
        if self.actor:
            conditions.append(AuditLog.actor == self.actor)
        if self.actions:
            conditions.append(AuditLog.action.in_(self.actions))
        if self.first is not None:
            conditions.append(AuditLog.at >= datetime.combine(self.first, time.min, UTC))
        if self.last is not None:
            conditions.append(AuditLog.at < datetime.combine(self.last + timedelta(days=1), time.min, UTC))
        return conditions

    def as_dict(self) -> dict[str, Any]:
        """The filter as plain values (what the export's own log entry records)."""
        return {"actor": self.actor, "actions": list(self.actions),
                "first": self.first.isoformat() if self.first else None,
                "last": self.last.isoformat() if self.last else None}


@dataclass(frozen=True)
class LogPage:
    """One page of entries, newest first, and how many match in all."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int


def log_page(engine: Engine, where: LogFilter, *, page: int = 1, per_page: int = 50) -> LogPage:
    """Page `page` (from 1; past the end: the last page) of the matching entries, newest first."""
    with engine.connect() as conn:
        total = int(conn.execute(select(func.count()).select_from(AuditLog).where(*where.where())).scalar_one())
        pages = max(1, math.ceil(total / per_page))
        page = min(max(1, page), pages)
        rows = conn.execute(_entries(where).limit(per_page).offset((page - 1) * per_page)).all()
    return LogPage(_frame(rows), total, page, pages)


def export_csv(engine: Engine, where: LogFilter, *, by: str) -> str:
    """Every matching entry (up to EXPORT_MAX, newest first) as CSV text; the export is logged."""
    with engine.connect() as conn:
        rows = conn.execute(_entries(where).limit(EXPORT_MAX)).all()
    with Session(engine) as session, session.begin():
        access_log.record(session, by, "access_log.export", {**where.as_dict(), "rows": len(rows)})
    return csv_export.to_csv_text(_frame(rows))  # typed e-mails of failed sign-ins land here: formula-safe


def log_choices(engine: Engine) -> tuple[list[str], list[str]]:
    """(every actor, every action) found in the log, sorted: the filter's options."""
    with engine.connect() as conn:
        actors = conn.execute(select(AuditLog.actor).distinct().order_by(AuditLog.actor)).scalars().all()
        actions = conn.execute(select(AuditLog.action).distinct().order_by(AuditLog.action)).scalars().all()
    return list(actors), list(actions)


def describe(details: dict[str, Any] | None) -> str:
    """Details on one line: `key: value` (in the stored order), a change as `old → new`, lists joined by
    commas, empty values left out."""
    return "; ".join(f"{key}: {_value(value)}" for key, value in (details or {}).items() if not _empty(value))


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and not value)


def _value(value: Any) -> str:
    if isinstance(value, dict) and set(value) == {"from", "to"}:
        return f"{_value(value['from']) or '–'} → {_value(value['to']) or '–'}"
    if isinstance(value, dict):
        return "{" + describe(value) + "}"
    if isinstance(value, list | tuple):
        return ", ".join(_value(v) for v in value)
    return "" if value is None else str(value)


def _entries(where: LogFilter) -> Select[Any]:
    return (select(AuditLog.at, AuditLog.actor, AuditLog.action, AuditLog.details).where(*where.where())
            .order_by(AuditLog.at.desc(), AuditLog.id.desc()))


def _frame(rows: Any) -> pd.DataFrame:
    frame = pd.DataFrame([(at, actor, action, describe(details)) for at, actor, action, details in rows],
                         columns=COLUMNS)
    frame["at"] = pd.to_datetime(frame["at"], utc=True)  # SQLite hands back naive UTC, PostgreSQL aware
    return frame
