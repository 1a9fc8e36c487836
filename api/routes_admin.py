"""Admin actions: connect Pendo (validate and store a key) and start a sync run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import JSONResponse

from api import schemas
from api.context import ApiContext, context
from api.errors import ERROR_RESPONSES, ApiError, ErrorBody
from api.security import AdminDep
from pendo_core.admin import sync_history
from pendo_core.admin.secrets import SecretsError

router = APIRouter(tags=["Administration"], responses=ERROR_RESPONSES)


def _error(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


@router.post("/api/integrations/pendo/connect", response_model=schemas.ConnectResult,
             responses={503: _error("Keys cannot be stored here (no encryption key configured)."),
                        422: _error("Invalid body, or Pendo refused the key / could not be reached: the message "
                                    "says which.")},
             summary="Connect Pendo")
def connect_pendo(request: Request, body: Annotated[schemas.ConnectBody, Body()],
                  viewer: AdminDep) -> schemas.ConnectResult:
    """Check the integration key with one cheap Pendo read, then store it encrypted with its region."""
    connect = context(request).connect
    if connect is None:
        raise ApiError(503, "this server cannot store a Pendo key; set PENDO_INTEGRATION_KEY, or enter it in the app")
    try:
        check = connect(body.integration_key, body.region, body.base_url, viewer.email)
    except SecretsError as exc:
        raise ApiError(503, str(exc)) from exc
    if not check.ok:
        raise ApiError(422, check.message, code="pendo_key_rejected")
    return schemas.ConnectResult(connected=True, message=check.message)


def _state(ctx: ApiContext) -> schemas.SyncState:
    job = ctx.sync_job.state
    runs = sync_history.sync_runs(ctx.engine, 1)
    last = None
    if not runs.empty:
        row = runs.iloc[0]
        last = {"run": int(row["run"]), "status": str(row["status"]), "mode": str(row["mode"]),
                "started": row["started"].isoformat() if row["started"] is not None else None,
                "days": str(row["days"]), "error": str(row["error"] or "") or None}
    return schemas.SyncState(status=job.status, started_at=job.started_at,
                             finished_at=job.finished_at, message=job.message, last_run=last)


@router.get("/api/pendo/sync", response_model=schemas.SyncState, summary="Sync status")
def sync_status(request: Request, viewer: AdminDep) -> schemas.SyncState:
    """The API's background sync (idle, running, success, failed) and the newest recorded run."""
    return _state(context(request))


@router.post("/api/pendo/sync", response_model=schemas.SyncState, status_code=202,
             responses={409: _error("A sync is already running."), 503: _error("This server cannot start syncs.")},
             summary="Start a sync")
def start_sync(request: Request, viewer: AdminDep) -> Any:
    """Start the daily incremental run in the background; 409 while a run (from anywhere) is going."""
    ctx = context(request)
    if ctx.run_sync is None:
        raise ApiError(503, "this server cannot start syncs; run `python -m jobs sync` instead")
    running = sync_history.running_sync(ctx.engine, now=ctx.clock())
    if running is not None:
        raise ApiError(409, f"sync run {running} is already running; wait for it to finish (GET /api/pendo/sync)")
    if not ctx.sync_job.start(ctx.run_sync):
        raise ApiError(409, "a sync started through the API is already running; wait for it (GET /api/pendo/sync)")
    return JSONResponse(_state(ctx).model_dump(mode="json"), status_code=202)
