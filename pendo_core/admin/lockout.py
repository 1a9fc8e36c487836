"""Sign-in back-off and lockout as pure rules: how long a subject must wait after failed sign-ins.

A subject is an account (the e-mail typed, known or not, so the rule tells no one which accounts
exist) or where the attempts come from (the client's address, else the browser session). Each counts
its consecutive failed sign-ins; the policy per subject:

| failures so far | the next attempt                                        |
| --- | --- |
| 1 to 4          | at once                                                 |
| 5 to 9          | after 1, 2, 4, 8, 16 seconds (doubling, at most a minute) |
| 10 or more      | locked for 15 minutes after the last failure            |

So after a lock ends, every further failure locks again at once. A successful sign-in clears its
account's count (an address's count stays: one person's success says nothing about the others
behind it), and a count is forgotten 24 hours after its last failure. An address has four times the
allowance (waits from 20 failures, locked from 40), since an office or a proxy puts many people
behind one address.

While a subject must wait, no password is checked at all: the right one does not sign in either.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

__all__ = ["ACCOUNT", "ACCOUNT_PREFIX", "ADDRESS", "Failures", "Policy", "account_subject", "after_failure", "current",
           "is_locked", "retry_at", "wait"]

ACCOUNT_PREFIX = "account:"


@dataclass(frozen=True)
class Policy:
    """When failures start to cost a wait, when they lock, for how long, and when they are forgotten."""

    delay_from: int = 5
    lock_from: int = 10
    first_delay: timedelta = timedelta(seconds=1)
    max_delay: timedelta = timedelta(minutes=1)
    lock_for: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)


ACCOUNT = Policy()
ADDRESS = Policy(delay_from=20, lock_from=40)


@dataclass(frozen=True)
class Failures:
    """A subject's consecutive failed sign-ins and when the last one was."""

    count: int = 0
    last_at: datetime | None = None


def account_subject(email: str) -> str:
    """The subject of an account: the e-mail as typed, normalised (see users.clean_email)."""
    return ACCOUNT_PREFIX + email


def current(failures: Failures, now: datetime, policy: Policy) -> Failures:
    """The failures that still count at `now` (none once forgotten)."""
    if failures.last_at is None or now - failures.last_at >= policy.forget_after:
        return Failures()
    return failures


def wait(count: int, policy: Policy) -> timedelta:
    """How long after the last of `count` failures the next attempt must wait."""
    if count >= policy.lock_from:
        return policy.lock_for
    if count >= policy.delay_from:
        return min(policy.first_delay * (1 << min(count - policy.delay_from, 30)), policy.max_delay)
    return timedelta(0)


def is_locked(count: int, policy: Policy) -> bool:
    """True when `count` failures lock the subject (rather than only slow it down)."""
    return count >= policy.lock_from


def retry_at(failures: Failures, now: datetime, policy: Policy) -> datetime | None:
    """When the subject may try again, or None when it may try now."""
    counted = current(failures, now, policy)
    if counted.last_at is None:
        return None
    allowed = counted.last_at + wait(counted.count, policy)
    return allowed if allowed > now else None


def after_failure(failures: Failures, now: datetime, policy: Policy) -> Failures:
    """The count after one more failure at `now`."""
    return Failures(current(failures, now, policy).count + 1, now)
