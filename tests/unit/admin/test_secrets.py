"""Secrets at rest: where the encryption key comes from, encryption that refuses tampering, the
environment winning over the store, the Pendo key checked before it is stored, and the key never
showing up in logs, errors, sync records, the database or the CLI's output."""

from __future__ import annotations

import io
import json
import logging
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet, MultiFernet
from sqlalchemy import Engine, inspect, select, text, update

from pendo_core.admin.secrets import (
    KEY_FILE,
    PENDO_KEY,
    SMTP_PASSWORD,
    WEBHOOK_URL,
    SecretsError,
    SecretStore,
    load_cipher,
    validate_and_store_key,
    with_stored_secrets,
)
from pendo_core.common.config import Settings
from pendo_core.common.logging_setup import REDACTED, configure_logging
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.sync.runner import RunSummary, SyncError, SyncRequest
from pendo_core.pipeline import INGEST_STEPS, sync_runner
from pendo_core.store import models
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer, start_server
from tests.support import REPO
from tests.support.sync import import_demo_customers

SECRET = "pk-7f3c9a51-SCAN-ME-d2b8e4f0-0a1b2c3d"  # the key the scan looks for
AS_OF = date(2024, 3, 20)


def _key() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=5, accounts=4, days=40, as_of=AS_OF, tz="UTC")


@pytest.fixture
def server(subscription: Subscription) -> Iterator[SimServer]:
    """A simulator that accepts only SECRET as its integration key."""
    sim = start_server(subscription, key=SECRET)
    yield sim
    sim.stop()


CIPHER_KEY = _key()


@pytest.fixture
def cipher() -> MultiFernet:
    return load_cipher(Settings(cscx_secret_key=CIPHER_KEY))


# --- where the encryption key comes from ---------------------------------------------------------


@pytest.mark.parametrize(("env", "toml", "file", "winner"), [
    (True, True, True, "env"),
    (False, True, True, "toml"),
    (False, False, True, "file"),
], ids=["environment-wins", "secrets-toml-next", "key-file-last"])
def test_the_encryption_key_source_order(tmp_path: Path, env: bool, toml: bool, file: bool, winner: str) -> None:
    """CSCX_SECRET_KEY in the environment, then .streamlit/secrets.toml, then data/secret.key."""
    keys = {"env": _key(), "toml": _key(), "file": _key()}
    if toml:
        (tmp_path / ".streamlit").mkdir()
        (tmp_path / ".streamlit" / "secrets.toml").write_text(f'CSCX_SECRET_KEY = "{keys["toml"]}"\n')
    if file:
        (tmp_path / KEY_FILE).parent.mkdir(parents=True)
        (tmp_path / KEY_FILE).write_text(keys["file"] + "\n")
    settings = Settings(cscx_secret_key=keys["env"] if env else None)
    token = load_cipher(settings, root=tmp_path).encrypt(b"x")
    assert Fernet(keys[winner].encode()).decrypt(token) == b"x"


def test_demo_mode_creates_a_private_key_file_once(tmp_path: Path) -> None:
    """Without a key and without a Pendo key (demo mode), a key file is made, mode 0600, and reused."""
    first = load_cipher(Settings(), root=tmp_path)
    path = tmp_path / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    token = first.encrypt(b"x")
    assert load_cipher(Settings(), root=tmp_path).decrypt(token) == b"x"


@pytest.mark.parametrize(("settings", "message"), [
    (Settings(pendo_integration_key="k" * 20), "set CSCX_SECRET_KEY"),
    (Settings(cscx_secret_key="not-a-fernet-key"), "not a Fernet key"),
    (Settings(cscx_secret_key=" , "), "is empty"),
], ids=["no-key-outside-demo-mode", "malformed-key", "empty-key-list"])
def test_a_missing_or_bad_encryption_key_is_a_clear_error(tmp_path: Path, settings: Settings, message: str) -> None:
    """Outside demo mode nothing is invented; a malformed key is named with the way to make one."""
    with pytest.raises(SecretsError, match=message) as caught:
        load_cipher(settings, root=tmp_path)
    assert "Fernet.generate_key" in str(caught.value)
    assert not (tmp_path / KEY_FILE).exists()


# --- the store ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [PENDO_KEY, WEBHOOK_URL, SMTP_PASSWORD], ids=lambda n: n)
def test_secrets_round_trip_encrypted_and_audited(engine: Engine, cipher: MultiFernet, name: str) -> None:
    """What is stored is ciphertext; reading gives the value back; the audit log names the secret only."""
    value = "https://hooks.example.com/" + SECRET if name == WEBHOOK_URL else SECRET
    store = SecretStore(engine, cipher)
    info = store.put(name, value, by="admin@example.com")
    assert store.get(name) is not None
    assert store.get(name).get_secret_value() == value  # type: ignore[union-attr]
    assert info.hint == "…" + value[-4:]
    with engine.connect() as conn:
        stored = conn.scalar(select(models.StoredSecret.ciphertext))
        audit = conn.execute(select(models.AuditLog.actor, models.AuditLog.action, models.AuditLog.details)).all()
    assert SECRET not in str(stored)
    assert [(a, b) for a, b, _ in audit] == [("admin@example.com", "secret.set")]
    assert SECRET not in json.dumps(audit[0][2])


def test_a_tampered_or_foreign_ciphertext_is_refused(sqlite_engine: Engine, cipher: MultiFernet) -> None:
    """Authenticated encryption: a changed byte or another key gives an error naming the fix, not garbage."""
    store = SecretStore(sqlite_engine, cipher)
    store.put(PENDO_KEY, SECRET, by="admin")
    with pytest.raises(SecretsError, match="cannot be decrypted") as foreign:
        SecretStore(sqlite_engine, MultiFernet([Fernet(_key().encode())])).get(PENDO_KEY)
    with sqlite_engine.begin() as conn:
        token = conn.scalar(select(models.StoredSecret.ciphertext))
        assert token is not None
        forged = token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:]
        conn.execute(update(models.StoredSecret).values(ciphertext=forged))
    with pytest.raises(SecretsError, match="cannot be decrypted") as tampered:
        store.get(PENDO_KEY)
    assert SECRET not in str(foreign.value) + str(tampered.value)


@pytest.mark.parametrize(("name", "value", "message"), [
    ("favourite_colour", "blue", "unknown secret"),
    (PENDO_KEY, "   ", "is empty"),
    (WEBHOOK_URL, "ftp://hooks.example.com/x", "must start with https://"),
], ids=["unknown-name", "blank-value", "webhook-not-http"])
def test_bad_secret_writes_are_refused(sqlite_engine: Engine, cipher: MultiFernet, name: str, value: str,
                                       message: str) -> None:
    """Nothing is stored when the name or the value is wrong."""
    with pytest.raises(SecretsError, match=message):
        SecretStore(sqlite_engine, cipher).put(name, value, by="admin")
    assert SecretStore(sqlite_engine, cipher).info(name) is None


def test_rotation_re_encrypts_with_the_new_key(sqlite_engine: Engine) -> None:
    """With "new,old" configured, rotate() leaves every secret readable by the new key alone."""
    old, new = _key(), _key()
    SecretStore(sqlite_engine, load_cipher(Settings(cscx_secret_key=old))).put(SMTP_PASSWORD, SECRET, by="a")
    both = SecretStore(sqlite_engine, load_cipher(Settings(cscx_secret_key=f"{new},{old}")))
    assert both.rotate(by="admin") == 1
    value = SecretStore(sqlite_engine, load_cipher(Settings(cscx_secret_key=new))).get(SMTP_PASSWORD)
    assert value is not None
    assert value.get_secret_value() == SECRET


def test_delete_forgets_and_audits(sqlite_engine: Engine, cipher: MultiFernet) -> None:
    """A deleted secret reads as absent; deleting twice reports nothing to delete."""
    store = SecretStore(sqlite_engine, cipher)
    store.put(SMTP_PASSWORD, SECRET, by="admin")
    assert store.delete(SMTP_PASSWORD, by="admin") is True
    assert store.get(SMTP_PASSWORD) is None
    assert store.delete(SMTP_PASSWORD, by="admin") is False


# --- the environment wins -------------------------------------------------------------------------


@pytest.mark.parametrize(("env_key", "expected_key", "expected_region"), [
    (None, SECRET, "eu"),
    ("env-key-0123456789", "env-key-0123456789", "us"),
], ids=["stored-key-used-with-its-region", "environment-key-wins"])
def test_settings_take_stored_secrets_unless_the_environment_sets_them(
    sqlite_engine: Engine, env_key: str | None, expected_key: str, expected_region: str
) -> None:
    """A stored key (and the region it was checked against) fills in only what the environment leaves unset."""
    secret_key = _key()
    settings = Settings(pendo_integration_key=env_key, cscx_secret_key=secret_key)
    store = SecretStore(sqlite_engine, load_cipher(settings))
    store.put(PENDO_KEY, SECRET, by="admin", details={"region": "eu", "base_url": None})
    store.put(SMTP_PASSWORD, "smtp-" + SECRET, by="admin")
    resolved = with_stored_secrets(settings, sqlite_engine)
    assert resolved.pendo_integration_key is not None
    assert resolved.pendo_integration_key.get_secret_value() == expected_key
    assert resolved.pendo_region == expected_region
    assert resolved.smtp_password is not None
    assert resolved.smtp_password.get_secret_value() == "smtp-" + SECRET


def test_no_stored_secrets_needs_no_encryption_key(sqlite_engine: Engine, tmp_path: Path) -> None:
    """With nothing stored, settings pass through untouched and no key file is created."""
    settings = Settings(pendo_integration_key="k" * 20)
    assert with_stored_secrets(settings, sqlite_engine, root=tmp_path) is settings
    assert not (tmp_path / KEY_FILE).exists()


# --- connecting Pendo ------------------------------------------------------------------------------


def test_a_good_key_is_stored_with_its_region(sqlite_engine: Engine, cipher: MultiFernet, server: SimServer) -> None:
    """Pendo accepts the key: it is stored encrypted, with the host it was checked against."""
    check = validate_and_store_key(sqlite_engine, SECRET, "us", server.url, by="admin", cipher=cipher)
    assert check.ok, check.message
    assert "stored encrypted" in check.message
    info = SecretStore(sqlite_engine, cipher).info(PENDO_KEY)
    assert info is not None
    assert info.details == {"region": "us", "base_url": server.url}


def _html(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, text="<html>a login page</html>", request=request)


TARGETS: dict[str, tuple[str | None, httpx.BaseTransport | None]] = {
    "sim": (None, None),
    "unreachable": ("http://127.0.0.1:9", None),
    "not-pendo": ("https://not-pendo.example", httpx.MockTransport(_html)),
}


@pytest.mark.parametrize(("key", "region", "target", "message"), [
    ("wrong-key-0123456789", "us", "sim", "wrong key or wrong region"),
    ("", "us", "sim", "Enter the integration key"),
    (SECRET, "mars", "sim", "Unknown region"),
    (SECRET, "us", "unreachable", "Cannot reach"),
    (SECRET, "us", "not-pendo", "not Pendo's API"),
], ids=["wrong-key", "empty", "unknown-region", "unreachable", "not-pendo"])
def test_a_key_that_fails_its_check_is_not_stored(sqlite_engine: Engine, cipher: MultiFernet, server: SimServer, *,
                                                  key: str, region: str, target: str, message: str) -> None:
    """Each failure says what to fix in one line, quotes no key, and stores nothing."""
    url, transport = TARGETS[target]
    check = validate_and_store_key(sqlite_engine, key, region, url or server.url, by="admin", cipher=cipher,
                                   transport=transport)
    assert not check.ok
    assert message in check.message
    assert "\n" not in check.message
    assert SECRET not in check.message
    assert "wrong-key-0123456789" not in check.message
    assert SecretStore(sqlite_engine, cipher).info(PENDO_KEY) is None


# --- the scan: the key appears nowhere ---------------------------------------------------------------


def _dump_database(engine: Engine) -> str:
    """Every value of every table, as text."""
    parts: list[str] = []
    with engine.connect() as conn:
        for table in inspect(engine).get_table_names():
            parts.extend(repr(row) for row in conn.execute(text(f'SELECT * FROM "{table}"')))
    return "\n".join(parts)


def test_the_key_appears_in_no_log_error_record_or_output(
    sqlite_engine: Engine, subscription: Subscription, server: SimServer, cipher: MultiFernet, tmp_path: Path
) -> None:
    """Store the key, sync with it, fail with it, log it by mistake: it shows up nowhere in clear."""
    seen: list[str] = []
    log_stream = io.StringIO()
    settings = Settings(pendo_integration_key=SECRET, pendo_base_url=server.url, log_format="json")
    handler = configure_logging(settings, stream=log_stream, level=logging.DEBUG)
    try:
        assert validate_and_store_key(sqlite_engine, SECRET, "us", server.url, by="admin", cipher=cipher).ok
        seen.append(validate_and_store_key(sqlite_engine, SECRET, "us", "http://127.0.0.1:9", by="admin",
                                           cipher=cipher).message)
        import_demo_customers(sqlite_engine, subscription)
        stored = Settings(pendo_base_url=server.url, window_days=30, cscx_secret_key=CIPHER_KEY)
        resolved = with_stored_secrets(stored, sqlite_engine)
        seen.append(repr(_sync(resolved, sqlite_engine, 3)))
        server.key = "another-key-altogether"  # Pendo now refuses SECRET: the run fails
        with pytest.raises(SyncError) as failed:
            _sync(resolved, sqlite_engine, None)
        seen.append(str(failed.value))
        logging.getLogger("tests.scan").warning("a careless line quoting %s", SECRET, extra={"key": SECRET})
        logging.getLogger("tests.scan").error("a traceback", exc_info=RuntimeError(f"failed with {SECRET}"))
    finally:
        logging.getLogger().removeHandler(handler)
    seen.append(_cli_sync_output(sqlite_engine, server, tmp_path))
    logged = log_stream.getvalue()
    assert REDACTED in logged
    for where, textual in {"logs": logged, "errors and results": "\n".join(seen),
                           "database": _dump_database(sqlite_engine)}.items():
        assert SECRET not in textual, f"the key leaked into the {where}"


def _sync(settings: Settings, engine: Engine, backfill_days: int | None) -> RunSummary:
    """One run with the settings' key (taken from the store)."""
    assert settings.pendo_integration_key is not None
    with PendoClient(settings.base_url, settings.pendo_integration_key, retry=RetryPolicy.for_tests()) as client:
        return sync_runner(settings, engine, client, steps=INGEST_STEPS).run(SyncRequest(AS_OF, backfill_days))


def _cli_sync_output(engine: Engine, server: SimServer, tmp_path: Path) -> str:
    """`python -m jobs sync` with the key refused: its stdout and stderr."""
    database = engine.url.database
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PENDO_", "DATABASE_URL", "CSCX_"))}
    env |= {"PENDO_INTEGRATION_KEY": SECRET, "PENDO_BASE_URL": server.url, "DATABASE_URL": f"sqlite:///{database}"}
    done = subprocess.run([sys.executable, "-m", "jobs", "sync", "--as-of", AS_OF.isoformat()], env=env,
                          cwd=REPO, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode != 0
    assert "refused the integration key" in done.stderr
    return done.stdout + done.stderr
