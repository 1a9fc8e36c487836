"""Bearer-token auth with the app's roles, and the scope checks every route applies.

Who sees what is the access rule (`pendo_core.access.rules`): a CSM sees the customers they own (and the
Pendo accounts mapped to them); leaders and admins see every customer and account, mapped or not.
A read endpoint given `?scope=all` shows a CSM every customer too: read-only, and recorded in the
audit log, as the app's "show all customers". Something outside the caller's scope answers 404, as
if it did not exist; actions stay limited to the caller's own (404 otherwise). Admin-only actions
answer 403 to other roles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, null, select
from sqlalchemy.orm import Session

from api.context import context
from api.errors import ApiError
from pendo_core.access import sql as access_sql
from pendo_core.access.rules import CustomerRef, Viewer
from pendo_core.admin.tokens import TokenUser, authenticate_token, hash_token
from pendo_core.store.models import AccountMapping, Customer, PendoAccount

bearer = HTTPBearer(auto_error=False, scheme_name="apiToken",
                    description="An API token acting as an app user: `python -m api token create EMAIL`.")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def current_viewer(request: Request, credentials: Credentials) -> Viewer:
    """The app user the request's bearer token acts as; 401 when there is none or it is not valid."""
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(401, "missing bearer token: send `Authorization: Bearer <token>` "
                            "(create one with `python -m api token create EMAIL`)", headers=CHALLENGE)
    user = _token_user(request, credentials.credentials.strip())
    if user is None:
        raise ApiError(401, "the bearer token is unknown, expired or revoked, or its user no longer exists",
                       headers=CHALLENGE)
    return Viewer(user.email, user.role)


def _token_user(request: Request, token: str) -> TokenUser | None:
    """The token's user, from the token cache (keyed by the token's hash) when it was verified seconds ago."""
    ctx = context(request)
    key = hash_token(token)
    found: TokenUser | None = ctx.tokens.get(key)
    if found is not None:
        return found
    with Session(ctx.engine) as session, session.begin():
        user = authenticate_token(session, token, now=ctx.clock())
    if user is not None:  # only successes are kept: bad tokens cannot flood the cache
        ctx.tokens.put(key, user)
    return user


ViewerDep = Annotated[Viewer, Depends(current_viewer)]
Scope = Annotated[Literal["own", "all"], Query(
    description="`own` (default): a CSM's own customers. `all`: every customer, read-only and recorded in the "
                "audit log (leaders and admins always see every customer).")]


def scoped_viewer(request: Request, viewer: ViewerDep, scope: Scope = "own") -> Viewer:
    """The caller as a read endpoint sees them: widened to every customer with `?scope=all`, which a
    CSM's audit log records (with the request)."""
    if scope == "own" or viewer.sees_all:
        return viewer
    wide = replace(viewer, show_all=True)
    with Session(context(request).engine) as session, session.begin():
        access_sql.record_scope(session, wide, via="api", request=f"{request.method} {request.url.path}")
    return wide


ScopedViewerDep = Annotated[Viewer, Depends(scoped_viewer)]


def require_role(*roles: str) -> Callable[..., Viewer]:
    """A dependency that lets only the given roles through (403 for the others)."""
    def dependency(viewer: ViewerDep) -> Viewer:
        if viewer.role not in roles:
            raise ApiError(403, f"only {' or '.join(roles)} users may do this; this token acts as "
                                f"{viewer.email} ({viewer.role})")
        return viewer

    return dependency


def visible_customer(request: Request, viewer: Viewer, customer_id: str) -> CustomerRef:
    """The customer when the viewer may see it; 404 otherwise."""
    customer = access_sql.visible_customer(context(request).engine, viewer, customer_id)
    if customer is None:
        raise ApiError(404, f"no customer {customer_id} among the customers you may see")
    return customer


# Built once: every account request runs them, and a prebuilt statement skips SQLAlchemy's per-call
# construction and cache-key work (the visibility decision itself is made on every request).
_ACCOUNT_OWNER = (select(PendoAccount.name, AccountMapping.customer_id, Customer.csm_email).select_from(PendoAccount)
                  .outerjoin(AccountMapping, AccountMapping.pendo_account_id == PendoAccount.account_id)
                  .outerjoin(Customer, Customer.customer_id == AccountMapping.customer_id)
                  .where(PendoAccount.account_id == bindparam("account_id")))
_MAPPED_OWNER = (select(null(), AccountMapping.customer_id, Customer.csm_email)
                 .join(Customer, Customer.customer_id == AccountMapping.customer_id)
                 .where(AccountMapping.pendo_account_id == bindparam("account_id")))


def visible_account(request: Request, viewer: Viewer, account_id: str) -> tuple[str | None, str | None]:
    """(account name, owning customer id) when the viewer may see the Pendo account; 404 otherwise.

    Who sees every customer sees every synced account, mapped or not; a CSM the accounts of their customers.
    """
    with context(request).engine.connect() as conn:
        row: Any = conn.execute(_ACCOUNT_OWNER, {"account_id": account_id}).first()
        if row is None:  # mapped but not (yet) in pendo_accounts
            row = conn.execute(_MAPPED_OWNER, {"account_id": account_id}).first()
    if row is None or not viewer.sees(row[2]):  # an unmapped account has no CSM: only seen by who sees all
        raise ApiError(404, f"no Pendo account {account_id} among the accounts you may see")
    return row[0], row[1]


AdminDep = Annotated[Viewer, Depends(require_role("admin"))]
