"""Dialect-aware idempotent writes (`INSERT ... ON CONFLICT`) for SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

OnConflict = Literal["update", "sum", "ignore"]


def upsert(
    session: Session,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    keys: Sequence[str],
    on_conflict: OnConflict = "update",
    sum_columns: Sequence[str] = (),
) -> None:
    """Insert rows; on a key conflict update them, add `sum_columns`, or leave the old row."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if on_conflict == "ignore":
        session.execute(stmt.on_conflict_do_nothing(index_elements=list(keys)), list(rows))
        return
    updated = [name for name in rows[0] if name not in keys]
    set_ = {
        name: (table.c[name] + stmt.excluded[name]) if on_conflict == "sum" and name in sum_columns
        else stmt.excluded[name]
        for name in updated
    }
    if not set_:
        session.execute(stmt.on_conflict_do_nothing(index_elements=list(keys)), list(rows))
        return
    session.execute(stmt.on_conflict_do_update(index_elements=list(keys), set_=set_), list(rows))
