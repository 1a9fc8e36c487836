"""Logging for the jobs and the scheduler: one JSON object a line when stderr is not a terminal
(journald, cron mail, a log shipper), readable lines at a terminal; known secrets never printed.

Secrets are registered once (`register_secrets(settings)`, and the secret store registers what it
decrypts); every line a configured handler writes has each of them replaced by `<redacted>`, in
the message, its arguments, extra fields and tracebacks alike. A value shorter than MIN_SECRET_LEN
is never redacted by substring (a one-letter "key" would turn "checked" into "chec<redacted>ed");
the places that take a key refuse such a value as not a key at all (`admin.secrets.key_problem`).
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from datetime import UTC, datetime
from typing import IO, Any

from pydantic import SecretStr

from pendo_core.common.config import Settings

REDACTED = "<redacted>"
MIN_SECRET_LEN = 8  # shorter values would redact ordinary words; no real key or password is this short
CHATTY = ("httpx", "httpcore", "alembic")
HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}

_secrets: set[str] = set()
_secrets_lock = threading.Lock()


def register_secret(value: str | SecretStr | None) -> None:
    """Redact `value` from every log line from now on."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if raw and len(raw.strip()) >= MIN_SECRET_LEN:
        with _secrets_lock:
            _secrets.add(raw.strip())


def register_secrets(settings: Settings) -> None:
    """Register every secret the settings hold (Pendo key, webhook URL, SMTP password, secret key)."""
    for value in (settings.pendo_integration_key, settings.alert_webhook_url, settings.smtp_password,
                  settings.cscx_secret_key):
        register_secret(value)


def redact_secret(text: str, secret: str | None) -> str:
    """`text` with one secret replaced, unless it is too short to be told from ordinary text."""
    value = (secret or "").strip()
    return text.replace(value, REDACTED) if len(value) >= MIN_SECRET_LEN else text


def redact(text: str) -> str:
    """`text` with every registered secret replaced (longest first, so no fragment survives)."""
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        text = text.replace(secret, REDACTED)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts, level, logger, msg, any `extra=` fields, exc when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = _plain(value)
        if record.exc_info:
            entry["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class HumanFormatter(logging.Formatter):
    """The usual `time LEVEL logger: message` line, secrets redacted."""

    def __init__(self) -> None:
        super().__init__(HUMAN_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return redact(value) if isinstance(value, str) else value
    return redact(json.dumps(value, default=str, ensure_ascii=False))


def use_json(stream: IO[str], choice: str = "auto") -> bool:
    """JSON unless the stream is a terminal; `json` or `human` force the choice."""
    if choice != "auto":
        return choice == "json"
    isatty = getattr(stream, "isatty", None)
    return not (isatty and isatty())


def configure_logging(settings: Settings | None = None, *, stream: IO[str] | None = None,
                      level: int = logging.INFO) -> logging.Handler:
    """Install the one root handler (replacing an earlier one of ours) and register the secrets."""
    out = stream or sys.stderr
    if settings is not None:
        register_secrets(settings)
    handler = logging.StreamHandler(out)
    choice = settings.log_format if settings is not None else "auto"
    handler.setFormatter(JsonFormatter() if use_json(out, choice) else HumanFormatter())
    handler._cscx = True  # type: ignore[attr-defined]  # marks ours, so a second call replaces it
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "_cscx", False)]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in CHATTY:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler
