"""The local sign-in with back-off and lockout (policy: pendo_core.admin.lockout), in the access log.

`sign_in` is what the sign-in screen calls: it refuses without checking the password while the
account or the client must wait, else checks it (`users.authenticate`), counts a failure against
both or clears the account's count on success, and records each outcome in the access log
(`sign_in`, `sign_in.failed`, `sign_in.locked`, `sign_in.refused`). The counts live in
`app_sign_in_failures`; each failure is counted in one statement, so attempts at the same moment all
count. Takes the caller's Session and never commits; the clock is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Table, case, delete, select
from sqlalchemy.orm import Session

from pendo_core.admin import access_log, lockout
from pendo_core.admin.users import User, authenticate, clean_email
from pendo_core.store.models import SignInFailure
from pendo_core.store.upsert import dialect_insert

__all__ = ["SignIn", "client_subject", "failures", "sign_in"]

FAILURES: Table = SignInFailure.__table__  # type: ignore[assignment]
WRONG = "Wrong e-mail or password."


@dataclass(frozen=True)
class SignIn:
    """The outcome: the user, or the one line to show and when a new attempt is allowed."""

    user: User | None
    message: str = ""
    retry_at: datetime | None = None


def client_subject(address: str | None, browser_session: str) -> str:
    """Where attempts come from: the client's address when known, else the browser session."""
    return f"address:{address}" if address else f"session:{browser_session}"


def sign_in(session: Session, email: str, password: str, *, client: str, now: datetime) -> SignIn:
    """Sign in with back-off and lockout per account and per client (`client_subject`), audited."""
    now, typed = now.astimezone(UTC), clean_email(email)
    policies = {lockout.account_subject(typed): lockout.ACCOUNT, client[:400]: lockout.ADDRESS}
    refused = _refusal(session, policies, now)
    if refused is not None:
        access_log.record(session, typed or "-", "sign_in.refused",
                          {"client": client, "retry_at": refused.retry_at.isoformat() if refused.retry_at else None})
        return refused
    user = authenticate(session, typed, password)
    if user is None:
        return _failed(session, typed, policies, client, now)
    session.execute(delete(FAILURES).where(FAILURES.c.subject == lockout.account_subject(typed)))
    access_log.record(session, user.email, "sign_in", {"client": client})
    return SignIn(user)


def failures(session: Session, subject: str) -> lockout.Failures:
    """The stored failures of a subject (none when it has no row)."""
    row = session.execute(select(FAILURES).where(FAILURES.c.subject == subject)).first()
    return lockout.Failures() if row is None else lockout.Failures(row.failures, _utc(row.last_failure_at))


def _refusal(session: Session, policies: dict[str, lockout.Policy], now: datetime) -> SignIn | None:
    """A refusal when any subject must still wait, naming the longest wait."""
    waits = [(at, subject) for subject, policy in policies.items()
             if (at := lockout.retry_at(failures(session, subject), now, policy)) is not None]
    if not waits:
        return None
    at, subject = max(waits)
    who = "for this account" if subject.startswith(lockout.ACCOUNT_PREFIX) else "from this browser or address"
    locked = lockout.is_locked(failures(session, subject).count, policies[subject])
    fix = f"it is locked until {at:%H:%M} UTC; or ask an admin to set a new password" if locked else "wait"
    return SignIn(None, f"Too many failed sign-ins {who}: try again in {_in_words(at - now)} ({fix}).", at)


def _failed(session: Session, typed: str, policies: dict[str, lockout.Policy], client: str,
            now: datetime) -> SignIn:
    """Count the failure against every subject; say how long the next attempt waits, if at all."""
    counts = {subject: _count_failure(session, subject, now, policy) for subject, policy in policies.items()}
    account = counts[lockout.account_subject(typed)]
    access_log.record(session, typed or "-", "sign_in.failed", {"client": client, "failures": account.count})
    waits = [lockout.retry_at(f, now, policies[s]) for s, f in counts.items()]
    at = max((w for w in waits if w is not None), default=None)
    locked = [s for s, f in counts.items() if lockout.is_locked(f.count, policies[s])]
    if at is None:
        return SignIn(None, WRONG)
    if not locked:
        return SignIn(None, f"{WRONG} Too many failed attempts: wait {_in_words(at - now)} before the next one.", at)
    access_log.record(session, typed or "-", "sign_in.locked",
                      {"client": client, "subjects": locked, "until": at.isoformat()})
    return SignIn(None, f"{WRONG} Too many failed attempts: sign-in is locked for {_in_words(at - now)} "
                        f"(until {at:%H:%M} UTC).", at)


def _count_failure(session: Session, subject: str, now: datetime, policy: lockout.Policy) -> lockout.Failures:
    """`lockout.after_failure` in one upsert, so failures at the same moment all count."""
    insert = dialect_insert(session, FAILURES)
    forgotten = FAILURES.c.last_failure_at <= now - policy.forget_after
    stmt = insert.values(subject=subject, failures=1, last_failure_at=now).on_conflict_do_update(
        index_elements=["subject"],
        set_={"failures": case((forgotten, 1), else_=FAILURES.c.failures + 1), "last_failure_at": now})
    session.execute(stmt)
    stale = FAILURES.c.last_failure_at <= now - max(lockout.ACCOUNT.forget_after, lockout.ADDRESS.forget_after)
    session.execute(delete(FAILURES).where(stale))  # forgotten counts need no row
    return failures(session, subject)


def _in_words(span: timedelta) -> str:
    seconds = max(1, int(-(-span.total_seconds() // 1)))
    if seconds < 60:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _utc(moment: datetime) -> datetime:
    """SQLite hands back naive UTC datetimes; PostgreSQL aware ones."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
