"""Sorting, filtering and paging My customers (pendo_core/book/view.py): every sort starts at the end
that needs attention, ignores case, keeps unknowns last; filters narrow before paging."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from pendo_core.book import view

NAN = float("nan")
# name, risk_rank, score, band, segment, days_to_renewal, renewal_date, arr, alerts (high, open), kinds, csm
ROWS = [
    ("beta", 1, 30.0, "red", "SMB", 20, date(2026, 4, 8), 50_000.0, (1, 2), ("usage_drop",), "ana@x.io"),
    ("Alpha", 2, 60.0, "yellow", "Enterprise", 200, date(2026, 10, 5), 400_000.0, (0, 1), ("no_login",), "ben@x.io"),
    ("gamma", 3, NAN, "insufficient data", "SMB", None, None, NAN, (0, 0), (), "ana@x.io"),
    ("Delta", 4, 90.0, "green", "Mid-Market", -3, date(2026, 3, 16), 90_000.0, (0, 0), (), "ben@x.io"),
    ("epsilon", 5, NAN, "not scored", "SMB", 45, date(2026, 5, 3), 10_000.0, (2, 2),
     ("usage_drop", "guide_dismissal"), "ana@x.io"),
]


@pytest.fixture
def frame() -> pd.DataFrame:
    """A small book, in risk order."""
    return pd.DataFrame([{
        "name": n, "risk_rank": r, "score": s, "band": b, "segment": seg, "days_to_renewal": d, "renewal_date": rd,
        "arr": a, "alerts_high": al[0], "alerts_open": al[1], "alert_kinds": k, "csm_email": c,
        "csm_name": c.split("@")[0].title()} for n, r, s, b, seg, d, rd, a, al, k, c in ROWS]).astype(
        {"days_to_renewal": "Int64"})


@pytest.mark.parametrize(("by", "reverse", "names"), [
    ("risk", False, ["beta", "Alpha", "gamma", "Delta", "epsilon"]),
    ("risk", True, ["epsilon", "Delta", "gamma", "Alpha", "beta"]),
    ("name", False, ["Alpha", "beta", "Delta", "epsilon", "gamma"]),
    ("name", True, ["gamma", "epsilon", "Delta", "beta", "Alpha"]),
    ("score", False, ["beta", "Alpha", "Delta", "gamma", "epsilon"]),
    ("score", True, ["Delta", "Alpha", "beta", "gamma", "epsilon"]),
    ("arr", False, ["Alpha", "Delta", "beta", "epsilon", "gamma"]),
    ("renewal", False, ["Delta", "beta", "epsilon", "Alpha", "gamma"]),
    ("alerts", False, ["epsilon", "beta", "Alpha", "gamma", "Delta"]),
    ("segment", False, ["Alpha", "Delta", "beta", "gamma", "epsilon"]),
], ids=["risk", "risk-reversed", "name-ignores-case", "name-reversed", "lowest-health-first-unknown-last",
        "reversed-unknown-still-last", "largest-arr-first", "soonest-renewal-first", "most-high-alerts-first",
        "segment-ties-keep-risk-order"])
def test_sorting(frame: pd.DataFrame, by: str, reverse: bool, names: list[str]) -> None:
    """The whole book sorted one way, as the page shows it before paging."""
    assert view.sort_rows(frame, by, reverse=reverse)["name"].tolist() == names


@pytest.mark.parametrize(("filters", "names"), [
    (view.Filters(), ["beta", "Alpha", "gamma", "Delta", "epsilon"]),
    (view.Filters(bands=["Red", "Yellow"]), ["beta", "Alpha"]),
    (view.Filters(bands=[view.NO_SCORE]), ["gamma", "epsilon"]),
    (view.Filters(segments=["SMB"]), ["beta", "gamma", "epsilon"]),
    (view.Filters(renewal_within=30), ["beta"]),
    (view.Filters(renewal_within=90), ["beta", "epsilon"]),
    (view.Filters(alert_kinds=["usage_drop"]), ["beta", "epsilon"]),
    (view.Filters(alert_kinds=["guide_dismissal", "no_login"]), ["Alpha", "epsilon"]),
    (view.Filters(csm_email="ben@x.io"), ["Alpha", "Delta"]),
    (view.Filters(bands=["Red"], segments=["Enterprise"]), []),
], ids=["none", "red-or-yellow", "no-score-is-both-unscored-kinds", "segment", "renewal-30-days",
        "renewal-90-days-past-dates-left-out", "alert-kind", "any-of-two-kinds", "one-csm", "nothing-matches"])
def test_filters(frame: pd.DataFrame, filters: view.Filters, names: list[str]) -> None:
    """Each filter keeps the rows that pass it; together they all must pass."""
    assert view.filter_rows(frame, filters)["name"].tolist() == names


@pytest.mark.parametrize(("rows", "number", "expected", "pages"), [
    (60, 1, (0, 25), 3), (60, 3, (50, 60), 3), (60, 9, (50, 60), 3), (60, 0, (0, 25), 3), (0, 1, (0, 0), 1),
    (25, 2, (0, 25), 1)], ids=["first", "last-partial", "past-the-end-clamps", "zero-clamps", "empty", "exactly-one"])
def test_paging(rows: int, number: int, expected: tuple[int, int], pages: int) -> None:
    """Pages of 25; a page number outside the range shows the nearest page."""
    frame = pd.DataFrame({"n": range(rows)})
    page = view.page_of(frame, number)
    assert (page["n"].min() if rows else 0, page["n"].max() + 1 if len(page) else 0) == expected
    assert view.page_count(rows) == pages


def test_the_export_is_plain_columns_in_the_shown_order(frame: pd.DataFrame) -> None:
    """The CSV keeps the rows' order, names alert kinds by their labels, puts the currency beside the
    ARR, and leaves out the sparkline."""
    rows = view.sort_rows(frame, "name").assign(usage_weeks=[[1.0]] * 5, at_risk=False)
    out = view.export(rows)
    assert out["name"].tolist() == ["Alpha", "beta", "Delta", "epsilon", "gamma"]
    assert out.loc[out["name"] == "epsilon", "alert_kinds"].item() == "Usage drop; Guide dismissed"
    assert list(out.columns[out.columns.get_loc("arr"):][:2]) == ["arr", "currency"]
    assert set(out["currency"]) == {view.CURRENCY}
    assert "usage_weeks" not in out.columns
