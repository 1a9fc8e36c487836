"""record_batches streams on PostgreSQL: a query with bind parameters (every loader query has them) is
not materialised whole before its first batch."""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import Engine, Integer, func, select

from pendo_core.store.arrow import record_batches

ROWS = 2_000_000
SCHEMA = pa.schema([("n", pa.int64()), ("s", pa.string())])


def test_a_parameterised_query_arrives_in_more_than_one_batch(pg_engine: Engine) -> None:
    n = func.generate_series(1, ROWS, type_=Integer).column_valued("n")
    stmt = select(n, func.md5(func.concat(n, "")))
    sizes = [batch.num_rows for batch in record_batches(pg_engine, stmt, SCHEMA)]
    assert sum(sizes) == ROWS
    # ADBC binds parameters through a prepared statement whose whole PGresult it converts at once
    # (one batch of every row, the result held twice); without parameters it reads COPY in ~16 MB batches.
    assert len(sizes) > 1, f"one batch of {sizes[0]:,} rows: the whole result was held in memory"


def test_awkward_values_in_the_query_match_exactly(engine: Engine) -> None:
    """Values the query carries (ids in IN lists, dates) select exactly the rows holding them."""
    from datetime import date

    from sqlalchemy import BigInteger, literal

    from pendo_core.store.models import VisitorDay
    from tests.support.store import wipe

    ids = ["o'brien", "back\\slash", "\\N", "two\\\\", "'; DROP TABLE x; --", 'dq"', "", "e'\\'"]
    wipe(engine)
    try:
        with engine.begin() as conn:
            conn.execute(VisitorDay.__table__.insert(), [
                {"account_id": a, "visitor_id": a + "-v", "day": date(2024, 3, 1), "num_events": 1,
                 "num_minutes": 0} for a in [*ids, "backslash", "N", "two\\"]])
        vd = VisitorDay.__table__
        stmt = select(vd.c.account_id, vd.c.visitor_id, vd.c.day, literal(1, BigInteger)).where(
            vd.c.account_id.in_(ids), vd.c.visitor_id != "nobody'\\", vd.c.day >= date(2024, 3, 1))
        schema = pa.schema([("a", pa.string()), ("v", pa.string()), ("d", pa.date32()), ("one", pa.int64())])
        got = sorted(r["a"] for b in record_batches(engine, stmt, schema) for r in b.to_pylist())
        assert got == sorted(ids)
    finally:
        wipe(engine)
