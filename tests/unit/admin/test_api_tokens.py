"""API tokens: only a hash is stored, a token acts as its user's current role, it expires and can be
revoked, use is recorded sparingly, every issue and revocation is audited; the CLI manages them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from api import __main__ as api_cli
from pendo_core.admin.tokens import (
    TokenError,
    api_tokens,
    authenticate_token,
    issue_token,
    list_tokens,
    revoke_token,
)
from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import AppUser, AuditLog
from tests.support.chat_api import NOW

EMAIL = "lee@cscx.io"


@pytest.fixture
def user(engine: Engine) -> Engine:
    with Session(engine) as session, session.begin():
        session.add(AppUser(email=EMAIL, name="Lee", role="leader", password_hash=None))
    return engine


def _issue(engine: Engine, days: int | None = None) -> str:
    with Session(engine) as session, session.begin():
        token, _ = issue_token(session, EMAIL, "platform", by="admin@cscx.io", now=NOW, days=days)
    return token


def _who(engine: Engine, token: str, when: timedelta = timedelta(0)) -> tuple[str, str] | None:
    with Session(engine) as session, session.begin():
        found = authenticate_token(session, token, now=NOW + when)
    return None if found is None else (found.email, found.role)


def test_a_token_acts_as_its_user_and_only_its_hash_is_stored(user: Engine) -> None:
    """The token authenticates as the user; the table never holds the token itself."""
    token = _issue(user)
    with user.connect() as conn:
        stored = [str(v) for row in conn.execute(select(api_tokens)) for v in row]
    assert _who(user, token) == (EMAIL, "leader")
    assert token not in stored
    assert token[:10] in stored  # the prefix, to recognise it in a list


def test_the_role_is_the_users_current_one(user: Engine) -> None:
    """Demoting the user demotes every token of theirs at once."""
    token = _issue(user)
    with Session(user) as session, session.begin():
        session.get(AppUser, EMAIL).role = "csm"  # type: ignore[union-attr]
    assert _who(user, token) == (EMAIL, "csm")


@pytest.mark.parametrize(("days", "later", "valid"), [
    (None, timedelta(days=3650), True), (2, timedelta(days=1), True), (2, timedelta(days=2), False)],
    ids=["no-expiry", "before-expiry", "at-expiry"])
def test_tokens_expire(user: Engine, days: int | None, later: timedelta, valid: bool) -> None:
    """A token with a lifetime stops working when it ends."""
    assert (_who(user, _issue(user, days), later) is not None) is valid


@pytest.mark.parametrize("token", ["", "cscx_", "cscx_wrong", "Bearer cscx_x", "not-ours"],
                         ids=["empty", "prefix-only", "unknown", "with-scheme", "foreign"])
def test_unknown_tokens_are_refused(user: Engine, token: str) -> None:
    """Anything that is not an issued token authenticates nobody."""
    _issue(user)
    assert _who(user, token) is None


def test_revocation_ends_a_token_and_is_audited(user: Engine) -> None:
    """A revoked token is refused; revoking twice reports that nothing was active; both writes audited."""
    token = _issue(user)
    with Session(user) as session, session.begin():
        token_id = list_tokens(session)[0].id
        first = revoke_token(session, token_id, by="admin@cscx.io", now=NOW)
        second = revoke_token(session, token_id, by="admin@cscx.io", now=NOW)
    with user.connect() as conn:
        actions = sorted(conn.execute(select(AuditLog.action)).scalars())
    assert (first, second, _who(user, token)) == (True, False, None)
    assert actions == ["api_token.issue", "api_token.revoke"]


def test_last_use_is_written_at_most_once_a_minute(user: Engine) -> None:
    """Use is recorded, but not on every request."""
    token = _issue(user)

    def used_after(seconds: int) -> object:
        _who(user, token, timedelta(seconds=seconds))
        with Session(user) as session:
            return list_tokens(session)[0].last_used_at

    assert [used_after(s) for s in (0, 30, 90)] == [NOW, NOW, NOW + timedelta(seconds=90)]


@pytest.mark.parametrize(("email", "days", "message"), [
    ("nobody@cscx.io", None, "no app user nobody@cscx.io"), (EMAIL, 0, "at least 1 day")],
    ids=["unknown-user", "zero-days"])
def test_issuing_refuses_what_cannot_work(user: Engine, email: str, days: int | None, message: str) -> None:
    """A token needs an existing user and a positive lifetime; the error says so."""
    with Session(user) as session, pytest.raises(TokenError, match=message):
        issue_token(session, email, "x", by="admin", now=NOW, days=days)


# --- the CLI ---------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    engine = make_engine(url)
    migrate(engine)
    with Session(engine) as session, session.begin():
        session.add(AppUser(email=EMAIL, name="Lee", role="leader", password_hash=None))
    return engine


def test_cli_creates_lists_and_revokes_tokens(cli_store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """create prints the token once; list shows only its prefix; revoke ends it."""
    assert api_cli.main(["token", "create", EMAIL, "--name", "platform", "--days", "30"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert api_cli.main(["token", "list"]) == 0
    listed = capsys.readouterr().out
    assert token not in listed
    assert f"{token[:10]}…\t{EMAIL}\tplatform\texpires" in listed
    assert api_cli.main(["token", "revoke", "1"]) == 0
    assert api_cli.main(["token", "revoke", "1"]) == 1
    assert "no active token 1" in capsys.readouterr().err


def test_cli_refuses_a_token_for_an_unknown_user(cli_store: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    """The CLI names the missing user and exits 1."""
    assert api_cli.main(["token", "create", "ghost@cscx.io"]) == 1
    assert "create the user first" in capsys.readouterr().err


def test_the_served_app_has_every_endpoint(cli_store: Engine) -> None:
    """`make api` serves the app build_app composes: the issue's endpoints, sync and key storage wired."""
    from pendo_core.common.config import Settings

    app = api_cli.build_app(Settings(), cli_store)
    paths = set(app.openapi()["paths"])
    assert {"/api/integrations/pendo/connect", "/api/pendo/accounts", "/api/pendo/accounts/{account_id}/usage",
            "/api/pendo/customer/{customer_id}/metrics", "/api/pendo/sync", "/api/pendo/alerts"} <= paths
    assert app.state.ctx.run_sync is not None
    assert app.state.ctx.connect is not None
