"""Who may sign in and with which role: scrypt password hashes, users, the roles.

Roles: `csm`, `leader` (also the portfolio) and `admin` (also the settings); which customers each
sees is `pendo_core.access.rules`, which screens each may open is declared with the screens in
pages/ui/registry.py. Admins manage users on the Admin screen: invite (a one-time password shown
once), change a role, reset a password, deactivate (no sign-in, tokens revoked) and reactivate; each
change is in the access log, and the last active admin can be neither demoted nor deactivated.
No Streamlit here. The sign-in screen goes through `pendo_core.admin.sign_in` (back-off and lockout,
the access log), which checks the password here (`authenticate`); a new password set by an admin
also lifts a lock.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pendo_core.access.rules import normalise_email
from pendo_core.admin import access_log
from pendo_core.admin.checks import check_email
from pendo_core.admin.lockout import account_subject
from pendo_core.admin.tokens import revoke_token
from pendo_core.store.models import ApiToken, AppUser, Csm, Customer, SignInFailure

ROLES = ("csm", "leader", "admin")
DEMO_PASSWORD = "demo"
DEMO_LEADER = "leader@demo.cscx"
DEMO_ADMIN = "admin@demo.cscx"
# scrypt cost: n=2**14, r=8 (16 MiB, ~50 ms a check), the interactive-login figures of RFC 7914.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MIN_PASSWORD = 8
MAX_EMAIL = 254  # RFC 5321's longest address; anything typed beyond it is cut, never stored whole


class AuthError(ValueError):
    """A user that cannot be created as asked; the message names the fix."""


@dataclass(frozen=True)
class User:
    """A signed-in person."""

    email: str
    name: str
    role: str


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """`scrypt$n$r$p$salt$hash` (base64), for storing in app_users.password_hash."""
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, dklen=32)
    return "$".join(["scrypt", str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)])


def verify_password(password: str, stored: str | None) -> bool:
    """True when `password` matches the stored hash; False for a missing or malformed hash."""
    parts = (stored or "").split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return False
    try:
        n, r, p = (int(x) for x in parts[1:4])
        salt, expected = base64.b64decode(parts[4]), base64.b64decode(parts[5])
        digest = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(digest, expected)


def clean_email(email: str) -> str:
    """A typed e-mail as compared and recorded: normalised, control characters (a NUL, which PostgreSQL
    refuses in text) dropped, at most MAX_EMAIL characters."""
    return "".join(c for c in normalise_email(email) if c.isprintable())[:MAX_EMAIL]


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user when the e-mail is known and the password matches, else None (never says which)."""
    row = session.get(AppUser, clean_email(email))
    if row is None:
        verify_password(password, _dummy_hash())  # same work either way, so timing does not tell
        return None
    return _user(row) if verify_password(password, row.password_hash) else None


def upsert_user(session: Session, email: str, name: str, role: str, password: str | None) -> bool:
    """Create the user or update name, role and password (reactivating them); True when it was created."""
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")
    email = normalise_email(email)
    if "@" not in email:
        raise AuthError(f"{email!r} is not an e-mail address")
    if password is not None and len(password) < MIN_PASSWORD:
        raise AuthError(f"the password is too short: use at least {MIN_PASSWORD} characters")
    row = session.get(AppUser, email)
    hashed = hash_password(password) if password is not None else None
    if hashed is not None:
        _unlock(session, email)
    if row is None:
        session.add(AppUser(email=email, name=name, role=role, password_hash=hashed))
        return True
    row.name, row.role = name, role
    if hashed is not None:  # a new password also lets a deactivated user back in
        row.password_hash, row.deactivated_at = hashed, None
    return False


def ensure_demo_users(session: Session) -> list[str]:
    """Demo sign-ins (password `demo`): each CSM of the customers, a leader and an admin.

    Existing users are left as they are; returns the e-mails created. The caller commits.
    """
    wanted = [(email, name, "csm") for email, name in _customer_csms(session)]
    wanted += [(DEMO_LEADER, "Demo Leader", "leader"), (DEMO_ADMIN, "Demo Admin", "admin")]
    existing = set(session.scalars(select(AppUser.email)))
    created = [email for email, name, role in wanted if email not in existing]
    for email, name, role in wanted:
        if email in created:
            session.add(AppUser(email=email, name=name, role=role, password_hash=hash_password(DEMO_PASSWORD)))
    return created


def demo_logins(session: Session) -> list[User]:
    """The demo users that exist (for the sign-in screen in demo mode): CSMs, then leader and admin."""
    emails = [email for email, _ in _customer_csms(session)] + [DEMO_LEADER, DEMO_ADMIN]
    rows = {r.email: r for r in session.scalars(select(AppUser).where(AppUser.email.in_(emails),
                                                                      AppUser.deactivated_at.is_(None)))}
    return [_user(rows[e]) for e in emails if e in rows]


def oidc_user(session: Session, email: str | None, name: str | None) -> User | None:
    """The app user behind an OIDC identity: its app_users role, or `csm` when the e-mail is a
    CSM's; None when the person is unknown (an admin must create them)."""
    if not email:
        return None
    email = normalise_email(email)
    row = session.get(AppUser, email)
    if row is not None:
        return _user(row) if row.deactivated_at is None else None
    csm = session.get(Csm, email)
    return User(email, name or (csm.name if csm else email), "csm") if csm is not None else None


# --- managing users (the Admin screen); every change is in the access log -----------------------


@dataclass(frozen=True)
class UserInfo:
    """A user as the admin list shows them (never the password hash)."""

    email: str
    name: str
    role: str
    created_at: datetime
    deactivated_at: datetime | None

    @property
    def active(self) -> bool:
        """False once deactivated: no sign-in, no API token."""
        return self.deactivated_at is None


def list_users(session: Session) -> list[UserInfo]:
    """Every user, active ones first, each group by e-mail."""
    rows = session.scalars(select(AppUser).order_by(AppUser.deactivated_at.is_not(None), AppUser.email))
    return [UserInfo(r.email, r.name, r.role, r.created_at, r.deactivated_at) for r in rows]


def one_time_password() -> str:
    """A random password of 16 url-safe characters, to be shown once and changed by its owner."""
    return secrets.token_urlsafe(12)


def invite_user(session: Session, email: str, name: str, role: str, *, by: str) -> str:
    """Create a user with a one-time password; returns the password (only its hash is stored)."""
    email = check_email(email)
    _check_role(role)
    if session.get(AppUser, email) is not None:
        raise AuthError(f"{email} is already a user: change their role or reset their password instead")
    password = one_time_password()
    session.add(AppUser(email=email, name=name.strip() or email, role=role, password_hash=hash_password(password)))
    access_log.record(session, by, "user.invite", {"email": email, "role": role})
    return password


def reset_password(session: Session, email: str, *, by: str) -> str:
    """Replace an active user's password with a new one-time password, returned to be shown once."""
    row = _existing(session, email)
    if row.deactivated_at is not None:
        raise AuthError(f"{row.email} is deactivated: reactivate them instead (that sets a new password)")
    password = one_time_password()
    row.password_hash = hash_password(password)
    _unlock(session, row.email)
    access_log.record(session, by, "user.password_reset", {"email": row.email})
    return password


def change_role(session: Session, email: str, role: str, *, by: str) -> bool:
    """Give a user another role (their API tokens follow it); False when it is already theirs."""
    row, actor = _existing(session, email), normalise_email(by)
    _check_role(role)
    if row.role == role:
        return False
    if row.email == actor:
        raise AuthError("you cannot change your own role: ask another admin")
    _keep_an_admin(session, row, role)
    access_log.record(session, by, "user.role_change", {"email": row.email, "from": row.role, "to": role})
    row.role = role
    return True


def deactivate_user(session: Session, email: str, *, by: str, now: datetime) -> int:
    """Stop a user signing in (password removed) and revoke their API tokens; returns how many tokens."""
    row = _existing(session, email)
    if row.deactivated_at is not None:
        raise AuthError(f"{row.email} is already deactivated")
    if row.email == normalise_email(by):
        raise AuthError("you cannot deactivate yourself: ask another admin")
    _keep_an_admin(session, row, None)
    row.deactivated_at, row.password_hash = now, None
    live = session.scalars(select(ApiToken.id).where(ApiToken.user_email == row.email, ApiToken.revoked_at.is_(None)))
    revoked = sum(revoke_token(session, token_id, by=by, now=now) for token_id in list(live))
    access_log.record(session, by, "user.deactivate", {"email": row.email, "tokens_revoked": revoked})
    return revoked


def reactivate_user(session: Session, email: str, *, by: str) -> str:
    """Let a deactivated user sign in again, with a new one-time password (returned, shown once)."""
    row = _existing(session, email)
    if row.deactivated_at is None:
        raise AuthError(f"{row.email} is active: reset their password instead")
    password = one_time_password()
    row.deactivated_at, row.password_hash = None, hash_password(password)
    _unlock(session, row.email)
    access_log.record(session, by, "user.reactivate", {"email": row.email})
    return password


def _unlock(session: Session, email: str) -> None:
    """Forget the account's failed sign-ins: a new password from an admin is the way back in."""
    session.execute(delete(SignInFailure).where(SignInFailure.subject == account_subject(email)))


def _existing(session: Session, email: str) -> AppUser:
    row = session.get(AppUser, normalise_email(email))
    if row is None:
        raise AuthError(f"no user {normalise_email(email)!r}: invite them first")
    return row


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}: use one of {', '.join(ROLES)}")


def _keep_an_admin(session: Session, row: AppUser, new_role: str | None) -> None:
    """Refuse to demote or deactivate the last active admin: nobody could manage users after it."""
    if row.role != "admin" or row.deactivated_at is not None or new_role == "admin":
        return
    others = session.scalar(select(func.count()).select_from(AppUser).where(
        AppUser.role == "admin", AppUser.deactivated_at.is_(None), AppUser.email != row.email)) or 0
    if not others:
        raise AuthError(f"{row.email} is the last active admin: make another user admin first")


def _customer_csms(session: Session) -> list[tuple[str, str]]:
    """(e-mail, name) of every CSM that owns at least one customer."""
    stmt = (select(Csm.email, Csm.name).join(Customer, Customer.csm_email == Csm.email)
            .distinct().order_by(Csm.email))
    return [(normalise_email(email), name) for email, name in session.execute(stmt)]


def _user(row: AppUser) -> User:
    return User(row.email, row.name, row.role)


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not a password", salt=b"0" * 16)
