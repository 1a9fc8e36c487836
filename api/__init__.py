"""The REST API (FastAPI): Pendo data, health scores and alerts for the rest of the platform.

`create_app(ApiContext(engine, settings, ...))` builds the app over the same service functions the
pages use; `api/__main__.py` composes the real edges and serves it with uvicorn (`make api`).
"""

from __future__ import annotations

from fastapi import FastAPI

from api import errors, routes_admin, routes_health, routes_pendo
from api.context import ApiContext, Connect, RunSync

__all__ = ["ApiContext", "Connect", "RunSync", "create_app"]

DESCRIPTION = """Pendo usage data, health scores and usage alerts of CSCX customers.

Every call needs `Authorization: Bearer <token>`; a token acts as one app user with that user's role:
a `csm` sees their own customers (and their Pendo accounts), `leader` and `admin` see every customer,
and only an `admin` may connect Pendo or start a sync. Something outside your scope answers 404.
`?scope=all` on a read endpoint shows a `csm` every customer: read-only (actions stay limited to
their own customers) and recorded in the audit log, like "show all customers" in the app.
Days are calendar days in the Pendo subscription's timezone; metric definitions are in each response's
`definitions`. Errors are `{"error": {"code", "message"}}` with a message naming the fix.
"""


def create_app(ctx: ApiContext) -> FastAPI:
    """The FastAPI app over the given context."""
    app = FastAPI(title="CSCX Pendo Usage API", version="1.0.0", description=DESCRIPTION)
    app.state.ctx = ctx
    errors.install(app)
    for module in (routes_pendo, routes_health, routes_admin):
        app.include_router(module.router)
    return app
