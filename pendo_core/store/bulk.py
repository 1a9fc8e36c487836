"""PostgreSQL bulk loading: binary COPY through psycopg, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Column, Connection


def copy_rows(conn: Connection, table: str, columns: Sequence[Column[Any]], rows: Iterable[Sequence[Any]]) -> int:
    """`COPY table (columns) FROM STDIN (FORMAT BINARY)` of the rows, streamed (memory stays flat);
    each row holds one value per column, in order. Returns how many rows were copied."""
    driver = conn.connection.driver_connection
    assert driver is not None
    names = ", ".join(c.name for c in columns)
    copied = 0
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types([pg_type(conn, c) for c in columns])
        for row in rows:
            copy.write_row(row)
            copied += 1
    return copied


def pg_type(conn: Connection, column: Column[Any]) -> str:
    """The PostgreSQL type name of a column, as psycopg knows it (`VARCHAR(512)` -> `varchar`)."""
    return column.type.compile(dialect=conn.dialect).split("(")[0].lower()
