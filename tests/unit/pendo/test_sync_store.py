"""Window writes: a window replaces its days, bad rows are counted and skipped, coverage follows."""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select, text

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.streams import GUIDE_EVENTS, VISITOR_DAYS, VISITOR_HOURS
from pendo_core.store import models
from pendo_core.store.bulk import refresh_statistics
from pendo_core.store.engine import session_factory
from tests.support.store import each_statement, visitor_days, wipe

UTC = ZoneInfo("UTC")
NY = ZoneInfo("America/New_York")
D1, D2 = date(2024, 3, 1), date(2024, 3, 2)


def _vd(day: date, visitor: str = "v@x.com", events: Any = 3, minutes: Any = 2, **extra: Any) -> dict[str, Any]:
    return {"accountId": "acme", "visitorId": visitor, "day": local_midnight_ms(day, UTC),
            "numEvents": events, "numMinutes": minutes, **extra}


def _write(engine: Engine, stream: Any, window: Window, rows: list[Any], tz: ZoneInfo = UTC) -> store.WindowResult:
    with session_factory(engine).begin() as session:
        return store.write_window(session, stream, window, rows, tz=tz, as_of=date(2024, 3, 20),
                                  include_anonymous=False, run_id=1)


def test_window_replaces_its_days_only(engine: Engine) -> None:
    """Re-reading a window drops rows Pendo no longer returns, and leaves other days alone."""
    _write(engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1), _vd(D2), _vd(D1, "gone@x.com")])
    _write(engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, events=5)])
    assert visitor_days(engine) == [(D1, "v@x.com", 5, 2), (D2, "v@x.com", 3, 2)]


def test_duplicate_keys_in_one_answer_are_summed(engine: Engine) -> None:
    """Two rows with the same key (e.g. two user agents not grouped) add up."""
    result = _write(engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, events=1, minutes=1), _vd(D1, events=2)])
    assert result.rows == 1
    assert visitor_days(engine) == [(D1, "v@x.com", 3, 3)]


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (_vd(D1, events=-1), "negative numEvents"),
        (_vd(D1, events="7"), "bad numEvents"),
        (_vd(D1, minutes=None), "missing numMinutes"),
        (_vd(D1, events=2**60), "huge numEvents"),
        ({**_vd(D1), "visitorId": None}, "missing visitorId"),
        ({**_vd(D1), "accountId": ""}, "bad accountId"),
        ({**_vd(D1), "day": local_midnight_ms(D1, UTC) + 3_600_000},
         "day bucket not at local midnight (check PENDO_TIMEZONE)"),
        (_vd(date(2024, 3, 5)), "bucket outside the requested window"),
        (["not", "an", "object"], "row is not an object"),
    ],
    ids=["negative", "string-count", "null-minutes", "huge", "no-visitor", "empty-account", "misaligned-day",
         "outside-window", "not-an-object"],
)
def test_bad_rows_are_skipped_and_counted(engine: Engine, row: Any, reason: str) -> None:
    """One bad row costs nothing but itself; its reason and a sample are kept."""
    result = _write(engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, "good@x.com"), row])
    assert result.rows == 1
    assert result.bad.counts == {("visitor_days", reason): 1}
    assert visitor_days(engine) == [(D1, "good@x.com", 3, 2)]


def test_coverage_marks_every_day_of_the_window(engine: Engine) -> None:
    """An empty answer still covers its days: they are synced zeros, not missing."""
    _write(engine, VISITOR_DAYS, Window(D1, date(2024, 3, 3)), [])
    with session_factory(engine)() as session:
        covered = store.load_coverage(session, "visitor_days")
    assert sorted(covered) == [D1, D2, date(2024, 3, 3)]


def test_hours_take_the_local_day_across_dst(engine: Engine) -> None:
    """An hour bucket's day is its local day: 03:00 EDT on 2024-03-10 is 07:00 UTC that day."""
    hour = local_midnight_ms(date(2024, 3, 10), NY) + 2 * 3_600_000  # 03:00 local after spring-forward
    row = {"accountId": "a", "visitorId": "v", "hour": hour, "numEvents": 1, "numMinutes": 1}
    _write(engine, VISITOR_HOURS, Window(date(2024, 3, 10), date(2024, 3, 10)), [row], tz=NY)
    with engine.connect() as conn:
        assert conn.execute(select(models.VisitorHour.day, models.VisitorHour.hour_start)).one() == (
            date(2024, 3, 10), hour)


def test_guide_events_keep_subtype_and_ignore_repeats(engine: Engine) -> None:
    """`ui:web:guideSeen` is stored as guideSeen; the same event twice is stored once; noise types dropped."""
    seen = {"guideId": "g", "guideStepId": "s1", "type": "ui:web:guideSeen", "browserTime": 1709300000000,
            "visitorId": "v", "accountId": "a"}
    noise = {**seen, "type": "guideTimeout"}
    _write(engine, GUIDE_EVENTS, Window(D1, D1), [seen, seen, noise])
    _write(engine, GUIDE_EVENTS, Window(D1, D1), [seen])
    with engine.connect() as conn:
        assert conn.execute(select(models.GuideEvent.event_type, func.count()).group_by(
            models.GuideEvent.event_type)).all() == [("guideSeen", 1)]


def _write_guarded(engine: Engine, stream: Any, window: Window, rows: list[Any], *,
                   straight: bool = True) -> store.WindowResult:
    with session_factory(engine).begin() as session:
        return store.write_guarded(session, stream, window, rows, tz=UTC, as_of=date(2024, 3, 20),
                                   include_anonymous=False, run_id=1, straight=straight)


@pytest.mark.parametrize("first", [0, 5_999], ids=["same-batch", "another-batch"])
def test_guarded_window_refuses_a_key_sent_twice_and_keeps_the_stored_rows(engine: Engine, first: int) -> None:
    """The sync's bulk write (batches on SQLite, COPY on PostgreSQL) lands a repeated key once, never
    summed and never an error: the guard sees fewer stored rows than rows sent and withholds the window."""
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, "kept@x.com")])
    answer = [_vd(D1, f"v{i}@x.com") for i in range(6_000)] + [_vd(D1, f"v{first}@x.com", events=9)]
    with pytest.raises(store.WindowWithheld, match="1 rows repeat a key"):
        _write_guarded(engine, VISITOR_DAYS, Window(D1, D1), answer)
    assert visitor_days(engine) == [(D1, "kept@x.com", 3, 2)]


def test_guarded_window_writes_every_row_once(engine: Engine) -> None:
    """A clean answer replaces the window's days row for row, values as sent."""
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1, "gone@x.com"), _vd(D2)])
    result = _write_guarded(engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, events=7, minutes=4), _vd(D1, "w@x.com")])
    assert result.rows == 2
    assert visitor_days(engine) == [(D1, "v@x.com", 7, 4), (D1, "w@x.com", 3, 2), (D2, "v@x.com", 3, 2)]


def test_guarded_guide_events_store_a_repeat_once(engine: Engine) -> None:
    """Raw guide events are only added: a repeat, in one answer or a later one, is stored once."""
    seen = {"guideId": "g", "guideStepId": "s1", "type": "guideSeen", "browserTime": 1709300000000,
            "visitorId": "v", "accountId": "a"}
    _write_guarded(engine, GUIDE_EVENTS, Window(D1, D1), [seen, seen])
    _write_guarded(engine, GUIDE_EVENTS, Window(D1, D1), [seen, {**seen, "guideStepId": "s2"}])
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.GuideEvent)) == 2


SAME = [_vd(D1), _vd(D1, "w@x.com")]


@pytest.mark.parametrize(("again", "changed"), [
    pytest.param(SAME, False, id="same-rows"),
    pytest.param(list(reversed(SAME)), False, id="same-rows-other-order"),
    pytest.param([_vd(D1), _vd(D1, "w@x.com", events=4)], True, id="a-value-changed"),
    pytest.param([_vd(D1)], True, id="a-row-gone"),
    pytest.param([*SAME, _vd(D1, "x@x.com")], True, id="a-row-new"),
])
def test_a_re_read_window_says_whether_it_changed_the_store(engine: Engine, again: list[Any], changed: bool) -> None:
    """A re-read that leaves every stored row as it was changes nothing (no metric moves), on both stores:
    its days' digests are those stored (digests.py)."""
    assert _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [*SAME, _vd(D2)]).changed_from == D1
    result = _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [*again, _vd(D2)])
    assert result.changed_from == (D1 if changed else None)
    assert visitor_days(engine) == sorted((D1 if r["day"] == SAME[0]["day"] else D2, r["visitorId"],
                                            r["numEvents"], r["numMinutes"]) for r in [*again, _vd(D2)])


def test_only_the_days_a_re_read_changed_are_rewritten(engine: Engine) -> None:
    """A re-read window names its first changed day, and the days that came back as stored are left as
    they were, on both stores."""
    _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1), _vd(D2)])
    before = _row_versions(engine, D1)
    result = _write_guarded(engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1), _vd(D2, events=9), _vd(D2, "w@x.com")])
    assert result.changed_from == D2
    assert visitor_days(engine) == [(D1, "v@x.com", 3, 2), (D2, "v@x.com", 9, 2), (D2, "w@x.com", 3, 2)]
    assert _row_versions(engine, D1) == before


def _row_versions(engine: Engine, day: date) -> list[tuple[Any, ...]]:
    """Each stored row's version: PostgreSQL's xmin and xmax (rewritten, locked), SQLite's rowid (which a
    delete and insert changes: the new row goes after the table's last)."""
    version = "xmin::text, xmax::text" if engine.dialect.name == "postgresql" else "rowid"
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            text(f"SELECT {version} FROM pendo_visitor_days WHERE day = :day"), {"day": day})]


def test_a_re_read_of_guide_events_changes_the_store_only_with_a_new_event(engine: Engine) -> None:
    """Raw guide events are only added: the same events again change nothing, a new one does (both stores:
    SQLite's driver counts the rows each batch inserted)."""
    seen = {"guideId": "g", "guideStepId": "s1", "type": "guideSeen", "browserTime": 1709300000000,
            "visitorId": "v", "accountId": "a"}
    assert _write_guarded(engine, GUIDE_EVENTS, Window(D1, D1), [seen]).changed_from == D1
    again = _write_guarded(engine, GUIDE_EVENTS, Window(D1, D1), [seen]).changed_from
    assert again is None
    added = _write_guarded(engine, GUIDE_EVENTS, Window(D1, D1), [seen, {**seen, "guideStepId": "s2"}])
    assert added.changed_from == D1


@pytest.mark.postgres
def test_the_planner_learns_the_rows_the_windows_wrote(pg_engine: Engine) -> None:
    """After the windows fill a table, PostgreSQL's statistics count the rows written (the metrics' plans
    rest on them). A table grown by less than a tenth keeps them (test_statistics)."""
    wipe(pg_engine)
    with pg_engine.begin() as conn:  # empty as a first backfill finds it: no pages left by earlier tests
        conn.execute(text(f"TRUNCATE {VISITOR_DAYS.table.name}"))
    _write_guarded(pg_engine, VISITOR_DAYS, Window(D1, D2), [_vd(D1, f"v{i}@x.com") for i in range(300)])
    with session_factory(pg_engine).begin() as session:
        refresh_statistics(session, [VISITOR_DAYS.table.name])
    with pg_engine.connect() as conn:
        assert conn.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'pendo_visitor_days'")) == 300
    wipe(pg_engine)


def _loops_over_the_answer(node: dict[str, Any]) -> bool:
    """A nested loop that scans the staged answer once per outer row, anywhere in the plan."""
    children = node.get("Plans", [])
    if node["Node Type"] == "Nested Loop" and _scans_the_answer(children[1]):
        return True
    return any(_loops_over_the_answer(child) for child in children)


def _scans_the_answer(node: dict[str, Any]) -> bool:
    if node["Node Type"] == "Seq Scan" and str(node.get("Relation Name", "")).startswith("cscx_copy_"):
        return True
    return any(_scans_the_answer(child) for child in node.get("Plans", []))


@pytest.mark.postgres
def test_a_day_new_since_the_statistics_is_not_joined_row_by_row(pg_engine: Engine) -> None:
    """A re-read window with a day the planner has not seen (its statistics say: no rows), compared with
    the stored rows (staged: a window read again after a repeated key; such a day is otherwise copied
    straight), deletes what the answer dropped with a plan that never scans the whole answer per stored
    row (a daily run's window hung for minutes on that), and leaves exactly the answer's rows."""
    wipe(pg_engine)
    _write_guarded(pg_engine, VISITOR_DAYS, Window(D1, D1), [_vd(D1, f"v{i}@x.com") for i in range(2_000)])
    with session_factory(pg_engine).begin() as session:
        refresh_statistics(session, [VISITOR_DAYS.table.name])
    plans: list[dict[str, Any]] = []

    def explain(cursor: Any, statement: str, parameters: Any) -> None:
        if statement.startswith("DELETE FROM pendo_visitor_days"):
            probe = cursor.connection.cursor()
            probe.execute("EXPLAIN (FORMAT JSON) " + statement, parameters)
            plans.append(probe.fetchone()[0][0]["Plan"])

    answer = [_vd(day, f"v{i}@x.com") for day in (D1, D2) for i in range(2_000)]
    with each_statement(pg_engine, explain):
        result = _write_guarded(pg_engine, VISITOR_DAYS, Window(D1, D2), answer, straight=False)
    assert plans
    assert not any(_loops_over_the_answer(plan) for plan in plans)
    assert result.changed_from == D2
    assert len(visitor_days(pg_engine)) == 4_000
    wipe(pg_engine)
