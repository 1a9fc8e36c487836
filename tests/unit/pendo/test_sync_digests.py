"""Day digests (sync/digests.py): a re-read day whose answer has its stored digest is not written, and a
digest is kept only while the day's stored rows are the rows digested."""

from __future__ import annotations

import random
from datetime import UTC as _UTC
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, event, select, update

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.sync import digests, guard, retention, store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.streams import FEATURE_DAYS, VISITOR_DAYS, VISITOR_HOURS
from pendo_core.store import models
from pendo_core.store.engine import session_factory
from tests.support.faults import AS_OF, FakePendo, run_fake

UTC = ZoneInfo("UTC")
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)
VD = models.VisitorDay


def _vd(day: date, visitor: str = "v@x.com", events: int = 3) -> dict[str, Any]:
    return {"accountId": "acme", "visitorId": visitor, "day": local_midnight_ms(day, UTC),
            "numEvents": events, "numMinutes": 2}


def _guarded(engine: Engine, window: Window, rows: list[Any], digest_from: date | None = None) -> store.WindowResult:
    with session_factory(engine).begin() as session:
        return store.write_guarded(session, VISITOR_DAYS, window, rows, tz=UTC, as_of=date(2024, 3, 20),
                                   include_anonymous=False, run_id=1, digest_from=digest_from)


def _stored_digests(engine: Engine) -> dict[date, int]:
    with engine.connect() as conn:
        return dict(conn.execute(select(models.DayDigest.day, models.DayDigest.rows)).tuples().all())


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(VD.day, VD.visitor_id, VD.num_events).order_by(VD.day, VD.visitor_id))]


def _digest(rows: list[tuple[Any, ...]], stream: Any = VISITOR_DAYS, tz: ZoneInfo = UTC) -> dict[date, digests.Digest]:
    spool = digests.Spool(stream, rows, tz)
    spool.drain()
    return spool.digests(Window(D1, D3))


VISITOR_DAY_ROWS = st.lists(st.tuples(st.sampled_from(["a", "b"]), st.text(min_size=1, max_size=5),
                                      st.sampled_from([D1, D2]), st.integers(0, 10**12), st.integers(0, 99)),
                            max_size=30, unique_by=lambda r: (r[0], r[1], r[2]))


@settings(max_examples=200, deadline=None)
@given(VISITOR_DAY_ROWS, st.randoms())
def test_a_digest_does_not_depend_on_the_order_of_the_rows(rows: list[Any], rnd: random.Random) -> None:
    shuffled = list(rows)
    rnd.shuffle(shuffled)
    assert _digest(shuffled) == _digest(rows)


@settings(max_examples=200, deadline=None)
@given(VISITOR_DAY_ROWS, st.data())
def test_a_changed_added_or_removed_row_changes_its_days_digest(rows: list[Any], data: st.DataObject) -> None:
    before = _digest(rows)
    kind = data.draw(st.sampled_from(["change", "add", "remove"] if rows else ["add"]))
    if kind == "add":
        row = ("c", "new", D1, 1, 1)  # account "c" is never drawn: a new key
        after, day = _digest([*rows, row]), D1
    else:
        i = data.draw(st.integers(0, len(rows) - 1))
        day = rows[i][2]
        if kind == "remove":
            after = _digest(rows[:i] + rows[i + 1:])
        else:
            after = _digest([*rows[:i], (*rows[i][:4], rows[i][4] + 1), *rows[i + 1:]])
    assert after.get(day, digests.NONE) != before.get(day, digests.NONE)
    assert {d: v for d, v in after.items() if d != day} == {d: v for d, v in before.items() if d != day}


def test_the_time_zone_is_part_of_the_digest() -> None:
    """The zone decides each row's day: a corrected PENDO_TIMEZONE compares every day row by row."""
    rows = [("a", "v", D1, 1, 1)]
    assert _digest(rows) != _digest(rows, tz=ZoneInfo("America/New_York"))


def test_kept_rows_come_back_as_they_were_for_the_days_asked() -> None:
    rows = [("a", f"v{i}", "f", D1 + timedelta(days=i % 3), i, i % 7) for i in range(12_345)]
    spool = digests.Spool(FEATURE_DAYS, iter(rows), UTC, keep=True)
    spool.drain()
    assert list(spool.read({D1, D3})) == [r for r in rows if r[3] in (D1, D3)]
    assert spool.sent == len(rows)
    assert spool.counts == {D1: 4_115, D2: 4_115, D3: 4_115}
    spool.close()


def test_an_hour_row_keeps_its_types() -> None:
    rows = [("a", "v", 1_709_251_200_000, D1, 2**40, 0)]
    spool = digests.Spool(VISITOR_HOURS, iter(rows), UTC, keep=True)
    spool.drain()
    assert list(spool.read({D1})) == rows
    spool.close()


def test_a_day_that_came_back_with_its_digest_is_not_written(engine: Engine) -> None:
    """Shown by a stored row changed behind the sync's back: the same answer again leaves it, because the
    day's digest matched and its rows were neither sent nor compared. A changed answer rewrites the day."""
    answer = [_vd(D1), _vd(D1, "w@x.com"), _vd(D2)]
    _guarded(engine, Window(D1, D2), answer)
    with engine.begin() as conn:
        conn.execute(update(VD).where(VD.day == D1, VD.visitor_id == "w@x.com").values(num_events=99))
    assert _guarded(engine, Window(D1, D2), list(reversed(answer))).changed_from is None
    assert _stored(engine) == [(D1, "v@x.com", 3), (D1, "w@x.com", 99), (D2, "v@x.com", 3)]
    result = _guarded(engine, Window(D1, D2), [*answer[:2], _vd(D2, events=4)])
    assert result.changed_from == D2
    assert _stored(engine) == [(D1, "v@x.com", 3), (D1, "w@x.com", 99), (D2, "v@x.com", 4)]


def test_only_the_days_without_a_digest_are_counted_for_the_guard(engine: Engine) -> None:
    """A daily run's last window: its earlier days have digests, the new day none. The stored rows per day
    the guard weighs are the digests' counts and the new day's, counted alone (counting the whole window
    read the feature table from disk at 20,000 accounts). A busy day emptied is still seen from its digest."""
    busy = [_vd(D1, f"v{i}@x.com") for i in range(guard.MIN_STORED_ROWS)]
    _guarded(engine, Window(D1, D2), [*busy, _vd(D2)])
    counted: list[set[str]] = []

    def note(*event_args: Any) -> None:  # before_cursor_execute: (conn, cursor, statement, parameters, ...)
        statement, parameters = event_args[2], event_args[3]
        if "count(" in statement.lower() and "from pendo_visitor_days" in statement.lower():
            values = parameters.values() if isinstance(parameters, dict) else parameters
            counted.append({str(value)[:10] for value in values})

    event.listen(engine, "before_cursor_execute", note)
    try:
        _guarded(engine, Window(D1, D3), [*busy, _vd(D2), _vd(D3)])
    finally:
        event.remove(engine, "before_cursor_execute", note)
    assert counted
    assert all(days == {str(D3)} for days in counted), counted
    assert len(_stored(engine)) == len(busy) + 2
    with pytest.raises(store.WindowWithheld, match="would keep"):  # weighed from D1's digest
        _guarded(engine, Window(D1, D3), [_vd(D1, "v0@x.com"), _vd(D2), _vd(D3)])


def test_every_day_of_a_window_gets_a_digest_even_an_empty_one(engine: Engine) -> None:
    _guarded(engine, Window(D1, D3), [_vd(D2)])
    assert _stored_digests(engine) == {D1: 0, D2: 1, D3: 0}


def test_days_before_the_digest_start_are_final_and_get_none(engine: Engine) -> None:
    """A backfill digests only the days its next run reads again (from as_of - LOOKBACK_DAYS); a re-read
    of a window whose first day has no digest compares that day row by row (PostgreSQL: unchanged) or
    rewrites it (SQLite), and then digests it."""
    _guarded(engine, Window(D1, D3), [_vd(D1), _vd(D2)], digest_from=D2)
    assert _stored_digests(engine) == {D2: 1, D3: 0}
    again = _guarded(engine, Window(D1, D3), [_vd(D1), _vd(D2)], digest_from=D2).changed_from
    assert again == (D1 if engine.dialect.name == "sqlite" else None)
    assert _stored_digests(engine) == {D1: 1, D2: 1, D3: 0}


def test_recording_part_of_a_window_drops_the_other_days_digests(engine: Engine) -> None:
    _guarded(engine, Window(D1, D3), [_vd(D1), _vd(D2)])
    with session_factory(engine).begin() as session:
        digests.record(session, VISITOR_DAYS, Window(D1, D3), {D3: digests.NONE})
    assert _stored_digests(engine) == {D3: 0}


def test_a_backfill_digests_only_the_days_its_next_run_reads_again(engine: Engine) -> None:
    """The runner's digest start is as_of - LOOKBACK_DAYS (10 by default): a 30-day backfill's earlier
    days are final and get no digest; every later day of every replaced stream gets one."""
    run_fake(engine, FakePendo(), backfill_days=30)
    with engine.connect() as conn:
        days = conn.execute(select(models.DayDigest.stream, models.DayDigest.day)).tuples().all()
    lookback = [AS_OF - timedelta(days=n) for n in range(10, -1, -1)]
    for stream in ("visitor_days", "visitor_hours", "page_days", "feature_days"):
        assert sorted(d for s, d in days if s == stream) == [d for d in lookback if d < AS_OF]


def test_a_restatement_applied_otherwise_forgets_the_digests(engine: Engine) -> None:
    """write_window (`--accept-restatement`'s way) sums repeated keys: the rows stored are not the answer's,
    so its days lose their digests, and the first answer read again is written back in full."""
    answer = [_vd(D1), _vd(D2)]
    _guarded(engine, Window(D1, D2), answer)
    with session_factory(engine).begin() as session:
        store.write_window(session, VISITOR_DAYS, Window(D1, D1), [_vd(D1), _vd(D1)], tz=UTC,
                           as_of=date(2024, 3, 20), include_anonymous=False, run_id=2)
    assert _stored(engine) == [(D1, "v@x.com", 6), (D2, "v@x.com", 3)]
    assert _guarded(engine, Window(D1, D2), answer).changed_from == D1
    assert _stored(engine) == [(D1, "v@x.com", 3), (D2, "v@x.com", 3)]


def test_the_retention_purge_forgets_the_digests_of_the_days_it_purges(engine: Engine) -> None:
    _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D2)])
    retention.purge(engine, D2)
    with engine.connect() as conn:
        assert conn.execute(select(models.DayDigest.day)).scalars().all() == [D2]
    assert _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D2)]).changed_from == D1
    assert _stored(engine) == [(D1, "v@x.com", 3), (D2, "v@x.com", 3)]


def test_a_withheld_window_keeps_the_stored_digests(engine: Engine) -> None:
    """The guard's refusal rolls the window back, its digests with it."""
    answer = [_vd(D1, f"v{i}@x.com") for i in range(20)]
    _guarded(engine, Window(D1, D1), answer)
    try:
        _guarded(engine, Window(D1, D1), answer[:2])
    except store.WindowWithheld:
        pass
    else:
        raise AssertionError("an answer emptying most of a busy day must be withheld")
    assert _guarded(engine, Window(D1, D1), answer).changed_from is None



@pytest.mark.parametrize("extra", [pytest.param([_vd(D1)], id="the-same-row"),
                                   pytest.param([_vd(D1, events=9)], id="other-values")])
def test_a_repeated_key_on_a_digested_day_is_still_withheld(engine: Engine, extra: list[Any]) -> None:
    """The repeat changes the day's digest, so the day is compared, and the guard sees it."""
    _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D1, "w@x.com"), _vd(D2)])
    with pytest.raises(store.WindowWithheld, match="repeat"):
        _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D1, "w@x.com"), _vd(D2), *extra])


def test_a_bad_row_on_a_day_that_came_back_as_stored_is_still_withheld(engine: Engine) -> None:
    _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D2)])
    with pytest.raises(store.WindowWithheld, match="unusable"):
        _guarded(engine, Window(D1, D2), [_vd(D1), _vd(D2), {**_vd(D2, "x@x.com"), "numEvents": -1}])

# --- a time zone changed: visitor hours move between days (found by a fault probe) ---------------

NY = ZoneInfo("America/New_York")
VH = models.VisitorHour


def _ms(y: int, m: int, d: int, h: int) -> int:
    return int(datetime(y, m, d, h, tzinfo=_UTC).timestamp() * 1000)


def _vh(hour_ms: int, visitor: str = "v@x.com") -> dict[str, Any]:
    return {"accountId": "acme", "visitorId": visitor, "hour": hour_ms, "numEvents": 3, "numMinutes": 2}


def _hours_guarded(engine: Engine, window: Window, rows: list[Any], tz: ZoneInfo, *,
                   straight: bool = True) -> store.WindowResult:
    with session_factory(engine).begin() as session:
        return store.write_guarded(session, VISITOR_HOURS, window, rows, tz=tz, as_of=date(2024, 3, 20),
                                   include_anonymous=False, run_id=1, straight=straight)


def _hours(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            select(VH.day, VH.hour_start, VH.visitor_id).order_by(VH.hour_start, VH.visitor_id))]


# K: 2024-03-02 02:00 UTC is day D2 in UTC but day D1 (21:00) in New York.
K = _ms(2024, 3, 2, 2)
J = _ms(2024, 3, 2, 12)  # D2 in both zones


def test_an_hour_row_moved_to_another_window_takes_its_old_days_digest_with_it(engine: Engine) -> None:
    """visitor_hours' key has no day: writing window [D1] under another zone moves row K off D2 (an
    upsert on the key), a day of another window. A run under the wrong PENDO_TIMEZONE that stops before
    reaching D2's window, then the zone put back: D2 must be compared again, not skipped on the digest
    kept before (store.hold_digest_zone forgets a stream's digests when the zone changes). Found by a
    fault probe of the digests."""
    answer_d2 = [_vh(K), _vh(J)]
    _hours_guarded(engine, Window(D2, D2), answer_d2, UTC)  # digest of D2 (UTC): {K, J}
    assert _hours(engine) == [(D2, K, "v@x.com"), (D2, J, "v@x.com")]
    # PENDO_TIMEZONE set to New York by mistake: D1's window now holds K (the straight COPY raises
    # DuplicateKey, the runner reads it again staged).
    _hours_guarded(engine, Window(D1, D1), [_vh(K)], NY, straight=False)
    assert _hours(engine) == [(D1, K, "v@x.com"), (D2, J, "v@x.com")]  # K moved off D2
    # ... the run stops before D2's window; the zone is put back to UTC and the next run re-reads both.
    _hours_guarded(engine, Window(D2, D2), answer_d2, UTC)
    _hours_guarded(engine, Window(D1, D1), [], UTC)
    assert _hours(engine) == [(D2, K, "v@x.com"), (D2, J, "v@x.com")]


def _d2_answer_utc() -> list[dict[str, Any]]:
    """D2 in UTC: 10 rows in its first five hours (D1 evening in New York), 2 at midday."""
    early = [_vh(_ms(2024, 3, 2, h), v) for h in range(5) for v in ("a@x.com", "b@x.com")]
    return [*early, _vh(_ms(2024, 3, 2, 12)), _vh(_ms(2024, 3, 2, 13))]


def _d2_ny_answer() -> list[dict[str, Any]]:
    """D2 in New York (05:00 UTC on D2 to 05:00 UTC on D3): the two midday rows."""
    return [_vh(_ms(2024, 3, 2, 12)), _vh(_ms(2024, 3, 2, 13))]


def _wrong_zone_run(engine: Engine) -> None:
    """A run under PENDO_TIMEZONE=America/New_York (set by mistake) writes D1's window first: the ten
    early-hour rows move from D2 to D1 (D1's answer in New York holds them)."""
    _hours_guarded(engine, Window(D2, D2), _d2_answer_utc(), UTC)
    _hours_guarded(engine, Window(D1, D1), _d2_answer_utc()[:10], NY, straight=False)


def test_a_moved_hour_leaves_no_stale_count_for_the_guard(engine: Engine) -> None:
    """D2 now stores 2 rows, and New York's answer for D2 has those 2: the guard must count 2 stored rows
    and accept it, not take 12 from a digest kept under the other zone ("would keep 2 of its 12")."""
    _wrong_zone_run(engine)
    assert len([r for r in _hours(engine) if r[0] == D2]) == 2
    _hours_guarded(engine, Window(D2, D2), _d2_ny_answer(), NY)  # accepted: D2's digest went with the zone


def test_a_wrong_zone_then_the_zone_put_back_keeps_every_row(engine: Engine) -> None:
    """A run under the wrong zone, then the operator puts PENDO_TIMEZONE back and runs again: D1's re-read
    (UTC) drops D2's ten early rows from D1, and D2's answer must not hash to a digest kept before the
    wrong run (which would skip D2 and lose the ten rows for good, once D2 is final)."""
    d1_own = [_vh(_ms(2024, 3, 1, h), "c@x.com") for h in range(6, 18)]  # D1 in both zones
    _hours_guarded(engine, Window(D1, D1), d1_own, UTC)
    _hours_guarded(engine, Window(D2, D2), _d2_answer_utc(), UTC)
    # PENDO_TIMEZONE=America/New_York by mistake: D1's window takes D2's ten early rows ...
    _hours_guarded(engine, Window(D1, D1), [*d1_own, *_d2_answer_utc()[:10]], NY, straight=False)
    _hours_guarded(engine, Window(D2, D2), _d2_ny_answer(), NY)  # ... and D2's window is accepted
    # The zone put back to UTC; the next run re-reads both days.
    _hours_guarded(engine, Window(D1, D1), d1_own, UTC)
    _hours_guarded(engine, Window(D2, D2), _d2_answer_utc(), UTC)
    assert len([r for r in _hours(engine) if r[0] == D1]) == 12
    assert len([r for r in _hours(engine) if r[0] == D2]) == 12


def test_rows_written_behind_the_sync_go_where_the_day_has_no_digest_and_stay_where_it_has_one(
        engine: Engine) -> None:
    """A row added by something that keeps no digest (older code, a hand edit). On a day without a digest
    the day is counted and compared row by row: the stray row goes, nothing is withheld (before digests
    were kept per day the guard read "-1 rows repeat a key" and withheld the window, run after run), and
    the day is digested from the answer. On a day with a digest the digest is trusted, the day not read
    back: the row stays until Pendo's answer for the day changes (README, "What is rewritten")."""
    run_fake(engine, FakePendo(), backfill_days=30)
    stray, trusted = AS_OF - timedelta(days=3), AS_OF - timedelta(days=5)
    with engine.begin() as conn:
        for day in (stray, trusted):
            conn.execute(VD.__table__.insert().values(account_id="acme", visitor_id="stray@acme.test", day=day,
                                                      num_events=1, num_minutes=1))
        conn.execute(models.DayDigest.__table__.delete().where(models.DayDigest.stream == "visitor_days",
                                                               models.DayDigest.day == stray))
    summary = run_fake(engine, FakePendo())
    assert summary.suspect == []
    with engine.connect() as conn:
        visitors = {day: conn.execute(select(VD.visitor_id).where(VD.day == day)).scalars().all()
                    for day in (stray, trusted)}
    assert "stray@acme.test" not in visitors[stray]
    assert len(visitors[stray]) == 12
    assert "stray@acme.test" in visitors[trusted]
    assert set(_stored_digests(engine)) >= {stray}  # digested again, from the answer
