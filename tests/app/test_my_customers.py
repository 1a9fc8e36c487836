"""My customers (pages/my_customers.py) for each role: the book most at risk first, its filters, sorting,
every row in one grid (so a column header sorts them all), a row that opens the customer, and the CSV
export. Each expectation comes from the read model (pendo_core.book), which has its own table-driven
tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text
from streamlit.testing.v1 import AppTest

from jobs import bench_store
from pendo_core.access.rules import Viewer
from pendo_core.admin.users import User
from pendo_core.book import book, view
from tests.support.app import app, open_page, run, texts, use_store
from tests.support.app_data import LAST, Store, new_store

PAGE = "pages/my_customers.py"
SHAPE = bench_store.StoreShape(customers=60, days=40, csms=2, features_per_customer=6)
CSM = User(bench_store.csm_email(0), "CSM 00", "csm")  # 30 customers: two pages
LEADER = User("lead@cscx.io", "Lea Leader", "leader")
ADMIN = User("admin@cscx.io", "Ada Admin", "admin")
# Three of CSM 00's customers renamed so that sorting by name shows whether case is ignored.
RENAMED = {0: "APEX", 2: "Acme", 4: "AMBER Energy"}


@pytest.fixture(scope="module")
def book_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """60 customers of two CSMs over 40 days (jobs.bench_store), with health, alerts, ARR and renewals."""
    store = new_store(tmp_path_factory.mktemp("my-customers") / "store.db")
    bench_store.build_store(store.engine, SHAPE, LAST)
    with store.engine.begin() as conn:
        for index, name in RENAMED.items():
            conn.execute(text("UPDATE customers SET name = :name WHERE name = :old"),
                         {"name": name, "old": f"Customer {index:04d}"})
    return store


@pytest.fixture
def on_store(book_store: Store) -> Iterator[Store]:
    """The app pointed at the store."""
    with use_store(book_store.url):
        yield book_store


def _expected(store: Store, user: User, *, show_all: bool = False) -> pd.DataFrame:
    return view.visible(book(store.engine, None, LAST), Viewer(user.email, user.role, show_all))


def _names(at: AppTest) -> list[str]:
    return at.dataframe[0].value["name"].tolist()


def _open(user: User, **state: Any) -> AppTest:
    return open_page(PAGE, user, **state)


@pytest.mark.parametrize(("user", "show_all", "count", "csm_column"), [
    (CSM, False, 30, False), (CSM, True, 60, True), (LEADER, False, 60, True), (ADMIN, False, 60, True)],
    ids=["csm-own", "csm-showing-all", "leader", "admin"])
@pytest.mark.usefixtures("on_store")
def test_each_role_sees_its_book_most_at_risk_first(book_store: Store, user: User, show_all: bool, count: int,
                                                    csm_column: bool) -> None:
    """The grid holds every one of the viewer's customers in the risk order; a view of several CSMs'
    customers has the CSM column and filter, a CSM's own book neither."""
    at = _open(user, frame_show_all=show_all)
    expected = _expected(book_store, user, show_all=show_all)
    assert len(expected) == count
    assert _names(at) == expected["name"].tolist()
    assert f"**{count}** customers · scroll for all {count}" in " ".join(texts(at.markdown))
    assert ("csm" in at.dataframe[0].value.columns) is csm_column
    assert ("CSM" in [s.label for s in at.selectbox]) is csm_column


@pytest.mark.usefixtures("on_store")
def test_a_leader_picks_one_csms_book(book_store: Store) -> None:
    """With one CSM picked, the leader sees exactly that CSM's customers, and no CSM column."""
    at = _open(LEADER)
    at.selectbox(key="my_customers_csm").set_value(CSM.email)
    run(at)
    assert _names(at) == _expected(book_store, CSM)["name"].tolist()
    assert "csm" not in at.dataframe[0].value.columns


FILTERS = [
    ("my_customers_bands", "multiselect", ["Red"], view.Filters(bands=["Red"])),
    ("my_customers_segments", "multiselect", ["SMB"], view.Filters(segments=["SMB"])),
    ("my_customers_renewal", "selectbox", "Next 90 days", view.Filters(renewal_within=90)),
    ("my_customers_kinds", "multiselect", ["no_login"], view.Filters(alert_kinds=["no_login"])),
]


@pytest.mark.parametrize(("key", "widget", "value", "filters"), FILTERS, ids=["band", "segment", "renewal", "alert"])
@pytest.mark.usefixtures("on_store")
def test_each_filter_narrows_the_book(book_store: Store, key: str, widget: str, value: Any,
                                      filters: view.Filters) -> None:
    """A filter keeps the rows that pass it (as the read model's filter does), still most at risk first."""
    at = _open(LEADER)
    getattr(at, widget)(key=key).set_value(value)
    run(at)
    expected = view.filter_rows(_expected(book_store, LEADER), filters)
    assert 0 < len(expected) < 60
    assert _names(at) == expected["name"].tolist()


@pytest.mark.parametrize(("reverse", "where", "names"), [
    (False, slice(0, 3), ["Acme", "AMBER Energy", "APEX"]),
    (True, slice(-3, None), ["APEX", "AMBER Energy", "Acme"])], ids=["a-to-z", "z-to-a"])
@pytest.mark.usefixtures("on_store")
def test_sorting_by_name_ignores_case(reverse: bool, where: slice, names: list[str]) -> None:
    """Acme, AMBER Energy, APEX: not AMBER and APEX before Acme, as a case-sensitive sort has it; the
    sort spans the whole list (Z to A, the three end it)."""
    at = _open(CSM)
    at.selectbox(key="my_customers_sort").set_value("name")
    at.toggle(key="my_customers_reverse").set_value(reverse)
    run(at)
    assert _names(at)[where] == names


@pytest.mark.usefixtures("on_store")
def test_the_grid_holds_every_row_so_a_header_sort_sorts_them_all(book_store: Store) -> None:
    """No pages: the CSM's 30 customers are all in the grid (it scrolls past 25 rows), so sorting from a
    column header, which the grid does over the rows it holds, sorts the whole list; no page picker."""
    at = _open(CSM)
    assert _names(at) == _expected(book_store, CSM)["name"].tolist()
    assert len(_names(at)) == 30
    assert not [n for n in at.number_input if "Page" in n.label]


@pytest.mark.usefixtures("on_store")
@pytest.mark.parametrize("selection", [
    {"rows": [2], "columns": [], "cells": []},
    {"rows": [], "columns": [], "cells": [[2, "segment"]]},
], ids=["row", "any-cell"])
def test_clicking_a_row_opens_that_customer(book_store: Store, selection: dict[str, list[Any]]) -> None:
    """Selecting a row, or clicking any cell of it (the table has no row markers), makes it the sidebar's
    customer and opens Account usage on it."""
    at = _open(CSM)
    third = _expected(book_store, CSM).iloc[2]
    at.session_state["my_customers_table"] = {"selection": selection}
    run(at)
    assert at.session_state["frame_customer"] == third["customer_id"]
    assert texts(at.title) == [f"Account usage · {third['name']}"]


@pytest.mark.usefixtures("on_store")
def test_the_page_offers_the_csv() -> None:
    """A download button for the filtered list (its columns: test_book_view.py)."""
    at = _open(CSM)
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV"]


@pytest.mark.parametrize(("user", "title"), [(CSM, "My customers"), (LEADER, "Portfolio"), (ADMIN, "Portfolio")],
                         ids=["csm", "leader", "admin"])
@pytest.mark.usefixtures("on_store")
def test_each_role_lands_on_its_screen(user: User, title: str) -> None:
    """Signed in, a CSM opens on My customers, a leader and an admin on the Portfolio."""
    at = run(app(user=user))
    assert texts(at.title)[0] == title


def test_a_csm_without_customers_is_told_how_to_see_others(tmp_path: Path) -> None:
    """No customer of their own: the page says so and points at "Show all customers"."""
    store = new_store(tmp_path / "store.db")
    bench_store.build_store(store.engine, bench_store.StoreShape(customers=3, days=10, csms=1), LAST)
    with use_store(store.url):
        at = _open(User("new@cscx.io", "New CSM", "csm"))
    assert any("Show all customers" in t for t in texts(at.info))
    assert not at.dataframe


@pytest.mark.parametrize(("band", "score", "text"), [
    ("red", 69.8, "69 red"), ("yellow", 70.0, "70 yellow"), ("green", 99.99, "99 green"),
    ("red", float("nan"), "no score"), ("insufficient data", 40.0, "no score")],
    ids=["below-a-cut-off", "on-it", "near-100", "nan", "no-band"])
def test_a_whole_point_never_crosses_its_band(band: str, score: float, text: str) -> None:
    """The list rounds down: 69.8 red shows 69, not 70 beside a legend that says red is below 70."""
    from pendo_core.book.view import health_text

    assert health_text(band, score) == text


@pytest.mark.usefixtures("on_store")
def test_the_wau_line_gives_no_verdict_and_each_usage_column_names_its_measure() -> None:
    """The sparkline is WAU at 12 week ends and "Usage Δ" is the 28-day DAU trend: two measures over two
    windows. The line is drawn in one colour (Streamlit's "auto" colours it by its first point against
    its last, so a level WAU line was green beside a 41% fall in DAU), its header names WAU, and each help
    says which measure the other column is."""
    at = _open(CSM)
    columns = json.loads(at.dataframe[0].proto.columns)
    line, change = columns["usage"], columns["usage_change"]
    assert line["label"] == "WAU"
    assert line["type_config"].get("color") in (None, "primary")
    assert all(word in line["help"] for word in ("Usage Δ", "DAU"))
    assert all(word in change["help"] for word in ("WAU", "28 days"))
