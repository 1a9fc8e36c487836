"""Suspect windows: a broken answer on a rerun never replaces stored activity, the run says so and
fails, metrics and alerts wait; a small restatement still lands; an operator can accept a big one."""

from __future__ import annotations

import contextlib
from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from pendo_core.pendo.sync import runner, store
from pendo_core.pendo.sync.runner import METRICS_STALE_FROM, SuspectWindows
from pendo_core.store import models
from pendo_sim.faults import AnswerFault
from tests.support.faults import VISITORS, FakePendo, Recorder, covered_days, import_acme, issues, run_fake
from tests.support.sync import snapshot

FIRST_WINDOW = [date(2024, 3, 10) + timedelta(days=i) for i in range(7)]  # the rerun's first lookback window


def _events(kind: str, **fields: object) -> AnswerFault:
    return AnswerFault("events", kind, period="dayRange", answers=1, **fields)  # type: ignore[arg-type]


@pytest.fixture
def backfilled(engine: Engine) -> Engine:
    """A store with one customer after a clean 7-day backfill (visitor days reach 89 days further back)."""
    import_acme(engine)
    run_fake(engine, FakePendo(), backfill_days=7)
    with engine.connect() as conn:
        assert conn.scalar(select(func.max(models.UsageMetric.dau))) == len(VISITORS)
    return engine


@pytest.mark.parametrize("fault", [
    _events("results_null"),
    _events("results_missing"),
    _events("set", field="numEvents", value="7"),
    _events("set", field="visitorId", value=None),
    _events("set", field="numEvents", value="7", every=1000, offset=5),
    _events("delete", field="day", every=1000, offset=3),
    _events("duplicate", every=1000, offset=0),
    _events("drop"),
    _events("drop", offset=2 * len(VISITORS)),
    AnswerFault("featureEvents", "set", field="visitorId", value=None, answers=1),
    AnswerFault("events", "set", field="numEvents", value=-1, period="hourRange", answers=1),
], ids=["results-null", "results-missing", "counts-as-text", "null-visitors", "one-bad-count", "one-row-without-day",
        "one-row-twice", "every-row-dropped", "five-days-emptied", "feature-rows-without-visitor",
        "negative-hour-counts"])
def test_a_broken_rerun_answer_leaves_every_table_as_it_was(backfilled: Engine, fault: AnswerFault) -> None:
    """Stored rows stay cell by cell; the run fails naming the window and the way out; no alert step runs."""
    before = snapshot(backfilled)
    steps = Recorder()
    with pytest.raises(SuspectWindows, match="accept-restatement") as failed:
        run_fake(backfilled, FakePendo(fault), steps=[steps])
    assert "\n" not in str(failed.value)
    assert snapshot(backfilled) == before
    assert steps.calls == 0
    stream = {"featureEvents": "feature_days", "hourRange": "visitor_hours"}.get(fault.source, "visitor_days")
    stream = "visitor_hours" if fault.period == "hourRange" else stream
    assert [r for s, r, _n in issues(backfilled) if s == stream and r.startswith("suspect 2024-03-")]
    assert not covered_days(backfilled, stream) & set(FIRST_WINDOW)
    with backfilled.connect() as conn:
        status, error = conn.execute(select(models.SyncRun.status, models.SyncRun.error)
                                     .order_by(models.SyncRun.id.desc()).limit(1)).one()
    assert status == "failed"
    assert f"{stream} 2024-03-" in error


def test_a_small_restatement_is_applied(backfilled: Engine) -> None:
    """One visitor-day fewer on one day is what Pendo restating looks like: the run succeeds and it lands."""
    summary = run_fake(backfilled, FakePendo(_events("drop", every=1000, offset=5)))
    assert summary.suspect == []
    assert _visitor_days(backfilled, FIRST_WINDOW[0]) == len(VISITORS) - 1


@pytest.mark.parametrize(("fault", "suspect"), [
    (AnswerFault("guideEvents", "set", field="browserTime", value=None, every=1000, offset=2, answers=1), False),
    (AnswerFault("guideEvents", "set", field="browserTime", value="noon", answers=1), True),
], ids=["one-bad-event-skipped", "all-bad-suspect"])
def test_guide_events_only_grow_so_a_bad_row_is_skipped(backfilled: Engine, fault: AnswerFault,
                                                       suspect: bool) -> None:
    """Raw guide events are never deleted: a bad one is skipped and counted; only an all-bad answer is suspect."""
    before = snapshot(backfilled)
    if suspect:
        with pytest.raises(SuspectWindows, match="guide_events"):
            run_fake(backfilled, FakePendo(fault))
    else:
        assert run_fake(backfilled, FakePendo(fault)).bad_rows == 1
    assert snapshot(backfilled) == before


def test_an_operator_accepts_a_restatement(backfilled: Engine) -> None:
    """--accept-restatement applies the withheld answer (here: no activity at all) and records that it did."""
    emptied = _events("drop")
    with pytest.raises(SuspectWindows):
        run_fake(backfilled, FakePendo(emptied))
    steps = Recorder()
    summary = run_fake(backfilled, FakePendo(emptied), accept=True, steps=[steps])
    assert summary.accepted
    assert summary.suspect == []
    assert steps.calls == 1
    assert all(_visitor_days(backfilled, day) == 0 for day in FIRST_WINDOW)
    assert set(FIRST_WINDOW) <= covered_days(backfilled, "visitor_days")
    assert [r for s, r, _n in issues(backfilled) if s == "visitor_days" and r.startswith("accepted 2024-03-10")]


def test_the_next_good_run_heals_and_recomputes_what_the_suspect_run_wrote(backfilled: Engine) -> None:
    """The suspect run leaves the first day it wrote as stale for metrics; a good run re-reads and clears it.
    Its other windows come back as stored, and both stores see that they changed nothing (no stale day)."""
    before = snapshot(backfilled)
    with pytest.raises(SuspectWindows):
        run_fake(backfilled, FakePendo(_events("results_null")))
    assert _watermark(backfilled, METRICS_STALE_FROM) is None
    run_fake(backfilled, FakePendo())
    assert _watermark(backfilled, METRICS_STALE_FROM) is None
    assert set(FIRST_WINDOW) <= covered_days(backfilled, "visitor_days")
    assert snapshot(backfilled) == before


def _visitor_days(engine: Engine, day: date) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(models.VisitorDay).where(models.VisitorDay.day == day))


def _watermark(engine: Engine, name: str) -> str | None:
    with Session(engine) as session:
        return store.get_watermark(session, name)



def _requests(engine: Engine, client: FakePendo) -> int:
    """How many answers a fresh 7-day backfill asked of `client` (the run may withhold windows)."""
    import_acme(engine)
    with contextlib.suppress(SuspectWindows):
        run_fake(engine, client, backfill_days=7)
    return client.stats.requests


def test_a_backfill_answer_repeating_a_key_is_withheld_on_both_stores(engine: Engine, sqlite_engine: Engine,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Days holding no rows are copied straight into the table on PostgreSQL; an answer repeating a key
    there is read again and staged, so, as on SQLite, the guard withholds it and none of its rows land."""
    monkeypatch.setattr(runner, "READ_AHEAD_DIALECTS", ())  # its cancelled reads ahead would add requests
    asked = _requests(engine, FakePendo(AnswerFault("events", "duplicate", period="dayRange", every=1000)))
    withheld = [r for s, r, _n in issues(engine) if s == "visitor_days"]
    assert withheld
    assert all(r.startswith("suspect ") and "repeat a key" in r for r in withheld)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.VisitorDay)) == 0
    again = len(withheld) if engine.dialect.name == "postgresql" else 0  # each straight COPY read once more
    assert asked == _requests(sqlite_engine, FakePendo()) + again
