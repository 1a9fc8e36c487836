"""Request and response bodies of the REST API (the OpenAPI document is generated from them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Band = Literal["red", "yellow", "green", "insufficient data"]
AlertStatus = Literal["open", "acknowledged", "snoozed", "dismissed", "resolved"]


class PageInfo(BaseModel):
    """Where a page sits in the whole list."""

    total: int = Field(description="Items matching the filters, all pages together.")
    limit: int
    offset: int


class Account(BaseModel):
    """A Pendo account and the CSCX customer that owns it (none while unmapped)."""

    account_id: str
    name: str | None
    domain: str | None
    first_visit: datetime | None
    last_visit: datetime | None
    customer_id: str | None
    customer_name: str | None


class AccountPage(PageInfo):
    items: list[Account]


class AccountUsageDay(BaseModel):
    """One day of one Pendo account; null where the day is not synced (not the same as 0)."""

    date: date
    synced: bool
    active_visitors: int | None = Field(description="DAU: distinct visitors active on the day.")
    wau: int | None = Field(description="Distinct visitors active in the 7 days ending on the day.")
    mau: int | None = Field(description="Distinct visitors active in the 30 days ending on the day.")
    events: int | None
    minutes: int | None
    page_views: int | None
    feature_events: int | None


class AccountUsage(BaseModel):
    account_id: str
    customer_id: str | None
    first: date
    last: date
    days: list[AccountUsageDay]
    definitions: dict[str, str]


class AccountFeature(BaseModel):
    feature_id: str
    name: str | None
    is_key: bool
    clicks: int
    users: int
    minutes: int
    days_used: int


class AccountFeatures(BaseModel):
    account_id: str
    customer_id: str | None
    first: date
    last: date
    features: list[AccountFeature]
    definitions: dict[str, str]


class AccountGuides(BaseModel):
    account_id: str
    customer_id: str | None
    first: date
    last: date
    guides: list[GuideMetric]
    definitions: dict[str, str]


class CustomerInfo(BaseModel):
    customer_id: str
    name: str
    segment: str | None
    csm_email: str | None
    pendo_account_ids: list[str]


class UsageDay(BaseModel):
    """One day of the customer's stored `pendo_usage_metrics` (null: the day is not synced)."""

    model_config = ConfigDict(extra="forbid")

    date: date
    dau: int | None
    wau: int | None
    mau: int | None
    active_visitors: int | None
    session_count: int | None
    avg_session_minutes: float | None
    page_views: int | None
    feature_events: int | None
    time_in_app_minutes: int | None
    dau_mau: float | None


class UsageSummary(BaseModel):
    """Window measures ending on `last`."""

    day: date
    stickiness: float | None
    mean_dau_28d: float | None
    mean_dau_prior_28d: float | None
    trend_28d: float | None
    key_feature_breadth: float | None
    key_features: int


class FeatureAdoption(BaseModel):
    feature_id: str
    name: str | None
    is_key: bool
    users: int
    adoption_pct: float | None = Field(description="Users in the 30 days ending `last` ÷ MAU of `last` (0..1).")
    clicks: int


class GuideMetric(BaseModel):
    guide_id: str
    name: str | None
    seen: int
    completed: int
    dismissed: int
    completion_rate: float | None
    dismissal_rate: float | None


class HealthComponent(BaseModel):
    name: str
    score: float | None
    weight: float | None = Field(description="Its share of the score, renormalised over the components with data; "
                                             "null when it had no data (left out of the score).")
    points: float | None
    measured: str


class HealthDetail(BaseModel):
    customer_id: str
    day: date
    overall: float | None
    band: Band
    coverage: float
    settings_version: int
    components: list[HealthComponent]
    moved: list[str]


class CustomerMetrics(BaseModel):
    customer: CustomerInfo
    first: date
    last: date
    daily: list[UsageDay]
    summary: UsageSummary
    features: list[FeatureAdoption]
    guides: list[GuideMetric]
    onboarding_progress: float | None
    health: HealthDetail | None
    definitions: dict[str, str]


class HealthScore(BaseModel):
    customer_id: str
    customer_name: str
    score_date: date
    overall: float | None
    band: Band
    coverage: float
    engagement: float | None
    adoption: float | None
    trajectory: float | None
    onboarding: float | None


class HealthScorePage(PageInfo):
    items: list[HealthScore]


class HealthHistory(BaseModel):
    customer_id: str
    first: date
    last: date
    scores: list[HealthScore]
    latest: HealthDetail | None


class Alert(BaseModel):
    id: int
    customer_id: str
    customer: str
    kind: str
    severity: str = Field(description="The rule's own severity (high, medium or low).")
    weighted_severity: str = Field(description="The severity the app shows: the rule's, weighted by the customer's "
                                               "ARR and days to renewal (the Alerts inbox, My customers, the header).")
    priority: float = Field(description="The alert's priority points, from which weighted_severity is read; the "
                                        "app's inbox puts higher first.")
    status: AlertStatus
    triggered_on: date
    numbers: str = Field(description="The numbers that triggered the alert, in words.")
    suggested_action: str
    assigned_csm_email: str | None
    snoozed_until: date | None
    dismiss_reason: str | None


class AlertPage(PageInfo):
    items: list[Alert]


class AlertActionResult(BaseModel):
    message: str
    alert: Alert


class DismissBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=2000, description="Why the alert is dismissed.")


class SnoozeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    until: date = Field(description="The alert comes back on this day if its condition still holds (after today).")


class ConnectBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integration_key: str = Field(min_length=1, max_length=500, description="The Pendo integration key (never echoed).")
    region: Literal["us", "eu", "us1", "jpn", "au"] = "us"
    base_url: str | None = Field(None, max_length=300, description="Overrides the region's host (a proxy).")


class ConnectResult(BaseModel):
    connected: bool
    message: str


class SyncState(BaseModel):
    status: Literal["idle", "running", "success", "failed"]
    started_at: datetime | None
    finished_at: datetime | None
    message: str | None
    last_run: dict[str, Any] | None = Field(None, description="The newest recorded sync run.")


class AccountVisitor(BaseModel):
    visitor_id: str
    email: str | None
    name: str | None
    title: str | None
    role: str | None
    last_active: date | None
    active_days: int
    minutes: int
    events: int
    sessions: int
    features: int
    trend: float | None


class AccountVisitors(BaseModel):
    account_id: str
    customer_id: str
    as_of: date
    items: list[AccountVisitor]
    total: int
    limit: int
    offset: int
    definitions: dict[str, str]
