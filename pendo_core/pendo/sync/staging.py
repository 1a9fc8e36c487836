"""Writing a window's answer over the days it replaces; raw guide events are only ever added.

Two ways, both keyed as Pendo groups the data and overwriting, never adding to, a stored row: two
runs writing one window (a lost lock) leave the same rows as one run, never doubled counts.

- `replace_rows` (the sync's way): the answer's rows are digested per day as they pass (digests.py).
  When the window's days have stored digests, the answer is first read to its end into a temporary
  file, and the days whose digest is the stored one (a daily run's re-read days mostly come back as
  stored) are neither sent to the store nor written; the other days go on as follows. On SQLite:
  delete the days, then upsert the rows in batches of plain tuples, one executemany each on SQLite's
  own connection (no per-row SQLAlchemy processing); on PostgreSQL, COPY into a temporary table,
  compare it with the days' stored rows (one hash join), then only on the days that differ upsert one
  row per key (INSERT ... SELECT DISTINCT ON the keys) and delete the rows the answer no longer has;
  the caller learns the first day that changed. When the
  window's days hold no rows yet (a backfill's windows) the caller may ask for `straight`: COPY into
  the stream's table itself; a key sent twice then raises DuplicateKey, the transaction is rolled
  back and the caller reads the window again the staged way. Of a window read to its end first, the
  changed days that hold no rows (`straight_days`: a daily run's new day) are copied straight the
  same way, and only the others are compared: the upsert cost twice the plain COPY (its sort, and a
  probe of the key for every row).
  A key sent twice is not summed but shows up as fewer stored rows than rows sent, which the guard
  (guard.py) refuses, so the caller rolls back.
- `stage` then `apply` (write_window, and runs that accept a restatement): rows stream into a
  temporary table first (memory stays flat, the store untouched), can be measured there, then
  replace the window's days in one INSERT ... SELECT that sums the rows sharing a key.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import date
from itertools import groupby, islice
from operator import itemgetter
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from sqlalchemy import Table, bindparam, delete, func, insert, select, text, true
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import BindParameter

from pendo_core.common.timeutil import days_between
from pendo_core.pendo.sync.digests import Digest, Spool, changed_days
from pendo_core.pendo.sync.plan import Window
from pendo_core.pendo.sync.rows import BadRow, BadRows, unstorable_values
from pendo_core.pendo.sync.streams import AnswerRow, EventStream, Row
from pendo_core.store.bulk import copy_rows, temp_copy
from pendo_core.store.upsert import dialect_insert

BATCH = 5_000
SUMMED = ("num_events", "num_minutes")


@dataclass(frozen=True)
class Written:
    """What `replace_rows` did: rows sent, and the first day whose stored rows may have changed (None:
    none did, which only PostgreSQL's staged way can tell; SQLite rewrites the days, so their first).

    So the caller need not count every day of the window again: `rewritten`, the days whose stored rows
    were written by comparing (PostgreSQL's staged way; None: any day may have been), and `landed`, the
    rows per day of the days copied straight into the table, where every row sent was stored as sent (a
    repeated key raises): with `rewritten` None, the whole window; else only those days."""

    sent: int
    changed_from: date | None
    rewritten: tuple[date, ...] | None = None
    landed: dict[date, int] | None = None
    digests: dict[date, Digest] | None = None


@dataclass(frozen=True)
class Staged:
    """One window's answer in its temporary table: good rows staged, distinct keys among them."""

    stream: EventStream
    window: Window
    temp: Table
    rows: int
    keys: int

    @property
    def repeated(self) -> int:
        """Rows that repeat a key another staged row already has."""
        return self.rows - self.keys


def stage(session: Session, stream: EventStream, window: Window, rows: Iterable[AnswerRow], *,
          tz: ZoneInfo, bad: BadRows) -> Staged:
    """Convert the answer's rows into the window's temporary table; bad ones go to `bad`."""
    temp = _temp_table(stream)
    session.execute(text(f"DROP TABLE IF EXISTS {temp.name}"))
    temp.create(session.connection())
    staged = 0
    converted = _convert(stream, window, rows, tz, bad)
    while batch := list(islice(converted, BATCH)):
        session.execute(insert(temp), [dict(zip(stream.columns, row, strict=True)) for row in batch])
        staged += len(batch)
    columns = [temp.c[k] for k in stream.keys]
    keys = session.scalar(select(func.count()).select_from(select(*columns).distinct().subquery())) or 0
    return Staged(stream, window, temp, staged, keys)


def replace_rows(session: Session, stream: EventStream, window: Window, rows: Iterable[AnswerRow], *,
                 tz: ZoneInfo, bad: BadRows, straight: bool = False, straight_days: Collection[date] = (),
                 known: Mapping[date, Digest] | None = None, digest_from: date | None = None) -> Written:
    """Replace the window's days with the good rows (raw guide events: add them); returns the rows sent,
    the first day whose stored rows may have changed (see the module docstring for each store) and the
    answer's digest per day. `straight` (the window's days hold no rows): on PostgreSQL, COPY into the
    table itself, raising DuplicateKey if the answer repeats a key. `known`, the stored digests of the
    window's days (digests.py): the answer is then read to its end first, and only the days whose digest
    differs from the stored one, or that have none, are sent to the store; of those, `straight_days` (days
    holding no rows) are copied straight on PostgreSQL, as `straight` copies a whole window. Days before
    `digest_from` (final once written) are digested only then."""
    keep = bool(known) and stream.replace and not straight
    spool = Spool(stream, _convert(stream, window, rows, tz, bad), tz, keep=keep, digest_from=digest_from)
    with closing(spool):
        done = _write(session, stream, window, spool, known or {}, straight=straight,
                      straight_days=frozenset(straight_days))
    return replace(done, sent=spool.sent, digests=spool.digests(window))


def _write(session: Session, stream: EventStream, window: Window, spool: Spool, known: Mapping[date, Digest], *,
           straight: bool, straight_days: frozenset[date]) -> Written:
    """replace_rows' writing, per store; `sent` and the digests are the spool's."""
    target, postgres = stream.table, session.get_bind().dialect.name == "postgresql"
    days = list(days_between(window.first, window.last))
    rows: Iterable[Row] = spool
    if spool.keeps:
        spool.drain()
        days = changed_days(window, known, spool.digests(window))
        if not days:  # every day came back as stored
            return Written(0, None, rewritten=())
        if postgres and stream.replace and straight_days.intersection(days):
            return _copy_days(session, stream, spool, days, straight_days)
        rows = spool.read(frozenset(days))
    if not stream.replace:  # raw guide events, only added: the first day changed is the earliest day added
        # (a guide event's day is its browser's, so maybe before the window; a daily run's re-read window
        # mostly adds the new day's events, and naming its first day moved every metric from there)
        added = _copy_add(session, stream, rows) if postgres else _insert_many(session, stream, iter(rows))
        return Written(0, added)
    if postgres and straight:
        sent = _copy_straight(session, stream, rows)
        return Written(0, window.first if sent else None, landed=spool.counts)
    if postgres:
        return _copy_upsert(session, stream, days, rows)
    session.execute(delete(target).where(target.c.day.in_(days)))
    _insert_many(session, stream, iter(rows))
    return Written(0, days[0], rewritten=tuple(days))  # deleted and written again


def _copy_days(session: Session, stream: EventStream, spool: Spool, days: list[date],
               straight_days: frozenset[date]) -> Written:
    """PostgreSQL, a window read to its end: the changed days that hold no rows copied straight into the
    table (a key sent twice raises DuplicateKey), the others compared and upserted (`_copy_upsert`)."""
    fresh = straight_days.intersection(days)
    _copy_straight(session, stream, spool.read(fresh))
    landed = {day: n for day, n in spool.counts.items() if day in fresh and n}
    held = [day for day in days if day not in fresh]
    done = _copy_upsert(session, stream, held, spool.read(frozenset(held))) if held else Written(0, None, rewritten=())
    first = min((day for day in (*landed, done.changed_from) if day is not None), default=None)
    return Written(0, first, rewritten=done.rewritten, landed=landed)


def _copy_straight(session: Session, stream: EventStream, rows: Iterable[Row]) -> int:
    """COPY the rows into the stream's table itself (a key already stored or sent twice raises
    DuplicateKey); returns how many were sent."""
    target = stream.table
    return copy_rows(session.connection(), target.name, [target.c[n] for n in stream.columns], rows)


def _insert_many(session: Session, stream: EventStream, rows: Iterator[Row]) -> date | None:
    """SQLite: an upsert statement executed over batches of tuples through the driver; a key sent twice
    keeps its last row, as separate statements would. Returns the earliest day that got a row written,
    None when none did: each batch goes to the driver a run of one day's rows at a time, and the driver
    counts the rows each call inserted or updated (a raw guide event already stored is neither).

    The day is written into each run's statement as the ISO text SQLAlchemy stores dates as, and the rows
    go without it (one C call per row takes it out). Rebuilding each tuple around the day's text in Python
    cost 0.8 s a million rows against 0.3 s, and with one value more bound per row the 2,000-account
    SQLite backfill's windows took 10-16 s longer (docs/benchmark-log.md, session 31). A key's rows share
    its day, and the runs keep the answer's order, so a key sent twice still keeps its last row."""
    updated = [n for n in stream.columns if n not in stream.keys]
    action = f"DO UPDATE SET {', '.join(f'{n} = excluded.{n}' for n in updated)}" if stream.replace else "DO NOTHING"
    day = stream.day_index
    values = ", ".join("'{day}'" if i == day else "?" for i in range(len(stream.columns)))
    sql = (f"INSERT INTO {stream.table.name} ({', '.join(stream.columns)}) "
           f"VALUES ({values}) ON CONFLICT ({', '.join(stream.keys)}) {action}")
    others = [i for i in range(len(stream.columns)) if i != day]
    assert len(others) > 1, "itemgetter of one index gives a value, not a tuple"
    without_day, day_of = itemgetter(*others), itemgetter(day)
    conn, earliest = session.connection(), None
    while batch := list(islice(rows, BATCH)):
        for first, run in groupby(batch, day_of):
            done = conn.exec_driver_sql(sql.format(day=first.isoformat()), list(map(without_day, run)))
            if done.rowcount and (earliest is None or first < earliest):
                earliest = first
    return earliest


def _copy_add(session: Session, stream: EventStream, rows: Iterable[Row]) -> date | None:
    """Raw guide events: COPY them into a keyless temporary table, then insert the new ones; returns the
    earliest day of those inserted, None when none were."""
    target, temp = stream.table.name, _copy_into_temp(session, stream, rows)
    columns, keys = ", ".join(stream.columns), ", ".join(stream.keys)
    added: date | None = session.scalar(text(
        f"WITH added AS (INSERT INTO {target} ({columns}) SELECT DISTINCT ON ({keys}) {columns} FROM {temp} "
        f"ON CONFLICT ({keys}) DO NOTHING RETURNING day) SELECT min(day) FROM added"))
    session.execute(text(f"DROP TABLE {temp}"))
    return added


def _copy_upsert(session: Session, stream: EventStream, days: list[date], rows: Iterable[Row]) -> Written:
    """COPY the rows of `days` into a keyless temporary table, compare them with those days' stored rows,
    and rewrite only the days that differ: delete the stored rows of those days the answer no longer has,
    then upsert one row per key (a key sent twice lands once). A re-read day that came back as stored is
    not written at all (one hash join finds the days; rewriting would probe and lock every row)."""
    target, temp = stream.table.name, _copy_into_temp(session, stream, rows)
    names = stream.columns
    columns, keys = ", ".join(names), ", ".join(stream.keys)
    compared: BindParameter[list[date]] = bindparam("compared", days, expanding=True)
    same_key = " AND ".join(f"s.{k} = t.{k}" for k in stream.keys)
    updated = [n for n in names if n not in stream.keys]
    stored = f"(SELECT * FROM {target} WHERE day IN :compared)"
    # Both days of a pair: a row whose key came back on another day (visitor hours: the day is not in the
    # key) changed the day it left as well as the day it entered.
    pairs = session.execute(text(
        f"SELECT DISTINCT s.day, t.day FROM {temp} s FULL JOIN {stored} t ON {same_key} "
        f"WHERE s.day IS NULL OR t.day IS NULL OR {_differs('s', 't', updated)}").bindparams(compared)).tuples()
    differ = sorted({day for pair in pairs for day in pair if day is not None})
    if differ:
        changed: BindParameter[list[date]] = bindparam("days", differ, expanding=True)
        # First the stored rows of those days the answer no longer has: a set difference (hashed or
        # sorted, whatever the row estimates; a day new since the last ANALYZE is estimated at one row,
        # and an anti-join planned on that looped over the answer once per stored row).
        gone = (f"SELECT {keys} FROM {target} WHERE day IN :days EXCEPT SELECT {keys} FROM {temp}")
        session.execute(text(f"DELETE FROM {target} t USING ({gone}) s WHERE {same_key}").bindparams(changed))
        on_conflict = (f"DO UPDATE SET {', '.join(f'{n} = EXCLUDED.{n}' for n in updated)} "
                       f"WHERE {_differs(target, 'EXCLUDED', updated)}")
        session.execute(text(f"INSERT INTO {target} ({columns}) SELECT DISTINCT ON ({keys}) {columns} FROM {temp} "
                             f"WHERE day IN :days ON CONFLICT ({keys}) {on_conflict}").bindparams(changed))
    session.execute(text(f"DROP TABLE {temp}"))
    return Written(0, differ[0] if differ else None, rewritten=tuple(differ))


def _copy_into_temp(session: Session, stream: EventStream, rows: Iterable[Row]) -> str:
    """A keyless temporary copy of the stream's table, private to this connection, with the rows COPYed in."""
    temp = f"cscx_copy_{stream.name}"
    session.execute(text(f"DROP TABLE IF EXISTS {temp}"))
    session.execute(text(f"CREATE TEMPORARY TABLE {temp} (LIKE {stream.table.name})"))
    copy_rows(session.connection(), temp, [stream.table.c[n] for n in stream.columns], rows)
    return temp


def _differs(left: str, right: str, columns: list[str]) -> str:
    """SQL: some of `columns` differ between rows `left` and `right` (NULL against a value counts)."""
    return " OR ".join(f"{left}.{n} IS DISTINCT FROM {right}.{n}" for n in columns)


def per_day(session: Session, table: Table, window: Window, days: Sequence[date] | None = None) -> dict[date, int]:
    """Rows per day of the window in `table` (the store's table or a staged one); only `days` of it when given."""
    asked = table.c.day.between(window.first, window.last) if days is None else table.c.day.in_(days)
    return {day: int(n) for day, n in session.execute(select(table.c.day, func.count()).where(asked)
                                                       .group_by(table.c.day))}


def per_day_after(session: Session, table: Table, window: Window, before: Mapping[date, int],
                  done: Written) -> dict[date, int]:
    """The window's stored rows per day after `replace_rows` (`before`: per_day before it), counting again
    only the days it wrote: the days whose rows landed as sent are known, the rewritten days are counted,
    the others kept; with neither known (any day may have been written), all of them are counted."""
    landed = {day: n for day, n in (done.landed or {}).items() if window.first <= day <= window.last}
    if done.rewritten is None:
        return landed if done.landed is not None else per_day(session, table, window)
    after = {day: n for day, n in before.items() if day not in done.rewritten and day not in landed}
    if done.rewritten:
        after.update(per_day(session, table, window, done.rewritten))
    return after | landed


def earliest_day(session: Session, table: Table) -> date | None:
    """The earliest `day` in `table` (a staged answer); None when it is empty."""
    day: date | None = session.scalar(select(func.min(table.c.day)))
    return day


def apply(session: Session, staged: Staged) -> None:
    """Replace the window's days with the staged rows (raw guide events: add the new ones)."""
    stream, temp, target = staged.stream, staged.temp, staged.stream.table
    names = list(target.c.keys())
    upsert = dialect_insert(session, target)
    if stream.replace:
        session.execute(delete(target).where(target.c.day.between(staged.window.first, staged.window.last)))
        grouped = [temp.c[n] for n in names if n not in SUMMED]
        source = select(*grouped, *(func.sum(temp.c[n]) for n in SUMMED)).where(true()).group_by(*grouped)
        stmt = upsert.from_select([*(c.name for c in grouped), *SUMMED], source)
        session.execute(stmt.on_conflict_do_update(
            index_elements=list(stream.keys), set_={n: stmt.excluded[n] for n in names if n not in stream.keys}))
    else:
        source = select(*(temp.c[n] for n in names)).where(true()).distinct()
        session.execute(upsert.from_select(names, source).on_conflict_do_nothing(index_elements=list(stream.keys)))
    discard(session, staged)


def discard(session: Session, staged: Staged) -> None:
    """Drop the temporary table (the store's tables are left as they are)."""
    session.execute(text(f"DROP TABLE IF EXISTS {staged.temp.name}"))


def _temp_table(stream: EventStream) -> Table:
    """A keyless copy of the stream's table, private to this connection."""
    return temp_copy(stream.table, f"cscx_stage_{stream.name}")


def _plain(raw: AnswerRow) -> Any:
    """A bad row as its sample shows it: a Struct row as the object it was decoded from."""
    return msgspec.structs.asdict(raw) if isinstance(raw, msgspec.Struct) else raw


def _convert(stream: EventStream, window: Window, rows: Iterable[AnswerRow], tz: ZoneInfo,
             bad: BadRows) -> Iterator[Row]:
    table, columns, convert, day = stream.table, stream.columns, stream.convert, stream.day_index
    typed, convert_typed = (stream.typed.struct, stream.typed.convert) if stream.typed else (None, None)
    for raw in rows:
        try:
            if type(raw) is typed:  # decoded straight into the stream's row, one the store holds (TypedRows)
                row = convert_typed(raw, tz)  # type: ignore[misc]
            elif type(raw) is not dict and not isinstance(raw, Mapping):  # the ABC check costs, dicts skip it
                raise BadRow("row is not an object")
            else:
                row = convert(raw, tz)
                reason = unstorable_values(table, columns, row) if row is not None else None
                if reason:
                    raise BadRow(reason)
        except BadRow as exc:
            bad.add(stream.name, exc.reason, _plain(raw))
            continue
        if row is None:
            continue
        if stream.replace and not window.first <= row[day] <= window.last:
            bad.add(stream.name, "bucket outside the requested window", _plain(raw))
            continue
        yield row
