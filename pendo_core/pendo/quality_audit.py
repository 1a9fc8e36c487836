"""The data-quality audit: the store's figures against aggregates Pendo computes itself.

The sync reads Pendo's rows grouped per visitor; the audit asks for coarser aggregates the sync
never requests, so a bug in our fetching, writing or metric code shows up as a difference:

- `account_day`: `events` grouped by (account, day), with Pendo's own distinct count of the
  visitors with numEvents > 0 and its summed events, against `pendo_visitor_days`;
- `feature_day`: `featureEvents` grouped by (account, feature, day), clicks summed, added up over
  accounts, against `pendo_feature_visitor_days`;
- `customer_day`: the same clicks added up over each customer's accounts, against the feature
  events of `pendo_usage_metrics`, and the account's visitors against `dau` for customers with
  one account (a visitor of two accounts counts once in dau, so sums do not compare);
- `customer_feature_day`: the clicks per customer and feature, against `pendo_feature_usage`.

Each key (an account-day, a feature-day, ...) is one item; it matches when all its figures are
equal; a key on one side only is compared with zeros. Pendo may restate its newest ~9 days after a
sync, so on the real service a fresh mismatch there can be Pendo's, not ours: sync, then audit.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, case, func, select, update
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.common.timeutil import DayRange, day_of_ms, days_between, local_midnight_ms, parse_day_range
from pendo_core.pendo.client import PendoClient, queries
from pendo_core.pendo.sync.plan import windows
from pendo_core.pendo.sync.retention import kept_from_day
from pendo_core.pendo.sync.rows import BadRow, count, epoch_ms, text
from pendo_core.store import models

TARGET = 0.99  # the product document's target match rate
MAX_RECORDED = 200  # mismatches kept on the audit's row (all are printed)
CHECKS = ("account_day", "feature_day", "customer_day", "customer_feature_day")

Key = tuple[str, ...]
Figures = dict[Key, tuple[int | None, ...]]


class AuditError(RuntimeError):
    """The audit could not finish; one line naming the cause."""


@dataclass(frozen=True)
class Mismatch:
    """One figure that differs: which check, which key, Pendo's value and ours."""

    check: str
    key: Key
    figure: str
    pendo: int
    store: int

    def __str__(self) -> str:
        return f"{self.check} {' '.join(self.key)} {self.figure}: Pendo {self.pendo:,}, store {self.store:,}"


@dataclass
class AuditResult:
    """What one audit found."""

    run_id: int
    first: date
    last: date
    host: str
    by_check: dict[str, list[int]] = field(default_factory=dict)  # check -> [checked, matched]
    mismatches: list[Mismatch] = field(default_factory=list)
    unreadable_rows: int = 0

    @property
    def checked(self) -> int:
        return sum(c for c, _ in self.by_check.values())

    @property
    def matched(self) -> int:
        return sum(m for _, m in self.by_check.values())

    @property
    def match_rate(self) -> float:
        """Matched items / checked items (1.0 when there was nothing to compare)."""
        return self.matched / self.checked if self.checked else 1.0


# --- Pendo's side ---------------------------------------------------------------------------------


def account_day_pipeline(first_ms: int, last_ms: int, identified_only: bool) -> queries.Pipeline:
    """Distinct active visitors and summed events per account and day."""
    return [_source("events", first_ms, last_ms), *_identified(identified_only), {"filter": "numEvents > 0"},
            {"group": {"group": ["accountId", "day"],
                       "fields": {"visitors": {"count": "visitorId"}, "events": {"sum": "numEvents"}}}}]


def feature_day_pipeline(first_ms: int, last_ms: int, identified_only: bool) -> queries.Pipeline:
    """Summed clicks per account, feature and day."""
    return [_source("featureEvents", first_ms, last_ms), *_identified(identified_only),
            {"group": {"group": ["accountId", "featureId", "day"], "fields": {"clicks": {"sum": "numEvents"}}}}]


def _source(name: str, first_ms: int, last_ms: int) -> dict[str, Any]:
    series = queries.time_series("dayRange", first_ms, last_ms)
    return {"source": {name: {"appId": queries.ALL_APPS}, "timeSeries": series}}


def _identified(identified_only: bool) -> queries.Pipeline:
    return [{"identified": "visitorId"}] if identified_only else []


@dataclass
class PendoFigures:
    """Pendo's aggregates over the audited days, keyed by account."""

    account_days: dict[tuple[str, date], tuple[int, int]] = field(default_factory=dict)
    feature_days: dict[tuple[str, str, date], int] = field(default_factory=dict)
    unreadable: int = 0


def fetch_pendo(client: PendoClient, first: date, last: date, tz: ZoneInfo, *, window_days: int,
                identified_only: bool) -> PendoFigures:
    """Ask Pendo for the audit's aggregates, one window of days per request."""
    figures = PendoFigures()
    for window in windows(days_between(first, last), window_days):
        first_ms, last_ms = local_midnight_ms(window.first, tz), local_midnight_ms(window.last, tz)
        for row in client.aggregate_all(account_day_pipeline(first_ms, last_ms, identified_only),
                                        request_id="cscx-audit-accounts"):
            _read(figures, row, lambda r: _account_day(figures, r, tz))
        for row in client.aggregate_all(feature_day_pipeline(first_ms, last_ms, identified_only),
                                        request_id="cscx-audit-features"):
            _read(figures, row, lambda r: _feature_day(figures, r, tz))
    return figures


def _read(figures: PendoFigures, row: Mapping[str, Any], reader: Callable[[Mapping[str, Any]], None]) -> None:
    try:
        reader(row)
    except BadRow:
        figures.unreadable += 1


def _account_day(figures: PendoFigures, row: Mapping[str, Any], tz: ZoneInfo) -> None:
    key = (text(row, "accountId"), day_of_ms(epoch_ms(row, "day"), tz))
    visitors, events = figures.account_days.get(key, (0, 0))
    figures.account_days[key] = (visitors + count(row, "visitors"), events + count(row, "events"))


def _feature_day(figures: PendoFigures, row: Mapping[str, Any], tz: ZoneInfo) -> None:
    key = (text(row, "accountId"), text(row, "featureId"), day_of_ms(epoch_ms(row, "day"), tz))
    figures.feature_days[key] = figures.feature_days.get(key, 0) + count(row, "clicks")


# --- both sides, per check ------------------------------------------------------------------------


def pendo_checks(figures: PendoFigures, mapping: Mapping[str, str]) -> dict[str, Figures]:
    """Pendo's figures per check, rolled up to features and customers with the current mapping."""
    accounts = _accounts_per_customer(mapping)
    feature_day: dict[Key, int] = defaultdict(int)
    customer_feature: dict[Key, int] = defaultdict(int)
    feature_events: dict[Key, int] = defaultdict(int)
    for (account, feature, day), clicks in figures.feature_days.items():
        feature_day[(feature, day.isoformat())] += clicks
        if (customer := mapping.get(account)) is not None:
            customer_feature[(customer, feature, day.isoformat())] += clicks
            feature_events[(customer, day.isoformat())] += clicks
    dau: dict[Key, int] = {}
    for (account, day), (visitors, _events) in figures.account_days.items():
        if (customer := mapping.get(account)) is not None and accounts[customer] == 1:
            dau[(customer, day.isoformat())] = visitors
    # A visitor active in two accounts counts once in dau: no per-account sum to compare it with.
    customer_day: Figures = {key: (feature_events.get(key, 0), dau.get(key, 0) if accounts[key[0]] == 1 else None)
                    for key in feature_events.keys() | dau.keys()}
    return {
        "account_day": {(a, d.isoformat()): v for (a, d), v in figures.account_days.items()},
        "feature_day": {key: (n,) for key, n in feature_day.items()},
        "customer_day": customer_day,
        "customer_feature_day": {key: (n,) for key, n in customer_feature.items()},
    }


def _int(value: int | None) -> int:
    return value or 0


def store_checks(session: Session, first: date, last: date, mapping: Mapping[str, str]) -> dict[str, Figures]:
    """The store's figures for the same checks and days."""
    vd, fd = models.VisitorDay, models.FeatureVisitorDay
    um, fu = models.UsageMetric, models.FeatureUsage
    active = func.count(func.distinct(case((vd.num_events > 0, vd.visitor_id))))
    accounts = session.execute(select(vd.account_id, vd.day, active, func.sum(vd.num_events))
                               .where(vd.day.between(first, last)).group_by(vd.account_id, vd.day))
    features = session.execute(select(fd.feature_id, fd.day, func.sum(fd.num_events))
                               .where(fd.day.between(first, last)).group_by(fd.feature_id, fd.day))
    single = {c for c, n in _accounts_per_customer(mapping).items() if n == 1}
    customers = session.execute(select(um.customer_id, um.metric_date, um.feature_events, um.dau)
                                .where(um.metric_date.between(first, last)))
    clicks = session.execute(select(fu.customer_id, fu.feature_id, fu.metric_date, fu.clicks)
                             .where(fu.metric_date.between(first, last)))
    return {
        "account_day": {(a, _iso(d)): (int(v), int(e or 0)) for a, d, v, e in accounts},
        "feature_day": {(f, _iso(d)): (int(c or 0),) for f, d, c in features},
        "customer_day": {(c, _iso(d)): (int(fe), int(dau) if c in single else None) for c, d, fe, dau in customers},
        "customer_feature_day": {(c, f, _iso(d)): (int(n),) for c, f, d, n in clicks},
    }


def _accounts_per_customer(mapping: Mapping[str, str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for customer in mapping.values():
        counts[customer] += 1
    return counts


def _iso(day: date | str) -> str:
    return day if isinstance(day, str) else day.isoformat()


FIGURES = {"account_day": ("visitors", "events"), "feature_day": ("clicks",),
           "customer_day": ("feature_events", "dau"), "customer_feature_day": ("clicks",)}


def compare(check: str, pendo: Figures, stored: Figures) -> tuple[int, int, list[Mismatch]]:
    """(items checked, items matched, mismatches); a missing key reads as zeros, None is not compared."""
    names = FIGURES[check]
    zeros: tuple[int | None, ...] = (0,) * len(names)
    checked = matched = 0
    found: list[Mismatch] = []
    for key in sorted(pendo.keys() | stored.keys()):
        ours, theirs = stored.get(key, zeros), pendo.get(key, zeros)
        differ = [Mismatch(check, key, name, _int(p), _int(s)) for name, p, s in zip(names, theirs, ours, strict=True)
                  if p is not None and s is not None and p != s]
        checked += 1
        matched += not differ
        found.extend(differ)
    return checked, matched, found


# --- a whole audit ----------------------------------------------------------------------------------


def synced_range(engine: Engine) -> tuple[date, date] | None:
    """The reported days the store holds metrics and raw rows for (the last sync's range from the first
    day whose raw rows were kept), or None before any."""
    with Session(engine) as session:
        value = session.scalar(select(models.SyncWatermark.value).where(models.SyncWatermark.stream == "metrics_range"))
        kept_from = kept_from_day(session)
    span = parse_day_range(value)
    return None if span is None else DayRange(max(span.first, kept_from or span.first), span.last)


def run_audit(engine: Engine, client: PendoClient, settings: Settings, first: date, last: date, *,
              clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> AuditResult:
    """Compare the store with Pendo over [first, last]; record the audit (also when it fails)."""
    run_id = _start(engine, first, last, client.host, clock())
    result = AuditResult(run_id, first, last, client.host)
    try:
        figures = fetch_pendo(client, first, last, settings.tz, window_days=settings.window_days,
                              identified_only=not settings.include_anonymous)
        with Session(engine) as session:
            mapping = dict(session.execute(select(models.AccountMapping.pendo_account_id,
                                                  models.AccountMapping.customer_id)).tuples().all())
            stored = store_checks(session, first, last, mapping)
        _compare_all(result, pendo_checks(figures, mapping), stored)
        result.unreadable_rows = figures.unreadable
    except Exception as exc:
        reason = (str(exc).splitlines() or [type(exc).__name__])[0]
        _finish(engine, result, clock(), status="failed", error=reason)
        raise AuditError(f"audit failed: {reason}") from exc
    _finish(engine, result, clock(), status="success", error=None)
    return result


def _compare_all(result: AuditResult, pendo: dict[str, Figures], stored: dict[str, Figures]) -> None:
    for check in CHECKS:
        checked, matched, found = compare(check, pendo[check], stored[check])
        result.by_check[check] = [checked, matched]
        result.mismatches.extend(found)


def _start(engine: Engine, first: date, last: date, host: str, now: datetime) -> int:
    with Session(engine) as session, session.begin():
        run = models.AuditRun(started_at=now, status="running", first_day=first, last_day=last, host=host,
                              checked=0, matched=0)
        session.add(run)
        session.flush()
        return run.id


def _finish(engine: Engine, result: AuditResult, now: datetime, *, status: str, error: str | None) -> None:
    with Session(engine) as session, session.begin():
        session.execute(update(models.AuditRun).where(models.AuditRun.id == result.run_id).values(
            finished_at=now, status=status, checked=result.checked, matched=result.matched,
            match_rate=result.match_rate if status == "success" else None, by_check=result.by_check,
            mismatches=[str(m) for m in result.mismatches[:MAX_RECORDED]], error=error))


@dataclass(frozen=True)
class AuditSummary:
    """The newest audit, for the sync history page."""

    run_id: int
    status: str
    finished_at: datetime | None
    first_day: date | None
    last_day: date | None
    checked: int
    matched: int
    match_rate: float | None
    mismatches: list[str]
    error: str | None


def last_audit(engine: Engine) -> AuditSummary | None:
    """The most recent audit run (finished or not), or None when none ran."""
    with Session(engine) as session:
        run = session.scalars(select(models.AuditRun).order_by(models.AuditRun.id.desc()).limit(1)).first()
    if run is None:
        return None
    return AuditSummary(run.id, run.status, run.finished_at, run.first_day, run.last_day, run.checked, run.matched,
                        run.match_rate, list(run.mismatches or []), run.error)


def describe(result: AuditResult, items: Iterable[Mismatch] | None = None) -> list[str]:
    """The printed report: a headline, one line per check, then each mismatch."""
    lines = [f"audit {result.run_id}: days {result.first}..{result.last} against {result.host}: "
             f"{result.matched:,} of {result.checked:,} items match ({result.match_rate:.2%}; "
             f"target {TARGET:.0%})"]
    lines += [f"  {check}: {matched:,} of {checked:,} match" for check, (checked, matched) in result.by_check.items()]
    if result.unreadable_rows:
        lines.append(f"  {result.unreadable_rows:,} Pendo rows could not be read (missing or bad fields)")
    lines += [f"  mismatch: {m}" for m in (result.mismatches if items is None else items)]
    return lines
