"""Store helpers the fixtures and a few tests share."""

from __future__ import annotations

from sqlalchemy import Engine

from pendo_core.store.models import Base


def wipe(engine: Engine) -> None:
    """Empty every table, children first (DELETE: far cheaper than TRUNCATE on the small tables tests leave)."""
    with engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
