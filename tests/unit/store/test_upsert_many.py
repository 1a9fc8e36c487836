"""`upsert_many` (the entity pages' bulk way on PostgreSQL) leaves exactly what `upsert` leaves."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from pendo_core.store import models
from pendo_core.store import upsert as upsert_module
from pendo_core.store.upsert import upsert, upsert_many

VISITORS = models.table_of(models.PendoVisitor)
ACCOUNTS = models.table_of(models.PendoAccount)


def _visitor(i: int, **changes: Any) -> dict[str, Any]:
    row = {"visitor_id": f"v{i}@x.com", "email": f"v{i}@x.com", "account_ids": [f"a{i % 3}"],
           "first_visit": 1_700_000_000_000 + i, "last_visit": None, "last_updated": 1_700_000_100_000 + i}
    return {**row, **changes}


PAGES = [
    [_visitor(i) for i in range(6)],
    # updates (one to JSON null, one to an odd id), an insert, and a key given twice: its last row stays
    [_visitor(1, account_ids=None, email=None), _visitor(2, last_visit=5), _visitor(9, visitor_id="O'Brien\\x"),
     _visitor(7), _visitor(7, email="later@x.com")],
]


def _stored(engine: Engine) -> list[tuple[Any, ...]]:
    with engine.connect() as conn:
        rows = [tuple(r) for r in conn.execute(select(VISITORS).order_by(VISITORS.c.visitor_id))]
        nulls = conn.execute(text("SELECT visitor_id, account_ids IS NULL FROM pendo_visitors ORDER BY 1")).all()
    return rows + [tuple(n) for n in nulls]


@pytest.mark.parametrize("threshold", [1, 10_000], ids=["bulk", "statements"])
def test_upsert_many_stores_what_upsert_stores(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                               threshold: int) -> None:
    def write(how: Any) -> list[tuple[Any, ...]]:
        with engine.begin() as conn:
            conn.execute(VISITORS.delete())
        for page in PAGES:
            with Session(engine) as session, session.begin():
                how(session, VISITORS, page, keys=("visitor_id",))
        return _stored(engine)

    expected = write(upsert)
    monkeypatch.setattr(upsert_module, "COPY_ROWS", threshold)
    assert write(upsert_many) == expected
    assert ("v1@x.com", None, None) in [r[:3] for r in expected]  # the JSON null round-trips as None
    assert any(r[0] == "v7@x.com" and r[1] == "later@x.com" for r in expected)


def test_a_json_object_column_is_stored_as_json(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The accounts' metadata (a JSON object) goes through the bulk way as the statements store it."""
    monkeypatch.setattr(upsert_module, "COPY_ROWS", 1)
    rows = [{"account_id": f"a{i}", "name": f"A {i}", "domain": None, "metadata": {"auto": {"id": f"a{i}"}, "n": i},
             "first_visit": None, "last_visit": None, "last_updated": i} for i in range(3)]
    with Session(engine) as session, session.begin():
        upsert_many(session, ACCOUNTS, rows, keys=("account_id",))
    with engine.connect() as conn:
        stored = conn.execute(select(ACCOUNTS.c.account_id, ACCOUNTS.c.metadata).order_by(ACCOUNTS.c.account_id)).all()
    assert [tuple(r) for r in stored] == [(r["account_id"], r["metadata"]) for r in rows]
