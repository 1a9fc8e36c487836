"""One sync run: entities and usage windows, then the steps the pipeline hands in; every run recorded.

Each window of each stream is fetched and written inside one transaction, so a run that dies
leaves the store as it was before that window; the next run reads what is not final yet. Each of
those transactions first proves no newer run has started (store.hold_fence), and a window whose
answer looks broken is withheld (guard.py): the run writes the other windows, then stops before
metrics, health and alerts and fails, naming the suspect windows, until the answer is fine again
or an operator accepts it (`SyncRequest.accept_restatement`). On PostgreSQL two lanes write two
streams' windows at once (`LANES`), a stream's windows in order by one lane, and the entities are synced
beside them (`ENTITIES_BESIDE_DIALECTS`).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, PendoError, PendoResponseError, PendoTimeoutError
from pendo_core.pendo.sync import entities, store
from pendo_core.pendo.sync.plan import Window, days_to_read, windows
from pendo_core.pendo.sync.prefetch import Prefetch
from pendo_core.pendo.sync.progress import LogProgress, Progress
from pendo_core.pendo.sync.rows import BadRows
from pendo_core.pendo.sync.streams import EVENT_STREAMS, AnswerRow, EventStream
from pendo_core.store import models
from pendo_core.store.bulk import DuplicateKey, refresh_statistics

log = logging.getLogger("pendo_core.pendo.sync")
REPORT_START = "report_start"
METRICS_RANGE = "metrics_range"
METRICS_STALE_FROM = "metrics_stale_from"  # first day written since metrics were last computed
SCORES_STALE_FROM = "scores_stale_from"  # first day whose metrics moved since the health step last scored
# Stores whose writes run in another process, so reading the next window meanwhile uses the second core.
# On SQLite the writes hold the GIL: measured on the 300-account replay, the read-ahead cost 11% there
# and saved 14% of the windows phase on PostgreSQL (README, Benchmark).
READ_AHEAD_DIALECTS = frozenset({"postgresql"})
# Stores that take a second lane: two streams' windows written at once, each on its own connection, so the
# server's work (mostly its index upkeep) runs on both cores. SQLite has one writer at a time. A lane runs
# only while MAX_CONCURRENCY allows a request per lane.
LANE_DIALECTS = frozenset({"postgresql"})
LANES = 2
# Stores on which the entities are synced beside the usage windows, on a connection and request of their own:
# on PostgreSQL the windows' time is mostly waiting on the server and on Pendo (at 20,000 accounts the
# entities took 21 s of a daily run and 46 s of a 90-day backfill before the windows, README, Benchmark).
ENTITIES_BESIDE_DIALECTS = LANE_DIALECTS
# The order lanes take the streams in: the largest first (the feature rows per visitor are about half the
# store in every measured world), so the smaller streams fill in beside it.
LANE_ORDER = ("feature_days", "visitor_hours", "visitor_days", "page_days", "guide_events")


class SyncError(RuntimeError):
    """A run that stopped; the message is the one-line reason shown to the operator."""


class SuspectWindows(SyncError):
    """Windows withheld because their answers looked broken; the stored rows were kept."""


class _WindowTooBig(Exception):
    """A multi-day window timed out: split it instead of retrying it whole."""


@dataclass(frozen=True)
class SyncRequest:
    """One run's ask; `accept_restatement` applies answers the guard would withhold (guard.py)."""

    as_of: date
    backfill_days: int | None = None
    accept_restatement: bool = False

    @property
    def mode(self) -> str:
        return "daily" if self.backfill_days is None else "backfill"


@dataclass
class RunSummary:
    run_id: int
    report_first: date
    report_last: date
    rows: dict[str, int] = field(default_factory=dict)
    windows: int = 0
    bad_rows: int = 0
    requests: int = 0
    retries: int = 0
    metrics_first: date | None = None  # metrics moved from this day on for every customer (report_last + 1: none)
    metrics_stale: list[str] = field(default_factory=list)  # ... and over the whole range for these (remapped)
    refetched: date | None = None  # the earliest reported day this run re-read
    changed_from: date | None = None  # ... and of those, the earliest whose stored rows changed (metrics move)
    suspect: list[str] = field(default_factory=list)  # "stream first..last: why", windows withheld
    accepted: list[str] = field(default_factory=list)  # the same, applied on the operator's word
    purged: dict[str, int] = field(default_factory=dict)  # raw rows past RAW_RETENTION_DAYS deleted, per stream


PostStep = Callable[[Engine, SyncRequest, "RunSummary"], None]
# Stores on which post steps grouped by `Alongside` run at once: on PostgreSQL most of a step's time is the
# server's, in a process of its own. On SQLite much of it is SQLite's own reading, which Python's driver
# does without the GIL and WAL lets run beside a writer; the parts' write transactions take turns (each
# starts with the fence's UPDATE, which waits for the lock under the busy timeout). 2,000-account daily
# run: the group 0.9-4.3 s shorter than in order in each of four alternating pairs (docs/benchmark-log.md,
# session 30).
ALONGSIDE_DIALECTS = frozenset({"postgresql", "sqlite"})


class Alongside:
    """Post steps that run at once: each reads only what the steps before the group wrote and writes rows
    no other part reads or writes, and none writes the summary. On ALONGSIDE_DIALECTS every part
    but the last starts on a thread of its own (each opens its own connections) and the last runs on the
    calling thread; the group ends when all have ended (none is cut short in its transaction), and a
    part's failure is the group's. Elsewhere they run in order, and a failure stops there, as a step's
    stops the run."""

    def __init__(self, *parts: PostStep) -> None:
        self.parts = list(parts)

    def __call__(self, engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        if engine.dialect.name not in ALONGSIDE_DIALECTS:
            for part in self.parts:
                part(engine, request, summary)
            return
        *others, last = self.parts
        with ThreadPoolExecutor(max(len(others), 1), thread_name_prefix="cscx-step") as pool:
            started = [pool.submit(part, engine, request, summary) for part in others]
            last(engine, request, summary)  # a failure here still waits for the others (leaving the pool)
        for future in started:
            future.result()


class SyncRunner:
    """Runs a sync against one Pendo host into one store."""

    def __init__(self, settings: Settings, engine: Engine, client: PendoClient, *,
                 progress: Progress | None = None, after_windows: Sequence[PostStep] = (),
                 steps: Sequence[PostStep] = ()) -> None:
        """`after_windows` run once the windows are written, withheld ones or not (account mapping);
        `steps` only when no window was withheld, each behind the fence (metrics, health, alerts).
        The pipeline (pendo_core/pipeline/run.py) supplies both."""
        self.settings = settings
        self.engine = engine
        self.sessions: sessionmaker[Session] = sessionmaker(engine, expire_on_commit=False)
        self.client = client
        self.progress = progress or LogProgress()
        self.after_windows = list(after_windows)
        self.steps = list(steps)
        self.bad = BadRows()
        self._shared = threading.Lock()  # what the lanes share: bad rows, the summary's lists, the progress

    def run(self, request: SyncRequest) -> RunSummary:
        """The whole run; raises SyncError with a one-line reason when it cannot finish."""
        with self.sessions.begin() as session:
            run_id = store.start_run(session, mode=request.mode, as_of=request.as_of,
                                     backfill_days=request.backfill_days, host=self.settings.base_url)
        summary = RunSummary(run_id, request.as_of, request.as_of - timedelta(days=1))
        try:
            self._run(request, summary)
            self._hold_fence(run_id)  # a run overtaken by a newer one never reports success
        except Exception as exc:
            reason = _one_line(exc)
            self._finish(summary, "failed", reason)
            raise (SuspectWindows if isinstance(exc, SuspectWindows) else SyncError)(reason) from exc
        self._finish(summary, "success", None)
        return summary

    def _run(self, request: SyncRequest, summary: RunSummary) -> None:
        self.client.retrying(self.client.verify)
        summary.report_first = self._report_start(request)
        self._entities_and_windows(request, summary)
        if summary.changed_from is not None:
            with self.sessions.begin() as session:
                refresh_statistics(session, [stream.table.name for stream in EVENT_STREAMS])
        with self.sessions.begin() as session:
            entities.add_accounts_seen_in_activity(session)
        for step in self.after_windows:
            step(self.engine, request, summary)
        if summary.suspect:  # metrics, health and alerts wait: those days are unknown, not zero
            raise SuspectWindows(_suspect_reason(summary.suspect))
        for step in self.steps:
            self._hold_fence(summary.run_id)
            step(self.engine, request, summary)

    def _entities_and_windows(self, request: SyncRequest, summary: RunSummary) -> None:
        """The entities, then the usage windows; at once where the store takes the lanes and the client has a
        request to spare for the entities beside them (`ENTITIES_BESIDE_DIALECTS`). Neither reads what the
        other writes. A failure of either is the run's once both have ended (the windows' first), and every
        window written meanwhile stays: each is its own transaction. The entities' row counts go on the
        summary first either way, a failed run's too (as far as they got)."""
        entity_rows: dict[str, int] = {}
        try:
            if self.engine.dialect.name not in ENTITIES_BESIDE_DIALECTS or self.settings.max_concurrency <= LANES:
                self._sync_entities(entity_rows)
                summary.refetched, summary.changed_from = self._sync_usage(request, summary)
            else:
                with ThreadPoolExecutor(1, thread_name_prefix="cscx-entities") as pool:
                    beside = pool.submit(self._sync_entities, entity_rows)
                    summary.refetched, summary.changed_from = self._sync_usage(request, summary)  # on failure, waits
                beside.result()
        finally:
            summary.rows = {**entity_rows, **summary.rows}  # the entities first, as `describe` prints them

    def _sync_entities(self, rows: dict[str, int]) -> None:
        """Accounts, visitors, features, pages and guides; their row counts into `rows` by name as each ends."""
        bad = BadRows()  # merged once they end, failed or not: the lanes merge theirs meanwhile
        try:
            rows["accounts"] = entities.sync_accounts(self.client, self.sessions, bad)
            rows["visitors"] = entities.sync_visitors(self.client, self.sessions, bad,
                                                      identified_only=not self.settings.include_anonymous)
            rows.update(entities.sync_definitions(self.client, self.sessions, bad))
        finally:
            with self._shared:
                self.bad.merge(bad)
        if rows["accounts"] or rows["visitors"]:  # the contact matching reads visitors by e-mail
            with self.sessions.begin() as session:
                refresh_statistics(session, [models.PendoAccount.__tablename__, models.PendoVisitor.__tablename__])

    def _hold_fence(self, run_id: int) -> None:
        with self.sessions.begin() as session:
            store.hold_fence(session, run_id)

    # --- usage windows -----------------------------------------------------------------------

    def _report_start(self, request: SyncRequest) -> date:
        """First reported day: a backfill's N days, else the existing range (90 days when empty)."""
        with self.sessions.begin() as session:
            existing = store.get_watermark(session, REPORT_START)
            days = request.backfill_days or self.settings.backfill_days
            start = request.as_of - timedelta(days=days)
            if existing and (request.backfill_days is None or date.fromisoformat(existing) < start):
                start = date.fromisoformat(existing)
            store.set_watermark(session, REPORT_START, start.isoformat())
        return start

    def _sync_usage(self, request: SyncRequest, summary: RunSummary) -> tuple[date | None, date | None]:
        """Reads every window that is missing or not final; returns the earliest reported day re-read,
        and the earliest whose window changed the stored rows (None: none did)."""
        plan: list[tuple[EventStream, list[Window]]] = []
        for stream in sorted(EVENT_STREAMS, key=lambda s: LANE_ORDER.index(s.name)):
            with self.sessions() as session:
                coverage = store.load_coverage(session, stream.name)
            needed = days_to_read(
                summary.report_first - timedelta(days=stream.reach_back), summary.report_last, coverage,
                as_of=request.as_of, lookback_days=self.settings.lookback_days,
                include_anonymous=self.settings.include_anonymous,
            )
            plan.append((stream, windows(needed, self.settings.window_days)))
        self.progress.start(sum(len(ws) for _, ws in plan))
        queue, tally = _StreamQueue(plan), _Tally(summary)
        lanes = LANES if self.engine.dialect.name in LANE_DIALECTS and self.settings.max_concurrency >= LANES else 1
        if lanes == 1:
            self._write_lane(queue, tally, request)
        else:
            with ThreadPoolExecutor(lanes - 1, thread_name_prefix="cscx-lane") as pool:
                others = [pool.submit(self._write_lane, queue, tally, request) for _ in range(lanes - 1)]
                self._write_lane(queue, tally, request)  # on failure, waits for the others' current window
            for other in others:  # this lane ended well: the first failure of another one is the run's
                other.result()
        self.progress.stop()
        return tally.earliest, tally.changed

    def _write_lane(self, queue: _StreamQueue, tally: _Tally, request: SyncRequest) -> None:
        """Write the windows of stream after stream taken from `queue`, each stream's in order, until it is
        empty or another lane failed; a failure here stops the others after their current window."""
        lane: list[tuple[EventStream, Window]] = []
        ahead = _ReadAhead(self, lane, request)
        read_ahead = self.engine.dialect.name in READ_AHEAD_DIALECTS
        try:
            index = 0
            while True:
                if index + 1 >= len(lane):  # take the next stream before the last window, so it is read ahead
                    lane.extend(queue.take())
                if index >= len(lane) or queue.stopped:
                    return
                stream, window = lane[index]
                rows, moved = self._sync_window(stream, window, request, tally.summary,
                                                (ahead, index) if read_ahead else None)
                tally.add(stream, window, rows, moved)
                index += 1
        except BaseException:
            queue.stop()
            raise
        finally:
            ahead.cancel()

    def _rows(self, stream: EventStream, window: Window, request: SyncRequest) -> Iterator[AnswerRow]:
        """The window's answer, streamed (the request is sent on the first row)."""
        pipeline = stream.pipeline(window.first, window.last, self.settings.tz, not self.settings.include_anonymous)
        return self.client.aggregate(pipeline, request_id=f"cscx-{stream.name}",
                                     require_results=not request.accept_restatement,
                                     row_type=stream.typed.struct if stream.typed else None)

    def _sync_window(self, stream: EventStream, window: Window, request: SyncRequest, summary: RunSummary,
                     planned: tuple[_ReadAhead, int] | None = None) -> tuple[int, date | None]:
        """Read and write one window: (rows written, the first day whose stored rows may have changed)."""
        read_ahead = planned is not None  # the read-ahead serves a planned window's first attempt only
        straight = True  # until an answer copied straight into the table repeats a key

        def read_and_write() -> store.WindowResult:
            nonlocal read_ahead
            if not read_ahead:
                return self._write_window(stream, window, request, summary.run_id,
                                          lambda: self._rows(stream, window, request), straight=straight)
            read_ahead = False
            assert planned is not None
            ahead, index = planned
            try:
                return self._write_window(stream, window, request, summary.run_id, lambda: ahead.take(index).rows(),
                                          straight=straight)
            except BaseException:
                ahead.cancel()  # a retry or split reads afresh, never behind a paused stream
                raise

        def attempt() -> store.WindowResult:
            nonlocal straight
            try:
                return read_and_write()
            except DuplicateKey:  # rolled back; read again and staged, so the guard sees the repeat and withholds
                straight = False
                return read_and_write()
            except store.StaleDigests as exc:  # rolled back; read again and compared row by row, without digests
                log.warning("%s; the stream's digests are forgotten and the window written again", exc)
                with self.sessions.begin() as session:
                    store.forget_stream_digests(session, stream.name, summary.run_id)
                return read_and_write()

        try:
            result = self.client.retrying(attempt)
        except _WindowTooBig:
            first, second = window.halves()
            with self._shared:
                self.progress.note(f"{stream.name} {window.first}..{window.last} timed out; splitting it")
            halves = [self._sync_window(stream, half, request, summary) for half in (first, second)]
            return sum(rows for rows, _ in halves), min((d for _, d in halves if d is not None), default=None)
        except PendoResponseError as exc:  # no rows at all (results null, not JSON): nothing to apply
            result = self._withhold(stream, window, summary.run_id, store.WindowWithheld(str(exc), BadRows(), 0))
        except store.WindowWithheld as exc:  # its transaction rolled back: the stored rows are as they were
            result = self._withhold(stream, window, summary.run_id, exc)
        where = f"{stream.name} {window.first}..{window.last}"
        with self._shared:  # the lanes report one at a time
            self.bad.merge(result.bad)
            if result.suspect:
                summary.suspect.append(f"{where}: {result.suspect}")
                self.progress.note(f"{where} withheld, stored rows kept: {result.suspect}")
            if result.accepted:
                summary.accepted.append(f"{where}: {result.accepted}")
            self.progress.window_done(stream.name, window.first.isoformat(), window.last.isoformat(), result.rows)
        return result.rows, result.changed_from

    def _write_window(self, stream: EventStream, window: Window, request: SyncRequest,
                      run_id: int, open_rows: Callable[[], Iterator[AnswerRow]], *,
                      straight: bool) -> store.WindowResult:
        try:
            with self.sessions.begin() as session:
                store.hold_fence(session, run_id)
                result = store.write_guarded(
                    session, stream, window, open_rows(), tz=self.settings.tz, as_of=request.as_of,
                    include_anonymous=self.settings.include_anonymous, run_id=run_id,
                    accept=request.accept_restatement, straight=straight,
                    digest_from=request.as_of - timedelta(days=self.settings.lookback_days),
                )
                if result.changed_from:  # committed with the rows: a run that dies before the metrics leaves it
                    store.lower_date_watermark(session, METRICS_STALE_FROM, result.changed_from)
                return result
        except PendoTimeoutError as exc:
            if window.days > 1:
                raise _WindowTooBig from exc
            raise

    def _withhold(self, stream: EventStream, window: Window, run_id: int,
                  withheld: store.WindowWithheld) -> store.WindowResult:
        with self.sessions.begin() as session:
            store.hold_fence(session, run_id)
            store.withhold(session, run_id, stream.name, window, withheld.why, rows=withheld.rows, bad=withheld.bad)
        return store.WindowResult(0, withheld.bad, None, suspect=withheld.why)  # the stored rows kept

    def _finish(self, summary: RunSummary, status: str, error: str | None) -> None:
        stats: dict[str, Any] = {"rows": summary.rows, "windows": summary.windows,
                                 "report_first": summary.report_first.isoformat(),
                                 "report_last": summary.report_last.isoformat(),
                                 "suspect": summary.suspect, "accepted": summary.accepted, "purged": summary.purged}
        summary.requests, summary.retries = self.client.stats.requests, self.client.stats.retries
        summary.bad_rows = self.bad.total
        with self.sessions.begin() as session:
            store.finish_run(session, summary.run_id, status=status, stats=stats, requests=summary.requests,
                             retries=summary.retries, bad=self.bad, error=error)


class _StreamQueue:
    """The streams still to write, with their windows, handed to the lanes one stream at a time: a stream's
    windows are written in order by one lane, so two transactions never write one table's rows at once."""

    def __init__(self, plan: Sequence[tuple[EventStream, list[Window]]]) -> None:
        self._left = deque(plan)
        self._lock = threading.Lock()
        self._stopped = threading.Event()

    def take(self) -> list[tuple[EventStream, Window]]:
        """The next stream's windows (none when every stream is taken or a lane failed)."""
        with self._lock:
            while self._left and not self._stopped.is_set():
                stream, planned = self._left.popleft()
                if planned:
                    return [(stream, window) for window in planned]
            return []

    def stop(self) -> None:
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()


class _Tally:
    """The lanes' written windows added up on the run's summary: rows per stream, the earliest reported
    day re-read and the earliest changed."""

    def __init__(self, summary: RunSummary) -> None:
        self.summary = summary
        self.earliest: date | None = None
        self.changed: date | None = None
        self._lock = threading.Lock()

    def add(self, stream: EventStream, window: Window, rows: int, moved: date | None) -> None:
        with self._lock:
            summary = self.summary
            summary.rows[stream.name] = summary.rows.get(stream.name, 0) + rows
            summary.windows += 1
            self.earliest = _earliest(self.earliest, max(window.first, summary.report_first))
            if moved is not None:  # day x moves metrics of days >= x
                self.changed = _earliest(self.changed, max(moved, summary.report_first))
                self.earliest = min(self.earliest, self.changed)  # a guide event may be stamped before its window


class _ReadAhead:
    """Reads a lane's window N+1 while window N is written: at most one answer ahead, started only once N's
    answer is fully read, so a lane has one HTTP stream open at a time. Any failure cancels what is ahead
    (the retry reads afresh), so a retry never waits behind a paused stream."""

    def __init__(self, runner: SyncRunner, plan: Sequence[tuple[EventStream, Window]], request: SyncRequest) -> None:
        self.runner, self.plan, self.request = runner, plan, request
        self.current: Prefetch | None = None
        self.next: tuple[int, Prefetch] | None = None

    def take(self, index: int) -> Prefetch:
        """The read of plan[index] (started now unless it ran ahead), with plan[index + 1] to follow it."""
        if self.current is not None:
            self.current.cancel()  # finished by now, unless the window failed part-way
        ready = self.next[1] if self.next and self.next[0] == index else None
        if ready is None:
            self.cancel()
            ready = self._start(index)
        self.current, self.next = ready, None
        if index + 1 < len(self.plan):
            ready.when_read(lambda: self._ahead(index + 1))
        return ready

    def cancel(self) -> None:
        """Stop every read still running: the current one first, so it cannot start another, then the
        one it may have started meanwhile."""
        if self.current is not None:
            self.current.cancel()
        if self.next is not None:
            self.next[1].cancel()
        self.current = self.next = None

    def _ahead(self, index: int) -> None:
        self.next = (index, self._start(index))

    def _start(self, index: int) -> Prefetch:
        stream, window = self.plan[index]
        return Prefetch(lambda: self.runner._rows(stream, window, self.request))


def _earliest(current: date | None, day: date) -> date:
    return day if current is None else min(current, day)


def _suspect_reason(suspect: list[str]) -> str:
    """One line: what was withheld, that nothing was lost, and the way out."""
    more = f" (and {len(suspect) - 1} more)" if len(suspect) > 1 else ""
    return (f"{len(suspect)} suspect window(s) withheld, stored rows kept: {suspect[0]}{more}. Metrics and alerts "
            "were not updated. See pendo_data_quality_issues; if Pendo really restated that data, run "
            "`python -m jobs sync --accept-restatement`")


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, PendoError | SyncError | store.RunSuperseded):
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}"[:500]
