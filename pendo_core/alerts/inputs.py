"""Read what the alert rules need for every customer at once (a few grouped queries, no per-row ORM).

Only days up to the last complete day are read. Feature use comes from the raw feature rows with
the scoping of `pendo_core.usage.adoption.abandoned_key_features` (mapped accounts, identified
visitors unless anonymous ones are included), grouped by customer; where the feature metrics stand for
those rows (`recency.feature_metrics_from`), the days of use come from the metrics and only the features
unused lately are read from the raw rows (`_from_feature_metrics`). The
champions' and decision makers' activity is what `people.stakeholders` reads for one customer, read for
all of them at once.
The risk kinds' inputs, each customer's health score on the last day and 28 days before it
(`risk.HealthWindow`) and its renewal date, are read apart (`add_health`): the sync reads the rest beside
its health step, and these once the new scores are written.

The customers evaluated are those with a usage row in the window, a champion or decision maker, or
an active alert (so an alert whose subject is gone can resolve even when the usage is not synced).
Those with no usage row in the window and no Pendo account mapped are `gone`: their accounts were
unmapped and their metrics removed with them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy import Engine, Select, case, distinct, func, select, true

from pendo_core.alerts.champions import StakeholderWindow
from pendo_core.alerts.kinds import CustomerData
from pendo_core.alerts.lifecycle import ACTIVE
from pendo_core.alerts.risk import HealthWindow, comparable
from pendo_core.alerts.rules import FeatureWindow, GuideWindow, counts_elsewhere
from pendo_core.alerts.settings import AlertSettings
from pendo_core.customers import people
from pendo_core.customers import people_queries as pq
from pendo_core.customers.contacts import KEY_ROLES
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.store.arrow import record_batches
from pendo_core.store.models import (
    AccountMapping,
    Contact,
    Customer,
    FeatureUsage,
    FeatureVisitorDay,
    GuideMetric,
    HealthScore,
    PendoFeature,
    PendoGuide,
    UsageAlert,
    UsageMetric,
)
from pendo_core.store.scope import chunks, customer_chunks, keep_visitors, mapped
from pendo_core.usage import recency

HISTORY_DAYS = 90  # DAU history kept for "last active" in no_login's details

_usage = UsageMetric.__table__
_fvd = FeatureVisitorDay.__table__
_guides = GuideMetric.__table__
_feature_usage = FeatureUsage.__table__
_mapping = AccountMapping.__table__
_scores = HealthScore.__table__
_customers = Customer.__table__
_LAST_ACTIVE_SCHEMA = pa.schema([("customer_id", pa.string()), ("visitor_id", pa.string()), ("lowered", pa.string()),
                                 ("last_active", pa.date32()), ("recent", pa.int64()), ("seen", pa.int64())])
_DAU_SCHEMA = pa.schema([("customer_id", pa.string()), ("metric_date", pa.date32()), ("dau", pa.int64())])


@dataclass
class AlertInputs:
    """Inputs of every evaluated customer (those with a usage row in the window) and their CSMs."""

    customers: dict[str, CustomerData]
    csm_of: dict[str, str | None]
    gone: set[str] = field(default_factory=set)  # no usage row in the window and no Pendo account mapped


def history_days(cfg: AlertSettings) -> int:
    """How many days back (from the last day) the rules can look."""
    drop = cfg.usage_drop
    weeks = drop.sustained_days // 7
    sustained = 7 * (weeks + max(weeks, drop.sustained_baseline_weeks))  # the window and the weeks before it
    needed = drop.hold_days - 1 + max(6 + 7 * drop.baseline_weeks, sustained)
    return max(needed + 1, cfg.no_login.days, cfg.feature_abandonment.recent_days, cfg.champion_inactive.days,
               HISTORY_DAYS)


def load_alert_inputs(engine: Engine, last_day: date, cfg: AlertSettings, *, key_features: Sequence[str],
                      customer_ids: Collection[str] | None = None, include_anonymous: bool = False) -> AlertInputs:
    """Every input of the rules for the customers evaluated (see above), up to last_day, but the health scores
    and renewal dates (`add_health`).

    On PostgreSQL the key-feature use is read on a second connection while the rest is read and matched
    here: the server spends most of that read alone (8 s of a 20,000-account daily run), and this
    process most of the people's."""
    read_features = partial(_feature_windows, engine, last_day, cfg, keys=key_features,
                            include_anonymous=include_anonymous, customer_ids=customer_ids)
    with ThreadPoolExecutor(1, thread_name_prefix="cscx-alert-features") as pool:
        reading = pool.submit(read_features) if engine.dialect.name == "postgresql" else None
        customers = _dau(engine, last_day, history_days(cfg), customer_ids)
        keyed = _customers_where(engine, Contact.customer_id, Contact.role.in_(KEY_ROLES))
        alerted = _customers_where(engine, UsageAlert.customer_id, UsageAlert.status.in_(ACTIVE))
        for customer in sorted((keyed | alerted) - customers.keys()):
            if customer_ids is None or customer in customer_ids:
                customers[customer] = CustomerData(last_day)
        _add_guides(engine, customers, last_day, cfg)
        _add_people(engine, {c: customers[c] for c in sorted(keyed & customers.keys())}, last_day,
                    cfg.champion_inactive.days, include_anonymous)
        for customer, windows in (reading.result() if reading else read_features()).items():
            if customer in customers:  # else mapped but not evaluated: no usage row in the window, contact or alert
                customers[customer].features = windows
    owning = _customers_where(engine, AccountMapping.customer_id, true())
    gone = {c for c, data in customers.items() if not data.dau and c not in owning}
    return AlertInputs(customers, _csms(engine, customers), gone)


def _dau(engine: Engine, last_day: date, days: int, customer_ids: Collection[str] | None) -> dict[str, CustomerData]:
    """The customers with usage rows in the `days` ending on last_day, each with its DAU per synced day.
    Read as Arrow batches (`store.arrow`): 90 days of 20,000 customers are 1.8 M rows, which SQLAlchemy's
    rows took about 4 µs each to hand over."""
    since = last_day - timedelta(days=days - 1)
    customers: dict[str, CustomerData] = {}
    for chunk in customer_chunks(customer_ids):
        stmt = _in(select(_usage.c.customer_id, _usage.c.metric_date, _usage.c.dau)
                   .where(_usage.c.metric_date.between(since, last_day)), _usage.c.customer_id, chunk)
        rows = pa.Table.from_batches(list(record_batches(engine, stmt, _DAU_SCHEMA)), schema=_DAU_SCHEMA)
        for customer, days_, daus in _by_customer(rows):
            customers.setdefault(customer, CustomerData(last_day)).dau.update(zip(days_, daus, strict=True))
    return customers


def _by_customer(rows: pa.Table) -> Iterator[tuple[str, list[Any], list[Any]]]:
    """(customer, its days, its DAU) per customer of (customer_id, metric_date, dau) rows, by customer id:
    grouped by Arrow, so Python touches each row only in a C-level `zip` (a loop over the rows took 3-5 µs
    a row: 0.5 s at 2,000 customers, 1.8 M rows at 20,000)."""
    if not rows.num_rows:
        return
    rows = rows.take(pc.sort_indices(rows, sort_keys=[("customer_id", "ascending"), ("metric_date", "ascending")]))
    ids, days, daus = (rows.column(i).combine_chunks() for i in range(3))
    ends = pc.run_end_encode(ids)
    bounds = [0, *ends.run_ends.to_pylist()]
    day_list, dau_list = _dates(days), daus.to_pylist()
    for customer, start, end in zip(ends.values.to_pylist(), bounds, bounds[1:], strict=False):
        yield customer, day_list[start:end], dau_list[start:end]


def _dates(days: pa.Array) -> list[date]:
    """A column of dates without NULLs as Python dates, one object per distinct day (Arrow's `to_pylist` makes
    one per row, at 1.4 µs each)."""
    encoded = pc.dictionary_encode(days)
    distinct = np.array(encoded.dictionary.to_pylist(), dtype=object)
    return distinct[encoded.indices.to_numpy()].tolist()  # type: ignore[no-any-return]


def _customers_where(engine: Engine, column: Any, condition: Any) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(column).where(condition).distinct()).scalars())


def _add_people(engine: Engine, customers: dict[str, CustomerData], last_day: date, days: int,
                include_anonymous: bool) -> None:
    """Each champion's and decision maker's last activity, and how many colleagues were active in `days`,
    as `people.stakeholders` and the People list find them for one customer: the matches by synced e-mail
    and id for all the customers at once, then one read of every visitor's last active day, streamed,
    which also matches the visitors by their lowercased id (`people.matches_of` reads the visitor days for
    those alone: 13 s of a 20,000-account daily run). That read is the metrics' recency rows when they are
    this day's (`usage.recency`), else 90 days of visitor days grouped (25 s at 20,000 accounts). One
    customer at a time took several queries each: minutes at 20,000 customers."""
    if not customers:
        return
    wanted = sorted(customers)
    since = last_day - timedelta(days=days - 1)
    with engine.connect() as conn:
        matching = people.direct_matches(conn, wanted, roles=KEY_ROLES)
        from_recency = days <= pq.LOOKBACK_DAYS <= recency.DAYS and recency.usable(conn, last_day, include_anonymous)
    keyed = {customer for customer, *_ in matching.contacts}
    matched = {(customer, v) for (customer, _), visitors in matching.found.items() for v in visitors}
    last: dict[tuple[str, str], date] = {}  # (customer, matched visitor) -> its last active day
    team: dict[str, int] = {}  # customer -> visitors active in the rule's window
    team_matched: dict[str, set[str]] = {}  # customer -> matched visitors among them
    stmt = (recency.last_active_per_visitor(wanted, last_day, since, pq.LOOKBACK_DAYS) if from_recency
            else pq.last_active_per_visitor(wanted, last_day, since, include_anonymous))
    keyed_ids = pa.array(sorted(keyed), pa.string())
    direct = pa.array(sorted({visitor for _, visitor in matched}), pa.string())
    emails = pa.array(sorted({email for _, email in matching.found}), pa.string())
    for batch in record_batches(engine, stmt, _LAST_ACTIVE_SCHEMA):
        customer_col, visitor_col, lowered_col, _, recent_col, seen_col = batch.columns
        kept = pc.is_in(customer_col, value_set=keyed_ids)  # no key contact, or not asked about: left out
        for counted in pc.value_counts(customer_col.filter(pc.and_(kept, pc.not_equal(recent_col, 0)))).to_pylist():
            team[counted["values"]] = team.get(counted["values"], 0) + counted["counts"]
        # Only a visitor matched by e-mail or id, or seen with a contact's e-mail for its lowered id, is
        # anyone's: the rest of the rows (most of a whole book's) need no look in Python.
        maybe = pc.or_(pc.is_in(visitor_col, value_set=direct),
                       pc.and_(pc.not_equal(seen_col, 0), pc.is_in(lowered_col, value_set=emails)))
        for customer, visitor, lowered, day, recent, seen in zip(
                *(column.to_pylist() for column in batch.filter(pc.and_(kept, maybe)).columns), strict=True):
            if seen and matching.add_lowered(customer, visitor, lowered):
                matched.add((customer, visitor))
            if (customer, visitor) in matched:
                if day is not None:
                    last[customer, visitor] = day
                if recent:
                    team_matched.setdefault(customer, set()).add(visitor)
    for customer, contacts in matching.by_customer().items():
        customers[customer].people = [
            StakeholderWindow(c.email, c.name, c.role, c.title, bool(c.visitor_ids),
                              max((last[customer, v] for v in c.visitor_ids if (customer, v) in last), default=None),
                              team.get(customer, 0) - len(team_matched.get(customer, set()) & set(c.visitor_ids)),
                              pq.LOOKBACK_DAYS)
            for c in contacts]


def _in(stmt: Select[Any], column: Any, chunk: tuple[str, ...] | None) -> Select[Any]:
    return stmt if chunk is None else stmt.where(column.in_(chunk))


def _feature_windows(engine: Engine, last_day: date, cfg: AlertSettings, *, keys: Sequence[str],
                     include_anonymous: bool, customer_ids: Collection[str] | None) -> dict[str, list[FeatureWindow]]:
    """Each mapped customer's use of each key feature: from the feature metrics where they hold every day of
    both windows (`_from_feature_metrics`), else from the raw rows (`_feature_query`)."""
    windows: dict[str, list[FeatureWindow]] = {}
    if not keys:
        return windows
    names = _names(engine, PendoFeature.__table__.c.feature_id, PendoFeature.__table__.c.name)
    metrics_from = recency.feature_metrics_from(engine, last_day, include_anonymous)
    if metrics_from is not None and metrics_from <= _prior_from(last_day, cfg):
        found = _from_feature_metrics(engine, last_day, cfg, keys=keys, include_anonymous=include_anonymous,
                                      customer_ids=customer_ids)
    else:
        found = _from_raw_rows(engine, last_day, cfg, keys=keys, include_anonymous=include_anonymous,
                               customer_ids=customer_ids)
    for customer, feature, prior_users, recent, last_used, prior_uses in found:
        windows.setdefault(customer, []).append(FeatureWindow(
            feature, names.get(feature), int(prior_users), int(recent), last_used, int(prior_uses)))
    for features in windows.values():
        features.sort(key=lambda window: window.feature_id)  # the same order whichever way they were read
    return windows


def _recent_from(last_day: date, cfg: AlertSettings) -> date:
    return last_day - timedelta(days=cfg.feature_abandonment.recent_days - 1)


def _prior_from(last_day: date, cfg: AlertSettings) -> date:
    return _recent_from(last_day, cfg) - timedelta(days=cfg.feature_abandonment.prior_days)


FeatureRow = tuple[str, str, int, int, date | None, int]  # customer, feature, prior users, recent, last use, prior uses


def _from_raw_rows(engine: Engine, last_day: date, cfg: AlertSettings, *, keys: Sequence[str],
                   include_anonymous: bool, customer_ids: Collection[str] | None) -> Iterator[FeatureRow]:
    """`_feature_query` for every mapped customer at once (or the given ones by chunk): the store answers a
    chunk of customers by reading the whole window of every account's rows all the same (the `day` index),
    so chunks would read them once per chunk (a 20,000-account daily run waited 7 minutes on that)."""
    prior_from, recent_from = _prior_from(last_day, cfg), _recent_from(last_day, cfg)
    with engine.connect() as conn:
        for chunk in customer_chunks(customer_ids):
            for features in chunks(list(keys)):
                yield from conn.execute(_feature_query(chunk, features, prior_from=prior_from, recent_from=recent_from,
                                                       until=last_day, include_anonymous=include_anonymous)).tuples()


def _from_feature_metrics(engine: Engine, last_day: date, cfg: AlertSettings, *, keys: Sequence[str],
                          include_anonymous: bool, customer_ids: Collection[str] | None) -> Iterator[FeatureRow]:
    """The rows `_feature_query` gives, for the features the rule can fire on, reading little of the raw rows.

    The feature metrics hold a row per customer, feature and day of use (`recency.feature_metrics_from`
    says when they hold every day asked): from them, each customer's days of use of each key feature in
    the recent window and before it, and its last use. A feature used in the recent window is clear
    whatever its earlier use (`rules.feature_abandonment`): its row gives those days of use as its recent
    uses and no prior counts. Only for a feature used before the recent window and not in it are the
    distinct users and visitor-days of the prior window read from the raw rows, for those customers alone
    (through the mapping's accounts). The whole 42 days of raw rows read for every customer took 30 s of a
    20,000-account daily run after a 90-day backfill (11 GB from disk, README, Benchmark)."""
    recent_from, prior_from = _recent_from(last_day, cfg), _prior_from(last_day, cfg)
    fu = _feature_usage.c
    days = (select(fu.customer_id, fu.feature_id, func.count(case((fu.metric_date >= recent_from, 1))),
                   func.max(fu.metric_date), func.count(case((fu.metric_date < recent_from, 1))))
            .where(fu.metric_date.between(prior_from, last_day)).group_by(fu.customer_id, fu.feature_id))
    unused: dict[str, dict[str, date]] = {}  # customer -> feature used only before the recent window -> last use
    with engine.connect() as conn:
        for chunk in customer_chunks(customer_ids):
            for features in chunks(list(keys)):
                stmt = _in(days.where(fu.feature_id.in_(features)), fu.customer_id, chunk)
                for customer, feature, recent, last_used, prior in conn.execute(stmt).tuples():
                    if recent:
                        yield customer, feature, 0, int(recent), last_used, 0
                    elif prior:
                        unused.setdefault(customer, {})[feature] = last_used
        for group in chunks(sorted(unused)):
            wanted = sorted({feature for customer in group for feature in unused[customer]})
            for features in chunks(wanted):
                stmt = _feature_query(group, features, prior_from=prior_from, recent_from=recent_from,
                                      until=recent_from - timedelta(days=1), include_anonymous=include_anonymous)
                for customer, feature, prior_users, _, _, prior_uses in conn.execute(stmt).tuples():
                    if feature in unused[customer]:
                        yield customer, feature, int(prior_users), 0, unused[customer][feature], int(prior_uses)


def _feature_query(customers: tuple[str, ...] | None, features: tuple[str, ...], *, prior_from: date,
                   recent_from: date, until: date, include_anonymous: bool) -> Select[Any]:
    """(customer, feature, distinct users before `recent_from`, rows from it, last day used, visitor-days of
    use before it), over the raw rows of [prior_from, until]."""
    prior_users = func.count(distinct(case((_fvd.c.day < recent_from, _fvd.c.visitor_id))))
    recent_rows = func.count(case((_fvd.c.day >= recent_from, 1)))
    prior_uses = func.count(case((_fvd.c.day < recent_from, 1)))
    stmt = mapped(select(_mapping.c.customer_id, _fvd.c.feature_id, prior_users, recent_rows, func.max(_fvd.c.day),
                         prior_uses), _fvd.c.account_id, customers)
    stmt = stmt.where(_fvd.c.feature_id.in_(features), _fvd.c.day.between(prior_from, until))
    stmt = keep_visitors(stmt, _fvd.c.visitor_id, include_anonymous)
    return stmt.group_by(_mapping.c.customer_id, _fvd.c.feature_id)


def _add_guides(engine: Engine, customers: dict[str, CustomerData], last_day: date, cfg: AlertSettings) -> None:
    """Each customer's 30-day guide counts on last_day, with the guide's counts at the other customers
    (every customer's counts are read: the comparison spans all of them; rules.counts_elsewhere)."""
    if not customers:
        return
    names = _names(engine, PendoGuide.__table__.c.guide_id, PendoGuide.__table__.c.name)
    stmt = select(_guides.c.guide_id, _guides.c.customer_id, _guides.c.seen_visitors, _guides.c.dismissed_visitors)
    counts: dict[str, dict[str, tuple[int, int]]] = {}
    with engine.connect() as conn:
        for guide, customer, seen, dismissed in conn.execute(stmt.where(_guides.c.metric_date == last_day)):
            counts.setdefault(guide, {})[customer] = (int(seen), int(dismissed))
    for guide, by_customer in sorted(counts.items()):
        elsewhere = counts_elsewhere(by_customer, cfg.guide_dismissal)
        for customer, (seen, dismissed) in sorted(by_customer.items()):
            if customer in customers:
                customers[customer].guides.append(
                    GuideWindow(guide, names.get(guide), seen, dismissed, *elsewhere[customer]))


def _names(engine: Engine, key: Any, name: Any) -> dict[str, str | None]:
    with engine.connect() as conn:
        return dict(conn.execute(select(key, name)).tuples().all())


def add_health(engine: Engine, customers: dict[str, CustomerData], last_day: date) -> None:
    """Each customer's health score on last_day and CHANGE_DAYS before, and its renewal date."""
    before = last_day - timedelta(days=CHANGE_DAYS)
    s = _scores.c
    scores = select(s.customer_id, s.score_date, s.overall, s.band, s.coverage, s.settings_version)
    found: dict[str, dict[date, tuple[float | None, str, float, int]]] = {}
    with engine.connect() as conn:
        for chunk in chunks(sorted(customers)):
            rows = conn.execute(scores.where(s.customer_id.in_(chunk), s.score_date.in_((last_day, before))))
            for customer, day, overall, band, coverage, version in rows:
                found.setdefault(customer, {})[day] = (overall, band, float(coverage), int(version))
            renewals = select(_customers.c.customer_id, _customers.c.renewal_date).where(
                _customers.c.customer_id.in_(chunk))
            for customer, renewal in conn.execute(renewals):
                customers[customer].renewal_date = renewal
    for customer, days in found.items():
        if last_day in days:
            customers[customer].health = _window(last_day, days[last_day], days.get(before))


def _window(last_day: date, now: tuple[float | None, str, float, int],
            then: tuple[float | None, str, float, int] | None) -> HealthWindow:
    """The window of two stored scores; the earlier one left out unless computed alike (risk.comparable)."""
    score, band, coverage, version = now
    if then is None or not comparable(coverage, version, then[2], then[3]):
        return HealthWindow(last_day, score, band)
    return HealthWindow(last_day, score, band, then[0], then[1])


def _csms(engine: Engine, customers: dict[str, CustomerData]) -> dict[str, str | None]:
    out: dict[str, str | None] = {}
    with engine.connect() as conn:
        for chunk in chunks(sorted(customers)):
            stmt = select(_customers.c.customer_id, _customers.c.csm_email).where(_customers.c.customer_id.in_(chunk))
            out.update(dict(conn.execute(stmt).tuples().all()))
    return out
