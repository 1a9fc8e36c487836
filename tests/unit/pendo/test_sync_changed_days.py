"""A re-read window names the first day whose stored rows changed: every day a row left or entered."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.sync import staging, store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.streams import GUIDE_EVENTS, VISITOR_DAYS, VISITOR_HOURS
from pendo_core.store import models
from pendo_core.store.bulk import DuplicateKey
from pendo_core.store.engine import session_factory
from tests.support.store import visitor_days

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
D1, D2, D3 = date(2024, 3, 1), date(2024, 3, 2), date(2024, 3, 3)


def _write_guarded(engine: Engine, stream: Any, window: Window, rows: list[Any],
                   tz: ZoneInfo = UTC, *, straight: bool = True) -> store.WindowResult:
    with session_factory(engine).begin() as session:
        return store.write_guarded(session, stream, window, rows, tz=tz, as_of=date(2024, 3, 20),
                                   include_anonymous=False, run_id=1, straight=straight)


def _hour(ms: int, events: int = 1) -> dict[str, Any]:
    return {"accountId": "a", "visitorId": "v", "hour": ms, "numEvents": events, "numMinutes": 1}


def _vd(day: date, visitor: str = "v@x.com", events: int = 3) -> dict[str, Any]:
    return {"accountId": "acme", "visitorId": visitor, "day": local_midnight_ms(day, UTC),
            "numEvents": events, "numMinutes": 2}


def test_an_hour_whose_day_moved_later_changes_the_day_it_left(engine: Engine) -> None:
    """visitor_hours keys on the hour, `day` is not in the key: when a re-read puts an hour on a later day
    (PENDO_TIMEZONE corrected), the day the row left changed too, and the window must name it."""
    late = local_midnight_ms(D2, UTC) + 2 * 3_600_000  # 02:00 UTC on D2 = 21:00 New York on D1
    other = local_midnight_ms(D1, UTC) + 12 * 3_600_000  # 12:00 UTC on D1 = 07:00 New York on D1
    _write_guarded(engine, VISITOR_HOURS, Window(D1, D2), [_hour(late), _hour(other)], tz=NY)
    result = _write_guarded(engine, VISITOR_HOURS, Window(D1, D2), [_hour(late), _hour(other)], tz=UTC)
    with engine.connect() as conn:
        days = dict(conn.execute(select(models.VisitorHour.hour_start, models.VisitorHour.day)).tuples().all())
    assert days == {late: D2, other: D1}
    assert result.changed_from == D1  # D1 lost the 21:00 hour


def test_a_visitor_day_moved_within_the_window_changes_both_days(engine: Engine) -> None:
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D3), [_vd(D2), _vd(D3)])
    result = _write_guarded(engine, VISITOR_DAYS, Window(D1, D3), [_vd(D1), _vd(D3)])
    assert result.changed_from == D1


def test_an_emptied_window_changes_its_first_stored_day(engine: Engine) -> None:
    """D1 was empty and stays so: both stores know it from its digest (SQLite once rewrote every day)."""
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D3), [_vd(D2), _vd(D3)])
    result = _write_guarded(engine, VISITOR_DAYS, Window(D1, D3), [])
    assert result.changed_from == D2
    with engine.connect() as conn:
        assert conn.execute(select(models.VisitorDay.day)).all() == []


def test_a_guide_event_stamped_before_its_window_changes_its_own_day(engine: Engine) -> None:
    """Guide events take their day from the browser clock, so a window's answer may hold an event of an
    earlier day; the guide metrics of that day and on read it, so the window must name that day."""
    early = {"guideId": "g", "guideStepId": "s1", "type": "guideSeen",
             "browserTime": local_midnight_ms(D1, UTC) + 3_600_000, "visitorId": "v", "accountId": "a"}
    result = _write_guarded(engine, GUIDE_EVENTS, Window(D2, D3), [early])
    assert result.changed_from == D1


def test_an_accepted_guide_event_stamped_before_its_window_changes_its_own_day(engine: Engine) -> None:
    early = {"guideId": "g", "guideStepId": "s1", "type": "guideSeen",
             "browserTime": local_midnight_ms(D1, UTC) + 3_600_000, "visitorId": "v", "accountId": "a"}
    with session_factory(engine).begin() as session:
        result = store.write_guarded(session, GUIDE_EVENTS, Window(D2, D3), [early], tz=UTC,
                                     as_of=date(2024, 3, 20), include_anonymous=False, run_id=1, accept=True)
    assert result.changed_from == D1


def _seen(day: date, step: str) -> dict[str, Any]:
    return {"guideId": "g", "guideStepId": step, "type": "guideSeen", "visitorId": "v", "accountId": "a",
            "browserTime": local_midnight_ms(day, UTC) + 3_600_000}


@pytest.mark.parametrize("added_on", [D2, D3], ids=["middle-day", "last-day"])
def test_a_re_read_guide_window_names_the_earliest_day_it_added(engine: Engine, added_on: date) -> None:
    """Raw guide events are only added: a re-read window that adds events of one day changed that day
    alone, whatever stored events of earlier days came back beside them (SQLite: in the same batch). A
    daily run's window mostly adds its new day's events, and naming its first day recomputed every metric
    from there."""
    stored = [_seen(D1, "s1"), _seen(D2, "s1"), _seen(D3, "s1")]
    _write_guarded(engine, GUIDE_EVENTS, Window(D1, D3), stored)
    result = _write_guarded(engine, GUIDE_EVENTS, Window(D1, D3), [*stored, _seen(added_on, "s2")])
    assert result.changed_from == added_on
    with engine.connect() as conn:
        assert conn.execute(select(models.GuideEvent.day).where(models.GuideEvent.step_id == "s2")).all() == [
            (added_on,)]


def test_the_rows_per_day_after_a_write_are_the_stored_ones_counting_only_the_written_days(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The guard's rows per day after a write, counted again only where the write wrote (PostgreSQL: none
    for a re-read that came back as stored, none for rows copied straight into empty days), equal a count
    of every day: through a backfill, an unchanged re-read, changed, added and dropped rows, an hour that
    moved day, and a repeated key (withheld)."""
    seen: list[tuple[dict[date, int], dict[date, int], staging.Written]] = []
    derive = staging.per_day_after

    def checked(session: Any, table: Any, window: Window, before: Any, done: staging.Written) -> dict[date, int]:
        after = derive(session, table, window, before, done)
        seen.append((after, staging.per_day(session, table, window), done))
        return after

    monkeypatch.setattr(staging, "per_day_after", checked)
    week = Window(D1, D3)
    _write_guarded(engine, VISITOR_DAYS, week, [_vd(D1), _vd(D2), _vd(D3)])
    _write_guarded(engine, VISITOR_DAYS, week, [_vd(D1), _vd(D2), _vd(D3)])
    _write_guarded(engine, VISITOR_DAYS, week, [_vd(D1), _vd(D2), _vd(D2, "w@x.com"), _vd(D3, events=9)])
    _write_guarded(engine, VISITOR_DAYS, week, [_vd(D2), _vd(D2, "w@x.com"), _vd(D3, events=9)])
    _write_guarded(engine, VISITOR_DAYS, week, [_vd(D1), _vd(D2), _vd(D2, "w@x.com"), _vd(D3, events=9)])
    late = local_midnight_ms(D2, UTC) + 2 * 3_600_000
    _write_guarded(engine, VISITOR_HOURS, Window(D1, D2), [_hour(late)], tz=NY)
    _write_guarded(engine, VISITOR_HOURS, Window(D1, D2), [_hour(late)], tz=UTC)
    with pytest.raises(store.WindowWithheld):
        _write_guarded(engine, VISITOR_DAYS, week, [_vd(D2), _vd(D2), _vd(D2, "w@x.com"), _vd(D3, events=9)])
    assert [after for after, _, _ in seen] == [full for _, full, _ in seen]
    assert [after for after, _, _ in seen][:5] == [{D1: 1, D2: 1, D3: 1}, {D1: 1, D2: 1, D3: 1},
                                                   {D1: 1, D2: 2, D3: 1}, {D2: 2, D3: 1}, {D1: 1, D2: 2, D3: 1}]
    if engine.dialect.name == "postgresql":  # the fifth write's D1, emptied by the fourth, is copied straight
        written = [(done.landed, done.rewritten) for _, _, done in seen]
        assert written == [({D1: 1, D2: 1, D3: 1}, None), (None, ()), (None, (D2, D3)), (None, (D1,)),
                           ({D1: 1}, ()), ({D1: 1}, None), (None, (D1, D2)), (None, (D1,))]


def test_a_changed_day_holding_no_rows_is_copied_straight_and_a_key_repeated_there_raises(engine: Engine) -> None:
    """Of a window read to its end (its days have digests), a changed day that holds no rows (a daily run's
    new day) is copied straight into the table on PostgreSQL, beside the compared days: the rows as sent.
    A key the answer repeats on that day raises DuplicateKey there (the runner then reads the window again
    staged, and the guard withholds it, as on SQLite), and the stored rows stay as they were."""
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1), _vd(D2)])
    week = Window(D1, D3)
    repeated = [_vd(D1), _vd(D2, events=5), _vd(D3), _vd(D3)]
    if engine.dialect.name == "postgresql":
        with pytest.raises(DuplicateKey):
            _write_guarded(engine, VISITOR_DAYS, week, repeated)
    with pytest.raises(store.WindowWithheld, match="repeat a key"):
        _write_guarded(engine, VISITOR_DAYS, week, repeated, straight=False)
    assert visitor_days(engine) == [(D1, "v@x.com", 3, 2), (D2, "v@x.com", 3, 2)]
    result = _write_guarded(engine, VISITOR_DAYS, week, [_vd(D1), _vd(D2, events=5), _vd(D3), _vd(D3, "w@x.com")])
    assert result.changed_from == D2
    assert result.rows == 4
    assert visitor_days(engine) == [(D1, "v@x.com", 3, 2), (D2, "v@x.com", 5, 2), (D3, "v@x.com", 3, 2),
                                    (D3, "w@x.com", 3, 2)]
