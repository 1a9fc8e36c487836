"""Customers, CSMs and the Pendo account mapping in the store. Functions take a Session, never commit.

Upserts use the dialect's `INSERT ... ON CONFLICT` (SQLite and PostgreSQL) in batches, so running an
import twice changes nothing. Who wins for a Pendo account's mapping:

- the customer import (`import`) and a person (`manual`) replace any earlier mapping of the account
  and remove its suggestions; but the import moves an account a person or an earlier import mapped
  to another customer (and with it the account's usage and who sees it) only when asked to
  (`reassign`, `python -m jobs import-customers --reassign`): otherwise the move is reported as a
  conflict and the mapping stays. Settling an automatic mapping is not a conflict, only reported;
- matching (`auto_domain`, `auto_name`) only fills accounts that have no mapping yet.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from sqlalchemy import Table, delete, func, select
from sqlalchemy.orm import Session

from pendo_core.customers.csv_parse import CustomerRow, LineError
from pendo_core.customers.mapping import (
    MATCH_LIMIT,
    MATCH_THRESHOLD,
    AccountInfo,
    CustomerInfo,
    MatchPlan,
    match_accounts,
)
from pendo_core.customers.outcomes import OutcomeRow
from pendo_core.pendo.account_metadata import account_name_and_domain
from pendo_core.pendo.sync.store import get_watermark, keep_stale_score_customers, set_watermark
from pendo_core.store.models import (
    AccountMapping,
    Csm,
    Customer,
    MappingRejection,
    MappingSuggestion,
    Outcome,
    PendoAccount,
)
from pendo_core.store.scope import chunks
from pendo_core.store.upsert import dialect_insert, upsert

__all__ = [
    "ApplyCounts",
    "MappingMove",
    "SuggestionView",
    "UnmappedAccount",
    "UpsertCounts",
    "apply_matches",
    "confirm_mapping",
    "known_customer_ids",
    "known_customers",
    "list_suggestions",
    "list_unmapped_accounts",
    "match_inputs",
    "unmap",
    "upsert_customers",
    "upsert_outcomes",
]

BATCH = 500  # rows per statement: 500 x 9 parameters stays far below SQLite's variable limit
MAPPING_INPUTS = "mapping_inputs"  # digest of what the last match read and left (refresh_mapping)
DELIBERATE = frozenset({"import", "manual"})  # mappings someone chose; auto_* ones were the matcher's guess

CUSTOMERS: Table = Customer.__table__  # type: ignore[assignment]
CSMS: Table = Csm.__table__  # type: ignore[assignment]
MAPPING: Table = AccountMapping.__table__  # type: ignore[assignment]
SUGGESTIONS: Table = MappingSuggestion.__table__  # type: ignore[assignment]

T = TypeVar("T")


class CustomerLine(Protocol):
    """A parsed CSV row that names a customer (a contact, an outcome)."""

    @property
    def customer_id(self) -> str: ...

    @property
    def line_no(self) -> int: ...


LineT = TypeVar("LineT", bound=CustomerLine)


@dataclass(frozen=True, slots=True)
class MappingMove:
    """An account the import maps to another customer than the store does: moved, or held (a conflict)."""

    line_no: int
    account_id: str
    from_customer: str
    to_customer: str
    method: str
    moved: bool

    def __str__(self) -> str:
        where = f"line {self.line_no}: pendo_account_ids {self.account_id!r}"
        if not self.moved:
            return (f"{where} is mapped to customer {self.from_customer} ({self.method}); not moved to "
                    f"{self.to_customer}: pass --reassign to move it (its usage and who sees it move too)")
        return f"{where} moved from customer {self.from_customer} ({self.method}) to {self.to_customer}"


@dataclass(frozen=True, slots=True)
class UpsertCounts:
    """Customers new to the store, customers that were already there (rewritten), and mapping moves."""

    inserted: int
    updated: int
    moves: tuple[MappingMove, ...] = ()

    @property
    def conflicts(self) -> tuple[MappingMove, ...]:
        """The moves held back (not `reassign`)."""
        return tuple(m for m in self.moves if not m.moved)


@dataclass(frozen=True, slots=True)
class ApplyCounts:
    """What applying a match plan wrote."""

    auto_mapped: int
    suggestions: int


@dataclass(frozen=True, slots=True)
class UnmappedAccount:
    """A Pendo account no customer owns yet, for the mapping queue."""

    account_id: str
    name: str | None
    domain: str | None
    last_visit: int | None


@dataclass(frozen=True, slots=True)
class SuggestionView:
    """A stored suggestion with the names a person needs to judge it."""

    account_id: str
    account_name: str | None
    customer_id: str
    customer_name: str
    score: float
    reason: str


# --- the customer import ---------------------------------------------------------------------


def upsert_customers(session: Session, rows: Iterable[CustomerRow], *, reassign: bool = False) -> UpsertCounts:
    """Insert or update customers, their CSMs and their explicit Pendo accounts (method `import`).

    An account mapped by a person or an earlier import to another customer moves only with `reassign`;
    otherwise it stays and the move is returned as a conflict (`UpsertCounts.conflicts`).
    """
    latest = list({row.customer_id: row for row in rows}.values())  # the later row wins
    inserted = 0
    for batch in _batches(latest, BATCH):
        inserted += len(batch) - _count_existing(session, [r.customer_id for r in batch])
        _upsert_csms(session, batch)
        _upsert(session, CUSTOMERS, [_customer_values(r) for r in batch], ["customer_id"],
                {"updated_at": func.now()})
    wanted = [(a, r.customer_id, r.line_no) for r in latest for a in r.pendo_account_ids]
    moves = _moves(session, wanted, reassign=reassign)
    held = {m.account_id for m in moves if not m.moved}
    _map_explicitly(session, [(a, c) for a, c, _ in wanted if a not in held], "import", None)
    return UpsertCounts(inserted=inserted, updated=len(latest) - inserted, moves=tuple(moves))


def _moves(session: Session, wanted: list[tuple[str, str, int]], *, reassign: bool) -> list[MappingMove]:
    """The wanted (account, customer, line) whose account the store maps to another customer."""
    current: dict[str, tuple[str, str]] = {}
    for chunk in chunks(sorted({a for a, _, _ in wanted})):
        query = select(MAPPING.c.pendo_account_id, MAPPING.c.customer_id, MAPPING.c.method).where(
            MAPPING.c.pendo_account_id.in_(chunk))
        current.update({a: (c, m) for a, c, m in session.execute(query)})
    return [MappingMove(line, a, current[a][0], c, current[a][1], reassign or current[a][1] not in DELIBERATE)
            for a, c, line in wanted if a in current and current[a][0] != c]


def _customer_values(row: CustomerRow) -> dict[str, Any]:
    return {"customer_id": row.customer_id, "name": row.name, "domain": row.domain,
            "segment": row.segment, "arr": row.arr, "renewal_date": row.renewal_date,
            "csm_email": row.csm_email}


def _count_existing(session: Session, customer_ids: list[str]) -> int:
    query = select(func.count()).select_from(CUSTOMERS).where(CUSTOMERS.c.customer_id.in_(customer_ids))
    return int(session.execute(query).scalar_one())


def _upsert_csms(session: Session, rows: Sequence[CustomerRow]) -> None:
    """Named CSMs are upserted; an e-mail without a name never overwrites a known name."""
    named = {r.csm_email: r.csm_name for r in rows if r.csm_email and r.csm_name}
    bare = {r.csm_email for r in rows if r.csm_email and not r.csm_name} - named.keys()
    _upsert(session, CSMS, [{"email": e, "name": n} for e, n in named.items()], ["email"])
    if bare:
        stmt = dialect_insert(session, CSMS).on_conflict_do_nothing(index_elements=["email"])
        session.execute(stmt, [{"email": e, "name": e} for e in sorted(bare)])


# --- imports that name customers (contacts, outcomes) ------------------------------------------


def known_customer_ids(session: Session, customer_ids: Collection[str]) -> set[str]:
    """The ids among `customer_ids` that are imported customers."""
    known: set[str] = set()
    for chunk in chunks(sorted(set(customer_ids))):
        known.update(session.execute(select(Customer.customer_id).where(Customer.customer_id.in_(chunk))).scalars())
    return known


def known_customers(session: Session, rows: Sequence[LineT], errors: list[LineError]) -> list[LineT]:
    """The rows whose customer is imported; a line error in `errors` for each of the others."""
    known = known_customer_ids(session, {r.customer_id for r in rows})
    errors.extend(LineError(r.line_no, f"line {r.line_no}: customer_id {r.customer_id} is not an imported customer; "
                                       f"run import-customers first") for r in rows if r.customer_id not in known)
    return [r for r in rows if r.customer_id in known]


def upsert_outcomes(session: Session, rows: Sequence[OutcomeRow]) -> int:
    """Insert or update renewal outcomes (key: customer and date); returns how many rows were written."""
    table: Table = Outcome.__table__  # type: ignore[assignment]
    values = [{"customer_id": r.customer_id, "outcome_date": r.outcome_date, "outcome": r.outcome} for r in rows]
    for batch in chunks(values):
        upsert(session, table, list(batch), keys=("customer_id", "outcome_date"))
    return len(values)


# --- the mapping queue -----------------------------------------------------------------------


def list_unmapped_accounts(session: Session) -> list[UnmappedAccount]:
    """Synced Pendo accounts without a customer, by name then id."""
    query = (
        select(PendoAccount)
        .outerjoin(AccountMapping, AccountMapping.pendo_account_id == PendoAccount.account_id)
        .where(AccountMapping.pendo_account_id.is_(None))
    )
    accounts = [_unmapped(a) for a in session.scalars(query)]
    return sorted(accounts, key=lambda a: ((a.name or "").casefold(), a.account_id))


def _unmapped(account: PendoAccount) -> UnmappedAccount:
    name, domain = _name_and_domain(account.name, account.domain, account.metadata_json)
    return UnmappedAccount(account.account_id, name, domain, account.last_visit)


def _name_and_domain(name: str | None, domain: str | None, metadata: Any) -> tuple[str | None, str | None]:
    """Stored columns first; the raw metadata fills what the sync left empty."""
    from_metadata = account_name_and_domain(metadata)
    return name or from_metadata[0], domain or from_metadata[1]


def confirm_mapping(session: Session, pendo_account_id: str, customer_id: str, by: str) -> None:
    """A person maps the account to the customer (method `manual`), replacing any earlier mapping."""
    customer_id = _canonical_id(customer_id)
    if session.get(Customer, customer_id) is None:
        raise LookupError(f"customer {customer_id} is not in the store: import it first, then map")
    _map_explicitly(session, [(pendo_account_id, customer_id)], "manual", by)


def unmap(session: Session, pendo_account_id: str) -> bool:
    """Remove the account's mapping; True when there was one. Its customer's metrics and scores are then
    computed again over the whole range (`keep_stale_score_customers`)."""
    owner = session.scalar(select(MAPPING.c.customer_id).where(MAPPING.c.pendo_account_id == pendo_account_id))
    if owner is None:
        return False
    session.execute(delete(MAPPING).where(MAPPING.c.pendo_account_id == pendo_account_id))
    keep_stale_score_customers(session, [owner])
    return True


def list_suggestions(session: Session) -> list[SuggestionView]:
    """Stored suggestions of still-unmapped accounts, best first within each account."""
    query = (
        select(MappingSuggestion, Customer.name, PendoAccount.name)
        .join(Customer, Customer.customer_id == MappingSuggestion.customer_id)
        .outerjoin(PendoAccount, PendoAccount.account_id == MappingSuggestion.pendo_account_id)
        .outerjoin(AccountMapping, AccountMapping.pendo_account_id == MappingSuggestion.pendo_account_id)
        .where(AccountMapping.pendo_account_id.is_(None))
        .order_by(MappingSuggestion.pendo_account_id, MappingSuggestion.score.desc(), Customer.name)
    )
    return [SuggestionView(s.pendo_account_id, account_name, s.customer_id, customer_name, s.score,
                           s.reason) for s, customer_name, account_name in session.execute(query)]


# --- matching --------------------------------------------------------------------------------


def match_inputs(session: Session) -> tuple[list[AccountInfo], list[CustomerInfo], set[str]]:
    """What `mapping.match_accounts` needs, read from the store."""
    stored = session.execute(select(PendoAccount.account_id, PendoAccount.name, PendoAccount.domain,
                                    PendoAccount.metadata_json))
    accounts = [AccountInfo(account, *_name_and_domain(name, domain, metadata))
                for account, name, domain, metadata in stored]
    customers = [CustomerInfo(*row) for row in
                 session.execute(select(Customer.customer_id, Customer.name, Customer.domain))]
    mapped = set(session.scalars(select(AccountMapping.pendo_account_id)))
    return accounts, customers, mapped


def apply_matches(session: Session, plan: MatchPlan) -> ApplyCounts:
    """Write automatic mappings (never over an existing one) and replace all suggestions; the customers that
    gain an account are kept for a whole-range recompute (`keep_stale_score_customers`)."""
    mapped_before = _count(session, MAPPING)
    auto = [_row(pendo_account_id=m.account_id, customer_id=m.customer_id, method=m.method)
            for m in plan.auto]
    for batch in _batches(auto, BATCH):
        held = set(session.scalars(select(MAPPING.c.pendo_account_id)
                                   .where(MAPPING.c.pendo_account_id.in_([r["pendo_account_id"] for r in batch]))))
        stmt = dialect_insert(session, MAPPING).on_conflict_do_nothing(index_elements=["pendo_account_id"])
        session.execute(stmt, batch)
        keep_stale_score_customers(session, sorted({r["customer_id"] for r in batch
                                                    if r["pendo_account_id"] not in held}))
    _replace_suggestions(session, plan)
    return ApplyCounts(auto_mapped=_count(session, MAPPING) - mapped_before,
                       suggestions=_count(session, SUGGESTIONS))


def _replace_suggestions(session: Session, plan: MatchPlan) -> None:
    session.execute(delete(SUGGESTIONS))
    rows = [_row(pendo_account_id=s.account_id, customer_id=s.customer_id, score=s.score,
                 reason=s.reason[:200]) for s in plan.suggestions]
    for batch in _batches(rows, BATCH):
        session.execute(dialect_insert(session, SUGGESTIONS).on_conflict_do_nothing(), batch)
    # Suggestions only make sense for accounts that are still unmapped.
    mapped = select(MAPPING.c.pendo_account_id)
    session.execute(delete(SUGGESTIONS).where(SUGGESTIONS.c.pendo_account_id.in_(mapped)))


def _count(session: Session, table: Table) -> int:
    return int(session.execute(select(func.count()).select_from(table)).scalar_one())


# --- shared helpers --------------------------------------------------------------------------


def _map_explicitly(session: Session, pairs: list[tuple[str, str]], method: str, by: str | None) -> None:
    """Map accounts whoever held them before, and drop their suggestions (they are settled). The customers
    whose set of accounts this changes (the new owner, and the one before) get their metrics and scores
    computed again over the whole range (`keep_stale_score_customers`): the next sync's metrics step would
    find most of them by comparing the mapping with their last day's row, but not a change made while it
    was computing (it would write that row by the new mapping, and the next run would see nothing)."""
    latest = dict(pairs)  # the later pair wins
    for ids in _batches(list(latest), BATCH):
        before = dict(session.execute(select(MAPPING.c.pendo_account_id, MAPPING.c.customer_id)
                                      .where(MAPPING.c.pendo_account_id.in_(ids))).tuples().all())
        moved = {owner for a in ids if before.get(a) != latest[a] for owner in (latest[a], before.get(a)) if owner}
        keep_stale_score_customers(session, sorted(moved))
        session.execute(delete(SUGGESTIONS).where(SUGGESTIONS.c.pendo_account_id.in_(ids)))
    values = [_row(pendo_account_id=a, customer_id=c, method=method, mapped_by=by)
              for a, c in latest.items()]
    for batch in _batches(values, BATCH):
        _upsert(session, MAPPING, batch, ["pendo_account_id"], {"mapped_at": func.now()})


def _upsert(
    session: Session, table: Table, values: Sequence[dict[str, Any]], keys: list[str],
    extra: dict[str, Any] | None = None,
) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE every given column (plus `extra`)."""
    if not values:
        return
    stmt = dialect_insert(session, table)
    updates = {c: stmt.excluded[c] for c in values[0] if c not in keys} | (extra or {})
    session.execute(stmt.on_conflict_do_update(index_elements=keys, set_=updates), values)


def _row(**values: Any) -> dict[str, Any]:
    """A statement parameter set (typed loosely on purpose: columns differ in type)."""
    return values


def _batches(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _canonical_id(customer_id: str) -> str:
    """Customer ids are stored as lowercase canonical UUIDs; accept any spelling of one."""
    try:
        return str(uuid.UUID(customer_id.strip()))
    except ValueError:
        raise LookupError(f"customer id {customer_id!r} is not a UUID: copy it from the customers list"
                          ) from None


def refresh_mapping(session: Session) -> ApplyCounts:
    """Match every unmapped Pendo account against the customers and store the outcome.

    A pair an admin refused (unmapped or rejected) is never mapped automatically or suggested again.
    The outcome depends only on the accounts' and customers' names and domains, the mapped accounts and
    the refused pairs: when none of them changed since the last match (`MAPPING_INPUTS`, a digest of the
    state the last match left), the stored mappings and suggestions are that match's and nothing is
    written. At 20,000 accounts matching them again took a daily run about 7 s.
    """
    accounts, customers, mapped = match_inputs(session)
    rejections = select(MappingRejection.pendo_account_id, MappingRejection.customer_id)
    refused = {(account, customer) for account, customer in session.execute(rejections)}
    if get_watermark(session, MAPPING_INPUTS) == _inputs_digest(accounts, customers, mapped, refused):
        return ApplyCounts(auto_mapped=0, suggestions=_count(session, SUGGESTIONS))
    plan = match_accounts(accounts, customers, mapped)
    plan = MatchPlan(auto=[m for m in plan.auto if (m.account_id, m.customer_id) not in refused],
                     suggestions=[s for s in plan.suggestions if (s.account_id, s.customer_id) not in refused])
    counts = apply_matches(session, plan)
    mapped_now = set(session.scalars(select(AccountMapping.pendo_account_id)))
    set_watermark(session, MAPPING_INPUTS, _inputs_digest(accounts, customers, mapped_now, refused))
    return counts


def _inputs_digest(accounts: Sequence[AccountInfo], customers: Sequence[CustomerInfo], mapped: Collection[str],
                   refused: Collection[tuple[str, str]]) -> str:
    """What a match reads, as one value (`refresh_mapping`)."""
    digest = hashlib.sha256(f"match_accounts v1 {MATCH_THRESHOLD} {MATCH_LIMIT}".encode())
    for part in (sorted((a.account_id, a.name, a.domain) for a in accounts),
                 sorted((c.customer_id, c.name, c.domain) for c in customers), sorted(mapped), sorted(refused)):
        digest.update(repr(part).encode())
    return digest.hexdigest()


