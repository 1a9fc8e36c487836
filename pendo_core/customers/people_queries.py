"""The SQL behind `pendo_core.customers.people`: one customer's visitors, their activity and their contacts.

Everything is scoped to the customer's mapped Pendo accounts (or one of them) and to days ending on
`as_of` (inclusive). The per-visitor figures are grouped in SQL and the list is filtered, sorted and
cut to a page there too, so a customer with thousands of visitors costs one grouped read of its own
visitor-day rows plus small lookups for the page's rows (sessions and features are only grouped for
every visitor when the list is sorted by them).

Definitions (metrics-spec.md applied to one visitor; a visitor active in two of the customer's
accounts counts its days once and its minutes and sessions in both):
- active on a day: an `events` row with numEvents > 0; `last_active`: the newest such day of the
  LOOKBACK_DAYS ending on as_of (NULL: not active in them);
- `active_days`, `minutes`, `events`: over the WINDOW_DAYS ending on as_of (minutes and events sum
  every row, as `time_in_app_minutes` does);
- `sessions`: maximal runs of active hours of one visitor in one account starting in the window;
- `features`: distinct features with a featureEvents row in the window;
- `trend`: (active days of the last 28 - those of the 28 before) / those of the 28 before; NULL when
  the visitor was not active in the 28 before (new, or back after a break).
Contacts match visitors by e-mail: the visitor's synced e-mail (metadata.agent.email, or its id when
that is an e-mail) or its id, lowercased, among the customer's visitors of the lookback.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    Select,
    and_,
    case,
    distinct,
    func,
    literal,
    null,
    or_,
    select,
    union,
    union_all,
)

from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.store.models import (
    AccountMapping,
    Contact,
    FeatureVisitorDay,
    PendoFeature,
    PendoVisitor,
    VisitorDay,
    VisitorHour,
)
from pendo_core.store.scope import IN_CHUNK, keep_visitors, unindexed

LOOKBACK_DAYS = 90
WINDOW_DAYS = 30
TREND_DAYS = 28
HOUR_MS = 3_600_000
ROLE_ORDER = ("champion", "decision_maker", "admin", "user")

vd = VisitorDay.__table__
vh = VisitorHour.__table__
fvd = FeatureVisitorDay.__table__
pv = PendoVisitor.__table__
contacts = Contact.__table__
features_table = PendoFeature.__table__
mapping = AccountMapping.__table__


@dataclass(frozen=True)
class Scope:
    """Whose visitors: one customer (or one of its Pendo accounts), days ending `as_of` inclusive."""

    customer_id: str
    as_of: date
    account_id: str | None = None
    include_anonymous: bool = False

    def day(self, back: int) -> date:
        """The day `back` days before as_of."""
        return self.as_of - timedelta(days=back)


def accounts(scope: Scope) -> Select[Any]:
    """The Pendo account ids in scope."""
    query = select(mapping.c.pendo_account_id).where(mapping.c.customer_id == scope.customer_id)
    return query if scope.account_id is None else query.where(mapping.c.pendo_account_id == scope.account_id)


def _in_scope(query: Select[Any], table: Any, scope: Scope, first: date, ids: Sequence[str] | None) -> Select[Any]:
    query = query.where(table.c.account_id.in_(accounts(scope)), table.c.day.between(first, scope.as_of))
    if ids is not None:
        query = query.where(table.c.visitor_id.in_(list(ids)))
    return keep_visitors(query, table.c.visitor_id, scope.include_anonymous)


def activity(scope: Scope) -> CTE:
    """Per visitor active in the lookback: last_active, active_days, minutes, events, days_28, days_prior_28."""
    active = vd.c.num_events > 0
    recent = vd.c.day >= scope.day(WINDOW_DAYS - 1)
    last_active = func.max(case((active, vd.c.day)))
    query = select(
        vd.c.visitor_id, last_active.label("last_active"),
        _days(active, scope.day(WINDOW_DAYS - 1), scope.as_of).label("active_days"),
        func.sum(case((recent, vd.c.num_minutes), else_=0)).label("minutes"),
        func.sum(case((recent, vd.c.num_events), else_=0)).label("events"),
        _days(active, scope.day(TREND_DAYS - 1), scope.as_of).label("days_28"),
        _days(active, scope.day(2 * TREND_DAYS - 1), scope.day(TREND_DAYS)).label("days_prior_28"),
    )
    query = _in_scope(query, vd, scope, scope.day(LOOKBACK_DAYS - 1), None)
    return query.group_by(vd.c.visitor_id).having(last_active.is_not(None)).cte("act")


def _days(active: ColumnElement[bool], first: date, last: date) -> ColumnElement[Any]:
    """Distinct active days in [first, last] (a visitor in two accounts has two rows a day)."""
    return func.count(distinct(case((and_(active, vd.c.day.between(first, last)), vd.c.day))))


def matches(scope: Scope, act: CTE) -> CTE:
    """(visitor_id, email) for every visitor matching one of the customer's contacts."""
    mine = contacts.c.customer_id == scope.customer_id
    by_email = select(pv.c.visitor_id, contacts.c.email).join(pv, pv.c.email == contacts.c.email).where(mine)
    by_id = select(pv.c.visitor_id, contacts.c.email).join(pv, pv.c.visitor_id == contacts.c.email).where(mine)
    active = (select(act.c.visitor_id, contacts.c.email)
              .join(contacts, contacts.c.email == func.lower(act.c.visitor_id)).where(mine))
    return union(by_email, by_id, active).cte("matches")


def sessions(scope: Scope, ids: Sequence[str] | None) -> Select[Any]:
    """(visitor_id, sessions) for sessions starting in the window; one day before gives each run its start."""
    gap = vh.c.hour_start - func.lag(vh.c.hour_start).over(partition_by=(vh.c.account_id, vh.c.visitor_id),
                                                          order_by=vh.c.hour_start)
    query = select(vh.c.visitor_id, vh.c.day, gap.label("gap")).where(vh.c.num_events > 0)
    first = scope.day(WINDOW_DAYS)
    if ids is None:
        query = _in_scope(query, vh, scope, first, None)
    else:  # a page of visitors: the key (account, hour, visitor) from the window's first hour beats the day index
        slack = datetime.combine(first - timedelta(days=1), time(), UTC)  # local midnights are within a day of UTC's
        query = keep_visitors(query.where(vh.c.account_id.in_(accounts(scope)), vh.c.visitor_id.in_(list(ids)),
                                          vh.c.hour_start >= int(slack.timestamp() * 1000),
                                          unindexed(vh.c.day).between(first, scope.as_of)),
                              vh.c.visitor_id, scope.include_anonymous)
    hours = query.subquery("hours")
    starts = and_(or_(hours.c.gap.is_(None), hours.c.gap != HOUR_MS), hours.c.day >= scope.day(WINDOW_DAYS - 1))
    return select(hours.c.visitor_id, func.count().label("sessions")).where(starts).group_by(hours.c.visitor_id)


def feature_counts(scope: Scope, ids: Sequence[str] | None) -> Select[Any]:
    """(visitor_id, features): distinct features used in the window."""
    query = select(fvd.c.visitor_id, func.count(distinct(fvd.c.feature_id)).label("features")).where(
        fvd.c.num_events > 0)
    return _in_scope(query, fvd, scope, scope.day(WINDOW_DAYS - 1), ids).group_by(fvd.c.visitor_id)


def feature_uses(scope: Scope, ids: Sequence[str]) -> Select[Any]:
    """(visitor_id, feature_id, name, events, days) in the window, for the given visitors."""
    query = (select(fvd.c.visitor_id, fvd.c.feature_id, features_table.c.name, func.sum(fvd.c.num_events),
                    func.count(distinct(fvd.c.day)))
             .outerjoin(features_table, features_table.c.feature_id == fvd.c.feature_id)
             .where(fvd.c.num_events > 0))
    query = _in_scope(query, fvd, scope, scope.day(WINDOW_DAYS - 1), ids)
    return query.group_by(fvd.c.visitor_id, fvd.c.feature_id, features_table.c.name)


def daily(scope: Scope, ids: Sequence[str], days: int) -> Select[Any]:
    """(visitor_id, day, events, minutes, active) per day of the `days` ending as_of, for the given visitors."""
    active = func.max(case((vd.c.num_events > 0, 1), else_=0))
    query = select(vd.c.visitor_id, vd.c.day, func.sum(vd.c.num_events), func.sum(vd.c.num_minutes), active)
    return _in_scope(query, vd, scope, scope.day(days - 1), ids).group_by(vd.c.visitor_id, vd.c.day)


# --- many customers at once (the alert rules read every customer's key contacts) -----------------
# One query each for all the customers asked about: read per 500 customers, PostgreSQL scanned the whole
# lookback of every account once per 500 (quadratic in the book); for one customer both stores read its
# accounts' rows through their (account_id, day) index.


def _of_customers(query: Select[Any], customers: Sequence[str], first: date, as_of: date,
                  include_anonymous: bool) -> Select[Any]:
    """`query` over visitor days of [first, as_of] of mapped accounts, as `_in_scope` scopes one customer's;
    `mapping.c.customer_id` says whose each row is. Up to IN_CHUNK `customers` are listed; beyond, every
    customer's rows come (one read of the book) and the caller skips the others'."""
    query = query.join(mapping, mapping.c.pendo_account_id == vd.c.account_id).where(vd.c.day.between(first, as_of))
    if len(customers) <= IN_CHUNK:
        query = query.where(mapping.c.customer_id.in_(list(customers)))
    return keep_visitors(query, vd.c.visitor_id, include_anonymous)


def lowered_ids_of(customers: Sequence[str], as_of: date, roles: Sequence[str] | None,
                   include_anonymous: bool) -> Select[Any]:
    """(customer_id, visitor_id, email) of each customer's visitors of the lookback whose id, lowercased,
    is the e-mail of one of its contacts (of `roles`)."""
    query = select(mapping.c.customer_id, vd.c.visitor_id, contacts.c.email).distinct().select_from(vd)
    query = _of_customers(query, customers, as_of - timedelta(days=LOOKBACK_DAYS - 1), as_of, include_anonymous)
    query = query.join(contacts, and_(contacts.c.customer_id == mapping.c.customer_id,
                                      contacts.c.email == func.lower(vd.c.visitor_id)))
    return query if roles is None else query.where(contacts.c.role.in_(list(roles)))


def last_active_per_visitor(customers: Sequence[str], as_of: date, since: date,
                            include_anonymous: bool) -> Select[Any]:
    """(customer_id, visitor_id, its id lowercased, last active day of the lookback or NULL, 1 when active
    from `since` to as_of else 0, 1 when it has a row in the lookback else 0) of each customer's visitors
    with a row from the earlier of the two: what `daily` then `last_active` find for one customer, whether
    the visitor was active lately, and what `lowered_ids_of` would match it by (when seen in the lookback),
    all in one read of the visitor days."""
    active, lookback = vd.c.num_events > 0, as_of - timedelta(days=LOOKBACK_DAYS - 1)
    last = func.max(case((and_(active, vd.c.day >= lookback), vd.c.day))).label("last_active")
    recent = func.max(case((and_(active, vd.c.day >= since), 1), else_=0)).label("recent")
    seen = func.max(case((vd.c.day >= lookback, 1), else_=0)).label("seen")
    query = select(mapping.c.customer_id, vd.c.visitor_id, last, recent, seen)
    query = _of_customers(query.select_from(vd), customers, min(lookback, since), as_of, include_anonymous)
    grouped = query.group_by(mapping.c.customer_id, vd.c.visitor_id).subquery("grouped")
    # lower() of each grouped visitor once, not of every row read
    return select(grouped.c.customer_id, grouped.c.visitor_id, func.lower(grouped.c.visitor_id), grouped.c.last_active,
                  grouped.c.recent, grouped.c.seen)


# --- the list --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListQuery:
    """What the list shows: a filter (`all`, `contacts`, `key` stakeholders, `unmatched` visitors), a
    search text, a sort key with its direction, and the rows wanted."""

    only: str = "all"
    search: str | None = None
    sort: str = "active_days"
    descending: bool = True
    limit: int = 50
    offset: int = 0


SORTS = ("active_days", "last_active", "minutes", "events", "sessions", "features", "trend", "name", "role",
         "visitor")
FILTERS = ("all", "contacts", "key", "unmatched")


def people(scope: Scope, want: ListQuery) -> Select[Any]:
    """The page of visitors (with their contact, figures and the filtered total), sorted in SQL."""
    act = activity(scope)
    contact_of = _contact_of(scope, act)
    base = _base(scope, act, contact_of)
    joined = (base.outerjoin(contact_of, contact_of.c.visitor_id == base.c.visitor_id)
              .outerjoin(contacts, and_(contacts.c.customer_id == scope.customer_id,
                                        contacts.c.email == contact_of.c.email))
              .outerjoin(pv, pv.c.visitor_id == base.c.visitor_id))
    columns = _columns(base)
    if want.sort in ("sessions", "features"):  # only then is every visitor's count needed
        counts = (sessions if want.sort == "sessions" else feature_counts)(scope, None).subquery("counts")
        joined = joined.outerjoin(counts, counts.c.visitor_id == base.c.visitor_id)
        columns[want.sort] = func.coalesce(counts.c[want.sort], 0)
    query = select(*(c.label(n) for n, c in columns.items()), func.count().over().label("total")).select_from(joined)
    query = _filtered(query, columns, want)
    return query.order_by(*_order(columns, want), base.c.visitor_id).limit(want.limit).offset(want.offset)


def _contact_of(scope: Scope, act: CTE) -> CTE:
    """One contact e-mail per matched visitor (the first, should two contacts claim one visitor)."""
    found = matches(scope, act)
    return (select(found.c.visitor_id, func.min(found.c.email).label("email"))
            .group_by(found.c.visitor_id).cte("contact_of"))


def _base(scope: Scope, act: CTE, contact_of: CTE) -> CTE:
    """The lookback's active visitors, plus (for a whole customer) the contacts' quiet visitors."""
    active = select(*act.c)
    if scope.account_id is not None:  # one account: the visitors it saw
        return active.cte("base")
    quiet = (select(contact_of.c.visitor_id, *(null().label(c.name) for c in list(act.c)[1:]))
             .where(contact_of.c.visitor_id.not_in(select(act.c.visitor_id))))
    return union_all(active, quiet).cte("base")


def _columns(base: CTE) -> dict[str, ColumnElement[Any]]:
    prior = func.coalesce(base.c.days_prior_28, 0)
    trend = case((prior > 0, (func.coalesce(base.c.days_28, 0) - prior) * literal(1.0) / prior))
    zero = {name: func.coalesce(base.c[name], 0) for name in ("active_days", "minutes", "events", "days_28")}
    return {"visitor_id": base.c.visitor_id, "email": pv.c.email, "contact_email": contacts.c.email,
            "name": contacts.c.name, "title": contacts.c.title, "role": contacts.c.role,
            "last_active": base.c.last_active, **zero, "days_prior_28": prior, "trend": trend}


def _filtered(query: Select[Any], columns: dict[str, ColumnElement[Any]], want: ListQuery) -> Select[Any]:
    if want.only == "contacts":
        query = query.where(columns["contact_email"].is_not(None))
    elif want.only == "key":
        query = query.where(columns["role"].in_(KEY_ROLES))
    elif want.only == "unmatched":
        query = query.where(columns["contact_email"].is_(None))
    text = (want.search or "").strip().lower()
    if text:
        pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        fields = ("visitor_id", "email", "name", "title", "role")
        query = query.where(or_(*(func.lower(columns[f]).like(pattern, escape="\\") for f in fields)))
    return query


def _order(columns: dict[str, ColumnElement[Any]], want: ListQuery) -> list[Any]:
    special: dict[str, list[ColumnElement[Any]]] = {
        "active_days": [columns["active_days"], columns["minutes"]],
        "name": [func.lower(func.coalesce(columns["name"], columns["email"], columns["visitor_id"]))],
        "role": [case({r: i for i, r in enumerate(ROLE_ORDER)}, value=columns["role"], else_=len(ROLE_ORDER))],
        "visitor": [columns["visitor_id"]],
    }
    keys = special[want.sort] if want.sort in special else [columns[want.sort]]
    return [(k.desc() if want.descending else k.asc()).nulls_last() for k in keys]
