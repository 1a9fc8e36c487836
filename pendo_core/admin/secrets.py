"""Secrets at rest: the Pendo key, the alert webhook URL and the SMTP password, encrypted.

Encryption is `cryptography`'s Fernet (AES-128-CBC with an HMAC-SHA256 tag: authenticated, so a
tampered or foreign ciphertext is refused, never decrypted to garbage). The encryption key comes,
first found wins, from:

1. the setting `CSCX_SECRET_KEY` (environment), several keys comma-separated for rotation: the
   first encrypts, any decrypts (`SecretStore.rotate()` re-encrypts everything with the first);
2. `CSCX_SECRET_KEY` in `.streamlit/secrets.toml`;
3. the key file `data/secret.key` (under the working directory), created (mode 0600) on first use
   in demo mode only, and never to read secrets already stored: a new key could not decrypt them,
   so reading without a key says to set CSCX_SECRET_KEY (`with_stored_secrets`).

A value that cannot be decrypted is reported with where the key in use came from.

A value set in the environment always wins over a stored one (`with_stored_secrets`). Values are
never logged: each one read is registered with the log redactor. Every write is in the access log.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import SecretStr
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin import access_log
from pendo_core.common.config import REGION_HOSTS, Settings
from pendo_core.common.logging_setup import MIN_SECRET_LEN, redact_secret, register_secret
from pendo_core.pendo.client import (
    PendoAuthError,
    PendoClient,
    PendoConnectionError,
    PendoError,
    PendoNotFoundError,
    PendoResponseError,
    PendoRetriableError,
    PendoTimeoutError,
)
from pendo_core.store import models
from pendo_core.store.upsert import upsert

PENDO_KEY = "pendo_integration_key"
WEBHOOK_URL = "alert_webhook_url"
SMTP_PASSWORD = "smtp_password"
SECRET_NAMES = (PENDO_KEY, WEBHOOK_URL, SMTP_PASSWORD)
KEY_FILE = Path("data") / "secret.key"
SECRETS_TOML = Path(".streamlit") / "secrets.toml"
KEY_VARIABLE = "CSCX_SECRET_KEY"
GENERATE_HINT = ("python -c 'from cryptography.fernet import Fernet; "
                 "print(Fernet.generate_key().decode())'")


class SecretsError(RuntimeError):
    """A secret cannot be read or written; the message names the cause and the fix, never a value."""


class Cipher(MultiFernet):
    """The Fernet keys in use, and where they came from (for messages)."""

    def __init__(self, fernets: list[Fernet], source: str) -> None:
        super().__init__(fernets)
        self.source = source


@dataclass(frozen=True)
class SecretInfo:
    """What may be shown about a stored secret: never its value."""

    name: str
    hint: str | None
    details: dict[str, Any]
    updated_at: datetime
    updated_by: str


# --- the encryption key ------------------------------------------------------------------------


def load_cipher(settings: Settings, *, root: Path = Path("."), create: bool = True) -> Cipher:
    """The Fernet cipher from CSCX_SECRET_KEY, secrets.toml or the key file; the key file is made only
    in demo mode and when `create` (never to read what is already stored)."""
    found = _configured_keys(settings, root)
    if found is not None:
        return _cipher(*found)
    if not (settings.demo_mode and create):
        raise SecretsError(f"no encryption key for stored secrets: set {KEY_VARIABLE} to the key they were saved "
                           f"with, or to a new one for new secrets (generate one with {GENERATE_HINT})")
    path = root / KEY_FILE
    return _cipher(_create_key_file(path), f"the key file {path.resolve()}")


def _configured_keys(settings: Settings, root: Path) -> tuple[str, str] | None:
    """(keys, where they came from), first found wins."""
    if settings.cscx_secret_key is not None:
        return settings.cscx_secret_key.get_secret_value(), f"the configured {KEY_VARIABLE}"
    toml_path = root / SECRETS_TOML
    if toml_path.is_file():
        try:
            table = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SecretsError(f"{toml_path} is not valid TOML ({exc}): fix the file") from None
        value = table.get(KEY_VARIABLE) or table.get(KEY_VARIABLE.lower())
        if isinstance(value, str) and value.strip():
            return value, f"{KEY_VARIABLE} in {toml_path}"
    key_file = root / KEY_FILE
    if not key_file.is_file():
        return None
    return key_file.read_text(encoding="ascii").strip(), f"the key file {key_file.resolve()}"


def _create_key_file(path: Path) -> str:
    """Write a new key with mode 0600; if another process won the race, use its key."""
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key().decode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(key + "\n")
    return key


def _cipher(raw: str, source: str) -> Cipher:
    keys = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        fernets = [Fernet(key.encode("ascii")) for key in keys]
    except (ValueError, UnicodeEncodeError):
        raise SecretsError(f"{KEY_VARIABLE} is not a Fernet key (32 url-safe base64 bytes): generate one with "
                           f"{GENERATE_HINT}") from None
    if not fernets:
        raise SecretsError(f"{KEY_VARIABLE} is empty: generate a key with {GENERATE_HINT}")
    for key in keys:
        register_secret(key)
    return Cipher(fernets, source)


# --- the store ---------------------------------------------------------------------------------


class SecretStore:
    """Encrypted secrets in `app_secrets`; each write owns its transaction and is in the access log."""

    def __init__(self, engine: Engine, cipher: MultiFernet) -> None:
        self.engine = engine
        self.cipher = cipher

    def put(self, name: str, value: str, *, by: str, details: dict[str, Any] | None = None) -> SecretInfo:
        """Encrypt and store `value` under `name` (replacing it); logged without the value."""
        value = _checked(name, value)
        register_secret(value)
        info = SecretInfo(name, hint_of(value), details or {}, datetime.now(UTC), by)
        row = {"name": name, "ciphertext": self.cipher.encrypt(value.encode()).decode("ascii"), "hint": info.hint,
               "details": info.details, "updated_at": info.updated_at, "updated_by": by}
        with Session(self.engine) as session, session.begin():
            upsert(session, models.StoredSecret.__table__, [row], keys=("name",))  # type: ignore[arg-type]
            access_log.record(session, by, "secret.set", {"name": name, "hint": info.hint, **info.details})
        return info

    def get(self, name: str) -> SecretStr | None:
        """The decrypted value, or None when nothing is stored under `name`."""
        with Session(self.engine) as session:
            token = session.scalar(select(models.StoredSecret.ciphertext).where(models.StoredSecret.name == name))
        if token is None:
            return None
        try:
            value = self.cipher.decrypt(token.encode("ascii")).decode()
        except InvalidToken:
            source = getattr(self.cipher, "source", f"the configured {KEY_VARIABLE}")
            raise SecretsError(f"the stored {name} cannot be decrypted with {source}: set {KEY_VARIABLE} to the "
                               "key it was saved with, or enter the secret again") from None
        register_secret(value)
        return SecretStr(value)

    def info(self, name: str) -> SecretInfo | None:
        """Hint, context and who saved it; never the value."""
        with Session(self.engine) as session:
            row = session.get(models.StoredSecret, name)
        if row is None:
            return None
        return SecretInfo(row.name, row.hint, dict(row.details or {}), row.updated_at, row.updated_by)

    def delete(self, name: str, *, by: str) -> bool:
        """Forget a stored secret (logged). False when none was stored."""
        with Session(self.engine) as session, session.begin():
            row = session.get(models.StoredSecret, name)
            if row is None:
                return False
            session.delete(row)
            access_log.record(session, by, "secret.delete", {"name": name})
        return True

    def rotate(self, *, by: str) -> int:
        """Re-encrypt every stored secret with the first configured key; returns how many."""
        with Session(self.engine) as session, session.begin():
            rows = list(session.scalars(select(models.StoredSecret)))
            for row in rows:
                row.ciphertext = self.cipher.rotate(row.ciphertext.encode("ascii")).decode("ascii")
            access_log.record(session, by, "secret.rotate", {"names": [r.name for r in rows]})
        return len(rows)


def hint_of(value: str) -> str | None:
    """The last four characters of a long secret (`…abcd`), for recognising it; None when short."""
    return f"…{value[-4:]}" if len(value) >= 16 else None


def _checked(name: str, value: str) -> str:
    if name not in SECRET_NAMES:
        raise SecretsError(f"unknown secret {name!r}: use one of {', '.join(SECRET_NAMES)}")
    value = value.strip()
    if not value:
        raise SecretsError(f"the {name} is empty: enter a value, or delete the stored one")
    if name == WEBHOOK_URL and not value.lower().startswith(("https://", "http://")):
        raise SecretsError("the webhook URL must start with https:// (or http:// on a private network)")
    return value


# --- settings with the stored secrets ------------------------------------------------------------


def stored_names(engine: Engine) -> set[str]:
    """Which secrets are stored (cheap; decrypts nothing)."""
    with Session(engine) as session:
        return set(session.scalars(select(models.StoredSecret.name)))


def with_stored_secrets(settings: Settings, engine: Engine, *, root: Path = Path(".")) -> Settings:
    """`settings` with each secret the environment leaves unset taken from the store (env wins)."""
    wanted = {n for n in stored_names(engine) if getattr(settings, n) is None}
    if not wanted:
        return settings
    store = SecretStore(engine, load_cipher(settings, root=root, create=False))  # a new key could not read them
    update: dict[str, Any] = {name: store.get(name) for name in wanted}
    if PENDO_KEY in wanted:  # the stored key came with the region it was validated against
        info = store.info(PENDO_KEY)
        details = info.details if info else {}
        update["pendo_region"] = details.get("region") or settings.pendo_region
        update["pendo_base_url"] = details.get("base_url") or settings.pendo_base_url
    return settings.model_copy(update=update)


# --- connecting Pendo ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of `validate_and_store_key`: stored or not, and one line saying why."""

    ok: bool
    message: str


def validate_and_store_key(engine: Engine, key: str, region: str, base_url: str | None = None, *, by: str,
                           cipher: MultiFernet, timeout: float = 10.0,
                           transport: httpx.BaseTransport | None = None) -> KeyCheck:
    """Check the key with one cheap Pendo read; store it encrypted (with its region) only if it works."""
    key = key.strip()
    problem = key_problem(key)
    if problem is not None:
        return KeyCheck(False, problem)
    if region not in REGION_HOSTS:
        return KeyCheck(False, f"Unknown region {region!r}: choose one of {', '.join(REGION_HOSTS)}.")
    host = (base_url or REGION_HOSTS[region]).strip().rstrip("/")
    try:
        with PendoClient(host, key, timeout=timeout, transport=transport, max_concurrency=1) as client:
            client.verify()
    except (PendoError, ValueError) as exc:
        return KeyCheck(False, redact_secret(explain_key_error(exc, host, region), key))
    details = {"region": region, "base_url": base_url.strip().rstrip("/") if base_url else None}
    info = SecretStore(engine, cipher).put(PENDO_KEY, key, by=by, details=details)
    ending = f" (ending {info.hint})" if info.hint else ""
    return KeyCheck(True, f"Connected to {host}: Pendo accepted the key{ending}; it is stored encrypted.")


def key_problem(key: str) -> str | None:
    """Why a typed key cannot be a Pendo integration key (empty, or too short to be one), else None."""
    where = "Pendo: Settings → Integrations → Integration Keys"
    if not key:
        return f"Enter the integration key ({where})."
    if len(key) < MIN_SECRET_LEN:
        return (f"That is not a Pendo integration key: it is only {len(key)} character(s) long. Copy the whole key "
                f"({where}).")
    return None


def explain_key_error(exc: Exception, host: str, region: str) -> str:
    """One line naming why a key check failed. Pendo answers a wrong key and a wrong region alike."""
    if isinstance(exc, PendoAuthError):
        return (f"Pendo at {host} refused the key: wrong key or wrong region (Pendo does not tell them apart). "
                f"Check the key, and that your subscription lives in the {region} region.")
    if isinstance(exc, PendoTimeoutError):
        return f"{host} did not answer in time: check the network, proxy or base URL, then try again."
    if isinstance(exc, PendoConnectionError):
        return f"Cannot reach {host}: check the region, the base URL and the network."
    if isinstance(exc, PendoNotFoundError | PendoResponseError):
        return f"{host} is not Pendo's API: check the region or the base URL (e.g. https://app.pendo.io)."
    if isinstance(exc, PendoRetriableError):
        return f"Pendo at {host} is having trouble right now, so the key could not be checked: try again later."
    return f"The key could not be checked: {exc}"
