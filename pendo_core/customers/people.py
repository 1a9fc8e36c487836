"""People, not only accounts: each visitor's activity, the stakeholders and their engagement.

Read-side functions over the store (no Streamlit); each takes an Engine, a customer id and `as_of`,
the last day included (the last complete day). Figures and matching are defined in
`pendo_core.customers.people_queries`'s docstring. The seams for the chat and the REST API:

- `visitors_page(engine, customer_id, as_of, page, page_size, sort, search)` (and `visitor_rows` with
  limit/offset, optionally one Pendo account): a sorted, searched page and the filtered total;
- `most_active_users(engine, customer_id, as_of, limit)`: the top of the list by active days;
- `champion_status(engine, customer_id, as_of)`: every champion's and decision maker's last activity
  and whether they were active in the last 14 days, and the share of champions who were.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, select

from pendo_core.customers import people_queries as q
from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.store.models import Contact
from pendo_core.store.scope import chunks

__all__ = [
    "ACTIVE_DAYS",
    "ChampionStatus",
    "ContactMatch",
    "PersonRow",
    "Stakeholder",
    "VisitorPage",
    "champion_engagement",
    "champion_status",
    "contact_matches",
    "most_active_users",
    "parse_sort",
    "stakeholders",
    "unmatched_contacts",
    "visitor_rows",
    "visitors_page",
]

ACTIVE_DAYS = 14  # "active lately" for champions: the share on the health screen
MAX_PAGE_SIZE = 500
SPARK_DAYS = q.TREND_DAYS
TOP_FEATURES = 5


@dataclass(frozen=True)
class PersonRow:
    """One visitor of a customer, with its contact (when matched) and figures (see people_query)."""

    visitor_id: str
    email: str | None
    name: str | None
    title: str | None
    role: str | None
    contact_email: str | None
    last_active: date | None
    active_days: int
    minutes: int
    events: int
    days_28: int
    days_prior_28: int
    trend: float | None
    sessions: int = 0
    features: int = 0
    top_features: tuple[str, ...] = ()
    daily_events: tuple[int, ...] = ()  # the SPARK_DAYS ending as_of, oldest first


@dataclass(frozen=True)
class VisitorPage:
    """A page of the list and the number of visitors matching its filter and search."""

    rows: list[PersonRow]
    total: int
    page: int
    page_size: int
    sort: str
    descending: bool

    @property
    def pages(self) -> int:
        """How many pages the filtered list has (at least 1)."""
        return max(1, -(-self.total // self.page_size))


def parse_sort(sort: str) -> tuple[str, bool]:
    """`-minutes` -> ("minutes", descending); a bare key sorts ascending. ValueError names the keys."""
    key = sort.strip().lstrip("-+")
    if key not in q.SORTS:
        raise ValueError(f"sort {sort!r} is not one of {', '.join(q.SORTS)} (prefix '-' for descending)")
    return key, sort.strip().startswith("-")


def visitor_rows(engine: Engine, customer_id: str, as_of: date, *, limit: int = 50, offset: int = 0,
                 sort: str = "-active_days", search: str | None = None, only: str = "all",
                 account_id: str | None = None, include_anonymous: bool = False) -> tuple[list[PersonRow], int]:
    """Rows [offset, offset + limit) of the customer's (or one account's) visitors, and the total."""
    key, descending = parse_sort(sort)
    if only not in q.FILTERS:
        raise ValueError(f"only={only!r} is not one of {', '.join(q.FILTERS)}")
    if not 1 <= limit <= MAX_PAGE_SIZE or offset < 0:
        raise ValueError(f"limit must be 1..{MAX_PAGE_SIZE} and offset 0 or more")
    scope = q.Scope(customer_id, as_of, account_id, include_anonymous)
    want = q.ListQuery(only, search, key, descending, limit, offset)
    with engine.connect() as conn:
        found = conn.execute(q.people(scope, want)).mappings().all()
        total = int(found[0]["total"]) if found else _count(conn, scope, want)
        rows = [_row(r) for r in found]
        return _enrich(conn, scope, rows), total


def visitors_page(  # noqa: PLR0917 - the seam the chat and the REST API call positionally
        engine: Engine, customer_id: str, as_of: date, page: int = 1, page_size: int = 50,
        sort: str = "-active_days", search: str | None = None, *, only: str = "all",
        include_anonymous: bool = False) -> VisitorPage:
    """Page `page` (from 1) of the customer's visitors, sorted (`-key` descending) and searched."""
    if page < 1:
        raise ValueError("page counts from 1")
    rows, total = visitor_rows(engine, customer_id, as_of, limit=page_size, offset=(page - 1) * page_size,
                               sort=sort, search=search, only=only, include_anonymous=include_anonymous)
    key, descending = parse_sort(sort)
    return VisitorPage(rows, total, page, page_size, key, descending)


def most_active_users(engine: Engine, customer_id: str, as_of: date, limit: int = 10, *,
                      include_anonymous: bool = False) -> list[PersonRow]:
    """The customer's most active visitors in the 30 days ending as_of (active days, then minutes)."""
    rows, _ = visitor_rows(engine, customer_id, as_of, limit=limit, include_anonymous=include_anonymous)
    return [r for r in rows if r.active_days > 0]


def _count(conn: Connection, scope: q.Scope, want: q.ListQuery) -> int:
    """The total when the page is past the end (the window count then has no row to ride on)."""
    first = conn.execute(q.people(scope, replace(want, limit=1, offset=0))).mappings().first()
    return int(first["total"]) if first else 0


def _row(r: Any) -> PersonRow:
    trend = None if r["trend"] is None else float(r["trend"])
    return PersonRow(r["visitor_id"], r["email"], r["name"], r["title"], r["role"], r["contact_email"],
                     _day(r["last_active"]), int(r["active_days"]), int(r["minutes"]), int(r["events"]),
                     int(r["days_28"]), int(r["days_prior_28"]), trend,
                     int(r.get("sessions") or 0), int(r.get("features") or 0))


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else value


def _enrich(conn: Connection, scope: q.Scope, rows: list[PersonRow]) -> list[PersonRow]:
    """Sessions, features, top features and the daily events of the page's visitors."""
    if not rows:
        return rows
    ids = [r.visitor_id for r in rows]
    sessions = dict(conn.execute(q.sessions(scope, ids)).tuples().all())
    uses: dict[str, list[tuple[int, str]]] = {}
    for visitor, feature, name, events, _days in conn.execute(q.feature_uses(scope, ids)):
        uses.setdefault(visitor, []).append((int(events), name or feature))
    daily = _daily_events(conn, scope, ids)
    quiet = (0,) * SPARK_DAYS
    return [replace(r, sessions=int(sessions.get(r.visitor_id, 0)), features=len(uses.get(r.visitor_id, [])),
                    top_features=_top(uses.get(r.visitor_id, [])), daily_events=daily.get(r.visitor_id, quiet))
            for r in rows]


def _top(uses: list[tuple[int, str]]) -> tuple[str, ...]:
    """The most used features' names, most events first (ties by name)."""
    return tuple(name for _, name in sorted(uses, key=lambda u: (-u[0], u[1]))[:TOP_FEATURES])


def _daily_events(conn: Connection, scope: q.Scope, ids: list[str]) -> dict[str, tuple[int, ...]]:
    """Events a day over the SPARK_DAYS ending as_of, oldest first, per visitor."""
    by_day: dict[str, dict[date | None, int]] = {}
    for visitor, day, events, _minutes, _active in conn.execute(q.daily(scope, ids, SPARK_DAYS)):
        by_day.setdefault(visitor, {})[_day(day)] = int(events or 0)
    days = [scope.day(i) for i in range(SPARK_DAYS - 1, -1, -1)]
    return {v: tuple(counts.get(d, 0) for d in days) for v, counts in by_day.items()}


# --- contacts and their visitors -------------------------------------------------------------


@dataclass(frozen=True)
class ContactMatch:
    """A contact and the visitor ids matched to it by e-mail (several when a person has aliases)."""

    email: str
    name: str
    title: str | None
    role: str
    visitor_ids: tuple[str, ...]


def contact_matches(engine: Engine, customer_id: str, as_of: date, *, roles: Sequence[str] | None = None,
                    include_anonymous: bool = False) -> list[ContactMatch]:
    """The customer's contacts (of `roles`) with their matched visitors, by role then name."""
    with engine.connect() as conn:
        return _matches(conn, q.Scope(customer_id, as_of, None, include_anonymous), roles)


def _matches(conn: Connection, scope: q.Scope, roles: Sequence[str] | None) -> list[ContactMatch]:
    found = matches_of(conn, [scope.customer_id], scope.as_of, roles=roles, include_anonymous=scope.include_anonymous)
    return found.get(scope.customer_id, [])


def matches_of(conn: Connection, customer_ids: Collection[str], as_of: date, *, roles: Sequence[str] | None = None,
               include_anonymous: bool = False) -> dict[str, list[ContactMatch]]:
    """Each customer's contacts (of `roles`, customers without any left out) with their matched visitors,
    by role then name. A contact matches a visitor whose synced e-mail or id is its e-mail (looked up by
    index), or one of the customer's visitors of the lookback whose id, lowercased, is: one query for all
    the customers, which for a whole book reads the lookback's visitor days once."""
    matching = direct_matches(conn, customer_ids, roles=roles)
    if matching.found:
        for customer, visitor, email in conn.execute(q.lowered_ids_of(sorted(set(customer_ids)), as_of, roles,
                                                                       include_anonymous)):
            matching.add_lowered(customer, visitor, email)
    return matching.by_customer()


@dataclass
class ContactMatching:
    """Some customers' contacts, (customer, email, name, title, role) each, and the visitors matched to
    each so far, by (customer, email)."""

    contacts: list[tuple[str, str, str, str | None, str]]
    found: dict[tuple[str, str], set[str]]

    def add_lowered(self, customer: str, visitor: str, lowered: str) -> bool:
        """Match one of the customer's visitors of the lookback whose id, lowercased, is `lowered` to the
        contact with that e-mail; False when the customer has none (another customer's, or nobody's)."""
        visitors = self.found.get((customer, lowered))
        if visitors is None:
            return False
        visitors.add(visitor)
        return True

    def by_customer(self) -> dict[str, list[ContactMatch]]:
        """Each customer's contacts with their matched visitors, by role then name."""
        rank = {r: i for i, r in enumerate(q.ROLE_ORDER)}
        out: dict[str, list[ContactMatch]] = {}
        for customer, email, name, title, role in self.contacts:
            visitors = tuple(sorted(self.found[customer, email]))
            out.setdefault(customer, []).append(ContactMatch(email, name, title, role, visitors))
        for matched in out.values():
            matched.sort(key=lambda c: (rank.get(c.role, len(rank)), c.name.casefold(), c.email))
        return out


def direct_matches(conn: Connection, customer_ids: Collection[str], *,
                   roles: Sequence[str] | None = None) -> ContactMatching:
    """The customers' contacts (of `roles`) matched to the visitors whose synced e-mail or id is their
    e-mail; the lowercased ids are `matches_of`'s (or the caller's) to add."""
    contacts: list[tuple[str, str, str, str | None, str]] = []
    for chunk in chunks(sorted(set(customer_ids))):
        query = select(Contact.customer_id, Contact.email, Contact.name, Contact.title, Contact.role).where(
            Contact.customer_id.in_(chunk))
        contacts += conn.execute(query if roles is None else query.where(Contact.role.in_(list(roles)))).tuples()
    found: dict[tuple[str, str], set[str]] = {(customer, email): set() for customer, email, *_ in contacts}
    owners: dict[str, list[str]] = {}
    for customer, email, *_ in contacts:
        owners.setdefault(email, []).append(customer)
    for emails in chunks(sorted(owners)):
        for lookup in (select(q.pv.c.visitor_id, q.pv.c.email).where(q.pv.c.email.in_(emails)),
                       select(q.pv.c.visitor_id, q.pv.c.visitor_id).where(q.pv.c.visitor_id.in_(emails))):
            for visitor, email in conn.execute(lookup):
                for customer in owners[email]:
                    found[(customer, email)].add(visitor)
    return ContactMatching(contacts, found)


def unmatched_contacts(engine: Engine, customer_id: str, as_of: date) -> list[ContactMatch]:
    """The customer's contacts no visitor matches by e-mail (a typo, or they never used the product)."""
    return [c for c in contact_matches(engine, customer_id, as_of) if not c.visitor_ids]


# --- stakeholders and champions --------------------------------------------------------------


@dataclass(frozen=True)
class Stakeholder:
    """A contact's activity over all its visitors in the customer's accounts (days counted once)."""

    email: str
    name: str
    title: str | None
    role: str
    visitor_ids: tuple[str, ...]
    last_active: date | None  # within the lookback (90 days)
    active_days_window: int  # active days in the last `window_days` (ACTIVE_DAYS unless asked otherwise)
    active_days_30: int
    minutes_30: int
    days: dict[date, tuple[int, int]] = field(default_factory=dict, repr=False)  # day -> (events, minutes)

    @property
    def matched(self) -> bool:
        """True when some Pendo visitor carries the contact's e-mail."""
        return bool(self.visitor_ids)

    def days_quiet(self, as_of: date) -> int | None:
        """Days since the last active day (0: active on as_of); None when not active in the lookback."""
        return None if self.last_active is None else (as_of - self.last_active).days


@dataclass(frozen=True)
class ChampionStatus:
    """Champions and decision makers of a customer, and the share of champions active lately."""

    customer_id: str
    as_of: date
    window_days: int
    people: list[Stakeholder]

    def _of(self, role: str) -> list[Stakeholder]:
        return [p for p in self.people if p.role == role]

    @property
    def champions(self) -> int:
        """How many contacts are champions."""
        return len(self._of("champion"))

    @property
    def champions_active(self) -> int:
        """Champions active in the last `window_days`."""
        return sum(1 for p in self._of("champion") if p.active_days_window > 0)

    @property
    def share_active(self) -> float | None:
        """Champions active in the window ÷ champions; None without champions."""
        return self.champions_active / self.champions if self.champions else None


def stakeholders(engine: Engine, customer_id: str, as_of: date, *, roles: Sequence[str] | None = None,
                 window_days: int = ACTIVE_DAYS, include_anonymous: bool = False) -> list[Stakeholder]:
    """The customer's contacts (of `roles`) with their activity in its accounts, by role then name."""
    scope = q.Scope(customer_id, as_of, None, include_anonymous)
    with engine.connect() as conn:
        found = _matches(conn, scope, roles)
        ids = sorted({v for c in found for v in c.visitor_ids})
        per_visitor: dict[str, dict[date, tuple[int, int, bool]]] = {}
        for chunk in chunks(ids):
            for visitor, day, events, minutes, active in conn.execute(q.daily(scope, chunk, q.LOOKBACK_DAYS)):
                per_visitor.setdefault(visitor, {})[_day(day)] = (int(events), int(minutes), bool(active))  # type: ignore[index]
    return [_stakeholder(c, [per_visitor.get(v, {}) for v in c.visitor_ids], as_of, window_days) for c in found]


def _stakeholder(c: ContactMatch, visitors: list[dict[date, tuple[int, int, bool]]], as_of: date,
                 window_days: int) -> Stakeholder:
    days: dict[date, tuple[int, int]] = {}
    active: set[date] = set()
    for by_day in visitors:
        for day, (events, minutes, was_active) in by_day.items():
            before = days.get(day, (0, 0))
            days[day] = (before[0] + events, before[1] + minutes)
            if was_active:
                active.add(day)
    since = as_of - timedelta(days=window_days - 1)
    month = as_of - timedelta(days=q.WINDOW_DAYS - 1)
    return Stakeholder(c.email, c.name, c.title, c.role, c.visitor_ids, max(active, default=None),
                       sum(1 for d in active if d >= since), sum(1 for d in active if d >= month),
                       sum(m for d, (_, m) in days.items() if d >= month), days)


def champion_status(engine: Engine, customer_id: str, as_of: date, *, window_days: int = ACTIVE_DAYS,
                    include_anonymous: bool = False) -> ChampionStatus:
    """Every champion's and decision maker's activity, and the share of champions active lately."""
    found = stakeholders(engine, customer_id, as_of, roles=KEY_ROLES, window_days=window_days,
                         include_anonymous=include_anonymous)
    return ChampionStatus(customer_id, as_of, window_days, found)


def champion_engagement(status: ChampionStatus, weeks: int = 12) -> pd.DataFrame:
    """Per champion or decision maker and 7-day block ending as_of (oldest first): active days, minutes."""
    out: list[dict[str, Any]] = []
    for person in status.people:
        for k in range(weeks - 1, -1, -1):
            end = status.as_of - timedelta(days=7 * k)
            block = [person.days.get(end - timedelta(days=i)) for i in range(7)]
            out.append({"email": person.email, "name": person.name, "role": person.role,
                        "week_ending": pd.Timestamp(end),
                        "active_days": sum(1 for b in block if b is not None and b[0] > 0),
                        "minutes": sum(b[1] for b in block if b is not None)})
    return pd.DataFrame(out, columns=["email", "name", "role", "week_ending", "active_days", "minutes"])
