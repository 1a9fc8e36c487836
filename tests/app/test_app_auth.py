"""Sign-in and roles (pendo_core.admin.users) and the `create-user` command."""

from __future__ import annotations

import argparse
import io

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from jobs.commands import JobError
from jobs.users import create_user, read_password
from pendo_core.admin import users as auth
from pendo_core.common.config import Settings
from pendo_core.store.models import AppUser, Csm, Customer


def _add_customers(session: Session) -> None:
    session.add_all([Csm(email="alice@cscx.io", name="Alice"), Csm(email="bob@cscx.io", name="Bob"),
                     Csm(email="idle@cscx.io", name="Idle")])
    session.flush()
    session.add_all([Customer(customer_id=f"c{i}", name=f"C{i}", csm_email=email)
                     for i, email in enumerate(["alice@cscx.io", "bob@cscx.io", "alice@cscx.io"])])


@pytest.mark.parametrize(("typed", "expected"), [("s3cret-pass", True), ("s3cret-pasS", False), ("", False)],
                         ids=["right", "one-letter-off", "empty"])
def test_scrypt_hash_verifies_only_the_same_password(typed: str, expected: bool) -> None:
    """A stored scrypt hash accepts exactly the password it was made from."""
    stored = auth.hash_password("s3cret-pass")
    assert stored.startswith("scrypt$16384$8$1$")
    assert auth.verify_password(typed, stored) is expected


@pytest.mark.parametrize("stored", [None, "", "plain-text", "scrypt$x$8$1$AA==$AA==", "bcrypt$1$2$3$4$5"],
                         ids=["none", "empty", "plain", "bad-number", "other-scheme"])
def test_malformed_hash_never_verifies(stored: str | None) -> None:
    """A missing or malformed hash is a failed sign-in, not an error."""
    assert auth.verify_password("anything", stored) is False


def test_same_password_gets_a_different_salt() -> None:
    """Two users with one password do not share a hash."""
    assert auth.hash_password("same-password") != auth.hash_password("same-password")


@pytest.mark.parametrize(("email", "password", "found"), [
    ("alice@cscx.io", "correct-horse", True), ("  ALICE@cscx.io ", "correct-horse", True),
    ("alice@cscx.io", "wrong-horse!", False), ("nobody@cscx.io", "correct-horse", False)],
    ids=["exact", "case-and-spaces", "wrong-password", "unknown-user"])
def test_authenticate(sqlite_engine: Engine, email: str, password: str, found: bool) -> None:
    """The e-mail matches case-insensitively; a wrong password and an unknown user look the same."""
    with Session(sqlite_engine) as session, session.begin():
        auth.upsert_user(session, "Alice@cscx.io", "Alice", "csm", "correct-horse")
    with Session(sqlite_engine) as session:
        user = auth.authenticate(session, email, password)
    assert (user == auth.User("alice@cscx.io", "Alice", "csm")) if found else user is None


@pytest.mark.parametrize(("email", "role", "password", "message"), [
    ("a@cscx.io", "owner", "long-enough", "unknown role"), ("not-an-email", "csm", "long-enough", "not an e-mail"),
    ("a@cscx.io", "csm", "short", "too short")], ids=["role", "email", "password"])
def test_upsert_user_refuses_bad_input(sqlite_engine: Engine, email: str, role: str, password: str,
                                       message: str) -> None:
    """Bad roles, e-mails and short passwords are refused with a message naming the fix."""
    with Session(sqlite_engine) as session, pytest.raises(auth.AuthError, match=message):
        auth.upsert_user(session, email, "A", role, password)


def test_upsert_user_updates_an_existing_user(sqlite_engine: Engine) -> None:
    """Running it again changes name, role and password instead of failing."""
    with Session(sqlite_engine) as session, session.begin():
        assert auth.upsert_user(session, "a@cscx.io", "A", "csm", "first-password") is True
    with Session(sqlite_engine) as session, session.begin():
        assert auth.upsert_user(session, "a@cscx.io", "Anna", "leader", "second-password") is False
    with Session(sqlite_engine) as session:
        assert auth.authenticate(session, "a@cscx.io", "second-password") == auth.User("a@cscx.io", "Anna", "leader")
        assert auth.authenticate(session, "a@cscx.io", "first-password") is None


def test_ensure_demo_users_creates_each_csm_a_leader_and_an_admin_once(sqlite_engine: Engine) -> None:
    """Demo sign-ins: every CSM who owns a customer, plus leader and admin, all with password `demo`."""
    with Session(sqlite_engine) as session, session.begin():
        _add_customers(session)
        created = auth.ensure_demo_users(session)
    assert created == ["alice@cscx.io", "bob@cscx.io", auth.DEMO_LEADER, auth.DEMO_ADMIN]
    with Session(sqlite_engine) as session, session.begin():
        assert auth.ensure_demo_users(session) == []
    with Session(sqlite_engine) as session:
        assert auth.authenticate(session, auth.DEMO_ADMIN, "demo") == auth.User(auth.DEMO_ADMIN, "Demo Admin", "admin")
        assert [u.role for u in auth.demo_logins(session)] == ["csm", "csm", "leader", "admin"]


@pytest.mark.parametrize(("email", "expected"), [
    ("bob@cscx.io", auth.User("bob@cscx.io", "Bob", "csm")),
    ("BOSS@cscx.io", auth.User("boss@cscx.io", "Boss", "leader")),
    ("stranger@cscx.io", None), (None, None)], ids=["a-csm", "an-app-user", "unknown", "no-email"])
def test_oidc_identity_maps_to_a_role(sqlite_engine: Engine, email: str | None, expected: auth.User | None) -> None:
    """An SSO user gets their app_users role, or `csm` when they are a CSM; strangers get nothing."""
    with Session(sqlite_engine) as session, session.begin():
        _add_customers(session)
        auth.upsert_user(session, "boss@cscx.io", "Boss", "leader", None)
    with Session(sqlite_engine) as session:
        assert auth.oidc_user(session, email, None) == expected




class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("stdin", "typed", "expected"), [
    (io.StringIO("piped-password\n"), [], "piped-password"),
    (_Terminal(), ["typed-password", "typed-password"], "typed-password")], ids=["piped", "prompted"])
def test_read_password(stdin: io.StringIO, typed: list[str], expected: str) -> None:
    """The password comes from a pipe, or from a prompt asked twice."""
    answers = iter(typed)
    assert read_password(stdin, ask=lambda _prompt: next(answers)) == expected


@pytest.mark.parametrize(("stdin", "typed", "message"), [
    (io.StringIO("\n"), [], "no password"), (_Terminal(), ["one-password", "another-one"], "differ")],
    ids=["empty", "mismatch"])
def test_read_password_refuses(stdin: io.StringIO, typed: list[str], message: str) -> None:
    """An empty password or two different ones stop the command with the reason."""
    answers = iter(typed)
    with pytest.raises(JobError, match=message):
        read_password(stdin, ask=lambda _prompt: next(answers))


def test_create_user_command_stores_a_hash(sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """`create-user` writes the user with an scrypt hash and says so, without echoing the password."""
    settings = Settings(database_url=str(sqlite_engine.url))
    args = argparse.Namespace(email="New@cscx.io", name=None, role="admin")
    assert create_user(settings, args, stdin=io.StringIO("a-long-password\n")) == 0
    assert capsys.readouterr().out.strip() == "user new@cscx.io created (role admin)"
    with Session(sqlite_engine) as session:
        row = session.get(AppUser, "new@cscx.io")
        assert row is not None
        assert row.role == "admin"
        assert "a-long-password" not in (row.password_hash or "")
        assert auth.authenticate(session, "new@cscx.io", "a-long-password") is not None
