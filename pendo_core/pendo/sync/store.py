"""Repository functions for the sync's bookkeeping and window writes. They never commit."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from pendo_core.common.timeutil import days_between
from pendo_core.pendo.sync import digests, guard, staging
from pendo_core.pendo.sync.plan import CoverageRow, Window
from pendo_core.pendo.sync.rows import BadRows
from pendo_core.pendo.sync.streams import AnswerRow, EventStream
from pendo_core.store import models
from pendo_core.store.upsert import dialect_insert, upsert

REASON_LEN = 200  # pendo_data_quality_issues.reason
DIGEST_ZONE = "digest_zone:"  # + stream: the watermark naming the time zone the stream's digests were kept under
SUSPECT = "suspect"  # a withheld window's reason starts so: "suspect FIRST..LAST: why"
_SUSPECT_REASON = re.compile(rf"{SUSPECT} (\d{{4}}-\d\d-\d\d)\.\.(\d{{4}}-\d\d-\d\d): (.*)", re.DOTALL)


@dataclass(frozen=True)
class WindowResult:
    """A window's outcome: rows written, bad rows met, the first day whose stored rows may have changed
    (None: the store said none did, so no metric moved), and why it was withheld (or accepted anyway)."""

    rows: int
    bad: BadRows
    changed_from: date | None
    suspect: str | None = None
    accepted: str | None = None


class StaleDigests(Exception):
    """The window's stored rows disagree with their digests (more rows kept than the answer sent: a day
    skipped as stored holds other rows than its digest counted, written by something that does not keep
    digests). Roll the window back, forget the stream's digests (`forget_stream_digests`), then write it again."""


class RunSuperseded(RuntimeError):
    """A newer run started after this one (its lock was lost): it must not write another row."""


class WindowWithheld(Exception):
    """A window's answer is suspect: roll its transaction back, then record it with `withhold`."""

    def __init__(self, why: str, bad: BadRows, rows: int) -> None:
        super().__init__(why)
        self.why, self.bad, self.rows = why, bad, rows


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


def hold_fence(bind: Session | Connection, run_id: int) -> None:
    """Prove, inside the caller's transaction, that no newer run has started since this one.

    A new run's start_run marks every older running run failed. This locks the run's own row until the
    caller's transaction ends, so a newer start_run waits for the windows being written to commit, and
    from then on this raises RunSuperseded: runs never write windows at once, even when the run lock (an
    advisory lock on its own connection) was lost. On PostgreSQL the lock is shared (`FOR SHARE`): the
    run's own lanes (runner.py) write two windows at once, and start_run's UPDATE waits for both. SQLite
    has one writer at a time; there an UPDATE takes it. The steps after the windows hold it the same way
    in each transaction that writes their results (`run_fence`).
    """
    conn = bind.connection() if isinstance(bind, Session) else bind
    run = models.table_of(models.SyncRun)
    live = (run.c.id == run_id) & (run.c.status == "running")
    if conn.dialect.name == "postgresql":
        held = len(conn.execute(select(run.c.id).where(live).with_for_update(read=True)).all())
    else:
        result = conn.execute(update(run).where(live).values(status="running"))
        held = getattr(result, "rowcount", 0)
    if held != 1:
        raise RunSuperseded(f"run {run_id} stopped: a newer run started while it was going (the run lock was "
                            "lost); it wrote nothing more")


Fence = Callable[[Connection], None]
"""Called first in a transaction that writes a run's results: raises RunSuperseded once a newer run has
started, else holds it off until the transaction ends (`hold_fence`)."""


def unfenced(conn: Connection) -> None:
    """The fence of work outside a sync run (a bench, a test, an evaluation): nothing to prove."""


def run_fence(run_id: int) -> Fence:
    """The fence of one run, for the steps after its windows (metrics, health, read models, alerts)."""
    def fence(conn: Connection) -> None:
        hold_fence(conn, run_id)

    return fence


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


def lower_date_watermark(session: Session, name: str, day: date) -> None:
    """Keep the earliest date seen under `name` (e.g. the first day whose metrics are out of date).

    One statement, so two lanes' windows lowering it at once keep the earlier of their days: the
    later commit's upsert compares with the row the earlier one committed (ISO dates order as text)."""
    table = models.table_of(models.SyncWatermark)
    dialect = session.get_bind().dialect.name
    stmt = dialect_insert(session, table).values(stream=name, value=day.isoformat(), updated_at=now_utc())
    earlier = (func.least if dialect == "postgresql" else func.min)(table.c.value, stmt.excluded.value)
    session.execute(stmt.on_conflict_do_update(index_elements=["stream"],
                                               set_={"value": earlier, "updated_at": stmt.excluded.updated_at}))


def clear_watermark(session: Session, name: str) -> None:
    session.execute(delete(models.SyncWatermark).where(models.SyncWatermark.stream == name))


# --- customers whose metrics and scores are stale over the whole range --------------------------

_STALE_SCORES = models.table_of(models.StaleScoreCustomer)


def keep_stale_score_customers(session: Session, customers: Iterable[str]) -> None:
    """Keep customers whose metrics and scores must be computed again over the whole reported range: their
    accounts changed. Kept by the change itself (customers/repo.py) and by the metrics step before it writes
    their metrics (usage/job.py); keeping one again raises its version, so a change made while a run computes
    is not taken as done by that run. A customer leaves once the health step has scored it at the version its
    metrics were computed for (`forget_stale_score_customers`)."""
    rows = [{"customer_id": c, "version": 1} for c in sorted(set(customers))]
    if rows:
        stmt = dialect_insert(session, _STALE_SCORES)
        session.execute(stmt.on_conflict_do_update(index_elements=["customer_id"],
                                                   set_={"version": _STALE_SCORES.c.version + 1}), rows)


def stale_score_customers(session: Session) -> dict[str, tuple[int, int | None]]:
    """Every kept customer: its version, and the version its whole-range metrics were written for (None: not
    yet; different: kept again since)."""
    query = select(_STALE_SCORES.c.customer_id, _STALE_SCORES.c.version, _STALE_SCORES.c.metrics_version)
    return {customer: (version, done) for customer, version, done in session.execute(query.order_by(
        _STALE_SCORES.c.customer_id))}


def mark_stale_metrics_written(session: Session, versions: Mapping[str, int]) -> None:
    """The metrics step wrote these customers' whole-range metrics from the mapping as of `versions`; one kept
    again since keeps its newer version, so the next metrics step computes it again."""
    if versions:
        session.execute(update(_STALE_SCORES).where(_STALE_SCORES.c.customer_id == bindparam("c"),
                                                    _STALE_SCORES.c.version == bindparam("v"))
                        .values(metrics_version=bindparam("v")),
                        [{"c": customer, "v": version} for customer, version in versions.items()])


def forget_stale_score_customers(session: Session, versions: Mapping[str, int]) -> None:
    """The health step scored these customers over the whole range, each at the version its metrics were
    written for: those not kept again since leave."""
    if versions:
        session.execute(delete(_STALE_SCORES).where(_STALE_SCORES.c.customer_id == bindparam("c"),
                                                    _STALE_SCORES.c.version == bindparam("v"),
                                                    _STALE_SCORES.c.metrics_version == bindparam("v")),
                        [{"c": customer, "v": version} for customer, version in versions.items()])


# --- window writes ---------------------------------------------------------------------------


def write_window(
    session: Session,
    stream: EventStream,
    window: Window,
    rows: Iterable[AnswerRow],
    *,
    tz: ZoneInfo,
    as_of: date,
    include_anonymous: bool,
    run_id: int,
) -> WindowResult:
    """Replace one window of a stream with Pendo's answer as it is (bad rows skipped, repeated keys
    summed) and mark its days covered; the caller commits. The sync guards it: `write_guarded`."""
    bad = BadRows()
    staged = staging.stage(session, stream, window, rows, tz=tz, bad=bad)
    _forget_digests(session, stream.name, window, tz)
    staging.apply(session, staged)
    _mark_covered(session, stream.name, window, as_of=as_of, include_anonymous=include_anonymous, run_id=run_id)
    return WindowResult(staged.keys, bad, window.first)


def write_guarded(
    session: Session,
    stream: EventStream,
    window: Window,
    rows: Iterable[AnswerRow],
    *,
    tz: ZoneInfo,
    as_of: date,
    include_anonymous: bool,
    run_id: int,
    accept: bool = False,
    straight: bool = True,
    digest_from: date | None = None,
) -> WindowResult:
    """Replace one window like write_window, unless the answer is suspect (guard.py): then raise
    WindowWithheld, and the caller rolls its transaction back, leaving the stored rows as they were.
    With `accept`, a suspect answer is applied as write_window would, and recorded as accepted.
    With `straight`, days holding no rows yet (the whole window, or of a window read to its end first the
    changed days) are copied straight into the table (staging.py): an answer repeating a key there then
    raises DuplicateKey, and the caller reads it again with straight=False.
    The days from `digest_from` (all when None) keep a digest of their rows (digests.py)."""
    if accept:
        return _write_accepting(session, stream, window, rows, tz=tz, as_of=as_of,
                                include_anonymous=include_anonymous, run_id=run_id)
    bad = BadRows()
    hold_digest_zone(session, stream.name, tz)
    known = digests.load(session, stream, window) if stream.replace else {}
    stored = _stored_per_day(session, stream, window, known) if stream.replace else {}
    empty = [day for day in days_between(window.first, window.last) if day not in stored] if straight else []
    done = staging.replace_rows(session, stream, window, rows, tz=tz, bad=bad,
                                straight=straight and stream.replace and not stored, straight_days=empty,
                                known=known, digest_from=digest_from)
    sent = done.sent
    written = staging.per_day_after(session, stream.table, window, stored, done) if stream.replace else {}
    kept = sum(written.values()) if stream.replace else sent
    if kept > sent:  # a write keeps at most what it was sent: a skipped day's rows are not its digest's
        raise StaleDigests(f"{stream.name} {window.first}..{window.last}: {kept:,} rows kept of {sent:,} sent")
    why = guard.suspicion(_facts(bad, rows=sent, repeated=sent - kept, new=written, stored=stored),
                          replaces=stream.replace)
    if why:
        raise WindowWithheld(why, bad, sent + bad.total)
    if stream.replace and done.digests is not None:
        digests.record(session, stream, window, done.digests)
    _mark_covered(session, stream.name, window, as_of=as_of, include_anonymous=include_anonymous, run_id=run_id)
    return WindowResult(kept, bad, done.changed_from)


def hold_digest_zone(session: Session, stream: str, tz: ZoneInfo) -> None:
    """Forget every digest of the stream when they were kept under another time zone (noted as a
    watermark). The zone decides each row's day, and visitor hours key on the hour, not the day: written
    under a new zone, an hour's row moves off a day outside the window, whose digest would still count it
    (and match again once the zone is put back, skipping that day for good)."""
    name = f"{DIGEST_ZONE}{stream}"
    if get_watermark(session, name) != tz.key:
        digests.forget(session, stream)
        set_watermark(session, name, tz.key)


def forget_stream_digests(session: Session, stream: str, run_id: int) -> None:
    """Forget every digest of the stream (after StaleDigests): its days are compared row by row again."""
    hold_fence(session, run_id)
    digests.forget(session, stream)


def _forget_digests(session: Session, stream: str, window: Window, tz: ZoneInfo) -> None:
    """Before the window's days are written other than by write_guarded (rows summed, not as sent): their
    digests go, and all of the stream's when they were kept under another zone."""
    hold_digest_zone(session, stream, tz)
    digests.forget(session, stream, first=window.first, last=window.last)


def _stored_per_day(session: Session, stream: EventStream, window: Window,
                    known: Mapping[date, digests.Digest]) -> dict[date, int]:
    """The window's stored rows per day: a day's digest counts them where it has one (it holds exactly the
    stored rows, digests.py), the other days are counted. A daily run's last window ends on the new day,
    which has none: counting the whole window read the 22 GB feature table for 9 s of a 20,000-account
    daily run after a 90-day backfill (the planner's choice for 4 days of 90), where the new day alone is
    an index probe."""
    stored = {day: d.rows for day, d in known.items() if d.rows}
    if uncounted := [day for day in days_between(window.first, window.last) if day not in known]:
        stored.update(staging.per_day(session, stream.table, window, uncounted))
    return stored


def _write_accepting(session: Session, stream: EventStream, window: Window, rows: Iterable[AnswerRow], *,
                     tz: ZoneInfo, as_of: date, include_anonymous: bool, run_id: int) -> WindowResult:
    """Staged, so repeated keys are summed exactly; what the guard would have said is recorded."""
    bad = BadRows()
    staged = staging.stage(session, stream, window, rows, tz=tz, bad=bad)
    new = staging.per_day(session, staged.temp, window) if stream.replace else {}
    stored = staging.per_day(session, stream.table, window) if stream.replace else {}
    why = guard.suspicion(_facts(bad, rows=staged.rows, repeated=staged.repeated, new=new, stored=stored),
                          replaces=stream.replace)
    changed = window.first if stream.replace else min(window.first, staging.earliest_day(session, staged.temp)
                                                      or window.first)  # a guide event's day may be earlier
    _forget_digests(session, stream.name, window, tz)
    staging.apply(session, staged)
    _mark_covered(session, stream.name, window, as_of=as_of, include_anonymous=include_anonymous, run_id=run_id)
    if why:
        _record(session, run_id, stream.name, f"accepted {window.first}..{window.last}: {why}", staged.rows)
    return WindowResult(staged.keys, bad, changed, accepted=why)


def withhold(session: Session, run_id: int, stream: str, window: Window, why: str, *, rows: int,
             bad: BadRows | None = None) -> None:
    """Record a suspect window; its days are no longer counted as synced (their rows stay)."""
    commonest = bad.commonest() if bad else None
    _record(session, run_id, stream, f"{SUSPECT} {window.first}..{window.last}: {why}", rows,
            sample=commonest[1] if commonest else None)
    session.execute(delete(models.SyncCoverage).where(
        models.SyncCoverage.stream == stream, models.SyncCoverage.day.between(window.first, window.last)))


def parse_suspect(reason: str) -> tuple[date, date, str] | None:
    """A withheld window's first day, last day and why, from its recorded reason; None for other reasons."""
    found = _SUSPECT_REASON.fullmatch(reason)
    if not found:
        return None
    return date.fromisoformat(found[1]), date.fromisoformat(found[2]), found[3]


def _facts(bad: BadRows, *, rows: int, repeated: int, new: Mapping[date, int],
           stored: Mapping[date, int]) -> guard.AnswerFacts:
    commonest = bad.commonest()
    return guard.AnswerFacts(rows=rows, bad=bad.total, bad_reason=commonest[0] if commonest else None,
                             repeated=repeated, new_per_day=new, stored_per_day=stored)


def _record(session: Session, run_id: int, stream: str, reason: str, count: int, *,
            sample: str | None = None) -> None:
    row = {"run_id": run_id, "stream": stream, "reason": reason[:REASON_LEN], "count": count, "sample": sample}
    upsert(session, models.table_of(models.DataQualityIssue), [row], keys=("run_id", "stream", "reason"))


def _mark_covered(session: Session, stream: str, window: Window, *, as_of: date, include_anonymous: bool,
                  run_id: int) -> None:
    rows = [
        {"stream": stream, "day": day, "synced_as_of": as_of, "include_anonymous": include_anonymous,
         "run_id": run_id}
        for day in days_between(window.first, window.last)
    ]
    upsert(session, models.table_of(models.SyncCoverage), rows, keys=("stream", "day"))
