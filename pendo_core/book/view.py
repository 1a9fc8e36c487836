"""Narrowing to a viewer, sorting, filtering and paging the book (`queries.book`'s frame), as pure
functions over it.

Every sort puts the concerning end first by default (lowest health, biggest fall, soonest renewal,
largest ARR, most alerts, longest silence; names A to Z ignoring case); `reverse` flips it. Unknown
values sort last either way, and ties keep the risk order. Filters narrow the whole book before it
is paged, so a page is always a slice of the whole sorted, filtered list.
"""

from __future__ import annotations

import math
from collections.abc import Collection
from dataclasses import dataclass

import pandas as pd

from pendo_core.access.rules import Viewer, visible_customer_ids
from pendo_core.alerts.kinds import label
from pendo_core.book.risk import NOT_SCORED

PAGE_SIZE = 25
CURRENCY = "USD"  # the customer import carries ARR without a currency
CURRENCY_SYMBOL = "$"
NO_SCORE = "No score"
SCORED_BANDS = ("red", "yellow", "green")
BANDS = {"Red": ("red",), "Yellow": ("yellow",), "Green": ("green",), NO_SCORE: ("insufficient data", NOT_SCORED)}
RENEWAL_WINDOWS = {"Any time": None, "Next 30 days": 30, "Next 60 days": 60, "Next 90 days": 90,
                   "Next 180 days": 180, "Next 365 days": 365}


@dataclass(frozen=True)
class Sort:
    """One way to sort: its columns and whether the concerning end is the high one."""

    label: str
    columns: tuple[str, ...]
    high_first: bool = False


SORTS = {
    "risk": Sort("Risk", ("risk_rank",)),
    "name": Sort("Customer", ("name",)),
    "score": Sort("Health score", ("score",)),
    "health_change": Sort("Health change, 28 days", ("health_change",)),
    "usage_change": Sort("Usage change, 28 days", ("usage_change",)),
    "mau": Sort("MAU", ("mau",)),
    "breadth": Sort("Key-feature breadth", ("breadth",)),
    "alerts": Sort("Open alerts", ("alerts_high", "alerts_open"), high_first=True),
    "last_active": Sort("Last active", ("last_active",)),
    "arr": Sort("ARR", ("arr",), high_first=True),
    "renewal": Sort("Renewal", ("renewal_date",)),
    "segment": Sort("Segment", ("segment",)),
    "csm": Sort("CSM", ("csm_name",)),
}


@dataclass(frozen=True)
class Filters:
    """What narrows the book: bands and segments (empty: all), a renewal window in days, alert kinds
    (a customer with an open alert of any of them), one CSM's e-mail."""

    bands: Collection[str] = ()
    segments: Collection[str] = ()
    renewal_within: int | None = None
    alert_kinds: Collection[str] = ()
    csm_email: str | None = None


def health_text(band: str, score: float) -> str:
    """The score in whole points rounded down and its band ("69 red" for 69.8: rounding up could cross the
    band's cut-off of 70); "no score" without one."""
    return f"{math.floor(score):d} {band}" if pd.notna(score) and band in SCORED_BANDS else "no score"


def visible(book: pd.DataFrame, viewer: Viewer) -> pd.DataFrame:
    """The rows of a whole book (`queries.book(engine, None, day)`) the viewer sees under the access
    rule, in the same order, `risk_rank` renumbered from 1: what `book(engine, viewer, day)` returns."""
    ids = set(visible_customer_ids(zip(book["customer_id"], book["csm_email"], strict=True), viewer))
    mine = book[book["customer_id"].isin(ids)].reset_index(drop=True)
    return mine.assign(risk_rank=range(1, len(mine) + 1))


def sort_rows(frame: pd.DataFrame, by: str = "risk", *, reverse: bool = False) -> pd.DataFrame:
    """The rows sorted `by` a SORTS key (text ignoring case), unknown values last, ties in risk order."""
    how = SORTS[by]
    ascending = how.high_first == reverse
    base = frame.sort_values("risk_rank", kind="mergesort")
    ordered = base.sort_values(list(how.columns), ascending=ascending, na_position="last", kind="mergesort",
                               key=_sort_key)
    return ordered.reset_index(drop=True)


def _sort_key(column: pd.Series) -> pd.Series:
    if column.dtype == object and column.map(lambda v: isinstance(v, str)).any():
        return column.map(lambda v: v.casefold() if isinstance(v, str) else v)
    if column.dtype == object:  # dates: comparable as they are, None stays unknown
        return pd.to_datetime(column)
    return column


def filter_rows(frame: pd.DataFrame, filters: Filters) -> pd.DataFrame:
    """The rows that pass every filter."""
    keep = pd.Series(True, index=frame.index)
    if filters.bands:
        keep &= frame["band"].isin([b for label in filters.bands for b in BANDS[label]])
    if filters.segments:
        keep &= frame["segment"].isin(list(filters.segments))
    if filters.renewal_within is not None:
        days = frame["days_to_renewal"]
        keep &= (days >= 0).fillna(False) & (days <= filters.renewal_within).fillna(False)
    if filters.alert_kinds:
        wanted = set(filters.alert_kinds)
        keep &= frame["alert_kinds"].map(lambda kinds: bool(wanted.intersection(kinds)))
    if filters.csm_email:
        keep &= frame["csm_email"] == filters.csm_email
    return frame[keep.astype(bool)]


def page_count(rows: int, size: int = PAGE_SIZE) -> int:
    """Pages needed for `rows` rows (at least one, so an empty list still has page 1)."""
    return max(1, -(-rows // size))


def page_of(frame: pd.DataFrame, number: int, size: int = PAGE_SIZE) -> pd.DataFrame:
    """Page `number` (1-based, clamped to the pages there are) of the rows."""
    number = min(max(1, number), page_count(len(frame), size))
    return frame.iloc[(number - 1) * size:number * size]


def export(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows for a CSV, in their order: plain columns (no sparkline), alert kinds by their labels,
    the ARR's currency beside it, the risk rank and its reasons."""
    out = rows.drop(columns=["usage_weeks", "at_risk"]).copy()
    out["alert_kinds"] = ["; ".join(label(k) for k in kinds) for kinds in out["alert_kinds"]]
    out.insert(out.columns.get_loc("arr") + 1, "currency", CURRENCY)
    return out
