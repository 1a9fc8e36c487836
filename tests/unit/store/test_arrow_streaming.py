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
