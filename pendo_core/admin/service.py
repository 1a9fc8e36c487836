"""What the admin screens read and write, without Streamlit: the Pendo connection test, sync
history and a background sync, the account-mapping queue, and saving settings with a band preview.

Readers return pandas frames ready to show; writers own their transaction (they commit) and record
who did what in `app_audit_log`, since every admin write is audited.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.admin.secrets import explain_key_error
from pendo_core.admin.settings import AppSettings, HealthSettings, save_settings, settings_history
from pendo_core.config import REGION_HOSTS
from pendo_core.customers.repo import confirm_mapping, list_suggestions, list_unmapped_accounts, unmap
from pendo_core.health import score
from pendo_core.health.backtest import BANDS
from pendo_core.pendo.client import PendoClient, PendoError
from pendo_core.store import models

T = TypeVar("T")
STALE_RUNNING = timedelta(hours=6)  # a "running" row older than this belongs to a run that died
CONNECT_TIMEOUT_S = 10.0

# --- audit -----------------------------------------------------------------------------------


def audit(session: Session, actor: str, action: str, details: dict[str, Any] | None = None) -> None:
    """Append one admin write to the audit log (in the caller's transaction)."""
    session.add(models.AuditLog(actor=actor, action=action, details=details, at=datetime.now(UTC)))


# --- Pendo connection ------------------------------------------------------------------------


@dataclass(frozen=True)
class ConnectionCheck:
    """The answer of a connection test: did the key work, and a one-line reason naming the fix."""

    ok: bool
    message: str


def pendo_host(region: str, base_url: str | None = None) -> str:
    """The API host a test or sync talks to: an explicit base URL wins over the region."""
    return (base_url or REGION_HOSTS[region]).strip().rstrip("/")


def check_connection(key: str, region: str, base_url: str | None = None, *,
                     timeout: float = CONNECT_TIMEOUT_S) -> ConnectionCheck:
    """Try one cheap authenticated read against Pendo without storing anything; name the problem."""
    key = key.strip()
    if not key:
        return ConnectionCheck(False, "Enter the integration key first (Pendo: Settings → Integrations → "
                                      "Integration Keys).")
    url = pendo_host(region, base_url)
    try:
        with PendoClient(url, key, timeout=timeout, max_concurrency=1) as client:
            client.verify()
    except (PendoError, ValueError) as exc:  # ValueError: a key or URL httpx cannot even send
        return ConnectionCheck(False, explain_key_error(exc, url, region).replace(key, "<redacted>"))
    return ConnectionCheck(True, f"Connected to {url}: Pendo accepted the key.")


# --- sync history ----------------------------------------------------------------------------

RUN_COLUMNS = ["run", "status", "mode", "started", "finished", "minutes", "as_of", "days", "requests",
               "retries", "bad_rows", "error"]


def sync_runs(engine: Engine, limit: int = 50) -> pd.DataFrame:
    """The newest sync runs, one row each: when, how long, what range, requests, bad rows, error."""
    runs = models.SyncRun
    with engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.id.desc()).limit(limit)).mappings().all()
    return pd.DataFrame([_run_row(r) for r in rows], columns=RUN_COLUMNS)


def _run_row(r: Any) -> dict[str, Any]:
    stats = r["stats"] or {}
    span = f"{stats['report_first']} → {stats['report_last']}" if stats.get("report_first") else ""
    took = (r["finished_at"] - r["started_at"]).total_seconds() / 60 if r["finished_at"] else None
    return {"run": r["id"], "status": r["status"], "mode": r["mode"], "started": r["started_at"],
            "finished": r["finished_at"], "minutes": None if took is None else round(took, 1), "as_of": r["as_of"],
            "days": span, "requests": r["requests"], "retries": r["retries"], "bad_rows": r["bad_rows"],
            "error": r["error"] or ""}


def stream_rows(engine: Engine, run_ids: list[int]) -> pd.DataFrame:
    """Rows written and bad rows skipped per run and stream (from the run's stats and data-quality log)."""
    runs, issues = models.SyncRun, models.DataQualityIssue
    with engine.connect() as conn:
        stats = conn.execute(select(runs.id, runs.stats).where(runs.id.in_(run_ids))).all()
        bad = conn.execute(select(issues.run_id, issues.stream, func.sum(issues.count))
                           .where(issues.run_id.in_(run_ids)).group_by(issues.run_id, issues.stream)).all()
    written = {(run, stream): n for run, s in stats for stream, n in ((s or {}).get("rows") or {}).items()}
    skipped = {(run, stream): int(n) for run, stream, n in bad}
    keys = sorted(written.keys() | skipped.keys(), key=lambda k: (-k[0], k[1]))
    return pd.DataFrame([{"run": run, "stream": stream, "rows": written.get((run, stream), 0),
                          "bad_rows": skipped.get((run, stream), 0)} for run, stream in keys],
                        columns=["run", "stream", "rows", "bad_rows"])


def data_quality(engine: Engine, run_ids: list[int]) -> pd.DataFrame:
    """Every bad-row reason recorded by the given runs, with a sample row."""
    issues = models.DataQualityIssue
    stmt = (select(issues.run_id, issues.stream, issues.reason, issues.count, issues.sample)
            .where(issues.run_id.in_(run_ids)).order_by(issues.run_id.desc(), issues.count.desc()))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    return pd.DataFrame(rows, columns=["run", "stream", "reason", "count", "sample"])


def running_sync(engine: Engine, now: datetime | None = None) -> int | None:
    """The id of a run still marked running and recent enough to be alive, else None."""
    runs = models.SyncRun
    since = (now or datetime.now(UTC)) - STALE_RUNNING
    with engine.connect() as conn:
        rows = conn.execute(select(runs.id, runs.started_at).where(runs.status == "running")
                            .order_by(runs.id.desc())).all()
    alive = [run for run, started in rows if _aware(started) >= since]
    return alive[0] if alive else None


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass
class SyncJobState:
    """Where the app's background sync is: idle, running, success or failed, with its message."""

    status: str = "idle"
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None
    runs: int = 0


@dataclass
class BackgroundSync:
    """Runs one sync at a time on a daemon thread, so the page stays responsive; the app polls it."""

    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    _state: SyncJobState = field(default_factory=SyncJobState)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _thread: threading.Thread | None = None

    @property
    def state(self) -> SyncJobState:
        """A copy of the current state."""
        with self._lock:
            return SyncJobState(**vars(self._state))

    def start(self, run: Callable[[], str]) -> bool:
        """Start `run` (returns a summary line; raises on failure) unless one is running; False if so."""
        with self._lock:
            if self._state.status == "running":
                return False
            self._state = SyncJobState("running", self.clock(), None, None, self._state.runs)
            self._thread = threading.Thread(target=self._work, args=(run,), name="app-sync", daemon=True)
            self._thread.start()
        return True

    def wait(self, timeout: float | None = None) -> SyncJobState:
        """Block until the current run ends (for tests and scripts)."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.state

    def _work(self, run: Callable[[], str]) -> None:
        try:
            status, message = "success", run()
        except Exception as exc:  # the reason goes to the page; the thread must never die silently
            status, message = "failed", (str(exc).splitlines() or [type(exc).__name__])[0]
        with self._lock:
            self._state.status, self._state.message = status, message
            self._state.finished_at, self._state.runs = self.clock(), self._state.runs + 1


class BackgroundValue(Generic[T]):
    """Computes one value on a daemon thread, so a page can draw first and show the value when ready."""

    def __init__(self, compute: Callable[[], T]) -> None:
        self._value: T | None = None
        self.error: str | None = None
        self._done = threading.Event()
        threading.Thread(target=self._run, args=(compute,), name="app-background-value", daemon=True).start()

    def _run(self, compute: Callable[[], T]) -> None:
        try:
            self._value = compute()
        except Exception as exc:  # the page shows the reason; the thread must never die silently
            self.error = (str(exc).splitlines() or [type(exc).__name__])[0]
        finally:
            self._done.set()

    @property
    def ready(self) -> bool:
        """True once the value (or an error) is there."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> T | None:
        """The value, waiting up to `timeout` seconds; None while not ready or after an error."""
        self._done.wait(timeout)
        return self._value


# --- the mapping queue -----------------------------------------------------------------------


def unmapped_accounts(engine: Engine) -> pd.DataFrame:
    """Pendo accounts no customer owns, with their best suggestion (if any) and its score."""
    with Session(engine) as session:
        accounts = list_unmapped_accounts(session)
        best: dict[str, Any] = {}
        for s in list_suggestions(session):
            best.setdefault(s.account_id, s)  # best first within each account
    rows = [{"account_id": a.account_id, "account_name": a.name or "", "domain": a.domain or "",
             "last_visit": _day(a.last_visit), "best_match": best[a.account_id].customer_name if a.account_id in best
             else "", "score": best[a.account_id].score if a.account_id in best else None} for a in accounts]
    return pd.DataFrame(rows, columns=["account_id", "account_name", "domain", "last_visit", "best_match", "score"])


def suggestions(engine: Engine) -> pd.DataFrame:
    """Every stored suggestion of still-unmapped accounts, best first within each account."""
    with Session(engine) as session:
        rows = [asdict(s) for s in list_suggestions(session)]
    return pd.DataFrame(rows, columns=["account_id", "account_name", "customer_id", "customer_name", "score",
                                       "reason"])


def _day(ms: int | None) -> date | None:
    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC).date()


def mapped_accounts(engine: Engine) -> pd.DataFrame:
    """Every mapped Pendo account with its customer, how it was mapped, when and by whom."""
    m, c, a = models.AccountMapping, models.Customer, models.PendoAccount
    stmt = (select(m.pendo_account_id, a.name, c.customer_id, c.name, m.method, m.mapped_at, m.mapped_by)
            .join(c, c.customer_id == m.customer_id).outerjoin(a, a.account_id == m.pendo_account_id)
            .order_by(c.name, m.pendo_account_id))
    with engine.connect() as conn:
        rows = conn.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["account_id", "account_name", "customer_id", "customer_name", "method",
                                        "mapped_at", "mapped_by"])
    frame["account_name"] = frame["account_name"].fillna("")
    frame["mapped_by"] = frame["mapped_by"].fillna("")
    return frame


def confirm_account(engine: Engine, account_id: str, customer_id: str, by: str) -> None:
    """Map a Pendo account to a customer by hand (replacing any mapping); audited. LookupError if unknown."""
    with Session(engine) as session, session.begin():
        confirm_mapping(session, account_id, customer_id, by)
        audit(session, by, "mapping.confirm", {"account_id": account_id, "customer_id": customer_id})


def unmap_account(engine: Engine, account_id: str, by: str) -> bool:
    """Remove an account's mapping and remember the refusal for automatic matching; audited."""
    with Session(engine) as session, session.begin():
        row = session.get(models.AccountMapping, account_id)
        if row is None:
            return False
        customer = row.customer_id
        unmap(session, account_id)
        session.merge(models.MappingRejection(pendo_account_id=account_id, customer_id=customer, rejected_by=by,
                                              rejected_at=datetime.now(UTC)))
        audit(session, by, "mapping.unmap", {"account_id": account_id, "customer_id": customer})
    return True


# --- settings --------------------------------------------------------------------------------


def save_app_settings(engine: Engine, settings: AppSettings, by: str, note: str | None) -> int:
    """Save the settings as a new version (who, when, note) and audit it; returns the version."""
    with Session(engine) as session, session.begin():
        version = save_settings(session, settings, by, (note or "").strip() or None)
        audit(session, by, "settings.save", {"version": version, "note": note})
    return version


def settings_versions(engine: Engine) -> pd.DataFrame:
    """Every saved settings version, newest first, with what it changed."""
    with Session(engine) as session:
        views = settings_history(session)
    rows = [{"version": v.version, "saved_at": v.created_at, "saved_by": v.created_by, "note": v.note or "",
             "changes": "; ".join(f"{c.path}: {c.old} → {c.new}" for c in v.changes) or "no change"}
            for v in views]
    return pd.DataFrame(rows, columns=["version", "saved_at", "saved_by", "note", "changes"])


def latest_components(engine: Engine) -> pd.DataFrame:
    """The newest scored day's stored components and band of every customer (for the band preview)."""
    h = models.HealthScore
    with engine.connect() as conn:
        last = conn.execute(select(func.max(h.score_date))).scalar()
        if last is None:
            return pd.DataFrame(columns=["customer_id", "score_date", "band", *score.COMPONENTS])
        stmt = select(h.customer_id, h.score_date, h.band, *(getattr(h, n) for n in score.COMPONENTS))
        rows = conn.execute(stmt.where(h.score_date == last)).all()
    return pd.DataFrame(rows, columns=["customer_id", "score_date", "band", *score.COMPONENTS])


@dataclass(frozen=True)
class BandPreview:
    """How candidate health settings would re-band the customers scored on the newest day."""

    customers: int
    changed: int
    moves: pd.DataFrame  # from_band, to_band, customers (only the bands that change)
    counts: pd.DataFrame  # band, now, candidate


def preview_bands(latest: pd.DataFrame, health: HealthSettings) -> BandPreview:
    """Re-score the stored components with candidate weights and bands; count who changes band."""
    bands = list(BANDS)
    if latest.empty:
        empty = pd.DataFrame({"band": bands, "now": 0, "candidate": 0})
        return BandPreview(0, 0, pd.DataFrame(columns=["from_band", "to_band", "customers"]), empty)
    values = {n: latest[n].to_numpy(dtype=float) for n in score.COMPONENTS}
    overall, _ = score.combine(values, health.weights.as_dict(), health.coverage_floor)
    candidate = score.bands(overall, health.red_below, health.green_from)
    now = latest["band"].to_numpy(dtype=str)
    moved = pd.DataFrame({"from_band": now, "to_band": candidate})[now != candidate]
    moves = moved.value_counts().rename("customers").reset_index()
    counts = pd.DataFrame({"band": bands, "now": [int((now == b).sum()) for b in bands],
                           "candidate": [int((candidate == b).sum()) for b in bands]})
    return BandPreview(len(latest), int(np.sum(now != candidate)), moves, counts)
