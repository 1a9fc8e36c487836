"""PostgreSQL bulk loading: binary COPY through psycopg, inside the caller's transaction.

A COPY that breaks a unique key raises DuplicateKey (the one place psycopg's error becomes ours);
the transaction is then failed and the caller rolls it back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
from sqlalchemy import Column, Connection, MetaData, Table, text
from sqlalchemy.orm import Session

UNIQUE_VIOLATION = "23505"  # PostgreSQL's SQLSTATE


class DuplicateKey(Exception):
    """A copied row repeats a unique key: one already stored, or one sent earlier in the same COPY."""


def temp_copy(table: Table, name: str, *, keyed: bool = False) -> Table:
    """A temporary table (private to the connection) with `table`'s columns, keyless unless `keyed`
    (then with its primary key); created by the caller."""
    columns = [Column(c.name, c.type, primary_key=keyed and c.primary_key) for c in table.columns]
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


STALE_GROWTH = 0.1  # a table grown or shrunk by more than this share of its pages since its last ANALYZE


def refresh_statistics(session: Session | Connection, tables: Iterable[str]) -> None:
    """PostgreSQL: ANALYZE tables just filled in bulk, so the queries later in the same run are planned on
    today's row counts (autovacuum would, but later, and not at all where it is off); SQLite plans without
    statistics. Right after a 45-day backfill the planner expected 5,794 of a window's raw feature rows
    where 7.4 million were; on a mapping just filled, 1,374 accounts for 18,114; on visitors never
    analysed, 162,191 of 1,000,005 for 500 e-mails, read by a sequential scan (README, Benchmark).

    Only the tables whose statistics are stale (`stale_tables`) are analysed. ANALYZE reads a sample of
    30,000 rows whatever the table's size, about 0.2 s a table and more on large ones: a 2,000-account
    daily run spent 1.9 of its 15.6 s analysing tables its day had grown by a few per cent."""
    if _dialect(session) == "postgresql":
        analyze(session, stale_tables(session, tables))


def analyze(session: Session | Connection, tables: Iterable[str]) -> None:
    """PostgreSQL: ANALYZE the tables, stale or not: for the small ones a step has just changed (the mapping,
    the contacts), where it is cheap and a table emptied by DELETE and filled again keeps its pages, so
    `stale_tables` would not see the change."""
    if _dialect(session) == "postgresql":
        for table in tables:
            session.execute(text(f"ANALYZE {table}"))


def stale_tables(session: Session | Connection, tables: Iterable[str]) -> list[str]:
    """The tables whose statistics a planner should not trust: never analysed (or emptied since, which
    resets them), analysed while they held no rows (every row deleted: the pages stay, so "no rows" scaled
    by the pages plans a filled table as one row; analysing one still empty costs nothing), or whose size
    in pages moved by more than STALE_GROWTH since they were taken.

    The planner scales the row count it was told by the pages the table has now, and reads the ends of
    an indexed range from the index itself, so a table a daily run grew by a day or two is planned as
    well as a freshly analysed one. This is autovacuum's own rule (analyse after a tenth of the table
    changed), measured on what a transaction sees at once: the pages, not the statistics collector's
    counts, which reach other sessions up to seconds late."""
    sql = text("SELECT relpages, reltuples, pg_relation_size(oid) / current_setting('block_size')::int "
               "FROM pg_class WHERE oid = to_regclass(:name)")
    stale = []
    for table in tables:
        found = session.execute(sql, {"name": table}).first()
        if found is None:
            continue
        pages, rows, now = found
        if rows <= 0 or pages == 0 or abs(now - pages) > STALE_GROWTH * pages:
            stale.append(table)
    return stale


def _dialect(session: Session | Connection) -> str:
    return (session.get_bind().dialect if isinstance(session, Session) else session.dialect).name


def copy_rows(conn: Connection, table: str, columns: Sequence[Column[Any]], rows: Iterable[Sequence[Any]]) -> int:
    """`COPY table (columns) FROM STDIN (FORMAT BINARY)` of the rows, streamed (memory stays flat);
    each row holds one value per column, in order. Returns how many rows were copied."""
    return _copy(conn, f"COPY {table} ({', '.join(c.name for c in columns)}) FROM STDIN (FORMAT BINARY)", rows,
                 types=[pg_type(conn, c) for c in columns])


def insert_rows(conn: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Insert plain tuples (one value per name, in order) in bulk, inside the caller's transaction:
    PostgreSQL by binary COPY, SQLite by one executemany on its own connection (dates as the ISO text
    SQLAlchemy stores them as), else SQLAlchemy's executemany. SQLAlchemy's own executemany processes
    every parameter of every row in Python: 393,000 rows of the feature snapshot took seconds."""
    if conn.dialect.name == "postgresql":
        return copy_rows(conn, table.name, [table.c[n] for n in names], rows)
    if conn.dialect.name != "sqlite":
        batch = [dict(zip(names, row, strict=True)) for row in rows]
        if batch:
            conn.execute(table.insert(), batch)
        return len(batch)
    plain = [tuple(v.isoformat() if isinstance(v, date) else v for v in row) for row in rows]
    sqlite_executemany(conn, table, names, plain)
    return len(plain)


def sqlite_executemany(conn: Connection, table: Table, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """SQLite: one INSERT executed over the rows by the driver itself, in the caller's transaction (values
    as the driver takes them: dates already ISO text)."""
    sql = f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.executemany(sql, rows)
    finally:
        cursor.close()


def copy_text_rows(conn: Connection, table: str, names: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """`COPY table (names) FROM STDIN` in text format: the server parses each value (JSON text into
    jsonb, for one), so rows may carry values whose binary type psycopg cannot guess."""
    return _copy(conn, f"COPY {table} ({', '.join(names)}) FROM STDIN", rows, types=None)


def copy_arrow(conn: Connection, table: str, names: Sequence[str], batches: Iterable[pa.RecordBatch]) -> int:
    """One `COPY table (names) FROM STDIN (FORMAT csv)` of Arrow batches (columns in `names`' order),
    written as CSV by Arrow in C: no Python object per value. Arrow quotes every string and leaves a
    null unquoted and empty, which is PostgreSQL's CSV reading of text and NULL; floats round-trip.
    A failure (a repeated key among them) is psycopg's error, and the caller's transaction is failed."""
    driver = conn.connection.driver_connection
    assert driver is not None
    copied = 0
    options = pa_csv.WriteOptions(include_header=False)
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN (FORMAT csv)") as copy:
        for batch in batches:
            out = pa.BufferOutputStream()
            pa_csv.write_csv(batch, out, options)
            copy.write(out.getvalue())
            copied += batch.num_rows
    return copied


def _copy(conn: Connection, statement: str, rows: Iterable[Sequence[Any]], *, types: list[str] | None) -> int:
    driver = conn.connection.driver_connection
    assert driver is not None
    copied = 0
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            if types is not None:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
                copied += 1
    except Exception as exc:
        if getattr(exc, "sqlstate", None) == UNIQUE_VIOLATION:
            raise DuplicateKey(str(exc).splitlines()[0]) from exc
        raise
    return copied


def pg_type(conn: Connection, column: Column[Any]) -> str:
    """The PostgreSQL type name of a column, as psycopg knows it (`VARCHAR(512)` -> `varchar`)."""
    return column.type.compile(dialect=conn.dialect).split("(")[0].lower()
