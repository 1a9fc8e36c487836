"""record_batches must reach PostgreSQL with every URL the store's own engine (psycopg) accepts."""

from __future__ import annotations

import pyarrow as pa
import pytest
from sqlalchemy import BigInteger, Engine, literal, select

from pendo_core.store.arrow import record_batches
from pendo_core.store.engine import make_engine

ONE = pa.schema([("n", pa.int64())])


def _urls(pg_engine: Engine) -> list[str]:
    url = pg_engine.url
    host, port = url.host or "127.0.0.1", url.port or 5432
    return [
        # a password with a space (trust auth ignores it; libpq's URI parser rejects the unencoded space)
        url.set(password="pass word").render_as_string(hide_password=False),
        # SQLAlchemy's multi-host form: psycopg gets host=a,b port=p,q; libpq's URI takes the last
        # host= as a host name "127.0.0.1:5432"
        url.set(host=None, port=None, query={"host": ["nohost.invalid:5432", f"{host}:{port}"]})
        .render_as_string(hide_password=False),
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["password-with-space", "multi-host"])
def test_record_batches_connect_where_the_engine_connects(pg_engine: Engine, which: int) -> None:
    engine = make_engine(_urls(pg_engine)[which])
    try:
        with engine.connect():
            pass  # the store's engine reaches the database with this URL
        batches = list(record_batches(engine, select(literal(1, BigInteger)), ONE))
        assert [b.to_pylist() for b in batches] == [[{"n": 1}]]
    finally:
        engine.dispose()
