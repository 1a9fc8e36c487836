"""Repository functions for the sync's bookkeeping and window writes. They never commit."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pendo_core.pendo.sync.plan import CoverageRow, Window
from pendo_core.pendo.sync.rows import BadRow, unstorable
from pendo_core.pendo.sync.streams import EventStream
from pendo_core.store import models
from pendo_core.store.upsert import upsert
from pendo_core.timeutil import days_between

BATCH = 5_000
SAMPLE_LEN = 300


@dataclass
class BadRows:
    """Bad rows of a window or a run: counts per (stream, reason) and one sample each."""

    counts: Counter[tuple[str, str]] = field(default_factory=Counter)
    samples: dict[tuple[str, str], str] = field(default_factory=dict)

    def add(self, stream: str, reason: str, row: Any) -> None:
        key = (stream, reason)
        self.counts[key] += 1
        self.samples.setdefault(key, repr(row)[:SAMPLE_LEN])

    def merge(self, other: BadRows) -> None:
        self.counts.update(other.counts)
        for key, sample in other.samples.items():
            self.samples.setdefault(key, sample)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class WindowResult:
    rows: int
    bad: BadRows


def now_utc() -> datetime:
    return datetime.now(UTC)


# --- runs ------------------------------------------------------------------------------------


def start_run(session: Session, *, mode: str, as_of: date, backfill_days: int | None, host: str) -> int:
    """Record a run as running; earlier runs left `running` by a killed process become failed."""
    session.execute(
        update(models.SyncRun)
        .where(models.SyncRun.status == "running")
        .values(status="failed", error="interrupted (the process stopped before the run finished)")
    )
    run = models.SyncRun(started_at=now_utc(), status="running", mode=mode, as_of=as_of,
                         backfill_days=backfill_days, host=host, stats={})
    session.add(run)
    session.flush()
    return run.id


def finish_run(session: Session, run_id: int, *, status: str, stats: dict[str, Any], requests: int,
               retries: int, bad: BadRows, error: str | None = None) -> None:
    """Close a run with its figures and the bad rows it skipped."""
    session.execute(
        update(models.SyncRun).where(models.SyncRun.id == run_id).values(
            finished_at=now_utc(), status=status, stats=stats, requests=requests, retries=retries,
            bad_rows=bad.total, error=error,
        )
    )
    rows = [
        {"run_id": run_id, "stream": s, "reason": r, "count": n, "sample": bad.samples.get((s, r))}
        for (s, r), n in bad.counts.items()
    ]
    upsert(session, models.table_of(models.DataQualityIssue), rows, keys=("run_id", "stream", "reason"))


# --- coverage and watermarks -----------------------------------------------------------------


def load_coverage(session: Session, stream: str) -> dict[date, CoverageRow]:
    """Every committed day of a stream."""
    rows = session.execute(
        select(models.SyncCoverage.day, models.SyncCoverage.synced_as_of, models.SyncCoverage.include_anonymous)
        .where(models.SyncCoverage.stream == stream)
    )
    return {day: CoverageRow(as_of, bool(anon)) for day, as_of, anon in rows}


def get_watermark(session: Session, stream: str) -> str | None:
    return session.scalar(select(models.SyncWatermark.value).where(models.SyncWatermark.stream == stream))


def set_watermark(session: Session, stream: str, value: str) -> None:
    upsert(session, models.table_of(models.SyncWatermark),
           [{"stream": stream, "value": value, "updated_at": now_utc()}], keys=("stream",))


# --- window writes ---------------------------------------------------------------------------


def write_window(
    session: Session,
    stream: EventStream,
    window: Window,
    rows: Iterable[Mapping[str, Any]],
    *,
    tz: ZoneInfo,
    as_of: date,
    include_anonymous: bool,
    run_id: int,
) -> WindowResult:
    """Replace one window of a stream and mark its days covered; the caller commits."""
    table = stream.table
    if stream.replace:
        session.execute(delete(table).where(table.c.day.between(window.first, window.last)))
    bad = BadRows()
    written = 0
    converted = _convert(stream, window, rows, tz, bad)
    while batch := list(islice(converted, BATCH)):
        merged = _merge_duplicates(stream, batch)
        upsert(session, table, merged, keys=stream.keys,
               on_conflict="sum" if stream.replace else "ignore", sum_columns=("num_events", "num_minutes"))
        written += len(merged)
    _mark_covered(session, stream.name, window, as_of=as_of, include_anonymous=include_anonymous, run_id=run_id)
    return WindowResult(written, bad)


def _convert(stream: EventStream, window: Window, rows: Iterable[Mapping[str, Any]], tz: ZoneInfo,
             bad: BadRows) -> Iterator[dict[str, Any]]:
    for raw in rows:
        try:
            if not isinstance(raw, Mapping):
                raise BadRow("row is not an object")
            row = stream.convert(raw, tz)
            reason = unstorable(stream.table, row) if row is not None else None
            if reason:
                raise BadRow(reason)
        except BadRow as exc:
            bad.add(stream.name, exc.reason, raw)
            continue
        if row is None:
            continue
        if stream.replace and not window.first <= row["day"] <= window.last:
            bad.add(stream.name, "bucket outside the requested window", raw)
            continue
        yield row


def _merge_duplicates(stream: EventStream, batch: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows sharing a key within one statement are summed (or, for raw events, kept once)."""
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in batch:
        key = tuple(row[k] for k in stream.keys)
        if key in merged and stream.replace:
            merged[key]["num_events"] += row["num_events"]
            merged[key]["num_minutes"] += row["num_minutes"]
        else:
            merged.setdefault(key, row)
    return list(merged.values())


def _mark_covered(session: Session, stream: str, window: Window, *, as_of: date, include_anonymous: bool,
                  run_id: int) -> None:
    rows = [
        {"stream": stream, "day": day, "synced_as_of": as_of, "include_anonymous": include_anonymous,
         "run_id": run_id}
        for day in days_between(window.first, window.last)
    ]
    upsert(session, models.table_of(models.SyncCoverage), rows, keys=("stream", "day"))

