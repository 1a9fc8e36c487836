"""The store's tables. Columns named in interfaces.md are a contract; the rest is ours.

Pendo instants stay epoch milliseconds (BigInteger), as Pendo sends them; calendar days are
`Date` in the subscription's timezone.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


# --- CSCX side -------------------------------------------------------------------------------


class Csm(Base):
    __tablename__ = "csms"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    manager_email: Mapped[str | None] = mapped_column(String(320))
    delivery: Mapped[str] = mapped_column(String(20), default="immediate", server_default="immediate")
    # The CSM's own Slack-style webhook, Fernet-encrypted like app_secrets (pendo_core/admin/delivery.py).
    webhook_ciphertext: Mapped[str | None] = mapped_column(Text)
    webhook_hint: Mapped[str | None] = mapped_column(String(20))


class Customer(Base):
    __tablename__ = "customers"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(300))
    segment: Mapped[str | None] = mapped_column(String(100))
    arr: Mapped[float | None] = mapped_column(Float)
    renewal_date: Mapped[date | None] = mapped_column(Date)
    csm_email: Mapped[str | None] = mapped_column(ForeignKey("csms.email"), index=True)
    updated_at: Mapped[datetime] = _now()


class AccountMapping(Base):
    """Which CSCX customer owns a Pendo account (one customer may own several)."""

    __tablename__ = "pendo_account_mapping"
    pendo_account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    mapped_at: Mapped[datetime] = _now()
    method: Mapped[str] = mapped_column(String(20))  # import | auto_domain | auto_name | manual
    mapped_by: Mapped[str | None] = mapped_column(String(320))


class MappingRejection(Base):
    """An account an admin unmapped or refused: never mapped automatically to that customer again."""

    __tablename__ = "pendo_mapping_rejections"
    pendo_account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    rejected_at: Mapped[datetime] = _now()
    rejected_by: Mapped[str | None] = mapped_column(String(320))


class MappingSuggestion(Base):
    __tablename__ = "pendo_mapping_suggestions"
    pendo_account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(200))


# --- Pendo entities --------------------------------------------------------------------------


class PendoAccount(Base):
    __tablename__ = "pendo_accounts"
    account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    domain: Mapped[str | None] = mapped_column(String(300))
    metadata_json: Mapped[dict[str, Any] | None] = mapped_column("metadata", JsonType)
    first_visit: Mapped[int | None] = mapped_column(BigInteger)
    last_visit: Mapped[int | None] = mapped_column(BigInteger)
    last_updated: Mapped[int | None] = mapped_column(BigInteger)


class PendoVisitor(Base):
    __tablename__ = "pendo_visitors"
    visitor_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    account_ids: Mapped[list[str] | None] = mapped_column(JsonType)
    first_visit: Mapped[int | None] = mapped_column(BigInteger)
    last_visit: Mapped[int | None] = mapped_column(BigInteger)
    last_updated: Mapped[int | None] = mapped_column(BigInteger)


class PendoPage(Base):
    __tablename__ = "pendo_pages"
    page_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    app_id: Mapped[int | None] = mapped_column(BigInteger)
    group_name: Mapped[str | None] = mapped_column(String(300))
    last_updated_at: Mapped[int | None] = mapped_column(BigInteger)


class PendoFeature(Base):
    __tablename__ = "pendo_features"
    feature_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    page_id: Mapped[str | None] = mapped_column(String(200))
    app_id: Mapped[int | None] = mapped_column(BigInteger)
    group_name: Mapped[str | None] = mapped_column(String(300))
    is_core_event: Mapped[bool] = mapped_column(Boolean, default=False)
    last_updated_at: Mapped[int | None] = mapped_column(BigInteger)


class PendoGuide(Base):
    __tablename__ = "pendo_guides"
    guide_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    state: Mapped[str | None] = mapped_column(String(40))
    group_name: Mapped[str | None] = mapped_column(String(300))
    is_multi_step: Mapped[bool] = mapped_column(Boolean, default=False)
    last_updated_at: Mapped[int | None] = mapped_column(BigInteger)


class PendoGuideStep(Base):
    __tablename__ = "pendo_guide_steps"
    step_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(200), index=True)
    rank: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str | None] = mapped_column(String(300))


# --- Pendo activity (grouped server-side; one row per key) -----------------------------------


def _keyed_by_day(table: str, *key: str) -> tuple[Any, ...]:
    """The raw day tables' key, day first, and their index for the reads by account (migration 0019): a
    window's rows, asked of Pendo in key order, land at the end of the key and fill its pages, where keyed
    account first they went inside every account's keys and split pages half full."""
    return PrimaryKeyConstraint("day", *key), Index(f"ix_{table}_account_day", "account_id", "day")


class VisitorDay(Base):
    """`events` source, dayRange, grouped by account, visitor and day."""

    __tablename__ = "pendo_visitor_days"
    __table_args__ = _keyed_by_day(__tablename__, "account_id", "visitor_id")
    account_id: Mapped[str] = mapped_column(String(512))
    day: Mapped[date] = mapped_column(Date)
    visitor_id: Mapped[str] = mapped_column(String(512))
    num_events: Mapped[int] = mapped_column(BigInteger)
    num_minutes: Mapped[int] = mapped_column(BigInteger)


class VisitorHour(Base):
    """`events` source, hourRange, grouped by account, visitor and hour (sessions come from it).

    Keyed account, hour, visitor (migration 0017): a day's new rows then land at the end of each account's
    keys, not beside each visitor's older hours, which touched an index page per visitor (a new day at
    20,000 accounts wrote 1.4 GB of WAL for 0.7 M rows, mostly whole pages; 0.4 GB in this order)."""

    __tablename__ = "pendo_visitor_hours"
    __table_args__ = (PrimaryKeyConstraint("account_id", "hour_start", "visitor_id"),)
    account_id: Mapped[str] = mapped_column(String(512))
    visitor_id: Mapped[str] = mapped_column(String(512))
    hour_start: Mapped[int] = mapped_column(BigInteger)
    day: Mapped[date] = mapped_column(Date, index=True)
    num_events: Mapped[int] = mapped_column(BigInteger)
    num_minutes: Mapped[int] = mapped_column(BigInteger)


class PageDay(Base):
    """`pageEvents`, dayRange, grouped by account, page and day."""

    __tablename__ = "pendo_page_days"
    __table_args__ = _keyed_by_day(__tablename__, "account_id", "page_id")
    account_id: Mapped[str] = mapped_column(String(512))
    day: Mapped[date] = mapped_column(Date)
    page_id: Mapped[str] = mapped_column(String(200))
    num_events: Mapped[int] = mapped_column(BigInteger)
    num_minutes: Mapped[int] = mapped_column(BigInteger)


class FeatureVisitorDay(Base):
    """`featureEvents`, dayRange, grouped by account, visitor, feature and day."""

    __tablename__ = "pendo_feature_visitor_days"
    __table_args__ = _keyed_by_day(__tablename__, "account_id", "feature_id", "visitor_id")
    account_id: Mapped[str] = mapped_column(String(512))
    day: Mapped[date] = mapped_column(Date)
    feature_id: Mapped[str] = mapped_column(String(200))
    visitor_id: Mapped[str] = mapped_column(String(512))
    num_events: Mapped[int] = mapped_column(BigInteger)
    num_minutes: Mapped[int] = mapped_column(BigInteger)


class GuideEvent(Base):
    """One raw `guideEvents` row we use (seen, advanced, dismissed); `day` from browserTime."""

    __tablename__ = "pendo_guide_events"
    visitor_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    step_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40), primary_key=True)
    browser_time: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)


# --- Sync bookkeeping ------------------------------------------------------------------------


class SyncRun(Base):
    __tablename__ = "pendo_sync_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # running | success | failed
    mode: Mapped[str] = mapped_column(String(20))  # daily | backfill
    as_of: Mapped[date] = mapped_column(Date)
    backfill_days: Mapped[int | None] = mapped_column(Integer)
    host: Mapped[str | None] = mapped_column(String(300))
    stats: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)
    bad_rows: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)


class SyncCoverage(Base):
    """One row per stream and day whose window committed; `as_of` tells whether it is final."""

    __tablename__ = "pendo_sync_coverage"
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    synced_as_of: Mapped[date] = mapped_column(Date)
    include_anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    run_id: Mapped[int | None] = mapped_column(Integer)


class DayDigest(Base):
    """A stream's stored rows of one day, digested (row count, sum of row hashes) when a sync window wrote
    them, so a re-read day that came back the same is known without reading them (sync/digests.py)."""

    __tablename__ = "pendo_day_digests"
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    rows: Mapped[int] = mapped_column(BigInteger)
    digest: Mapped[int] = mapped_column(BigInteger)


class SyncWatermark(Base):
    __tablename__ = "pendo_sync_watermarks"
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = _now()


class DataQualityIssue(Base):
    """Bad rows skipped by a run, counted per stream and reason, with one sample."""

    __tablename__ = "pendo_data_quality_issues"
    run_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    stream: Mapped[str] = mapped_column(String(40), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    sample: Mapped[str | None] = mapped_column(Text)


# --- Metrics (interfaces.md) -----------------------------------------------------------------


class UsageMetric(Base):
    __tablename__ = "pendo_usage_metrics"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    metric_date: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    pendo_account_id: Mapped[str] = mapped_column(Text)  # the customer's accounts, sorted, ';'-joined
    dau: Mapped[int] = mapped_column(Integer)
    wau: Mapped[int] = mapped_column(Integer)
    mau: Mapped[int] = mapped_column(Integer)
    active_visitors: Mapped[int] = mapped_column(Integer)
    session_count: Mapped[int] = mapped_column(Integer)
    avg_session_minutes: Mapped[float | None] = mapped_column(Float)
    page_views: Mapped[int] = mapped_column(BigInteger)
    feature_events: Mapped[int] = mapped_column(BigInteger)
    time_in_app_minutes: Mapped[int] = mapped_column(BigInteger)


# Every read across customers by day (the Portfolio's daily totals, the usage windows of a day)
# answered from the index alone, without visiting the table's rows.
Index("ix_pendo_usage_metrics_day_customer", UsageMetric.metric_date, UsageMetric.customer_id, UsageMetric.dau,
      UsageMetric.wau, UsageMetric.mau, UsageMetric.active_visitors)


class VisitorRecency(Base):
    """Read model (pendo_core/usage/recency.py): per mapped account and visitor seen in the people lookback
    ending the metrics' last day, its last active day and last day with any row; written with the
    metrics, so the alerts need not group 90 days of visitor days again."""

    __tablename__ = "pendo_visitor_recency"
    account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    last_active: Mapped[date | None] = mapped_column(Date)  # last day with events, None: none in the lookback
    last_seen: Mapped[date] = mapped_column(Date)  # last day with a row, events or not


class VisitorSettled(Base):
    """Read model (pendo_core/usage/recency.py): per mapped account and visitor with a row in the days a
    next metrics run reads grouped and a daily run no longer re-reads (the SETTLED_DAYS ending the settled
    day), its last active day and last day with any row there; the next metrics run reads them instead of
    grouping those days of visitor days again."""

    __tablename__ = "pendo_visitor_settled"
    account_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(512), primary_key=True)
    last_active: Mapped[date | None] = mapped_column(Date)  # None: no events in those days
    last_seen: Mapped[date] = mapped_column(Date)


class StaleScoreCustomer(Base):
    """A customer whose metrics and health scores must be computed again over the whole reported range (its
    Pendo accounts changed): kept by whatever changed its mapping and by the metrics step before it writes
    its metrics, until the health step has scored it (pendo_core/pendo/sync/store.py), so a run that stops
    anywhere in between, or a mapping changed while a run computes, leaves it to the next run."""

    __tablename__ = "pendo_scores_stale_customers"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)  # raised each time it is kept again
    metrics_version: Mapped[int | None] = mapped_column(Integer)  # the version whose metrics are written


class CustomerSnapshot(Base):
    """Read model (pendo_core/usage/snapshot.py): per customer, the windows ending `as_of` that the wide
    pages read (measures, the 7-day week, 12 week-end WAUs, the last active day), as the live queries
    compute them; written by the sync's snapshot step for the newest day with metrics."""

    __tablename__ = "pendo_customer_snapshots"
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    in_measures: Mapped[bool] = mapped_column(Boolean)  # a row in the measures' windows
    in_week: Mapped[bool] = mapped_column(Boolean)  # a row in the 7 days ending as_of
    in_weeks: Mapped[bool] = mapped_column(Boolean)  # a row on one of the week-end days
    dau: Mapped[int | None] = mapped_column(Integer)  # as_of's
    wau: Mapped[int | None] = mapped_column(Integer)
    mau: Mapped[int | None] = mapped_column(Integer)
    active_visitors: Mapped[int | None] = mapped_column(Integer)
    week_sum: Mapped[int | None] = mapped_column(BigInteger)  # DAU summed over the stickiness week, and its rows
    week_n: Mapped[int] = mapped_column(Integer)
    recent_sum: Mapped[int | None] = mapped_column(BigInteger)  # the trend's windows
    recent_n: Mapped[int] = mapped_column(Integer)
    prior_sum: Mapped[int | None] = mapped_column(BigInteger)
    prior_n: Mapped[int] = mapped_column(Integer)
    week_dau: Mapped[float | None] = mapped_column(Float)  # customer_week: means and sums over 7 days
    week_wau: Mapped[float | None] = mapped_column(Float)
    sessions: Mapped[int | None] = mapped_column(BigInteger)
    minutes: Mapped[int | None] = mapped_column(BigInteger)
    page_views: Mapped[int | None] = mapped_column(BigInteger)
    feature_events: Mapped[int | None] = mapped_column(BigInteger)
    usage_weeks: Mapped[str | None] = mapped_column(Text)  # JSON list: WAU of the week ends, oldest first
    last_active: Mapped[date | None] = mapped_column(Date)  # newest day with DAU > 0 in 90 days


class FeatureSnapshot(Base):
    """Read model (pendo_core/usage/snapshot.py): per customer and feature, the days of use in the 30 days
    ending `as_of` (`feature_queries.feature_days`); written with the customer snapshot, same day."""

    __tablename__ = "pendo_feature_snapshots"
    as_of: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    feature_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    days_used: Mapped[int] = mapped_column(Integer)


class PortfolioDay(Base):
    """Read model (pendo_core/usage/portfolio_days.py): per day, the Portfolio's totals over every
    customer (usage sums; health means and customers per band), as its live queries compute them;
    rewritten by the sync's portfolio step after the health scores."""

    __tablename__ = "pendo_portfolio_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    usage_customers: Mapped[int] = mapped_column(Integer)  # customers with a usage row (0: no usage row)
    dau: Mapped[int | None] = mapped_column(BigInteger)
    wau: Mapped[int | None] = mapped_column(BigInteger)
    mau: Mapped[int | None] = mapped_column(BigInteger)
    scored: Mapped[int] = mapped_column(Integer)  # customers with a health score row (0: none)
    overall: Mapped[float | None] = mapped_column(Float)  # mean score
    breadth: Mapped[float | None] = mapped_column(Float)  # mean key-feature breadth of the score's inputs
    red: Mapped[int | None] = mapped_column(Integer)
    yellow: Mapped[int | None] = mapped_column(Integer)
    green: Mapped[int | None] = mapped_column(Integer)
    insufficient: Mapped[int | None] = mapped_column(Integer)  # band "insufficient data"


class FeatureUsage(Base):
    __tablename__ = "pendo_feature_usage"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    feature_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    metric_date: Mapped[date] = mapped_column(Date, primary_key=True)
    feature_name: Mapped[str | None] = mapped_column(String(300))
    views: Mapped[int | None] = mapped_column(BigInteger)
    clicks: Mapped[int] = mapped_column(BigInteger)
    unique_visitors: Mapped[int] = mapped_column(Integer)
    avg_time_seconds: Mapped[float | None] = mapped_column(Float)


# The reads of a range of days across customers (the health scores' key-feature runs, the alerts' key-feature
# days). PostgreSQL plans them on its statistics with a day index. SQLite, which plans without statistics,
# takes any index on the day and then looks up every row in the table (1.3 s for 42 days of a 2,000-account
# store); an index holding what those reads take answers them alone (0.1-0.5 s; migration 0020).
Index("ix_pendo_feature_usage_metric_date", FeatureUsage.metric_date).ddl_if(dialect="postgresql")
Index("ix_pendo_feature_usage_day_customer_feature", FeatureUsage.metric_date, FeatureUsage.customer_id,
      FeatureUsage.feature_id).ddl_if(dialect="sqlite")


class GuideMetric(Base):
    """Per customer and guide, over the 30 days ending `metric_date`."""

    __tablename__ = "pendo_guide_metrics"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    guide_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    metric_date: Mapped[date] = mapped_column(Date, primary_key=True)
    seen_visitors: Mapped[int] = mapped_column(Integer)
    completed_visitors: Mapped[int] = mapped_column(Integer)
    dismissed_visitors: Mapped[int] = mapped_column(Integer)
    completion_rate: Mapped[float | None] = mapped_column(Float)
    dismissal_rate: Mapped[float | None] = mapped_column(Float)


class OnboardingProgress(Base):
    __tablename__ = "pendo_onboarding_progress"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    metric_date: Mapped[date] = mapped_column(Date, primary_key=True)
    onboarding_guides: Mapped[int] = mapped_column(Integer)
    completed_guides: Mapped[int] = mapped_column(Integer)
    progress: Mapped[float | None] = mapped_column(Float)


# --- Health, alerts, settings and users (issue 3 and 4) --------------------------------------


class SettingsVersion(Base):
    """Every saved version of the admin settings (health weights, bands, alert thresholds)."""

    __tablename__ = "app_settings_versions"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = _now()
    created_by: Mapped[str] = mapped_column(String(320))
    settings: Mapped[dict[str, Any]] = mapped_column(JsonType)
    note: Mapped[str | None] = mapped_column(Text)


class HealthScore(Base):
    __tablename__ = "pendo_health_scores"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    score_date: Mapped[date] = mapped_column(Date, primary_key=True, index=True)
    engagement: Mapped[float | None] = mapped_column(Float)
    adoption: Mapped[float | None] = mapped_column(Float)
    trajectory: Mapped[float | None] = mapped_column(Float)
    onboarding: Mapped[float | None] = mapped_column(Float)
    breadth_change: Mapped[float | None] = mapped_column(Float)
    attrition: Mapped[float | None] = mapped_column(Float)
    sustained_trend: Mapped[float | None] = mapped_column(Float)
    champion: Mapped[float | None] = mapped_column(Float)
    overall: Mapped[float | None] = mapped_column(Float)
    band: Mapped[str] = mapped_column(String(30))  # red | yellow | green | insufficient data
    coverage: Mapped[float] = mapped_column(Float)
    settings_version: Mapped[int] = mapped_column(Integer)
    weights: Mapped[dict[str, Any]] = mapped_column(JsonType)
    inputs: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


class Outcome(Base):
    """A renewal outcome, for the health back-test."""

    __tablename__ = "customer_outcomes"
    customer_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    outcome_date: Mapped[date] = mapped_column(Date, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(20))  # renewed | churned


class UsageAlert(Base):
    """One alert per (customer, kind, subject) while its condition holds."""

    __tablename__ = "pendo_usage_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(String(36), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    subject: Mapped[str] = mapped_column(String(512), default="")
    status: Mapped[str] = mapped_column(String(20), index=True)
    severity: Mapped[str] = mapped_column(String(20))
    triggered_on: Mapped[date] = mapped_column(Date)
    last_evaluated_on: Mapped[date] = mapped_column(Date)
    resolved_on: Mapped[date | None] = mapped_column(Date)
    assigned_csm_email: Mapped[str | None] = mapped_column(String(320), index=True)
    details: Mapped[dict[str, Any]] = mapped_column(JsonType)
    suggested_action: Mapped[str | None] = mapped_column(Text)
    snoozed_until: Mapped[date | None] = mapped_column(Date)
    dismiss_reason: Mapped[str | None] = mapped_column(Text)
    status_by: Mapped[str | None] = mapped_column(String(320))
    status_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()


class AlertEvent(Base):
    """The audit trail of an alert: opened, acknowledged, dismissed, snoozed, resolved, escalated."""

    __tablename__ = "pendo_alert_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alert_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = _now()
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(Text)


class AlertDelivery(Base):
    """Delivery of one alert on one channel: delivered once, retried when it fails."""

    __tablename__ = "pendo_alert_deliveries"
    alert_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)  # email | webhook
    recipient: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AppUser(Base):
    """Local sign-in users (when OIDC is not configured); passwords hashed with scrypt."""

    __tablename__ = "app_users"
    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # csm | leader | admin
    password_hash: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = _now()
    deactivated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # set: may not sign in


class AuditLog(Base):
    """Every write an admin makes (settings, keys, mappings)."""

    __tablename__ = "app_audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = _now()
    actor: Mapped[str] = mapped_column(String(320))
    action: Mapped[str] = mapped_column(String(80))
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)


Index("ix_app_audit_log_at", AuditLog.at)  # the access-log viewer filters and sorts by time


class SignInFailure(Base):
    """Consecutive failed sign-ins per subject (`account:<e-mail>`, `address:<ip>`, `session:<id>`),
    for the back-off and lockout of pendo_core.admin.lockout (issue 11)."""

    __tablename__ = "app_sign_in_failures"
    subject: Mapped[str] = mapped_column(String(400), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    last_failure_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# --- Secrets, audits and operations alerts (issue 6) -----------------------------------------


class StoredSecret(Base):
    """A secret (Pendo key, webhook URL, SMTP password) encrypted with Fernet; never stored in clear."""

    __tablename__ = "app_secrets"
    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    ciphertext: Mapped[str] = mapped_column(Text)
    hint: Mapped[str | None] = mapped_column(String(20))  # the last characters, for "the key ending ..."
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)  # non-secret context (region, host)
    updated_at: Mapped[datetime] = _now()
    updated_by: Mapped[str] = mapped_column(String(320))


class AuditRun(Base):
    """One `jobs audit` run: the store's figures compared with Pendo's own aggregates."""

    __tablename__ = "pendo_audit_runs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20))  # running | success | failed
    first_day: Mapped[date | None] = mapped_column(Date)
    last_day: Mapped[date | None] = mapped_column(Date)
    host: Mapped[str | None] = mapped_column(String(300))
    checked: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    match_rate: Mapped[float | None] = mapped_column(Float)
    by_check: Mapped[dict[str, Any] | None] = mapped_column(JsonType)  # check -> {checked, matched}
    mismatches: Mapped[list[Any] | None] = mapped_column(JsonType)  # the first ones, as text
    error: Mapped[str | None] = mapped_column(Text)


class OpsAlert(Base):
    """An operations alert for admins (a failed sync, stale data): one open row per kind at a time."""

    __tablename__ = "pendo_ops_alerts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)  # sync_failed | data_stale | sync_suspect
    status: Mapped[str] = mapped_column(String(20), index=True)  # open | resolved
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any] | None] = mapped_column(JsonType)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    notify_error: Mapped[str | None] = mapped_column(Text)


# --- Stakeholders (issue 7) ------------------------------------------------------------------


class Contact(Base):
    """A customer stakeholder from `import-contacts`; matched to Pendo visitors by e-mail (lowercase)."""

    __tablename__ = "customer_contacts"
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), primary_key=True)
    email: Mapped[str] = mapped_column(String(320), primary_key=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))  # champion | decision_maker | admin | user
    updated_at: Mapped[datetime] = _now()


class ApiToken(Base):
    """A REST API bearer token acting as an app user; only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(200))
    user_email: Mapped[str] = mapped_column(String(320), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[str] = mapped_column(String(320))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


def table_of(model: type[Base]) -> Table:
    """A model's Table (typed as such, where `__table__` is only a FromClause to the checker)."""
    return Base.metadata.tables[model.__tablename__]
