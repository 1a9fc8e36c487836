"""The metrics step of a sync: restate the metrics of every day the run's windows could have moved.

A day whose raw rows changed moves the metrics of that day and later (windows of 7, 30 and 90 days
end there), so the step recomputes from the earliest such reported day (or from a day an earlier,
stopped run wrote without computing), and recomputes the whole reported range of a customer whose
set of Pendo accounts changed since its metrics were computed. A daily run re-reads its lookback
days, and most come back as they were: they move nothing (on PostgreSQL, which tells whether a
re-read changed a row; on SQLite every re-read day counts as changed). When what else the metrics
read has changed since they were computed (the feature and guide catalogue, the onboarding guides,
the anonymous-visitor rule: `inputs_digest`), every re-read day counts as changed. The range done
is kept as a watermark. Days whose raw rows were purged (RAW_RETENTION_DAYS,
`pendo_core.pendo.sync.retention`) are never restated: they keep their stored metrics, and the run
logs it. The first day computed is also kept for the health step (SCORES_STALE_FROM, lowered, cleared once
the scores are written), and the remapped customers are kept before their metrics are written
(`pendo_scores_stale_customers`, with the version of the mapping change; see `store.keep_stale_score_customers`),
so a run that stops anywhere between, or a mapping changed while it computes, leaves them to the next run.
The run keeps the visitors' settled rows as of its last day minus the lookback for the next one
(`usage.recency`), telling it the first raw day changed since (METRICS_STALE_FROM).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin.settings import current_settings
from pendo_core.common.config import Settings
from pendo_core.common.timeutil import DayRange, format_day_range, parse_day_range
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.retention import clamp_restatement
from pendo_core.pendo.sync.runner import (
    METRICS_RANGE,
    METRICS_STALE_FROM,
    SCORES_STALE_FROM,
    PostStep,
    RunSummary,
    SyncRequest,
)
from pendo_core.store import models
from pendo_core.usage.compute import compute_metrics
from pendo_core.usage.loader import catalogue_queries

METRICS_INPUTS = "metrics_inputs"  # inputs_digest of the last metrics computed


def make_metrics_step(settings: Settings) -> PostStep:
    """The post-sync step that computes usage, feature, guide and onboarding metrics."""

    def metrics_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        """Compute the metrics the run's windows moved (see the module docstring)."""
        compute_moved_metrics(settings, engine, summary)

    return metrics_step


def compute_moved_metrics(settings: Settings, engine: Engine, summary: RunSummary) -> None:
    """Recompute from the first moved day, and whole ranges for remapped customers; record the range.

    Leaves on the summary what moved for the health step: every customer from `metrics_first` on, and
    the customers in `metrics_stale` over the whole reported range (from its first restatable day).
    """
    first, last = summary.report_first, summary.report_last
    if last < first:  # nothing reported (as of a day before the stored start): what is left to compute stays so
        summary.metrics_first = last + timedelta(days=1)
        return
    with Session(engine) as session:
        done = parse_day_range(store.get_watermark(session, METRICS_RANGE))
        stale_from = store.get_watermark(session, METRICS_STALE_FROM)
        onboarding = current_settings(session)[1].health.onboarding_guide_ids
        inputs = inputs_digest(session, onboarding, settings.include_anonymous)
        same_inputs = store.get_watermark(session, METRICS_INPUTS) == inputs
        kept = store.stale_score_customers(session)
    moved = summary.changed_from if same_inputs else summary.refetched
    start = clamp_restatement(engine, _first_moved_day(first, last, moved, done, stale_from), last, "metrics")
    changed_accounts = customers_with_changed_accounts(engine, done.last) if done else []
    detected = set(changed_accounts)
    fence = store.run_fence(summary.run_id)
    if found := [c for c in changed_accounts if c not in kept]:  # kept before any of their metrics are written:
        with Session(engine) as session, session.begin():  # once written, they no longer look remapped
            fence(session.connection())
            store.keep_stale_score_customers(session, found)
            kept = store.stale_score_customers(session)
    pending = [c for c, (version, written) in kept.items() if written != version]  # mapped, or stopped, since
    stale = [*changed_accounts, *(c for c in pending if c not in detected)]
    versions = {c: kept[c][0] for c in stale}  # read before the metrics read the mapping
    anonymous = settings.include_anonymous
    if start <= last:  # the sync lowers METRICS_STALE_FROM to the first raw day it changed, ever
        changed = date.fromisoformat(stale_from) if stale_from else last + timedelta(days=1)
        compute_metrics(engine, first_day=start, last_day=last, include_anonymous=anonymous,
                        onboarding_guide_ids=onboarding, settled=last - timedelta(days=settings.lookback_days),
                        unchanged_before=changed, fence=fence)
    stale_first = (clamp_restatement(engine, first, last, f"metrics of {len(stale)} remapped customer(s)")
                   if stale else first)
    if stale and start > stale_first:  # else the recompute from `start` covered them
        compute_metrics(engine, first_day=stale_first, last_day=last, customer_ids=stale,
                        include_anonymous=anonymous, onboarding_guide_ids=onboarding, fence=fence)
    with Session(engine) as session, session.begin():
        fence(session.connection())
        store.set_watermark(session, METRICS_RANGE, format_day_range(first, last))
        store.set_watermark(session, METRICS_INPUTS, inputs)
        store.clear_watermark(session, METRICS_STALE_FROM)
        if start <= last:  # the health step scores from there, and clears it (this run's, or the next if this stops)
            store.lower_date_watermark(session, SCORES_STALE_FROM, start)
        store.mark_stale_metrics_written(session, versions)  # their whole range, either way
    summary.metrics_first = start
    summary.metrics_stale = stale if start > stale_first else []


def inputs_digest(session: Session, onboarding: tuple[str, ...] | None, include_anonymous: bool) -> str:
    """A digest of what the metrics read besides the raw rows and the mapping: the catalogue as the loader
    reads it (`loader.catalogue_queries`), the onboarding guides setting, the visitor rule."""
    digest = hashlib.sha256(repr((sorted(onboarding) if onboarding is not None else None,
                                  include_anonymous)).encode())
    for query in catalogue_queries().values():
        for row in session.execute(query.order_by(*query.selected_columns)):
            digest.update(repr(tuple(row)).encode())
        digest.update(b"|")
    return digest.hexdigest()


def _first_moved_day(first: date, last: date, moved: date | None, done: DayRange | None,
                     stale_from: str | None) -> date:
    """The first reported day whose metrics this run must compute (`last + 1`: none), given the first
    day whose raw rows this run changed (`moved`)."""
    if stale_from:  # windows an earlier run wrote but never computed metrics for (it stopped)
        moved = min(moved or last, max(first, date.fromisoformat(stale_from)))
    if done is None or done.first > first:
        return first
    return max(first, min(moved or last + timedelta(days=1), done.last + timedelta(days=1)))


def customers_with_changed_accounts(engine: Engine, computed_day: date) -> list[str]:
    """Customers whose set of Pendo accounts differs from the one their metrics were computed on, those
    left with none included (their rows are removed over the whole range).

    `computed_day` is the last day the previous runs computed (the watermark's end): a daily run's
    new last day has no metrics yet, and reading it would call every customer remapped.
    """
    with Session(engine) as session:
        current: dict[str, list[str]] = {}
        mapping = select(models.AccountMapping.pendo_account_id, models.AccountMapping.customer_id)
        for account, customer in session.execute(mapping):
            current.setdefault(customer, []).append(account)
        computed: dict[str, str] = dict(session.execute(
            select(models.UsageMetric.customer_id, models.UsageMetric.pendo_account_id)
            .where(models.UsageMetric.metric_date == computed_day)
        ).tuples().all())
    changed = [c for c, accounts in current.items() if computed.get(c) != ";".join(sorted(accounts))]
    return changed + sorted(c for c in computed if c not in current)  # every account unmapped: rows to remove
