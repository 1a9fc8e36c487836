"""Managing users from the Admin screen: invite with a one-time password, change a role, reset a
password, deactivate (no sign-in, no token, no single sign-on) and reactivate; the last active admin
stays; every change is in the access log. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin import users as auth
from pendo_core.admin.checks import InvalidInput
from pendo_core.admin.tokens import authenticate_token, issue_token
from pendo_core.store.models import AppUser, AuditLog

NOW = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
ADMIN, OTHER_ADMIN, LEE = "ada@cscx.io", "bo@cscx.io", "lee@cscx.io"


@pytest.fixture
def store(engine: Engine) -> Engine:
    """Two admins and a leader, each with the password `password-1`."""
    with Session(engine) as session, session.begin():
        for email, role in ((ADMIN, "admin"), (OTHER_ADMIN, "admin"), (LEE, "leader")):
            auth.upsert_user(session, email, email.split("@")[0].title(), role, "password-1")
    return engine


def _do(engine: Engine, change: Callable[[Session], object]) -> object:
    with Session(engine) as session, session.begin():
        return change(session)


def _signs_in(engine: Engine, email: str, password: str) -> bool:
    with Session(engine) as session:
        return auth.authenticate(session, email, password) is not None


def _log(engine: Engine) -> list[tuple[str, str, dict[str, object]]]:
    with Session(engine) as session:
        rows = session.execute(select(AuditLog).order_by(AuditLog.id)).scalars()
        return [(r.actor, r.action, dict(r.details or {})) for r in rows]


def test_an_invited_user_signs_in_with_the_one_time_password(store: Engine) -> None:
    """Invite returns a fresh password (only its hash is stored) that signs the user in; it is audited."""
    password = _do(store, lambda s: auth.invite_user(s, " Maya@CSCX.io ", "Maya Chen", "csm", by=ADMIN))
    assert isinstance(password, str)
    assert len(password) >= auth.MIN_PASSWORD
    assert _signs_in(store, "maya@cscx.io", password)
    with Session(store) as session:
        row = session.get(AppUser, "maya@cscx.io")
        assert row is not None
        assert password not in (row.password_hash or "")
    assert _log(store)[-1] == (ADMIN, "user.invite", {"email": "maya@cscx.io", "role": "csm"})


@pytest.mark.parametrize(("email", "role", "error", "message"), [
    (LEE, "csm", auth.AuthError, "already a user"),
    ("maya@cscx.io", "owner", auth.AuthError, "unknown role"),
    ("maya", "csm", InvalidInput, "not an e-mail address"),
], ids=["existing-user", "unknown-role", "bad-e-mail"])
def test_an_invite_that_cannot_be_made_says_why(store: Engine, email: str, role: str, error: type[Exception],
                                                 message: str) -> None:
    """Nothing is created and nothing is logged; the error names the fix."""
    with pytest.raises(error, match=message):
        _do(store, lambda s: auth.invite_user(s, email, "Someone", role, by=ADMIN))
    assert _log(store) == []


def test_changing_a_role_is_audited_and_follows_to_tokens(store: Engine) -> None:
    """The new role is the user's and their token's at once; the log names old and new."""
    token, _ = _do(store, lambda s: issue_token(s, LEE, "crm", by=ADMIN, now=NOW))  # type: ignore[misc]
    assert _do(store, lambda s: auth.change_role(s, LEE, "csm", by=ADMIN)) is True
    assert _do(store, lambda s: auth.change_role(s, LEE, "csm", by=ADMIN)) is False  # already: no entry
    found = _do(store, lambda s: authenticate_token(s, token, now=NOW))
    assert getattr(found, "role", None) == "csm"
    assert _log(store)[-1] == (ADMIN, "user.role_change", {"email": LEE, "from": "leader", "to": "csm"})


def test_deactivated_users_cannot_sign_in_nor_use_tokens_nor_single_sign_on(store: Engine) -> None:
    """Deactivation removes the password, revokes every token and refuses OIDC; it is audited."""
    token, _ = _do(store, lambda s: issue_token(s, LEE, "crm", by=ADMIN, now=NOW))  # type: ignore[misc]
    revoked = _do(store, lambda s: auth.deactivate_user(s, LEE, by=ADMIN, now=NOW))
    assert revoked == 1
    assert not _signs_in(store, LEE, "password-1")
    assert _do(store, lambda s: authenticate_token(s, token, now=NOW)) is None
    assert _do(store, lambda s: auth.oidc_user(s, LEE, "Lee")) is None
    listed = {u.email: u.active for u in _do(store, auth.list_users)}  # type: ignore[attr-defined]
    assert listed == {ADMIN: True, OTHER_ADMIN: True, LEE: False}
    assert [a for _, a, _ in _log(store)][-2:] == ["api_token.revoke", "user.deactivate"]


def test_a_reactivated_user_signs_in_with_a_new_one_time_password(store: Engine) -> None:
    """Reactivation sets a new password (the old one stays gone) and is audited."""
    _do(store, lambda s: auth.deactivate_user(s, LEE, by=ADMIN, now=NOW))
    password = _do(store, lambda s: auth.reactivate_user(s, LEE, by=ADMIN))
    assert isinstance(password, str)
    assert _signs_in(store, LEE, password)
    assert not _signs_in(store, LEE, "password-1")
    assert _log(store)[-1] == (ADMIN, "user.reactivate", {"email": LEE})


def test_a_reset_password_replaces_the_old_one(store: Engine) -> None:
    """The old password stops working, the new one works; audited without the password."""
    password = _do(store, lambda s: auth.reset_password(s, LEE, by=ADMIN))
    assert isinstance(password, str)
    assert (_signs_in(store, LEE, "password-1"), _signs_in(store, LEE, password)) == (False, True)
    assert _log(store)[-1] == (ADMIN, "user.password_reset", {"email": LEE})


def test_create_user_from_the_cli_reactivates(store: Engine) -> None:
    """Setting a password with `create-user` lets a deactivated user back in (an explicit admin act)."""
    _do(store, lambda s: auth.deactivate_user(s, LEE, by=ADMIN, now=NOW))
    _do(store, lambda s: auth.upsert_user(s, LEE, "Lee", "leader", "password-2"))
    assert _signs_in(store, LEE, "password-2")
    assert _do(store, lambda s: auth.oidc_user(s, LEE, "Lee")) is not None


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: auth.deactivate_user(s, ADMIN, by=ADMIN, now=NOW), "cannot deactivate yourself"),
    (lambda s: auth.change_role(s, ADMIN, "csm", by=ADMIN), "cannot change your own role"),
    (lambda s: auth.reset_password(s, "nobody@cscx.io", by=ADMIN), "no user"),
    (lambda s: auth.reactivate_user(s, LEE, by=ADMIN), "is active"),
], ids=["deactivate-self", "demote-self", "unknown-user", "reactivate-active"])
def test_refused_changes_say_why_and_change_nothing(store: Engine, change: Callable[[Session], object],
                                                    message: str) -> None:
    """Each refusal is one line naming the fix; nothing is logged."""
    with pytest.raises(auth.AuthError, match=message):
        _do(store, change)
    assert _log(store) == []


@pytest.mark.parametrize("change", [
    lambda s: auth.change_role(s, ADMIN, "leader", by="ops@cscx.io"),
    lambda s: auth.deactivate_user(s, ADMIN, by="ops@cscx.io", now=NOW),
], ids=["demote", "deactivate"])
def test_the_last_active_admin_stays(store: Engine, change: Callable[[Session], object]) -> None:
    """With the other admin deactivated, the remaining one can be neither demoted nor deactivated."""
    _do(store, lambda s: auth.deactivate_user(s, OTHER_ADMIN, by=ADMIN, now=NOW))
    with pytest.raises(auth.AuthError, match="last active admin"):
        _do(store, change)
