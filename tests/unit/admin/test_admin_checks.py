"""What an admin types: e-mail addresses and webhook URLs are accepted normalised or refused with one
line that never repeats a webhook's secret path."""

from __future__ import annotations

import pytest

from pendo_core.admin.checks import InvalidInput, check_email, check_webhook_url


@pytest.mark.parametrize(("raw", "expected"), [
    ("  Lee@CSCX.io ", "lee@cscx.io"),
    ("first.last+alerts@sub.example.co", "first.last+alerts@sub.example.co"),
], ids=["trimmed-and-folded", "plus-and-subdomain"])
def test_an_e_mail_is_normalised(raw: str, expected: str) -> None:
    """A valid address comes back trimmed and case folded, as every e-mail is compared."""
    assert check_email(raw) == expected


@pytest.mark.parametrize(("raw", "message"), [
    ("", "is empty"),
    ("lee", "is not an e-mail address"),
    ("lee@cscx", "is not an e-mail address"),
    ("lee @cscx.io", "is not an e-mail address"),
    ("a@b@cscx.io", "is not an e-mail address"),
    ("x" * 320 + "@cscx.io", "is not an e-mail address"),
], ids=["empty", "no-at", "no-tld", "space", "two-ats", "too-long"])
def test_a_bad_e_mail_is_refused_in_one_line(raw: str, message: str) -> None:
    """The error names the field and what is wrong, on one line."""
    with pytest.raises(InvalidInput, match=message) as caught:
        check_email(raw, "manager's e-mail")
    assert "manager's e-mail" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("url", [
    "https://hooks.slack.com/services/T0/B0/secretpart",
    "  https://chat.example.com/hook  ",
    "http://localhost:8080/hook",
    "http://127.0.0.1:9000/hook",
    "http://[::1]:9000/hook",
], ids=["slack", "trimmed", "http-localhost", "http-127", "http-ipv6-loopback"])
def test_https_or_loopback_http_webhooks_are_accepted(url: str) -> None:
    """https anywhere, plain http only to this machine (a local relay)."""
    assert check_webhook_url(url) == url.strip()


@pytest.mark.parametrize(("url", "shown"), [
    ("http://hooks.example.com/services/secretpart", "got http://hooks.example.com"),
    ("hooks.slack.com/services/secretpart", "(no scheme)"),
    ("ftp://files.example.com/secretpart", "got ftp://files.example.com"),
    ("https:///secretpart", "(no host)"),
    ("https://hooks.example.com/secret part", "holds spaces"),
    ("", "is empty"),
], ids=["http-remote", "no-scheme", "ftp", "no-host", "space", "empty"])
def test_other_webhooks_are_refused_without_their_secret(url: str, shown: str) -> None:
    """The refusal names the scheme and host only: the path, which holds the secret, is never echoed."""
    with pytest.raises(InvalidInput, match="webhook URL") as caught:
        check_webhook_url(url)
    assert shown in str(caught.value)
    assert "secret" not in str(caught.value)
