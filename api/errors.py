"""Errors as JSON with one clear message: `{"error": {"code": ..., "message": ...}}` for every status.

`ApiError` is raised by the routes; the handlers below turn it, FastAPI's validation errors and
Starlette's own errors (unknown path, wrong method) into that shape. A validation message names
the parameter and the rule, never the value sent (it may be a secret such as a Pendo key).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("api")

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 422: "invalid_request", 500: "internal_error", 502: "bad_gateway",
         503: "unavailable"}


class ErrorDetail(BaseModel):
    """What went wrong, in one line that names the fix."""

    code: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def _described(text: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": text}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _described("The body could not be read (not JSON, or not UTF-8)."),
    401: _described("No valid bearer token: send `Authorization: Bearer <token>`."),
    403: _described("The token's user may not do this (role)."),
    404: _described("No such resource among those the token's user may see."),
    422: _described("A parameter or the body is invalid; the message names which and why."),
}


class ApiError(Exception):
    """An error response: HTTP status, a stable code and a one-line message."""

    def __init__(self, status: int, message: str, code: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message = status, message
        self.code = code or CODES.get(status, "error")
        self.headers = headers


def error_response(status: int, message: str, code: str | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    """The JSON response of an error."""
    body = ErrorBody(error=ErrorDetail(code=code or CODES.get(status, "error"), message=message))
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


def validation_message(exc: RequestValidationError) -> str:
    """`query.limit: Input should be less than or equal to 500; ...` (locations and rules, no values)."""
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts) or "the request is invalid"


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.message, exc.code, exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(422, validation_message(exc))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: f"no such endpoint: {request.method} {request.url.path} (see /docs)",
                405: f"{request.method} is not allowed on {request.url.path} (see /docs)"}
    message = messages.get(exc.status_code) or str(exc.detail)
    return error_response(exc.status_code, message, headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_response(500, "internal error: the server logged the details; try again or report it")


def install(app: FastAPI) -> None:
    """Register the JSON error handlers."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
