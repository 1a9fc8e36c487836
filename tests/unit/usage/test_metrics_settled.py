"""Daily metrics runs read the visitors' settled rows instead of grouping the days before their first day
again (`usage.recency`): every run's metrics are the spec's, and the rows are read only while they hold."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.pendo.sync import store as sync_store
from pendo_core.pendo.sync.retention import RAW_KEPT_FROM
from pendo_core.pendo.sync.runner import METRICS_STALE_FROM, RunSummary
from pendo_core.usage import recency
from pendo_core.usage.compute import compute_metrics
from pendo_core.usage.job import compute_moved_metrics
from tests.support.metrics import Activity, Outputs, VDay, read_outputs, seed, table
from tests.support.reference_metrics import reference_metrics
from tests.support.store import running_run, wipe

FIRST = date(2024, 3, 1)  # the first reported day
LOOKBACK = 10
MAPPING = {"a1": "c1", "a2": "c1", "a3": "c2", "a4": "c3"}
ANON = "_PENDO_T_anon"
VISITORS = [f"v{i}" for i in range(10)] + [ANON]
Store = dict[tuple[str, str, date], VDay]  # the raw visitor days by key, as the store holds them


@pytest.fixture
def bases(monkeypatch: pytest.MonkeyPatch) -> list[date | None]:
    """The settled day each metrics run read rows of (None: it grouped every day)."""
    seen: list[date | None] = []
    real = recency.settled_base

    def spy(*args: Any, **kwargs: Any) -> date | None:
        seen.append(real(*args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(recency, "settled_base", spy)  # compute reads it through the module
    return seen


@pytest.fixture
def clean(engine: Engine) -> Iterator[Engine]:
    wipe(engine)
    yield engine
    wipe(engine)


def _day_rows(rng: random.Random, day: date, accounts: tuple[str, ...] = (*MAPPING, "x9")) -> list[VDay]:
    """A sparse day: each visitor of each account has a row one time in six, a fifth of them without events."""
    return [VDay(account, day, visitor, rng.choice((0, 1, 1, 1, 3)), rng.randint(0, 9))
            for account in accounts for visitor in VISITORS if rng.random() < 1 / 6]


def _world(rng: random.Random, last: date) -> Store:
    # A visitor last active before the first settled rows' days, seen in them: active there it is not.
    edge = [VDay("a2", FIRST - timedelta(days=80), "edge"), VDay("a2", FIRST - timedelta(days=60), "edge", 0)]
    rows: Store = {(row.account_id, row.visitor_id, row.day): row for row in edge}
    for k in range(130):  # back past the 90-day base of the first reported day
        for row in _day_rows(rng, last - timedelta(days=k)):
            rows[row.account_id, row.visitor_id, row.day] = row
    return rows


def _restate(rng: random.Random, engine: Engine, rows: Store, days: list[date]) -> date | None:
    """Change some rows of `days` in the store and in `rows` (dropped, events and minutes changed, added);
    returns the first day changed."""
    changed: list[date] = []
    with engine.begin() as conn:
        vd = table("pendo_visitor_days")
        for day in days:
            for key in [k for k in rows if k[2] == day]:
                if rng.random() < 0.15:
                    del rows[key]
                    conn.execute(vd.delete().where(vd.c.account_id == key[0], vd.c.visitor_id == key[1],
                                                   vd.c.day == key[2]))
                    changed.append(day)
                elif rng.random() < 0.15:
                    row = rows[key] = rows[key]._replace(num_events=rng.choice((0, 2)), num_minutes=rng.randint(0, 9))
                    conn.execute(vd.update().where(vd.c.account_id == key[0], vd.c.visitor_id == key[1],
                                                   vd.c.day == key[2]).values(num_events=row.num_events,
                                                                               num_minutes=row.num_minutes))
                    changed.append(day)
            new = [r for r in _day_rows(rng, day) if (r.account_id, r.visitor_id, r.day) not in rows]
            _add(conn, rows, new)
            changed += [day] if new else []
    return min(changed, default=None)


def _add(conn: Any, rows: Store, new: list[VDay]) -> None:
    if new:
        conn.execute(table("pendo_visitor_days").insert(), [r._asdict() for r in new])
        rows.update({(r.account_id, r.visitor_id, r.day): r for r in new})


def _run(engine: Engine, first: date, last: date, changed: date | None, **options: Any) -> None:
    compute_metrics(engine, first_day=first, last_day=last, settled=last - timedelta(days=LOOKBACK),
                    unchanged_before=changed or last + timedelta(days=1), memory_limit="256MB", **options)


def _spec(rows: Store, last: date, mapping: dict[str, str], include_anonymous: bool) -> Outputs:
    activity = Activity(mapping=mapping, visitor_days=sorted(rows.values()))
    return reference_metrics(activity, FIRST, last_day=last, include_anonymous=include_anonymous)


def _between(outputs: Outputs, since: date, until: date) -> Outputs:
    """The rows of days [since, until] (every metric table keys its day last)."""
    return {name: {k: v for k, v in rows.items() if since <= k[-1] <= until} for name, rows in outputs.items()}


def _grouped(rows: Store, since: date, until: date, mapping: dict[str, str],
             include_anonymous: bool) -> dict[tuple[str, str], tuple[Any, ...]]:
    """Per mapped account and visitor with a row in [since, until]: (last active day there, last day)."""
    out: dict[tuple[str, str], list[Any]] = {}
    for (account, visitor, day), row in sorted(rows.items(), key=lambda kv: kv[0][2]):
        if account in mapping and since <= day <= until and (include_anonymous or visitor != ANON):
            got = out.setdefault((account, visitor), [None, None])
            got[0] = day if row.num_events > 0 else got[0]
            got[1] = day
    return {k: tuple(v) for k, v in out.items()}


def _stored(engine: Engine, name: str, since: date | None = None) -> dict[tuple[str, str], tuple[Any, ...]]:
    """A recency table's rows; from `since`, a last active day before it read as none (what the alerts do)."""
    t = table(name)
    with engine.connect() as conn:
        rows = conn.execute(select(t.c.account_id, t.c.visitor_id, t.c.last_active, t.c.last_seen)
                            .where(t.c.last_seen >= (since or date.min)))
        return {(a, v): (la if la is not None and la >= (since or date.min) else None, ls)
                for a, v, la, ls in ((a, v, la and _as_date(la), _as_date(ls)) for a, v, la, ls in rows)}


def _as_date(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _check(engine: Engine, rows: Store, last: date, *, since: date = FIRST, mapping: dict[str, str] = MAPPING,
           include_anonymous: bool = False) -> None:
    """The metrics of days from `since`, the recency rows and the settled rows are the spec's."""
    spec = _spec(rows, last, mapping, include_anonymous)
    assert _between(read_outputs(engine), since, last) == _between(spec, since, last)
    lookback = last - timedelta(days=89)
    assert _stored(engine, "pendo_visitor_recency", lookback) == _grouped(rows, lookback, last, mapping,
                                                                          include_anonymous)
    settled = last - timedelta(days=LOOKBACK)
    start = recency.settled_from(settled)
    assert _stored(engine, "pendo_visitor_settled") == _grouped(rows, start, settled, mapping,
                                                                       include_anonymous)


@pytest.mark.parametrize("seed_", [1, 2])
def test_daily_runs_reading_the_settled_rows_keep_the_spec(clean: Engine, bases: list[date | None],
                                                           seed_: int) -> None:
    """A backfill, then daily runs that restate some of their lookback's days (from any of them, or none)
    and now and then skip a day: each reads the rows the last one wrote, and every metric is the spec's."""
    rng = random.Random(seed_)
    last = FIRST + timedelta(days=20)
    rows = _world(rng, last)
    seed(clean, Activity(mapping=MAPPING, visitor_days=sorted(rows.values())))
    _run(clean, FIRST, last, None)
    _check(clean, rows, last)
    for step in range(10):
        prior, new = last - timedelta(days=LOOKBACK), last + timedelta(days=1)
        last += timedelta(days=2 if step % 4 == 3 else 1)
        with clean.begin() as conn:
            _add(conn, rows, [row for day in sorted({new, last}) for row in _day_rows(rng, day)])
        reread = [last - timedelta(days=k) for k in range(1, LOOKBACK)]
        changed = _restate(rng, clean, rows, rng.sample(reread, rng.randint(0, 3)))
        first = min(changed or new, new)
        _run(clean, first, last, first)
        assert bases[-1] == prior
        _check(clean, rows, last)
    assert bases[0] is None


def _backfilled(engine: Engine, seed_: int = 3) -> tuple[random.Random, Store, date]:
    """A backfill and one daily run reading its settled rows."""
    rng = random.Random(seed_)
    last = FIRST + timedelta(days=30)
    rows = _world(rng, last)
    seed(engine, Activity(mapping=MAPPING, visitor_days=sorted(rows.values())))
    _run(engine, FIRST, last - timedelta(days=1), None)
    _run(engine, last - timedelta(days=3), last, last - timedelta(days=3))
    return rng, rows, last


def test_a_raw_day_changed_before_the_first_day_is_grouped_again(clean: Engine, bases: list[date | None]) -> None:
    """A row written on a settled day, before the first computed day (a window the metrics never restate,
    say before the reported range): the caller tells it, and the rows are not read."""
    _, rows, last = _backfilled(clean)
    day = last - timedelta(days=LOOKBACK + 5)  # settled by both runs
    with clean.begin() as conn:  # a visitor quiet for 130 days, active once
        _add(conn, rows, [VDay("a3", day, "late", 2, 4)])
    _run(clean, last, last, day)
    assert bases == [None, last - timedelta(days=LOOKBACK + 1), None]
    _check(clean, rows, last, since=last)


@pytest.mark.parametrize("change", ["visitor rule", "mapping", "forgotten", "purged", "earlier settled day",
                                    "first day not after it"])
def test_settled_rows_that_do_not_hold_are_not_read(clean: Engine, bases: list[date | None], change: str) -> None:
    """Rows of another visitor rule or set of mapped accounts, forgotten by a run without a settled day,
    reaching purged days, settled after the run's own settled day or not before its first day: the run
    groups every day again, and its metrics and rows are the spec's."""
    _, rows, last = _backfilled(clean)
    read = last - timedelta(days=LOOKBACK + 1)
    mapping, anonymous, first = MAPPING, False, last
    if change == "visitor rule":
        anonymous = True
    elif change == "mapping":
        mapping = {**MAPPING, "x9": "c3"}
        with clean.begin() as conn:
            conn.execute(table("pendo_account_mapping").insert(),
                         [{"pendo_account_id": "x9", "customer_id": "c3", "method": "manual"}])
        compute_metrics(clean, first_day=FIRST, last_day=last, customer_ids=["c3"], memory_limit="256MB")
    elif change == "forgotten":
        compute_metrics(clean, first_day=last, last_day=last, memory_limit="256MB")
        with clean.connect() as conn:
            assert conn.execute(select(table("pendo_visitor_settled"))).first() is None
    elif change == "purged":  # (the retention's floor keeps these days; the rows would hold the purged ones)
        with Session(clean) as session, session.begin():
            sync_store.set_watermark(session, RAW_KEPT_FROM, (last - timedelta(days=80)).isoformat())
    elif change == "earlier settled day":
        last -= timedelta(days=2)
        first = last
    else:
        first = last - timedelta(days=LOOKBACK)
    _run(clean, first, last, first, include_anonymous=anonymous)
    assert bases == [None, read, None]
    _check(clean, rows, last, since=first, mapping=mapping, include_anonymous=anonymous)


def test_the_metrics_step_tells_which_raw_day_changed_first(clean: Engine, bases: list[date | None]) -> None:
    """A 5-day reported range settles days before its first day. A window that wrote one of them (the sync
    reads days before the range for the 90-day base) moves no reported day past the first, but lowers
    METRICS_STALE_FROM: the step tells the run, and the stored rows are not read."""
    rng = random.Random(4)
    last = FIRST + timedelta(days=4)
    rows = _world(rng, last)
    seed(clean, Activity(mapping=MAPPING, visitor_days=sorted(rows.values())))
    settings = Settings(pendo_integration_key="k", lookback_days=LOOKBACK)
    compute_moved_metrics(settings, clean, RunSummary(running_run(clean), FIRST, last))
    day = FIRST - timedelta(days=8)  # before the range, settled (FIRST - 6 the settled day)
    last += timedelta(days=1)
    with clean.begin() as conn:
        _add(conn, rows, [VDay("a3", day, "late", 2, 4), *_day_rows(rng, last)])
    with Session(clean) as session, session.begin():
        sync_store.lower_date_watermark(session, METRICS_STALE_FROM, day)
    summary = RunSummary(running_run(clean), FIRST, last, refetched=FIRST, changed_from=FIRST)
    compute_moved_metrics(settings, clean, summary)
    assert bases == [None, None]
    _check(clean, rows, last)


def test_settled_rows_need_a_run_over_every_customer_that_knows_what_changed(clean: Engine) -> None:
    with pytest.raises(ValueError, match="settled rows"):
        compute_metrics(clean, first_day=FIRST, last_day=FIRST, settled=FIRST, customer_ids=["c1"],
                        unchanged_before=FIRST)
    with pytest.raises(ValueError, match="settled rows"):
        compute_metrics(clean, first_day=FIRST, last_day=FIRST, settled=FIRST)
