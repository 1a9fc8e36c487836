"""Bearer-token auth with the app's roles, and the scope checks every route applies.

A CSM sees the customers they own (and the Pendo accounts mapped to them); leaders and admins see
every customer and account. Something outside the caller's scope answers 404, as if it did not
exist, so ids cannot be probed. Admin-only actions answer 403 to other roles.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import null, select
from sqlalchemy.orm import Session

from api.context import context
from api.errors import ApiError
from pendo_core.admin.tokens import authenticate_token
from pendo_core.chat.model import CustomerRef, Viewer
from pendo_core.store.models import AccountMapping, Customer, PendoAccount

bearer = HTTPBearer(auto_error=False, scheme_name="apiToken",
                    description="An API token acting as an app user: `python -m jobs.api token create EMAIL`.")
CHALLENGE = {"WWW-Authenticate": "Bearer"}


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]


def current_viewer(request: Request, credentials: Credentials) -> Viewer:
    """The app user the request's bearer token acts as; 401 when there is none or it is not valid."""
    if credentials is None or not credentials.credentials.strip():
        raise ApiError(401, "missing bearer token: send `Authorization: Bearer <token>` "
                            "(create one with `python -m jobs.api token create EMAIL`)", headers=CHALLENGE)
    ctx = context(request)
    with Session(ctx.engine) as session, session.begin():
        user = authenticate_token(session, credentials.credentials.strip(), now=ctx.clock())
    if user is None:
        raise ApiError(401, "the bearer token is unknown, expired or revoked, or its user no longer exists",
                       headers=CHALLENGE)
    return Viewer(user.email, user.role)


ViewerDep = Annotated[Viewer, Depends(current_viewer)]


def require_role(*roles: str) -> Callable[..., Viewer]:
    """A dependency that lets only the given roles through (403 for the others)."""
    def dependency(viewer: ViewerDep) -> Viewer:
        if viewer.role not in roles:
            raise ApiError(403, f"only {' or '.join(roles)} users may do this; this token acts as "
                                f"{viewer.email} ({viewer.role})")
        return viewer

    return dependency


def _owned(viewer: Viewer, csm_email: str | None) -> bool:
    return viewer.sees_all or (csm_email or "").strip().lower() == viewer.email.strip().lower()


def visible_customer(request: Request, viewer: Viewer, customer_id: str) -> CustomerRef:
    """The customer when the viewer may see it; 404 otherwise."""
    c = Customer
    stmt = select(c.customer_id, c.name, c.segment, c.csm_email).where(c.customer_id == customer_id)
    with context(request).engine.connect() as conn:
        row = conn.execute(stmt).first()
    if row is None or not _owned(viewer, row.csm_email):
        raise ApiError(404, f"no customer {customer_id} among the customers you may see")
    return CustomerRef(*row)


def visible_account(request: Request, viewer: Viewer, account_id: str) -> tuple[str | None, str | None]:
    """(account name, owning customer id) when the viewer may see the Pendo account; 404 otherwise.

    Leaders and admins see every synced account, mapped or not; a CSM the accounts of their customers.
    """
    a, m, c = PendoAccount, AccountMapping, Customer
    stmt = (select(a.name, m.customer_id, c.csm_email).select_from(a)
            .outerjoin(m, m.pendo_account_id == a.account_id).outerjoin(c, c.customer_id == m.customer_id)
            .where(a.account_id == account_id))
    with context(request).engine.connect() as conn:
        row: Any = conn.execute(stmt).first()
        if row is None:  # mapped but not (yet) in pendo_accounts
            row = conn.execute(select(null(), m.customer_id, c.csm_email).join(c, c.customer_id == m.customer_id)
                               .where(m.pendo_account_id == account_id)).first()
    if row is None or (not viewer.sees_all and (row[1] is None or not _owned(viewer, row[2]))):
        raise ApiError(404, f"no Pendo account {account_id} among the accounts you may see")
    return row[0], row[1]


AdminDep = Annotated[Viewer, Depends(require_role("admin"))]
