"""One ArrowReader reads several queries in turn (on PostgreSQL over one ADBC connection), refuses a second
query while one is still being read, and starts afresh after a read left half-way."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import BigInteger, Engine, Integer, func, literal, select

from pendo_core.store.arrow import reader

SCHEMA = pa.schema([("n", pa.int64())])
BACKEND = pa.schema([("pid", pa.int64())])


def _numbers(last: int) -> object:
    n = func.generate_series(1, last, type_=Integer).column_valued("n")
    return select(n)


def _values(batches: object) -> list[int]:
    return [v for batch in batches for v in batch.column(0).to_pylist()]  # type: ignore[attr-defined]


def test_several_queries_share_one_connection(pg_engine: Engine) -> None:
    with reader(pg_engine) as read:
        pids = {_values(read.batches(select(func.pg_backend_pid()), BACKEND))[0] for _ in range(3)}
        assert _values(read.batches(_numbers(5), SCHEMA)) == [1, 2, 3, 4, 5]
        assert len(pids) == 1  # one server backend answered every query


def test_a_second_query_waits_for_the_first(engine: Engine) -> None:
    stmt = select(literal(7, BigInteger))
    with reader(engine) as read:
        first = read.batches(stmt, SCHEMA)
        next(first)
        with pytest.raises(RuntimeError, match="one query at a time"):
            next(read.batches(stmt, SCHEMA))
        first.close()
        assert _values(read.batches(stmt, SCHEMA))  # the first, closed, let the next one go


def test_a_read_left_half_way_does_not_spoil_the_next(pg_engine: Engine) -> None:
    with reader(pg_engine) as read:
        started = read.batches(_numbers(3_000_000), SCHEMA)  # several batches: it stops mid-COPY
        assert next(started).num_rows < 3_000_000
        started.close()
        assert _values(read.batches(_numbers(4), SCHEMA)) == [1, 2, 3, 4]


def test_a_failed_query_does_not_spoil_the_next(pg_engine: Engine) -> None:
    with reader(pg_engine) as read:
        with pytest.raises(Exception, match="division by zero"):
            _values(read.batches(select(literal(1, BigInteger) / 0), SCHEMA))
        assert _values(read.batches(_numbers(2), SCHEMA)) == [1, 2]  # not "current transaction is aborted"
