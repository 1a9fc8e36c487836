"""Health scores and usage alerts for the rest of the platform: list, and act on alerts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Body, Path, Query, Request, Response
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api import schemas
from api.cache import cached_json
from api.context import context
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.health_detail import health_detail
from api.params import PageParams, Paging, Span90, one_day
from api.security import ScopedViewerDep, ViewerDep, visible_customer
from pendo_core.access.rules import Viewer
from pendo_core.access.sql import customer_filter
from pendo_core.alerts import AlertTransitionError, snooze_date_problem
from pendo_core.alerts import queries as alerts_view
from pendo_core.book import inbox
from pendo_core.book.header import customer_headers
from pendo_core.store.models import Customer, HealthScore, UsageAlert

router = APIRouter(prefix="/api/pendo", tags=["Health and alerts"], responses=ERROR_RESPONSES)

ACTIVE = ("open", "acknowledged", "snoozed")
CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"model": ErrorBody, "description": "The action does not apply to the alert's state."}}
SCORE_COLUMNS = ("overall", "coverage", "engagement", "adoption", "trajectory", "onboarding")
ScoreDay = Annotated[date | None, Query(alias="date", description="Score day; default: the newest scored day.")]
BandFilter = Annotated[schemas.Band | None, Query(description="Only this band.")]
CustomerId = Annotated[str, Path(description="The CSCX customer id (a UUID).", max_length=36)]
Statuses = Annotated[list[schemas.AlertStatus] | None, Query(description="Default: open, acknowledged and snoozed. "
                                                             "Closed ones reach back 30 days.")]
Kind = Annotated[str | None, Query(max_length=40, description="usage_drop, feature_abandonment, no_login, ...")]
CustomerFilter = Annotated[str | None, Query(max_length=36, description="Only this customer's alerts.")]
AlertId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The alert's id.")]


def _score(row: Any) -> schemas.HealthScore:
    return schemas.HealthScore(customer_id=row.customer_id, customer_name=row.name, score_date=row.score_date,
                               band=row.band, **{c: getattr(row, c) for c in SCORE_COLUMNS})


@router.get("/health-scores", response_model=schemas.HealthScorePage, summary="Health scores of a day")
def list_health_scores(request: Request, viewer: ScopedViewerDep, page: PageParams, day: ScoreDay = None,
                       band: BandFilter = None) -> schemas.HealthScorePage | Response:
    """Each visible customer's stored score of the day (newest scored day when not given), lowest first."""
    return cached_json(context(request).answers, ("health-scores", viewer, page, day, band),
                       lambda: _health_scores(request, viewer, page, day, band))


def _health_scores(request: Request, viewer: Viewer, page: Paging, day: date | None,
                   band: str | None) -> schemas.HealthScorePage:
    engine = context(request).engine
    h, c = HealthScore, Customer
    if day is None:
        with engine.connect() as conn:
            day = conn.execute(select(func.max(h.score_date))).scalar() or one_day(request, None)
    stmt = (select(h.customer_id, c.name, h.score_date, h.band, *(getattr(h, n) for n in SCORE_COLUMNS))
            .join(c, c.customer_id == h.customer_id).where(h.score_date == one_day(request, day))
            .where(customer_filter(viewer, c.csm_email)))
    if band is not None:
        stmt = stmt.where(h.band == band)
    with engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
        rows = conn.execute(stmt.order_by(h.overall.is_(None), h.overall, c.name, h.customer_id)
                            .limit(page.limit).offset(page.offset)).all()
    return schemas.HealthScorePage(items=[_score(r) for r in rows], total=total, limit=page.limit, offset=page.offset)


@router.get("/customer/{customer_id}/health", response_model=schemas.HealthHistory, summary="A customer's health")
def get_customer_health(request: Request, customer_id: CustomerId, viewer: ScopedViewerDep,
                        span: Span90) -> schemas.HealthHistory:
    """The scores of the range (oldest first) and the newest one with its components and what moved it."""
    customer = visible_customer(request, viewer, customer_id)
    engine = context(request).engine
    h = HealthScore
    stmt = (select(h.customer_id, func.coalesce(Customer.name, h.customer_id).label("name"), h.score_date, h.band,
                   *(getattr(h, n) for n in SCORE_COLUMNS)).outerjoin(Customer, Customer.customer_id == h.customer_id)
            .where(h.customer_id == customer_id, h.score_date.between(span.first, span.last)).order_by(h.score_date))
    with engine.connect() as conn:
        scores = [_score(r) for r in conn.execute(stmt)]
    return schemas.HealthHistory(customer_id=customer_id, first=span.first, last=span.last, scores=scores,
                                 latest=health_detail(engine, customer, span.last))


# --- alerts --------------------------------------------------------------------------------------


def _alert(row: dict[str, Any]) -> schemas.Alert:
    def value(key: str) -> Any:
        item = row.get(key)
        return None if item is None or (not isinstance(item, str) and pd.isna(item)) else item

    return schemas.Alert(id=int(row["id"]), customer_id=row["customer_id"], customer=row["customer"], kind=row["kind"],
                         severity=row["rule_severity"], weighted_severity=row["severity"],
                         priority=round(float(row["priority"]), 2), status=row["status"],
                         triggered_on=row["triggered_on"],
                         numbers=row["numbers"], suggested_action=row["suggested_action"] or "",
                         assigned_csm_email=value("csm") or None, snoozed_until=value("snoozed_until"),
                         dismiss_reason=value("dismiss_reason") or None)


@router.get("/alerts", response_model=schemas.AlertPage, summary="List usage alerts")
def list_alerts(request: Request, viewer: ScopedViewerDep, page: PageParams, *, status: Statuses = None,
                kind: Kind = None, customer_id: CustomerFilter = None) -> schemas.AlertPage | Response:
    """Alerts routed to the caller or raised on their customers (all for leaders, admins and `scope=all`), most
    urgent first."""
    ctx = context(request)
    wanted = frozenset(status or ACTIVE)
    return cached_json(ctx.answers, ("alerts", viewer, page, wanted, kind, customer_id, ctx.today()),
                       lambda: _alerts(request, viewer, page, wanted, kind=kind, customer_id=customer_id))


def _alerts(request: Request, viewer: Viewer, page: Paging, wanted: frozenset[str], *, kind: str | None,
            customer_id: str | None) -> schemas.AlertPage:
    ctx = context(request)
    frame = alerts_view.visible_alerts(ctx.engine, viewer, include_closed=bool(wanted - set(ACTIVE)),
                                       today=ctx.today())
    frame = frame[frame["status"].isin(wanted)]
    if kind is not None:
        frame = frame[frame["kind"] == kind]
    if customer_id is not None:
        frame = frame[frame["customer_id"] == customer_id]
    rows = _weighed(request, frame.iloc[page.offset:page.offset + page.limit]).to_dict("records")
    return schemas.AlertPage(items=[_alert(r) for r in rows], total=len(frame), limit=page.limit, offset=page.offset)


def _weighed(request: Request, alerts: pd.DataFrame) -> pd.DataFrame:
    """The alerts with the app's weighted severity and priority beside the rule's severity (`book.inbox`)."""
    ctx = context(request)
    headers = customer_headers(ctx.engine, alerts["customer_id"].dropna().unique().tolist(), ctx.today())
    return inbox.with_customers(alerts, headers)


def _one_alert(request: Request, viewer: Viewer, alert_id: int) -> schemas.Alert:
    frame = alerts_view.visible_alerts(context(request).engine, viewer, include_closed=True,
                                       today=context(request).today())
    rows = _weighed(request, frame[frame["id"] == alert_id]).to_dict("records")
    if not rows:
        raise ApiError(404, f"no alert {alert_id} among the alerts you may see")
    return _alert(rows[0])


def _act(request: Request, viewer: Viewer, alert_id: int, action: str, **kwargs: Any) -> schemas.AlertActionResult:
    ctx = context(request)
    with Session(ctx.engine) as session:
        exists = session.get(UsageAlert, alert_id) is not None
    if not exists or not alerts_view.may_act(ctx.engine, alert_id, viewer):
        raise ApiError(404, f"no alert {alert_id} among the alerts you may see")
    try:
        message = alerts_view.act(ctx.engine, alert_id, action, viewer, today=ctx.today(), now=ctx.clock(),
                                  **kwargs)
    except AlertTransitionError as exc:
        raise ApiError(409, f"alert {alert_id}: {exc}") from exc
    ctx.answers.clear()  # the alert lists this process keeps are out of date now
    return schemas.AlertActionResult(message=message, alert=_one_alert(request, viewer, alert_id))




@router.post("/alerts/{alert_id}/acknowledge", response_model=schemas.AlertActionResult, responses=CONFLICT,
             summary="Acknowledge an alert")
def acknowledge_alert(request: Request, alert_id: AlertId, viewer: ViewerDep) -> schemas.AlertActionResult:
    """Mark an open alert as seen and being handled (recorded with who and when)."""
    return _act(request, viewer, alert_id, "acknowledge")


@router.post("/alerts/{alert_id}/dismiss", response_model=schemas.AlertActionResult, responses=CONFLICT,
             summary="Dismiss an alert")
def dismiss_alert(request: Request, body: Annotated[schemas.DismissBody, Body()], alert_id: AlertId,
                  viewer: ViewerDep) -> schemas.AlertActionResult:
    """Dismiss an alert with a reason; it stays dismissed while its condition holds."""
    if not body.reason.strip():
        raise ApiError(422, "body.reason: give a reason for dismissing (e.g. 'seasonal, expected')")
    return _act(request, viewer, alert_id, "dismiss", reason=body.reason)


@router.post("/alerts/{alert_id}/snooze", response_model=schemas.AlertActionResult, responses=CONFLICT,
             summary="Snooze an alert")
def snooze_alert(request: Request, body: Annotated[schemas.SnoozeBody, Body()], alert_id: AlertId,
                 viewer: ViewerDep) -> schemas.AlertActionResult:
    """Hide an alert until a day after today and at most a year away; it reopens then if its condition
    still holds."""
    problem = snooze_date_problem(context(request).today(), body.until)
    if problem:
        raise ApiError(422, f"body.until: {problem}")
    return _act(request, viewer, alert_id, "snooze", until=body.until)


@router.post("/alerts/{alert_id}/reopen", response_model=schemas.AlertActionResult, responses=CONFLICT,
             summary="Reopen an alert")
def reopen_alert(request: Request, alert_id: AlertId, viewer: ViewerDep) -> schemas.AlertActionResult:
    """Reopen an acknowledged, snoozed or dismissed alert."""
    return _act(request, viewer, alert_id, "reopen")
