"""Hand-built stores for the health and alert tests: customers, daily usage rows, feature use, guides."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, timedelta

from sqlalchemy import Engine, select

from pendo_core.store.models import Base

LAST = date(2026, 3, 18)  # a Wednesday; the last complete day of most hand-built histories
AS_OF = LAST + timedelta(days=1)


def table_insert(engine: Engine, name: str, rows: list[dict[str, object]]) -> None:
    """Insert plain rows into a table by name."""
    if rows:
        with engine.begin() as conn:
            conn.execute(Base.metadata.tables[name].insert(), rows)


def _exists(engine: Engine, name: str, column: str, value: object) -> bool:
    table = Base.metadata.tables[name]
    with engine.connect() as conn:
        return conn.execute(select(table.c[column]).where(table.c[column] == value)).first() is not None


def add_customer(engine: Engine, customer_id: str, *, csm: str | None = None, manager: str | None = None,
                 delivery: str = "immediate", accounts: Iterable[str] = ()) -> None:
    """A customer with an optional CSM (and the CSM's manager) and its mapped Pendo accounts."""
    if csm and not _exists(engine, "csms", "email", csm):
        table_insert(engine, "csms", [{"email": csm, "name": csm.split("@")[0], "manager_email": manager,
                                       "delivery": delivery}])
    table_insert(engine, "customers", [{"customer_id": customer_id, "name": f"{customer_id} Inc",
                                        "csm_email": csm}])
    table_insert(engine, "pendo_account_mapping", [{"pendo_account_id": a, "customer_id": customer_id,
                                                    "method": "manual"} for a in accounts])


def history(days: int, weekday: int, weekend: int, *, last: date = LAST,
            change: Callable[[int, date], int] | None = None) -> dict[date, int]:
    """DAU for the `days` days ending on `last`: `weekday`/`weekend` values, then `change(i, day)`
    (i = days before last) may rewrite any day."""
    out: dict[date, int] = {}
    for i in range(days):
        day = last - timedelta(days=i)
        value = weekend if day.weekday() >= 5 else weekday
        out[day] = change(i, day) if change else value
    return out


def dropped(factor: float, since: int, weekday: int, weekend: int) -> Callable[[int, date], int]:
    """A change: usage times `factor` on the last `since` days."""
    def change(i: int, day: date) -> int:
        base = weekend if day.weekday() >= 5 else weekday
        return round(base * factor) if i < since else base
    return change


def add_usage(engine: Engine, customer_id: str, dau: Mapping[date, int], *, mau: int | None = None,
              active: int | None = None) -> None:
    """One pendo_usage_metrics row per day of `dau`; mau/active default to the peak DAU."""
    peak = max(dau.values(), default=0)
    rows = [{"customer_id": customer_id, "metric_date": day, "pendo_account_id": "acct", "dau": n,
             "wau": n, "mau": peak if mau is None else mau, "active_visitors": peak if active is None else active,
             "session_count": n, "avg_session_minutes": None, "page_views": 0, "feature_events": 0,
             "time_in_app_minutes": 0} for day, n in sorted(dau.items())]
    table_insert(engine, "pendo_usage_metrics", rows)


def add_features(engine: Engine, features: Mapping[str, bool]) -> None:
    """Catalogue features: id -> is a Pendo Core Event (a key feature)."""
    table_insert(engine, "pendo_features", [{"feature_id": f, "name": f.title(), "is_core_event": core}
                                            for f, core in features.items()])


def add_feature_use(engine: Engine, account: str, feature: str, uses: Iterable[tuple[date, str]]) -> None:
    """Raw feature rows: (day, visitor) pairs of one account and feature."""
    table_insert(engine, "pendo_feature_visitor_days", [
        {"account_id": account, "day": day, "feature_id": feature, "visitor_id": visitor, "num_events": 2,
         "num_minutes": 1} for day, visitor in uses])


def add_guide_counts(engine: Engine, customer_id: str, guide: str, day: date, *, seen: int, dismissed: int,
                     catalogue: bool = True) -> None:
    """A pendo_guide_metrics row (30-day counts ending on `day`) and, unless `catalogue` is False (a guide
    already added for another customer), the guide's catalogue entry."""
    if catalogue:
        table_insert(engine, "pendo_guides", [{"guide_id": guide, "name": guide.title()}])
    table_insert(engine, "pendo_guide_metrics", [{
        "customer_id": customer_id, "guide_id": guide, "metric_date": day, "seen_visitors": seen,
        "completed_visitors": 0, "dismissed_visitors": dismissed, "completion_rate": 0.0,
        "dismissal_rate": dismissed / seen if seen else None}])


def slide(weekday: int, weekend: int, *, days: int, to: float) -> Callable[[int, date], int]:
    """A straight slide from the usual values to `to` times them over the last `days` days."""
    def change(i: int, day: date) -> int:
        base = weekend if day.weekday() >= 5 else weekday
        share = 1.0 if i >= days else to + (1 - to) * i / days
        return round(base * share)
    return change


def step(weekday: int, weekend: int, *, days: int, to: float, back_after: int | None = None
         ) -> Callable[[int, date], int]:
    """Usage times `to` for the `days` days ending `back_after` days ago (0: still down)."""
    def change(i: int, day: date) -> int:
        base = weekend if day.weekday() >= 5 else weekday
        down = (back_after or 0) <= i < (back_after or 0) + days
        return round(base * to) if down else base
    return change


def month_end_peak(weekday: int, weekend: int) -> Callable[[int, date], int]:
    """Twice the use on the last 4 days of every month (a finance team's close)."""
    def change(i: int, day: date) -> int:
        base = weekend if day.weekday() >= 5 else weekday
        return 2 * base if (day + timedelta(days=4)).month != day.month else base
    return change
