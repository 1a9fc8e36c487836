"""Issue 11, item 7: bad input meets a one-line error and costs no good line; alert actions are
atomic. Storage tests run on SQLite and PostgreSQL (`engine`); commands run in-process through their
`main`, where a traceback would be an exception that fails the test."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from api import __main__ as api_cli
from jobs import cli as jobs_cli
from pendo_core.access.rules import Viewer
from pendo_core.admin.pendo_connection import check_connection
from pendo_core.admin.secrets import (
    KEY_FILE,
    PENDO_KEY,
    SecretsError,
    SecretStore,
    load_cipher,
    validate_and_store_key,
    with_stored_secrets,
)
from pendo_core.admin.users import upsert_user
from pendo_core.alerts import queries as alerts_view
from pendo_core.alerts.lifecycle import AlertState, AlertTransitionError, on_action
from pendo_core.common.config import Settings
from pendo_core.common.logging_setup import REDACTED, redact_secret
from pendo_core.customers import repo
from pendo_core.customers.csv_parse import CustomerRow
from pendo_core.customers.uploads import text_lines, upload_csv
from pendo_core.pendo.client import PendoClient, PendoResponseError, RetryPolicy, queries
from pendo_core.pendo.client._body import iter_rows
from pendo_core.store.models import AccountMapping, AlertEvent, Customer, UsageAlert
from tests.support import REPO
from tests.support.health_alerts import table_insert

HEADER = "customer_id,name,domain,segment,arr,renewal_date,csm_name,csm_email,pendo_account_ids\n"
U1, U2, U3 = (f"{d * 8}-{d * 4}-4{d * 3}-8{d * 3}-{d * 12}" for d in "123")
TODAY = date(2026, 3, 19)
NOW = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
LEE = Viewer("lee@cscx.io", "leader")


def _main(engine: Engine, monkeypatch: pytest.MonkeyPatch, main: Callable[[list[str]], int], *args: str,
          **env: str) -> int:
    """Run a command's main in-process against the store, with only the given PENDO_* settings."""
    for name in ("PENDO_INTEGRATION_KEY", "PENDO_BASE_URL", "CSCX_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("DATABASE_URL", engine.url.render_as_string(hide_password=False))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return main(list(args))


def _customers(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(select(Customer.customer_id, Customer.name)).all())


# --- CSV imports: a bad byte costs its line only ---------------------------------------------------


@pytest.mark.parametrize(("bad_line", "error"), [
    (f"{U2},Bad\x00Name,,,,,,,\n".encode(), "line 3: field 2 holds a NUL byte (\\x00), which cannot be stored"),
    (f"{U2},Caf".encode() + b"\xe9,,,,,,,\n", "line 3: field 2 is not valid UTF-8 (byte 0xE9)"),
], ids=["nul-byte", "latin-1-byte"])
def test_a_bad_byte_is_one_error_on_its_line_and_the_good_lines_land(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, *,
        bad_line: bytes, error: str) -> None:
    """A NUL byte (refused by PostgreSQL) or a byte that is not UTF-8 on line 3: that line is reported
    by its number, lines 2 and 4 are imported (issue 11: a traceback / 'line 1', and no good line)."""
    path = tmp_path / "customers.csv"
    path.write_bytes(HEADER.encode() + f"{U1},Good One,,,,,,,\n".encode() + bad_line
                     + f"{U3},Good Two,,,,,,,\n".encode())
    assert _main(engine, monkeypatch, jobs_cli.main, "import-customers", str(path)) == 0
    out = capsys.readouterr()
    assert len(out.err.splitlines()) == 1
    assert out.err.startswith(f"{path}: {error}")
    assert "2 customers imported" in out.out
    assert _customers(engine) == {U1: "Good One", U3: "Good Two"}


# --- settings and commands: one line, never a traceback --------------------------------------------


@pytest.mark.parametrize(("env", "expected"), [
    ({"DATABASE_URL": "garbage"}, "error: bad setting DATABASE_URL: not a database URL: use sqlite:///"),
    ({"DATABASE_URL": "mysql://root:hunter2-secret@db/cscx"},
     "error: bad setting DATABASE_URL: mysql:// databases are not supported"),
    ({"DATABASE_URL": "postgresql://u@host:notaport/db"}, "error: bad setting DATABASE_URL: the postgresql:// URL"),
    ({"PENDO_INTEGRATION_KEY": ""}, "error: bad setting PENDO_INTEGRATION_KEY: is empty"),
    ({"PENDO_INTEGRATION_KEY": "   "}, "error: bad setting PENDO_INTEGRATION_KEY: is empty"),
], ids=["garbage-url", "mysql-url", "unreadable-postgres-url", "empty-key", "blank-key"])
@pytest.mark.parametrize("command", ["jobs", "api"])
def test_a_bad_setting_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                   tmp_path: Path, *, env: dict[str, str], expected: str, command: str) -> None:
    """Both commands name the setting and the fix in one line (exit 2), and never echo a password."""
    monkeypatch.chdir(tmp_path)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    main = jobs_cli.main if command == "jobs" else api_cli.main
    assert main(["sync"] if command == "jobs" else ["token", "list"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected)
    assert len(err.splitlines()) == 1
    assert "hunter2" not in err


@pytest.mark.parametrize("content", [b"x = = 1\n", b'x = "caf\xe9"\n'], ids=["not-toml", "not-utf8"])
def test_a_malformed_secrets_toml_is_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                              tmp_path: Path, content: bytes) -> None:
    """`.streamlit/secrets.toml` that is not TOML: one line naming the file and the fix."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".streamlit").mkdir()
    (tmp_path / ".streamlit" / "secrets.toml").write_bytes(content)
    assert jobs_cli.main(["sync"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: .streamlit/secrets.toml is not valid TOML (")
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize(("env", "toml", "expected"), [
    ({"DATABASE_URL": "garbage"}, None, "error: bad setting DATABASE_URL: not a database URL: use sqlite:///"),
    ({"DATABASE_URL": "mysql://root:hunter2-secret@db/cscx"}, None,
     "error: bad setting DATABASE_URL: mysql:// databases are not supported"),
    ({}, b"x = = 1\n", "error: .streamlit/secrets.toml is not valid TOML ("),
], ids=["garbage-url", "mysql-url", "malformed-secrets-toml"])
def test_alembic_prints_a_bad_setting_in_one_line(tmp_path: Path, env: dict[str, str], toml: bytes | None,
                                                  expected: str) -> None:
    """`alembic upgrade head` (migrations/env.py) reads the settings as the commands do: one line, exit 1."""
    (tmp_path / "alembic.ini").write_text(f"[alembic]\nscript_location = {REPO / 'migrations'}\n"
                                          f"prepend_sys_path = {REPO}\n")
    if toml is not None:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_bytes(toml)
    environ = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PENDO_INTEGRATION_KEY")}
    done = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "head"], cwd=tmp_path, capture_output=True,
                          text=True, env={**environ, **env}, timeout=120, check=False)
    assert done.returncode == 1
    assert done.stderr.startswith(expected)
    assert len(done.stderr.splitlines()) == 1
    assert "hunter2" not in done.stderr


@pytest.mark.parametrize(("days", "code", "expected"), [
    ("100000000", 1, "error: a token may be valid for at most 3650 days"),
    ("0", 1, "error: a token must be valid for at least 1 day"),
    ("3650", 0, "token "),
], ids=["hundred-million-days", "zero-days", "ten-years"])
def test_token_lifetimes_are_bounded(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str], *, days: str, code: int,
                                     expected: str) -> None:
    """`token create --days 100000000` is one line, not an overflow traceback; ten years is the most."""
    with Session(engine) as session, session.begin():
        upsert_user(session, "ann@cscx.io", "Ann", "admin", "long-enough-password")
    assert _main(engine, monkeypatch, api_cli.main, "token", "create", "ann@cscx.io", "--days", days) == code
    out = capsys.readouterr()
    assert (out.out if code == 0 else out.err).startswith(expected)
    assert code or f"for ann@cscx.io, expires {(datetime.now(UTC) + timedelta(days=3650)):%Y-%m-%d}" in out.out


# --- the encryption key: only demo mode makes one, and errors say where the key came from ----------


def test_reading_stored_secrets_never_creates_a_key(sqlite_engine: Engine, tmp_path: Path) -> None:
    """A key stored from one folder, then a run from another without CSCX_SECRET_KEY: the run says to set
    it, and creates no data/secret.key there (issue 11: it made one, then blamed 'the configured key')."""
    saved_from, run_from = tmp_path / "app", tmp_path / "cron"
    cipher = load_cipher(Settings(), root=saved_from)  # demo mode: the first secret makes the key file
    SecretStore(sqlite_engine, cipher).put(PENDO_KEY, "pk-" + "7" * 30, by="admin")
    with pytest.raises(SecretsError, match="set CSCX_SECRET_KEY to the key they were saved with"):
        with_stored_secrets(Settings(), sqlite_engine, root=run_from)
    assert not (run_from / KEY_FILE).exists()
    found = with_stored_secrets(Settings(), sqlite_engine, root=saved_from).pendo_integration_key
    assert found is not None
    assert found.get_secret_value() == "pk-" + "7" * 30


def test_a_value_that_cannot_be_decrypted_names_where_the_key_came_from(sqlite_engine: Engine,
                                                                        tmp_path: Path) -> None:
    """Decrypting with another key file's key names that file, not 'the configured CSCX_SECRET_KEY'."""
    writer = load_cipher(Settings(cscx_secret_key=Fernet.generate_key().decode()))
    SecretStore(sqlite_engine, writer).put(PENDO_KEY, "pk-" + "7" * 30, by="admin")
    reader = load_cipher(Settings(), root=tmp_path)
    with pytest.raises(SecretsError) as caught:
        SecretStore(sqlite_engine, reader).get(PENDO_KEY)
    assert f"cannot be decrypted with the key file {(tmp_path / KEY_FILE).resolve()}" in str(caught.value)
    assert "configured" not in str(caught.value)


def test_the_api_stores_a_key_only_with_an_encryption_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API is no demo: without CSCX_SECRET_KEY it refuses to store a key (503) and makes no key file."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SecretsError, match="set CSCX_SECRET_KEY"):
        load_cipher(Settings(), create=False)
    assert not (tmp_path / KEY_FILE).exists()


# --- a key too short to be one ---------------------------------------------------------------------


@pytest.mark.parametrize("key", ["k", "e", "abc", "1234567"], ids=["k", "e", "three", "seven"])
def test_a_key_too_short_to_be_one_is_refused_in_plain_words(sqlite_engine: Engine, key: str) -> None:
    """A one-letter key is not sent to Pendo and does not mangle the message ('chec<redacted>ed')."""
    expected = (f"That is not a Pendo integration key: it is only {len(key)} character(s) long. Copy the whole "
                "key (Pendo: Settings → Integrations → Integration Keys).")
    cipher = load_cipher(Settings(cscx_secret_key=Fernet.generate_key().decode()))
    assert check_connection(key, "us", "http://127.0.0.1:9").message == expected
    stored = validate_and_store_key(sqlite_engine, key, "us", "http://127.0.0.1:9", by="admin", cipher=cipher)
    assert (stored.ok, stored.message) == (False, expected)


@pytest.mark.parametrize(("secret", "text", "expected"), [
    ("k", "the key could not be checked", "the key could not be checked"),
    ("1234567", "order 1234567 checked", "order 1234567 checked"),
    ("pk-12345678", "refused pk-12345678 today", f"refused {REDACTED} today"),
], ids=["one-letter", "seven-characters", "a-real-key"])
def test_only_secrets_long_enough_are_redacted_by_substring(secret: str, text: str, expected: str) -> None:
    """Below 8 characters a value is not a secret to hunt for in text: it would redact ordinary words."""
    assert redact_secret(text, secret) == expected


# --- a 30-digit integer is valid JSON --------------------------------------------------------------


def test_a_thirty_digit_integer_is_read_not_called_invalid_json() -> None:
    """The row arrives with the whole number, on the first read (no retry)."""
    big = 123456789012345678901234567890
    body = b'{"results": [{"accountId": ' + str(big).encode() + b', "numEvents": 3}]}'
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with PendoClient("https://big-numbers.example", "k" * 36, transport=transport,
                     retry=RetryPolicy.for_tests()) as client:
        rows = client.aggregate_all(queries.accounts_since(0, None, 10))
        assert rows == [{"accountId": big, "numEvents": 3}]
        assert client.stats.retries == 0


def test_an_integer_beyond_the_digit_limit_fails_that_answer_not_the_run() -> None:
    """More than 4,300 digits (Python's limit) is a PendoResponseError, which the sync meets by
    withholding that one window; a bare ValueError used to escape and fail the whole run."""
    body = b'{"results": [{"accountId": ' + b"9" * 5000 + b', "numEvents": 3}]}'
    transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
    with PendoClient("https://big-numbers.example", "k" * 36, transport=transport,
                     retry=RetryPolicy.for_tests()) as client, pytest.raises(PendoResponseError, match="4300 digits"):
        client.aggregate_all(queries.accounts_since(0, None, 10))


@pytest.mark.parametrize("cut", [0, 20, 30, 40], ids=lambda c: f"chunk-cut-at-{c}")
def test_a_number_beyond_64_bits_is_valid_json(cut: int) -> None:
    """Read exactly wherever a chunk cuts it (a count that large is then a bad row of the sync, like any
    impossible count)."""
    body = b'{"results": [{"numEvents": 18446744073709551616, "visitorId": 7}]}'
    assert list(iter_rows([body[:cut], body[cut:]], host="pendo")) == [{"numEvents": 2**64, "visitorId": 7}]


# --- alert actions: atomic, and a snooze at most a year --------------------------------------------


def _alert(engine: Engine, status: str = "open") -> int:
    table_insert(engine, "csms", [{"email": "ann@cscx.io", "name": "Ann"}])
    table_insert(engine, "customers", [{"customer_id": U1, "name": "Acme", "csm_email": "ann@cscx.io"}])
    table_insert(engine, "pendo_usage_alerts", [{
        "id": 1, "customer_id": U1, "kind": "no_login", "subject": "", "status": status, "severity": "high",
        "triggered_on": TODAY, "last_evaluated_on": TODAY, "assigned_csm_email": "ann@cscx.io", "details": {},
        "status_by": "system", "status_at": NOW - timedelta(days=1)}])
    return 1


def _race(engine: Engine, actions: list[tuple[str, dict[str, Any]]]) -> list[str | Exception]:
    """Run the actions on alert 1 at the same moment, one thread each; their outcomes, in order."""
    barrier = threading.Barrier(len(actions))
    outcomes: list[str | Exception] = [""] * len(actions)

    def act(i: int, action: str, kwargs: dict[str, Any]) -> None:
        barrier.wait()
        try:
            outcomes[i] = alerts_view.act(engine, 1, action, LEE, today=TODAY, now=NOW, **kwargs)
        except AlertTransitionError as exc:
            outcomes[i] = exc

    threads = [threading.Thread(target=act, args=(i, a, k)) for i, (a, k) in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _events(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.scalars(select(AlertEvent.action).where(AlertEvent.alert_id == 1)))


def test_ten_simultaneous_acknowledges_succeed_once_and_record_one_event(engine: Engine) -> None:
    """Ten people acknowledging one open alert at once: exactly one succeeds and one event is recorded;
    the others hear it is already acknowledged (issue 11: 2-3 successes and duplicate events)."""
    _alert(engine)
    outcomes = _race(engine, [("acknowledge", {})] * 10)
    assert sum(isinstance(o, str) for o in outcomes) == 1
    assert all("already acknowledged" in str(o) for o in outcomes if isinstance(o, Exception))
    assert _events(engine) == ["acknowledged"]


def test_simultaneous_mixed_actions_leave_one_event_per_success_in_a_legal_order(engine: Engine) -> None:
    """Acknowledge, dismiss and snooze at once, three times over: every success recorded exactly one event,
    and the events replay through the lifecycle from "open" (no action was applied to a stale state)."""
    _alert(engine)
    week = TODAY + timedelta(days=7)
    actions = [("acknowledge", {}), ("dismiss", {"reason": "seasonal"}), ("snooze", {"until": week})] * 3
    outcomes = _race(engine, actions)
    events = _events(engine)
    assert len(events) == sum(isinstance(o, str) for o in outcomes) >= 1
    assert all("\n" not in str(o) for o in outcomes)
    state = AlertState("open")
    for event in events:
        action = {"acknowledged": "acknowledge", "dismissed": "dismiss", "snoozed": "snooze"}[event]
        state = on_action(state, action, TODAY, reason="seasonal", until=week)
    with engine.connect() as conn:
        assert conn.scalar(select(UsageAlert.status)) == state.status


def test_the_loser_of_two_acknowledges_hears_it_is_already_acknowledged(engine: Engine) -> None:
    """Acting on a state that changed meanwhile gives the lifecycle's reason when it applies."""
    _alert(engine)
    alerts_view.act(engine, 1, "acknowledge", LEE, today=TODAY, now=NOW)
    with pytest.raises(AlertTransitionError, match="already acknowledged"):
        alerts_view.act(engine, 1, "acknowledge", LEE, today=TODAY, now=NOW)
    assert _events(engine) == ["acknowledged"]


@pytest.mark.parametrize(("until", "allowed"), [
    (TODAY + timedelta(days=365), True), (TODAY + timedelta(days=366), False), (date(9999, 12, 31), False)],
    ids=["a-year", "a-year-and-a-day", "9999-12-31"])
def test_a_snooze_lasts_at_most_a_year(engine: Engine, until: date, allowed: bool) -> None:
    """A snooze date more than a year away is refused, with the latest date allowed; nothing changes."""
    assert (on_action(AlertState("open"), "snooze", TODAY, until=until).status == "snoozed") if allowed else True
    _alert(engine)
    if allowed:
        alerts_view.act(engine, 1, "snooze", LEE, today=TODAY, now=NOW, until=until)
        assert _events(engine) == ["snoozed"]
        return
    with pytest.raises(AlertTransitionError, match=f"snooze at most a year, until {TODAY + timedelta(days=365)}"):
        alerts_view.act(engine, 1, "snooze", LEE, today=TODAY, now=NOW, until=until)
    assert _events(engine) == []


# --- an import does not move an account between customers unless told -------------------------------


def _mappings(engine: Engine) -> dict[str, tuple[str, str]]:
    with engine.connect() as conn:
        return {a: (c, m) for a, c, m in conn.execute(select(
            AccountMapping.pendo_account_id, AccountMapping.customer_id, AccountMapping.method))}


def _import(engine: Engine, rows: list[CustomerRow], *, reassign: bool = False) -> repo.UpsertCounts:
    with Session(engine) as session, session.begin():
        return repo.upsert_customers(session, rows, reassign=reassign)


@pytest.mark.parametrize(("first", "reassign", "owner", "moved"), [
    ("import", False, U1, False), ("import", True, U2, True),
    ("manual", False, U1, False), ("manual", True, U2, True),
    ("auto_name", False, U2, True),
], ids=["imported-held", "imported-reassigned", "manual-held", "manual-reassigned", "automatic-settled"])
def test_a_mapping_move_is_a_conflict_unless_reassigned(engine: Engine, first: str, reassign: bool, owner: str,
                                                        moved: bool) -> None:
    """An account someone mapped to Acme, imported now under Globex, stays Acme's and is reported (with
    its line) unless --reassign; an automatic guess is settled by the import, and reported as moved."""
    _import(engine, [CustomerRow(U1, "Acme"), CustomerRow(U2, "Globex")])
    table_insert(engine, "pendo_account_mapping", [{"pendo_account_id": "acct-1", "customer_id": U1, "method": first}])
    counts = _import(engine, [CustomerRow(U2, "Globex", pendo_account_ids=("acct-1", "acct-2"), line_no=7)],
                     reassign=reassign)
    assert _mappings(engine)["acct-1"][0] == owner
    assert _mappings(engine)["acct-2"] == (U2, "import")
    assert [(m.line_no, m.account_id, m.from_customer, m.to_customer, m.moved) for m in counts.moves] == [
        (7, "acct-1", U1, U2, moved)]
    assert str(counts.moves[0]).startswith("line 7: pendo_account_ids 'acct-1' ")
    assert ("pass --reassign" in str(counts.moves[0])) is not moved


def test_the_import_command_reports_held_moves_and_reassigns_when_told(
        engine: Engine, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """`import-customers` prints each held move and a count; `--reassign` moves the account."""
    first, second = tmp_path / "first.csv", tmp_path / "second.csv"
    first.write_text(HEADER + f"{U1},Acme,,,,,,,acct-1\n{U2},Globex,,,,,,,\n", encoding="utf-8")
    second.write_text(HEADER + f"{U2},Globex,,,,,,,acct-1\n", encoding="utf-8")
    assert _main(engine, monkeypatch, jobs_cli.main, "import-customers", str(first)) == 0
    capsys.readouterr()
    assert _main(engine, monkeypatch, jobs_cli.main, "import-customers", str(second)) == 0
    out = capsys.readouterr()
    assert f"{second}: line 2: pendo_account_ids 'acct-1' is mapped to customer {U1} (import)" in out.err
    assert "1 account move(s) held (pass --reassign)" in out.out
    assert _mappings(engine)["acct-1"][0] == U1
    assert _main(engine, monkeypatch, jobs_cli.main, "import-customers", str(second), "--reassign") == 0
    assert _mappings(engine)["acct-1"] == (U2, "import")
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Customer)) == 2


def test_an_upload_on_the_admin_screen_holds_moves_and_reports_bad_bytes_like_the_cli(engine: Engine) -> None:
    """The Admin screen's upload reads as the CLI does: a byte that is not UTF-8 costs its line only, and
    a mapping move is held and reported with its line (the CLI's --reassign is the way to move it)."""
    _import(engine, [CustomerRow(U1, "Acme", pendo_account_ids=("acct-1",)), CustomerRow(U2, "Globex")])
    data = (HEADER + f"{U2},Globex,,,,,,,acct-1\n").encode() + f"{U3},Caf".encode() + b"\xe9,,,,,,,\n"
    report = upload_csv(engine, "customers", text_lines(data), by="ada@cscx.io", file_name="customers.csv")
    assert [p.message.split(";")[0] for p in report.problems] == [
        f"line 2: pendo_account_ids 'acct-1' is mapped to customer {U1} (import)",
        "line 3: field 2 is not valid UTF-8 (byte 0xE9)"]
    assert report.summary() == "1 customers imported (0 new, 1 updated); 1 line(s) rejected; " \
                               "1 account move(s) held (pass --reassign)"
    assert _mappings(engine)["acct-1"] == (U1, "import")
