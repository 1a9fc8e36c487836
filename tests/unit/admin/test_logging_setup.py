"""Structured logs: one JSON object a line off a terminal, readable lines on one, secrets redacted."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from pendo_core.common.config import Settings
from pendo_core.common.logging_setup import REDACTED, configure_logging, redact, register_secret, use_json


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def root_level() -> Iterator[None]:
    """Leave the root logger as the test found it."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.parametrize(("stream", "choice", "expected"), [
    (io.StringIO(), "auto", True),
    (Tty(), "auto", False),
    (Tty(), "json", True),
    (io.StringIO(), "human", False),
], ids=["pipe-is-json", "terminal-is-human", "forced-json", "forced-human"])
def test_the_format_follows_the_terminal_unless_forced(stream: io.StringIO, choice: str, expected: bool) -> None:
    """JSON when stderr is not a terminal; LOG_FORMAT forces either."""
    assert use_json(stream, choice) is expected


def test_json_lines_carry_level_logger_message_extras_and_traceback(root_level: None) -> None:
    """Each record is one parseable line with its fields; a traceback rides along as `exc`."""
    stream = io.StringIO()
    configure_logging(Settings(log_format="auto"), stream=stream)
    log = logging.getLogger("jobs.test")
    log.info("sync %d ok", 7, extra={"run_id": 7, "rows": {"visitor_days": 3}})
    try:
        raise ValueError("bad value")
    except ValueError:
        log.exception("failed")
    first, second = (json.loads(line) for line in stream.getvalue().splitlines())
    assert (first["level"], first["logger"], first["msg"], first["run_id"]) == ("INFO", "jobs.test", "sync 7 ok", 7)
    assert json.loads(first["rows"]) == {"visitor_days": 3}
    assert second["level"] == "ERROR"
    assert "ValueError: bad value" in second["exc"]


def test_human_lines_on_a_terminal(root_level: None) -> None:
    """At a terminal: `time LEVEL logger: message`."""
    stream = Tty()
    configure_logging(Settings(), stream=stream)
    logging.getLogger("jobs.test").warning("careful")
    assert stream.getvalue().rstrip().endswith("WARNING jobs.test: careful")


def test_configuring_twice_keeps_one_handler(root_level: None) -> None:
    """A second call replaces our handler instead of doubling every line."""
    stream = io.StringIO()
    configure_logging(Settings(), stream=io.StringIO())
    configure_logging(Settings(), stream=stream)
    logging.getLogger("jobs.test").info("once")
    assert len(stream.getvalue().splitlines()) == 1


@pytest.mark.parametrize(("secrets", "text", "expected"), [
    (["hunter2-long-secret"], "key=hunter2-long-secret!", f"key={REDACTED}!"),
    (["abc"], "abc stays: too short to redact safely", "abc stays: too short to redact safely"),
    (["secret-123456", "secret-123456-longer"], "secret-123456-longer", REDACTED),
], ids=["replaced", "short-values-ignored", "longest-first"])
def test_registered_secrets_are_redacted(secrets: list[str], text: str, expected: str) -> None:
    """Every registered secret is replaced; the longest first, so no tail of one survives."""
    for secret in secrets:
        register_secret(secret)
    assert redact(text) == expected


def test_settings_secrets_never_reach_a_line(root_level: None) -> None:
    """The Pendo key, webhook URL and SMTP password from the settings are redacted from message and args."""
    stream = io.StringIO()
    settings = Settings(pendo_integration_key="pk-live-0123456789", alert_webhook_url="https://hooks.example/T0/B1/x",
                        smtp_password="smtp-pass-0987")
    configure_logging(settings, stream=stream)
    logging.getLogger("jobs.test").info("key %s url %s pw %s", "pk-live-0123456789",
                                        "https://hooks.example/T0/B1/x", "smtp-pass-0987")
    line = stream.getvalue()
    assert "0123456789" not in line
    assert "hooks.example" not in line
    assert "smtp-pass" not in line
    assert line.count(REDACTED) == 3
