"""Arrow in and out of the store: query results as batches (ADBC on PostgreSQL), and COPY of Arrow's CSV."""

from __future__ import annotations

from datetime import date

import pyarrow as pa
from sqlalchemy import Engine, func, select

from pendo_core.store.arrow import record_batches, transposed
from pendo_core.store.bulk import copy_arrow
from pendo_core.store.models import VisitorDay
from tests.support.store import wipe

AWKWARD = ['plain', 'comma, "quoted"', "new\nline", "back\\slash", "ünïcode ✓", "", " spaced "]
SCHEMA = pa.schema([("account_id", pa.string()), ("visitor_id", pa.string()), ("day", pa.date32()),
                    ("num_events", pa.int64())])


def _seed(engine: Engine) -> list[tuple[str, str, date, int]]:
    rows = [(f"acct-{i % 2}", visitor, date(2024, 3, 1 + i % 3), 10 ** 12 + i) for i, visitor in enumerate(AWKWARD)]
    wipe(engine)
    with engine.begin() as conn:
        conn.execute(VisitorDay.__table__.insert(), [
            {"account_id": a, "visitor_id": v, "day": d, "num_events": n, "num_minutes": 0} for a, v, d, n in rows])
    return rows


def test_record_batches_follow_the_query_and_the_schema(engine: Engine) -> None:
    rows = _seed(engine)
    vd = VisitorDay.__table__
    stmt = (select(vd.c.account_id, vd.c.visitor_id, vd.c.day, vd.c.num_events)
            .where(vd.c.account_id.in_(["acct-0", "nobody's"]), vd.c.day.between(date(2024, 3, 2), date(2024, 3, 3))))
    batches = list(record_batches(engine, stmt, SCHEMA))
    assert all(batch.schema == SCHEMA for batch in batches)
    got = sorted(row for batch in batches for row in zip(*(c.to_pylist() for c in batch.columns), strict=True))
    assert got == sorted(r for r in rows if r[0] == "acct-0" and r[2] >= date(2024, 3, 2))
    assert got  # the seed has such rows: the comparison above is not of two empty lists


def test_transposed_gives_each_column_of_the_rows_in_order() -> None:
    rows = [("a", None, 1, date(2024, 3, 1)), ("b", "", 2, None), ("c", "x", None, date(2024, 3, 3))]
    assert transposed(rows, 4) == [list(column) for column in zip(*rows, strict=True)]
    assert transposed(rows, 2) == [["a", "b", "c"], [None, "", "x"]]
    assert transposed([], 3) == [[], [], []]


def test_record_batches_keep_nulls_apart_from_empty_text(engine: Engine) -> None:
    """A NULL comes back as null and an empty text as "", in every column type, and a row of one NULL
    value is a row (on SQLite each row travels as a line of CSV: that one is empty)."""
    rows = _seed(engine)
    vd = VisitorDay.__table__
    first = rows[0]
    stmt = select(func.nullif(vd.c.account_id, first[0]), func.nullif(vd.c.visitor_id, first[1]),
                  func.nullif(vd.c.day, first[2]), func.nullif(vd.c.num_events, first[3]))
    got = sorted((tuple(r) for batch in record_batches(engine, stmt, SCHEMA)
                  for r in zip(*(c.to_pylist() for c in batch.columns), strict=True)), key=repr)
    expected = [tuple(None if value == first[i] else value for i, value in enumerate(row)) for row in rows]
    assert got == sorted(expected, key=repr)
    assert ("acct-1", "", date(2024, 3, 3), 10 ** 12 + 5) in got  # the empty visitor id, not a null
    alone = select(func.nullif(vd.c.num_events, first[3])).order_by(vd.c.num_events)
    one = pa.schema([("num_events", pa.int64())])
    assert [v for batch in record_batches(engine, alone, one) for v in batch.column(0).to_pylist()] == \
        [None, *(row[3] for row in rows[1:])]


def test_record_batches_of_an_empty_result_are_none(engine: Engine) -> None:
    _seed(engine)
    vd = VisitorDay.__table__
    stmt = select(vd.c.account_id, vd.c.visitor_id, vd.c.day, vd.c.num_events).where(vd.c.account_id == "none")
    assert list(record_batches(engine, stmt, SCHEMA)) == []


def test_copy_arrow_keeps_text_nulls_and_numbers(pg_engine: Engine) -> None:
    values = [*AWKWARD, None]
    floats = [1 / 3, None, 1e-20, -0.0, 123456789.123456789, 2.5, 7.0, float(2 ** 53)]
    batch = pa.record_batch([pa.array(values), pa.array(floats), pa.array([date(2024, 2, 29)] * len(values)),
                             pa.array([2 ** 62, None, 0, -1, 5, 6, 7, 8])], names=["s", "f", "d", "i"])
    with pg_engine.begin() as conn:
        conn.exec_driver_sql("CREATE TEMPORARY TABLE arrow_copy (s text, f double precision, d date, i bigint)"
                             " ON COMMIT DROP")
        assert copy_arrow(conn, "arrow_copy", batch.schema.names, [batch, batch.slice(0, 0), batch.slice(7)]) == 9
        got = conn.exec_driver_sql("SELECT s, f, d, i FROM arrow_copy").all()
    expected = list(zip(values, floats, [date(2024, 2, 29)] * len(values), batch.column(3).to_pylist(), strict=True))
    assert [tuple(r) for r in got] == [*expected, expected[7]]
