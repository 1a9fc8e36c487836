"""Sign-in back-off and lockout (issue 11: 25 wrong passwords in a row, no delay, then the right one
worked). The policy is pure and tested on its own; the sign-in on a store (SQLite and PostgreSQL)
with an injected clock, never sleeping: per account, per client, audited, and the right password
refused during a lock. The screen shows the refusal (AppTest)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin import lockout
from pendo_core.admin import users as auth
from pendo_core.admin.lockout import ACCOUNT, ADDRESS, Failures
from pendo_core.admin.sign_in import SignIn, client_subject, failures, sign_in
from pendo_core.store.models import AuditLog, SignInFailure
from tests.support.app import NOW, app, run, texts, use_store
from tests.support.app_data import Store, new_store

T0 = datetime(2026, 3, 19, 9, 0, tzinfo=UTC)
ANN, PASSWORD = "ann@cscx.io", "right-password"
HERE, ELSEWHERE = client_subject("203.0.113.7", "s1"), client_subject("198.51.100.9", "s2")


# --- the policy (pure) -----------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "expected"), [
    (0, timedelta(0)), (4, timedelta(0)), (5, timedelta(seconds=1)), (6, timedelta(seconds=2)),
    (9, timedelta(seconds=16)), (10, timedelta(minutes=15)), (25, timedelta(minutes=15))],
    ids=["none", "four", "fifth", "sixth", "ninth", "tenth-locks", "after-a-lock"])
def test_the_wait_grows_then_locks(count: int, expected: timedelta) -> None:
    """Four failures cost nothing; from the fifth the wait doubles from 1 s; ten lock for 15 minutes."""
    assert lockout.wait(count, ACCOUNT) == expected


@pytest.mark.parametrize(("count", "elapsed", "allowed"), [
    (4, timedelta(0), True), (5, timedelta(milliseconds=999), False), (5, timedelta(seconds=1), True),
    (10, timedelta(minutes=14, seconds=59), False), (10, timedelta(minutes=15), True),
    (12, timedelta(hours=24), True)],
    ids=["free", "backoff-running", "backoff-over", "locked", "lock-over", "forgotten"])
def test_retry_at_says_when_the_next_attempt_may_come(count: int, elapsed: timedelta, allowed: bool) -> None:
    """A subject may try again once its wait after the last failure is over."""
    at = lockout.retry_at(Failures(count, T0), T0 + elapsed, ACCOUNT)
    assert (at is None) is allowed
    assert allowed or at == T0 + lockout.wait(count, ACCOUNT)


@pytest.mark.parametrize(("before", "after"), [
    (Failures(), Failures(1, T0)), (Failures(9, T0 - timedelta(hours=1)), Failures(10, T0)),
    (Failures(9, T0 - timedelta(hours=24)), Failures(1, T0))], ids=["first", "counts-on", "forgotten"])
def test_a_failure_counts_on_unless_the_last_is_forgotten(before: Failures, after: Failures) -> None:
    """Failures count on; 24 hours after the last one they are forgotten and counting starts again."""
    assert lockout.after_failure(before, T0, ACCOUNT) == after


def test_an_address_has_four_times_the_allowance() -> None:
    """Many people may share an address (an office, a proxy), so it slows at 20 and locks at 40."""
    assert (ADDRESS.delay_from, ADDRESS.lock_from) == (4 * ACCOUNT.delay_from, 4 * ACCOUNT.lock_from)


@pytest.mark.parametrize(("address", "subject"), [("203.0.113.7", "address:203.0.113.7"), (None, "session:s1")],
                         ids=["address", "no-address-so-the-browser-session"])
def test_the_client_is_its_address_else_its_browser_session(address: str | None, subject: str) -> None:
    """Streamlit gives no address on localhost; then attempts count per browser session."""
    assert client_subject(address, "s1") == subject


# --- signing in on a store -------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """scrypt at a test cost (the policy, not the hash, is under test here: 60 checks at 50 ms add up)."""
    monkeypatch.setattr(auth, "SCRYPT_N", 2**4)
    cheap = auth.hash_password("not a password", salt=b"0" * 16)
    monkeypatch.setattr(auth, "_dummy_hash", lambda: cheap)


@pytest.fixture
def store(engine: Engine) -> Engine:
    with Session(engine) as session, session.begin():
        auth.upsert_user(session, ANN, "Ann", "csm", PASSWORD)
    return engine


def _try(engine: Engine, password: str, at: datetime, *, email: str = ANN, client: str = HERE) -> SignIn:
    with Session(engine) as session, session.begin():
        return sign_in(session, email, password, client=client, now=at)


def _log(engine: Engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return [(a.actor, a.action) for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]


def _attack(engine: Engine, attempts: int, *, email: str = ANN, client: str = HERE,
            patient: bool = False) -> tuple[list[SignIn], datetime]:
    """Wrong passwords from T0, 0.7 s apart (the issue's pace); a patient attacker also waits as told."""
    outcomes, now = [], T0
    for i in range(attempts):
        outcomes.append(_try(engine, f"guess-{i}", now, email=email, client=client))
        now += timedelta(milliseconds=700)
        if patient and outcomes[-1].retry_at is not None:
            now = max(now, outcomes[-1].retry_at)
    return outcomes, now


def _failures(engine: Engine, subject: str = lockout.account_subject(ANN)) -> Failures:
    with Session(engine) as session:
        return failures(session, subject)


def test_the_issues_attack_checks_eight_passwords_not_twenty_five(store: Engine) -> None:
    """25 wrong passwords 0.7 s apart (issue 11): four plain failures, then the waits (1, 2, 4 s...)
    refuse most attempts unchecked, and the right password straight after still has to wait."""
    outcomes, now = _attack(store, 25)
    checked = [o for o in outcomes if o.message.startswith("Wrong e-mail or password.")]
    assert [o.message for o in outcomes[:4]] == ["Wrong e-mail or password."] * 4
    assert "wait 1 second before the next one" in outcomes[4].message
    assert (len(checked), _failures(store).count) == (8, 8)
    assert _try(store, PASSWORD, now).user is None


def test_a_patient_attack_locks_the_account_and_the_right_password_waits_it_out(store: Engine) -> None:
    """Waiting as told, the tenth failure locks for 15 minutes; the right password is refused during
    the lock and signs in after it, clearing the count."""
    outcomes, _ = _attack(store, 10, patient=True)
    lock_end = outcomes[-1].retry_at
    assert lock_end is not None
    assert "sign-in is locked for 15 minutes" in outcomes[-1].message
    during = _try(store, PASSWORD, lock_end - timedelta(seconds=1))
    assert (during.user, during.retry_at) == (None, lock_end)
    assert "Too many failed sign-ins for this account: try again in 1 second" in during.message
    assert _try(store, PASSWORD, lock_end).user == auth.User(ANN, "Ann", "csm")
    assert _failures(store) == Failures()


def test_after_a_lock_each_failure_locks_again(store: Engine) -> None:
    """Once locked, a wrong password after the lock ends locks the account again at once."""
    outcomes, _ = _attack(store, 11, patient=True)
    assert (_failures(store).count, "locked for 15 minutes" in outcomes[-1].message) == (11, True)


def test_refused_attempts_check_no_password_and_do_not_count(store: Engine) -> None:
    """While an account waits, attempts are refused before any password check and change no count."""
    outcomes, _ = _attack(store, 10, patient=True)
    locked = _failures(store)
    lock_end = outcomes[-1].retry_at
    assert lock_end is not None
    for before in (timedelta(minutes=14), timedelta(minutes=5), timedelta(seconds=1)):
        assert _try(store, PASSWORD, lock_end - before).user is None
    assert _failures(store) == locked


def test_every_outcome_is_in_the_access_log(store: Engine) -> None:
    """Failures, the lock, refusals and the sign-in are recorded with who and from where."""
    outcomes, _ = _attack(store, 10, patient=True)
    lock_end = outcomes[-1].retry_at
    assert lock_end is not None
    _try(store, PASSWORD, lock_end - timedelta(minutes=1))
    _try(store, PASSWORD, lock_end)
    actions = [action for actor, action in _log(store) if actor == ANN]
    assert actions == ["sign_in.failed"] * 10 + ["sign_in.locked", "sign_in.refused", "sign_in"]
    with Session(store) as session:
        lock = session.scalars(select(AuditLog).where(AuditLog.action == "sign_in.locked")).one()
    assert lock.details == {"client": HERE, "subjects": [lockout.account_subject(ANN)], "until": lock_end.isoformat()}


def test_an_unknown_account_locks_alike_so_the_lock_tells_nothing(store: Engine) -> None:
    """A made-up e-mail gets the same messages as a real one: the lock does not reveal who exists."""
    real, _ = _attack(store, 12, patient=True)
    made_up, _ = _attack(store, 12, email="nobody@cscx.io", client=ELSEWHERE, patient=True)
    assert [o.message for o in real] == [o.message for o in made_up]


def test_an_accounts_lock_holds_from_every_client_and_stops_no_other_account(store: Engine) -> None:
    """Locked from one address, the account is locked from another too; other accounts sign in."""
    _, now = _attack(store, 10, patient=True)
    assert _try(store, PASSWORD, now - timedelta(minutes=1), client=ELSEWHERE).user is None
    with Session(store) as session, session.begin():
        auth.upsert_user(session, "bob@cscx.io", "Bob", "csm", PASSWORD)
    assert _try(store, PASSWORD, now - timedelta(minutes=1), email="bob@cscx.io").user is not None


def test_one_client_spraying_many_accounts_is_locked(store: Engine) -> None:
    """Forty failures from one address over forty accounts lock the address, even for a right password."""
    now = T0
    for i in range(ADDRESS.lock_from):
        outcome = _try(store, "guess", now, email=f"user{i}@cscx.io")
        now = outcome.retry_at or now
    refused = _try(store, PASSWORD, now - timedelta(seconds=1))
    assert refused.user is None
    assert "from this browser or address" in refused.message
    assert _try(store, PASSWORD, now - timedelta(seconds=1), client=ELSEWHERE).user is not None


def test_an_admin_setting_a_new_password_lifts_the_lock(store: Engine) -> None:
    """`create-user` with a new password is the way back in before the lock ends."""
    _, now = _attack(store, 10, patient=True)
    with Session(store) as session, session.begin():
        auth.upsert_user(session, ANN, "Ann", "csm", "brand-new-password")
    assert _try(store, "brand-new-password", now - timedelta(minutes=10)).user is not None


def test_simultaneous_failures_all_count(store: Engine) -> None:
    """Ten wrong passwords at the same moment: every one that was checked is counted (each failure is one
    atomic statement), and those that arrived after the fifth counted failure were refused unchecked."""
    barrier = threading.Barrier(10)
    outcomes: list[SignIn | Exception] = []

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            outcomes.append(_try(store, f"guess-{i}", T0, client=client_subject(None, f"tab-{i}")))
        except Exception as exc:  # a thread's exception would otherwise vanish
            outcomes.append(exc)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    checked = [o for o in outcomes if isinstance(o, SignIn) and o.message.startswith("Wrong e-mail or password.")]
    refused = [o for o in outcomes if isinstance(o, SignIn) and o.message.startswith("Too many failed sign-ins")]
    assert (len(checked) + len(refused), len(checked) >= ACCOUNT.delay_from) == (10, True)
    assert _failures(store).count == len(checked)


@pytest.mark.parametrize("email", ["ann\x00@cscx.io", "a" * 5000 + "@cscx.io", "  ANN@CSCX.IO\t"],
                         ids=["nul-byte", "five-thousand-characters", "case-and-spaces"])
def test_odd_typed_e_mails_are_counted_not_crashed_on(store: Engine, email: str) -> None:
    """What is typed is stored cleaned (no NUL, at most 254 characters), on PostgreSQL too."""
    outcome = _try(store, "wrong-password", T0, email=email)
    assert outcome.message == "Wrong e-mail or password."
    with Session(store) as session:
        subjects = list(session.scalars(select(SignInFailure.subject)))
    assert len(subjects) == 2
    assert all("\x00" not in s and len(s) <= 400 for s in subjects)


# --- the screen ------------------------------------------------------------------------------------


@pytest.fixture
def screen(tmp_path: Path) -> Iterator[Store]:
    """The app pointed at an empty store (the sign-in screen needs only its users)."""
    store = new_store(tmp_path / "store.db")
    with use_store(store.url):
        yield store
    store.engine.dispose()


def test_the_screen_refuses_the_right_password_of_a_locked_account(screen: Store) -> None:
    """Ten failures just now: the right password shows the lock, and nobody is signed in."""
    with Session(screen.engine) as session, session.begin():
        auth.upsert_user(session, ANN, "Ann", "csm", PASSWORD)
        session.add(SignInFailure(subject=lockout.account_subject(ANN), failures=10, last_failure_at=NOW))
    at = run(app("pages/login.py"))
    at.text_input(key="login_email").input(ANN)
    at.text_input(key="login_password").input(PASSWORD)
    at.button[0].click()
    run(at)
    assert "frame_user" not in at.session_state
    assert any("Too many failed sign-ins for this account: try again in 15 minutes" in e for e in texts(at.error))
