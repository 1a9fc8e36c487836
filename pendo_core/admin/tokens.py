"""API tokens: bearer secrets that act as one app user (same roles as the app: csm, leader, admin).

A token is `cscx_` + 32 random bytes (url-safe base64), shown once when issued. The store keeps
only its SHA-256 (a high-entropy secret needs no slow KDF; the hash is what the lookup indexes)
and its first characters for recognising it in a list. The role is read from `app_users` on every
request, so changing or removing a user changes or ends what their tokens may do. Tokens expire
(optionally) and can be revoked. Functions take a Session and never commit.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, Table, select
from sqlalchemy.orm import Session

from pendo_core.access.rules import normalise_email
from pendo_core.store.models import ApiToken, AppUser, AuditLog

PREFIX = "cscx_"
SHOWN_CHARS = 10  # "cscx_" and 5 more characters identify a token in a list without revealing it
TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
MAX_DAYS = 3650  # ten years: a longer expiry is a typo, and far ones overflow the date type

api_tokens: Table = ApiToken.__table__  # type: ignore[assignment]


class TokenError(ValueError):
    """A token that cannot be issued or revoked as asked; the message names the fix."""


@dataclass(frozen=True)
class TokenInfo:
    """What may be shown about a token: never the secret."""

    id: int
    prefix: str
    name: str
    user_email: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None


@dataclass(frozen=True)
class TokenUser:
    """The app user a presented token acts as."""

    token_id: int
    email: str
    name: str
    role: str


def hash_token(token: str) -> str:
    """SHA-256 hex of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _aware(moment: datetime | None) -> datetime | None:
    """SQLite returns naive datetimes; they were written in UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def issue_token(session: Session, email: str, name: str, *, by: str, now: datetime,
                days: int | None = None) -> tuple[str, TokenInfo]:
    """A new token for an existing app user (valid `days`, or until revoked); audited."""
    email = normalise_email(email)
    if session.get(AppUser, email) is None:
        raise TokenError(f"no app user {email}: create the user first (their role is the token's role)")
    if days is not None and days < 1:
        raise TokenError("a token must be valid for at least 1 day")
    if days is not None and days > MAX_DAYS:
        raise TokenError(f"a token may be valid for at most {MAX_DAYS} days (ten years); leave --days out for one "
                         "valid until revoked")
    token = PREFIX + secrets.token_urlsafe(32)
    expires = now + timedelta(days=days) if days is not None else None
    prefix, label = token[:SHOWN_CHARS], name.strip() or "API token"
    row = {"token_hash": hash_token(token), "prefix": prefix, "name": label, "user_email": email,
           "created_at": now, "created_by": by, "expires_at": expires}
    token_id = session.execute(api_tokens.insert().values(**row).returning(api_tokens.c.id)).scalar_one()
    session.add(AuditLog(actor=by, action="api_token.issue", at=now,
                         details={"token_id": token_id, "prefix": prefix, "user": email}))
    return token, TokenInfo(token_id, prefix, label, email, now, expires, None, None)


def authenticate_token(session: Session, token: str, *, now: datetime) -> TokenUser | None:
    """The user a token acts as; None when unknown, revoked, expired, or its user is gone."""
    if not token.startswith(PREFIX):
        return None
    row = session.execute(select(api_tokens).where(api_tokens.c.token_hash == hash_token(token))).first()
    if row is None or row.revoked_at is not None:
        return None
    expires = _aware(row.expires_at)
    if expires is not None and expires <= now:
        return None
    user = session.get(AppUser, row.user_email)
    if user is None:
        return None
    last = _aware(row.last_used_at)
    if last is None or now - last >= TOUCH_EVERY:
        session.execute(api_tokens.update().where(api_tokens.c.id == row.id).values(last_used_at=now))
    return TokenUser(row.id, user.email, user.name, user.role)


def revoke_token(session: Session, token_id: int, *, by: str, now: datetime) -> bool:
    """Revoke a token; False when there is no such active token. Audited."""
    result = session.execute(api_tokens.update().where(api_tokens.c.id == token_id,
                                                       api_tokens.c.revoked_at.is_(None)).values(revoked_at=now))
    done = cast(CursorResult[Any], result).rowcount
    if done:
        session.add(AuditLog(actor=by, action="api_token.revoke", at=now, details={"token_id": token_id}))
    return bool(done)


def list_tokens(session: Session) -> list[TokenInfo]:
    """Every token, newest first (never the secret)."""
    rows = session.execute(select(api_tokens).order_by(api_tokens.c.id.desc())).all()
    return [TokenInfo(int(r.id), str(r.prefix), str(r.name), str(r.user_email), _aware(r.created_at) or r.created_at,
                      _aware(r.expires_at), _aware(r.revoked_at), _aware(r.last_used_at)) for r in rows]
