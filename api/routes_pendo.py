"""Pendo data: accounts with their usage, features and guides, and a customer's metrics."""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy import select

from api import accounts as account_service
from api import schemas
from api.cache import cached_json
from api.context import context
from api.errors import ERROR_RESPONSES
from api.health_detail import health_detail
from api.params import DateRange, PageParams, Paging, Span30
from api.security import ScopedViewerDep, visible_account, visible_customer
from pendo_core.access.rules import CustomerRef, Viewer
from pendo_core.glossary import DEFINITIONS
from pendo_core.store.models import AccountMapping
from pendo_core.usage import feature_adoption, measures
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import queries as read
from pendo_core.usage.facts import usage_facts

router = APIRouter(prefix="/api/pendo", tags=["Pendo data"], responses=ERROR_RESPONSES)

AccountId = Annotated[str, Path(description="The Pendo account id (URL-encoded).", max_length=512)]
CustomerId = Annotated[str, Path(description="The CSCX customer id (a UUID).", max_length=36)]
Mapped = Annotated[bool | None, Query(description="true: only mapped accounts; false: only unmapped.")]
Search = Annotated[str | None, Query(max_length=200, description="Part of the account's name or id.")]
ACCOUNT_DEFINITIONS = {
    "synced": "The day's window of the stream was synced; an unsynced day reads as null, not 0.",
    "active_visitors": "Distinct identified visitors with an events row with numEvents > 0 on the day.",
    "wau": "Distinct visitors active in the 7 days ending on the day (null unless all 7 are synced).",
    "mau": "Distinct visitors active in the 30 days ending on the day (null unless all 30 are synced).",
    "events": "Sum of numEvents of the events rows of the day; minutes likewise of numMinutes.",
    "page_views": "Sum of numEvents of the pageEvents rows of the day.",
    "feature_events": "Sum of numEvents of the featureEvents rows of the day.",
}


M = TypeVar("M", bound=BaseModel)


def _cached(request: Request, key: Hashable, build: Callable[[], M]) -> M | Response:
    """An answer kept seconds by `python -m api` (api.cache): the route has checked visibility first, and the
    key holds everything the answer depends on (the caller's view too, for a list)."""
    return cached_json(context(request).answers, key, build)


def _ms_to_datetime(ms: int | None) -> Any:
    from datetime import UTC, datetime

    return None if ms is None else datetime.fromtimestamp(ms / 1000, tz=UTC)


@router.get("/accounts", response_model=schemas.AccountPage, summary="List Pendo accounts")
def list_accounts(request: Request, viewer: ScopedViewerDep, page: PageParams, mapped: Mapped = None,
                  q: Search = None) -> schemas.AccountPage | Response:
    """Pendo accounts the caller may see (a CSM: those of their customers), by name, with their customer."""
    return _cached(request, ("accounts", viewer, page, mapped, q), lambda: _accounts(request, viewer, page, mapped, q))


def _accounts(request: Request, viewer: Viewer, page: Paging, mapped: bool | None,
              q: str | None) -> schemas.AccountPage:
    rows, total = account_service.account_list(context(request).engine, viewer, page, mapped=mapped, search=q)
    items = [schemas.Account(**{**r, "first_visit": _ms_to_datetime(r["first_visit"]),
                                "last_visit": _ms_to_datetime(r["last_visit"])}) for r in rows]
    return schemas.AccountPage(items=items, total=total, limit=page.limit, offset=page.offset)


@router.get("/accounts/{account_id}/usage", response_model=schemas.AccountUsage, summary="A Pendo account's usage")
def get_account_usage(request: Request, account_id: AccountId, viewer: ScopedViewerDep,
                      span: Span30) -> schemas.AccountUsage | Response:
    """Daily active visitors (DAU, WAU, MAU), events, minutes, page views and feature events of one account."""
    _, customer_id = visible_account(request, viewer, account_id)
    return _cached(request, ("usage", account_id, customer_id, span), lambda: _account_usage(request, account_id,
                                                                                             customer_id, span))


def _account_usage(request: Request, account_id: str, customer_id: str | None, span: DateRange) -> schemas.AccountUsage:
    ctx = context(request)
    days = account_service.account_usage(ctx.engine, account_id, span.first, span.last,
                                         include_anonymous=ctx.settings.include_anonymous)
    return schemas.AccountUsage(account_id=account_id, customer_id=customer_id, first=span.first, last=span.last,
                                days=[schemas.AccountUsageDay(**d) for d in days], definitions=ACCOUNT_DEFINITIONS)


@router.get("/accounts/{account_id}/features", response_model=schemas.AccountFeatures,
            summary="A Pendo account's feature usage")
def get_account_features(request: Request, account_id: AccountId, viewer: ScopedViewerDep,
                         span: Span30) -> schemas.AccountFeatures | Response:
    """Per feature used in the range: clicks, distinct users, minutes and days used (most users first)."""
    _, customer_id = visible_account(request, viewer, account_id)
    return _cached(request, ("features", account_id, customer_id, span),
                   lambda: _account_features(request, account_id, customer_id, span))


def _account_features(request: Request, account_id: str, customer_id: str | None,
                      span: DateRange) -> schemas.AccountFeatures:
    ctx = context(request)
    rows = account_service.account_features(ctx.engine, account_id, span.first, span.last,
                                            include_anonymous=ctx.settings.include_anonymous)
    definitions = {"clicks": "Sum of numEvents of the feature's featureEvents rows in the range.",
                   "users": "Distinct identified visitors with a featureEvents row for the feature in the range.",
                   "is_key": "A Pendo Core Event."}
    return schemas.AccountFeatures(account_id=account_id, customer_id=customer_id, first=span.first, last=span.last,
                                   features=[schemas.AccountFeature(**r) for r in rows], definitions=definitions)


VISITOR_DEFINITIONS = {
    "last_active": "The newest day with an events row with numEvents > 0 in the 90 days ending as_of.",
    "active_days": "Days active in the 30 days ending as_of; minutes, events, sessions and features likewise.",
    "trend": "Active days of the last 28 days ÷ the 28 before, minus 1 (null when not active before).",
    "role": "The stakeholder role of the matching contact (import-contacts), matched by e-mail.",
}
VisitorSort = Annotated[str, Query(max_length=40, description="A column, '-' first for descending: active_days, "
                                                            "last_active, minutes, events, sessions, features, "
                                                            "trend, name, role, visitor.")]


@router.get("/accounts/{account_id}/visitors", response_model=schemas.AccountVisitors,
            summary="A Pendo account's visitors")
def get_account_visitors(request: Request, account_id: AccountId, viewer: ScopedViewerDep, *, page: PageParams,
                         span: Span30, sort: VisitorSort = "-active_days",
                         q: Search = None) -> schemas.AccountVisitors | Response:
    """The account's visitors with their activity as of the range's last day, paged and sortable."""
    from api.errors import ApiError
    from pendo_core.customers import people

    _, customer_id = visible_account(request, viewer, account_id)
    if customer_id is None:
        raise ApiError(404, "this Pendo account is not mapped to a customer yet; map it on the Admin page")
    ctx = context(request)
    mapped_to = customer_id

    def build() -> schemas.AccountVisitors:
        try:
            rows, total = people.visitor_rows(ctx.engine, mapped_to, span.last, limit=page.limit, offset=page.offset,
                                              sort=sort, search=q, account_id=account_id,
                                              include_anonymous=ctx.settings.include_anonymous)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        items = [schemas.AccountVisitor(**{f: getattr(r, f) for f in schemas.AccountVisitor.model_fields})
                 for r in rows]
        return schemas.AccountVisitors(account_id=account_id, customer_id=mapped_to, as_of=span.last, items=items,
                                       total=total, limit=page.limit, offset=page.offset,
                                       definitions=VISITOR_DEFINITIONS)

    return _cached(request, ("visitors", account_id, customer_id, span.last, page, sort, q), build)


@router.get("/accounts/{account_id}/guides", response_model=schemas.AccountGuides,
            summary="A Pendo account's guide engagement")
def get_account_guides(request: Request, account_id: AccountId, viewer: ScopedViewerDep,
                       span: Span30) -> schemas.AccountGuides | Response:
    """Per guide with activity in the range: visitors who saw, completed and dismissed it, with rates."""
    _, customer_id = visible_account(request, viewer, account_id)
    return _cached(request, ("guides", account_id, customer_id, span),
                   lambda: _account_guides(request, account_id, customer_id, span))


def _account_guides(request: Request, account_id: str, customer_id: str | None,
                    span: DateRange) -> schemas.AccountGuides:
    ctx = context(request)
    rows = account_service.account_guides(ctx.engine, account_id, span.first, span.last,
                                          include_anonymous=ctx.settings.include_anonymous)
    definitions = {
        "seen": "Distinct visitors with guideSeen on any step of the guide in the range.",
        "completed": "One-step guide: guideAdvanced on its step; multi-step: guideSeen or guideAdvanced on the "
                     "last step (highest rank).",
        "dismissed": "Distinct visitors with guideDismissed on any step.",
        "completion_rate": "completed ÷ seen (null when nobody saw it); dismissal_rate likewise.",
    }
    return schemas.AccountGuides(account_id=account_id, customer_id=customer_id, first=span.first, last=span.last,
                                 guides=[schemas.GuideMetric(**r) for r in rows], definitions=definitions)


def _clean(value: Any) -> Any:
    """NaN and numpy scalars to JSON-ready values."""
    if value is None:
        return None
    if hasattr(value, "item"):
        value = value.item()
    return None if isinstance(value, float) and math.isnan(value) else value


def _daily(request: Request, customer_id: str, span: DateRange) -> list[schemas.UsageDay]:
    frame = read.usage_series(context(request).engine, customer_id, span.first, span.last)
    columns = ["dau", "wau", "mau", "active_visitors", "session_count", "avg_session_minutes", "page_views",
               "feature_events", "time_in_app_minutes", "dau_mau"]
    return [schemas.UsageDay(date=row["metric_date"].date(), **{c: _clean(row[c]) for c in columns})
            for row in frame.to_dict("records")]


def _summary(request: Request, customer: CustomerRef, span: DateRange) -> schemas.UsageSummary:
    ctx = context(request)
    facts = usage_facts(ctx.engine, customer, span.last, include_anonymous=ctx.settings.include_anonymous)
    return schemas.UsageSummary(day=span.last, stickiness=facts.stickiness, mean_dau_28d=facts.recent_mean,
                                mean_dau_prior_28d=facts.prior_mean, trend_28d=facts.trend,
                                key_feature_breadth=facts.breadth, key_features=facts.key_count)


def _guides(request: Request, customer_id: str, span: DateRange) -> list[schemas.GuideMetric]:
    frame = read_features.guide_table(context(request).engine, customer_id, span.last)
    return [schemas.GuideMetric(guide_id=r["guide_id"], name=_clean(r["name"]), seen=int(r["seen"]),
                                completed=int(r["completed"]), dismissed=int(r["dismissed"]),
                                completion_rate=_clean(r["completion_rate"]),
                                dismissal_rate=_clean(r["dismissal_rate"]))
            for r in frame.to_dict("records")]


def _customer_info(request: Request, customer: CustomerRef) -> schemas.CustomerInfo:
    stmt = select(AccountMapping.pendo_account_id).where(AccountMapping.customer_id == customer.customer_id)
    with context(request).engine.connect() as conn:
        ids = sorted(conn.execute(stmt).scalars())
    return schemas.CustomerInfo(customer_id=customer.customer_id, name=customer.name, segment=customer.segment,
                                csm_email=customer.csm_email, pendo_account_ids=ids)


CUSTOMER_DEFINITIONS = {
    "dau": DEFINITIONS["dau"], "wau": DEFINITIONS["wau"], "mau": DEFINITIONS["mau"],
    "sessions": DEFINITIONS["sessions"], "dau_mau": measures.DAU_MAU_DEFINITION,
    "stickiness": measures.STICKINESS_DEFINITION, "trend_28d": measures.trend_definition(),
    "key_feature_breadth": measures.BREADTH_DEFINITION, "adoption_pct": measures.ADOPTION_DEFINITION,
    "guides": "Seen, completed and dismissed visitors over the 30 days ending `last` (metrics-spec.md, Guides).",
    "health": DEFINITIONS["health"], "null": "A null day is not synced; a synced day without use is 0.",
}


@router.get("/customer/{customer_id}/metrics", response_model=schemas.CustomerMetrics,
            summary="A customer's usage metrics")
def get_customer_metrics(request: Request, customer_id: CustomerId, viewer: ScopedViewerDep,
                         span: Span30) -> schemas.CustomerMetrics | Response:
    """Daily stored metrics over the range, window measures and features, guides and health as of `to`."""
    customer = visible_customer(request, viewer, customer_id)
    return _cached(request, ("metrics", customer, span), lambda: _customer_metrics(request, customer, span))


def _customer_metrics(request: Request, customer: CustomerRef, span: DateRange) -> schemas.CustomerMetrics:
    customer_id = customer.customer_id
    ctx = context(request)
    features = feature_adoption(ctx.engine, customer_id, span.last, include_anonymous=ctx.settings.include_anonymous)
    onboarding = read_features.onboarding_series(ctx.engine, customer_id, span.last, span.last)
    return schemas.CustomerMetrics(
        customer=_customer_info(request, customer), first=span.first, last=span.last,
        daily=_daily(request, customer_id, span), summary=_summary(request, customer, span),
        features=[schemas.FeatureAdoption(**vars(f)) for f in features], guides=_guides(request, customer_id, span),
        onboarding_progress=_clean(onboarding["progress"].iloc[-1]) if not onboarding.empty else None,
        health=health_detail(ctx.engine, customer, span.last), definitions=CUSTOMER_DEFINITIONS)
