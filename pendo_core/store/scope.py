"""Who counts: identified visitors, and the Pendo accounts a customer owns (store-side SQL)."""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from pendo_core.store.models import AccountMapping

ANON_PREFIX = "_PENDO_T_"
IN_CHUNK = 500  # ids per IN (...) list: far below every driver's bind-parameter limit

T = TypeVar("T")


def is_anonymous(visitor_id: str) -> bool:
    """True for Pendo's anonymous visitors (ids starting with `_PENDO_T_`, case-sensitive)."""
    return visitor_id.startswith(ANON_PREFIX)


def identified(column: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL test that a visitor id is not anonymous.

    A prefix comparison, not LIKE: `_` is a LIKE wildcard and SQLite's LIKE ignores case.
    """
    return func.substr(column, 1, len(ANON_PREFIX)) != ANON_PREFIX


def keep_visitors(stmt: Select[Any], column: ColumnElement[Any], include_anonymous: bool) -> Select[Any]:
    """`stmt` restricted to identified visitors unless anonymous ones are wanted."""
    return stmt if include_anonymous else stmt.where(identified(column))


def chunks(items: Sequence[T], size: int = IN_CHUNK) -> Iterator[tuple[T, ...]]:
    """`items` in consecutive tuples of at most `size`."""
    for start in range(0, len(items), size):
        yield tuple(items[start : start + size])


def customer_chunks(customer_ids: Collection[str] | None) -> list[tuple[str, ...] | None]:
    """[None] for every mapped customer, else the given ids in IN-sized chunks (none for none)."""
    if customer_ids is None:
        return [None]
    return list(chunks(sorted(set(customer_ids))))


def mapped(stmt: Select[Any], account_column: ColumnElement[Any],
           chunk: tuple[str, ...] | None) -> Select[Any]:
    """`stmt` joined to the mapping: only mapped accounts, of the customers in `chunk` when given."""
    mapping = AccountMapping.__table__
    stmt = stmt.join(mapping, mapping.c.pendo_account_id == account_column)
    return stmt if chunk is None else stmt.where(mapping.c.customer_id.in_(chunk))


class _Unindexed(ColumnElement[Any]):
    """A column SQLite must not answer from an index: rendered `+column` there, plain elsewhere."""

    inherit_cache = True
    _traverse_internals = (("column", InternalTraversal.dp_clauseelement),)  # type: ignore[assignment]

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(_Unindexed)
def _plain(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.column, **kw))


@compiles(_Unindexed, "sqlite")
def _unary_plus(element: _Unindexed, compiler: Any, **kw: Any) -> str:
    return "+" + str(compiler.process(element.column, **kw))


def unindexed(column: Any) -> ColumnElement[Any]:
    """`column` for a read that covers most of a table: on SQLite a scan in primary-key order beats
    one index lookup per row (its planner has no statistics to know); other databases decide."""
    return _Unindexed(column)
