"""The CSM and leader screens (Account usage, Feature adoption, Guides, Portfolio) per role:
they render without an exception, show their key widgets and numbers, and explain empty data."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pages.ui import samples
from pendo_core.store import models
from tests.support.app import app, run, texts, use_store
from tests.support.app_data import LAST_DAY, SYNCED_AT, USERS, Store, copy_store, customer_ids

CUSTOMER_PAGES = ["pages/account_usage.py", "pages/features.py", "pages/guides.py"]
DETAIL = "One feature, day by day"  # Feature adoption's third tab
ROLES = ["csm", "leader", "admin"]


def _charts(at: object) -> list[object]:
    return list(at.get("vega_lite_chart"))  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", ROLES)
def test_account_usage(app_env: Store, role: str) -> None:
    """Headline numbers (DAU as the mean of the last 7 days), the charts and the comparison table."""
    customer = customer_ids(app_env, "csm00@bench.cscx")[0]
    at = run(app("pages/account_usage.py", USERS[role], frame_customer=customer))
    labels = [m.label for m in at.metric]
    assert labels == ["DAU, 7-day mean", "WAU", "MAU", "Stickiness", "DAU trend, 28 days", "Sessions a day",
                      "Session length", "Days since login"]
    with Session(app_env.engine) as session:
        week = session.scalars(select(models.UsageMetric.dau).where(
            models.UsageMetric.customer_id == customer,
            models.UsageMetric.metric_date > LAST_DAY - timedelta(days=7))).all()
    assert at.metric[0].value == f"{sum(week) / 7:,.1f}"
    assert len(_charts(at)) == 6  # users + stickiness, gauge, sessions, time, session length, events
    assert [d.value.shape[0] for d in at.dataframe] == [6]
    rank = at.dataframe[0].value["rank"]  # numbers, so the column sorts by them; empty among fewer than 5 peers
    assert pd.api.types.is_float_dtype(rank)
    peers = _peers(app_env, texts(at.title)[0].split(" · ", 1)[1])
    said = [c for c in texts(at.caption) if c.startswith("Percentile in segment: too few to say")]
    if samples.too_few(peers):
        assert rank.isna().all()
        assert said == [f"Percentile in segment: too few to say (n = {peers} other customers in the segment, "
                        "fewer than 5), so it is left empty."]
    else:
        assert rank.dropna().between(0, 100).all()
        assert not said
    assert [b.label for b in at.get("download_button")] == ["Download daily usage (CSV)"]


def test_account_usage_outside_the_synced_days_explains_itself(app_env: Store) -> None:
    """A range with no stored day says why instead of drawing empty charts."""
    far = (LAST_DAY - timedelta(days=400), LAST_DAY - timedelta(days=300))
    at = run(app("pages/account_usage.py", USERS["csm"], frame_range=far))
    assert any("outside the synced days" in i for i in texts(at.info))
    assert not _charts(at)


def test_account_usage_marks_days_without_data_as_gaps(app_env: Store) -> None:
    """A range reaching before the first synced day counts those days as gaps, not zeros."""
    wider = (LAST_DAY - timedelta(days=49), LAST_DAY)  # the store holds 40 days
    at = run(app("pages/account_usage.py", USERS["csm"], frame_range=wider))
    assert any("10 day(s)" in c and "gaps" in c for c in texts(at.caption))


@pytest.mark.parametrize("role", ROLES)
def test_feature_adoption(app_env: Store, role: str) -> None:
    """Feature list, heatmaps, the drill-down picker, gaps and peer percentiles render for every role."""
    at = run(app("pages/features.py", USERS[role]))
    assert [m.label for m in at.metric] == ["Features used, 30 days", "Key features used", "Key features unused",
                                            "Breadth percentile"]
    table = at.dataframe[0].value
    assert list(table.columns)[:3] == ["key", "name", "adoption"]
    assert len(table) >= 1
    for column in ("adoption", "peers", "rank"):  # numbers, so each sorts by them; empty where too few to say
        assert pd.api.types.is_float_dtype(table[column]), column
        assert table[column].dropna().between(0, 100).all(), column
    assert [t.label for t in at.tabs] == ["By week", "Across customers", "One feature, day by day"]
    opened = run(app("pages/features.py", USERS[role], features_tab=DETAIL))
    assert opened.selectbox(key="features_drill").options
    peers = _peers(app_env, texts(at.title)[0].split(" · ", 1)[1])
    if samples.too_few(peers):  # percentiles among 1 to 4 peers are no ranks: said, not drawn
        assert at.metric[3].value == f"too few to say (n = {peers})"
        assert any("too few to say" in t for t in texts(at.info))
        assert table[["peers", "rank"]].isna().all().all()
        assert any(c.startswith("Peer percentile and peers using it: too few to say") for c in texts(at.caption))
    below = 1 if samples.too_few(peers) else 2  # gaps, and percentiles among enough peers
    assert len(_charts(at)) == 1 + below  # the open tab's weekly heatmap
    assert len(_charts(opened)) == 2 + below  # the day-by-day tab's clicks and users / views


@pytest.mark.parametrize(("tab", "drawn"), [("By week", ["weekly heatmap"]),
                                            ("Across customers", ["customer heatmap"]),
                                            (DETAIL, ["feature picker"])],
                         ids=["by-week", "across-customers", "day-by-day"])
def test_feature_adoption_runs_only_the_open_tab(app_env: Store, tab: str, drawn: list[str]) -> None:
    """Each tab reads and draws only while it is open (a tab switch reruns the page)."""
    at = run(app("pages/features.py", USERS["csm"], features_tab=tab))
    seen = {"feature picker": _has(at, "features_drill"), "customer heatmap": _has(at, "features_heatmap_scope"),
            "weekly heatmap": any("Week ending" in c.proto.spec for c in _charts(at))}
    assert sorted(k for k, v in seen.items() if v) == sorted(drawn)


def _has(at: object, key: str) -> bool:
    """True when the run drew the widget with this key."""
    return any(getattr(w, "key", None) == key for w in at.main)  # type: ignore[attr-defined]


def _few_segments_are_said(store: Store, at: object) -> None:
    """Segments of fewer than 5 customers are named as too few to say, not drawn as a median."""
    from pendo_core.usage.queries import customers

    counts = customers(store.engine)["segment"].value_counts()
    few = [s for s, n in counts.items() if samples.too_few(n)]
    said = [c for c in texts(at.caption) if samples.TOO_FEW in c]  # type: ignore[attr-defined]
    assert all(any(str(s) in c for c in said) for s in few)
    assert bool(said) == bool(few)


def _peers(store: Store, name: str) -> int:
    """The other customers of the named customer's segment."""
    from pendo_core.usage.queries import customers

    frame = customers(store.engine)
    segment = frame.set_index("name").loc[name, "segment"]
    return int((frame["segment"] == segment).sum()) - 1


def test_feature_drill_down_to_another_feature(app_env: Store) -> None:
    """Picking another feature redraws its daily detail without an error."""
    at = run(app("pages/features.py", USERS["csm"], features_tab=DETAIL))
    last = len(at.selectbox(key="features_drill").options) - 1
    at.selectbox(key="features_drill").select_index(last)
    run(at)
    assert at.selectbox(key="features_drill").index == last


def test_adoption_heatmap_across_customers_stays_in_the_users_scope(app_env: Store) -> None:
    """A CSM's customer heatmap shows only customers they may see."""
    at = run(app("pages/features.py", USERS["csm"], features_tab="Across customers"))
    at.get("button_group")[0].set_value("All I can see")
    run(at)
    rows = [r for c in _charts(at) for d in c.proto.datasets for r in _rows(d)]
    shown = {r["customer_id"] for r in rows if "customer_id" in r}
    assert shown
    assert shown <= set(customer_ids(app_env, "csm00@bench.cscx"))


@pytest.mark.parametrize("role", ROLES)
def test_guides(app_env: Store, role: str) -> None:
    """Onboarding progress and the per-guide table with completion and dismissal rates."""
    at = run(app("pages/guides.py", USERS[role]))
    labels = [m.label for m in at.metric]
    assert labels == ["Onboarding guides completed", "Guides seen", "Completion rate", "Dismissal rate"]
    table = at.dataframe[0].value
    assert {"seen", "completed", "dismissed", "completion", "dismissal"} <= set(table.columns)
    assert pd.api.types.is_float_dtype(table["completion"])  # numbers (in percent), so they sort as such
    assert pd.api.types.is_float_dtype(table["dismissal"])
    for row in table.itertuples():  # a rate from fewer than 5 viewers is no rate: left empty
        if row.seen < 5:
            assert math.isnan(row.completion)
            assert math.isnan(row.dismissal)
        else:
            assert (row.completion, row.dismissal) == pytest.approx(
                (100 * row.completed / row.seen, 100 * row.dismissed / row.seen))
    few = int((table["seen"] < 5).sum())
    said = [c for c in texts(at.caption) if c.startswith("Completion and dismissal are left empty")]
    assert said == ([f"Completion and dismissal are left empty for {few} guide(s) seen by fewer than 5 visitors "
                     "('Saw it'): too few to say."] if few else [])
    window = [c for c in texts(at.caption) if c.startswith("The 30 days ending")]  # not the sidebar's whole range
    assert len(window) == 1
    assert "whatever the range's start" in window[0]


@pytest.mark.parametrize("role", ["leader", "admin"])
def test_portfolio(app_env: Store, role: str) -> None:
    """Trends, health distribution and movers, drops, segments, CSMs and the CSV export of every customer."""
    at = run(app("pages/portfolio.py", USERS[role]))
    assert texts(at.title) == ["Portfolio"]
    assert [m.label for m in at.metric] == ["Customers", "Monthly active users", "DAU ÷ MAU, 7 days",
                                            "Median 28-day trend", "Customers in red"]
    assert at.metric[0].value == "12"
    assert len(_charts(at)) == 5
    _few_segments_are_said(app_env, at)
    drops, movers, csms, everyone = (d.value for d in at.dataframe)
    assert "trend" in drops.columns
    assert "health_change" in movers.columns
    assert csms["customers"].sum() == 12
    assert len(everyone) == 12
    assert [b.label for b in at.get("download_button")] == ["Download all customers (CSV)"]


def test_portfolio_without_health_scores_explains_it(small_store: Store, tmp_path: Path) -> None:
    """Before the first health scoring the portfolio says where the scores come from."""
    store = copy_store(small_store, tmp_path / "store.db")
    with Session(store.engine) as session, session.begin():
        session.execute(delete(models.HealthScore))
    with use_store(store.url):
        at = run(app("pages/portfolio.py", USERS["leader"]))
    assert sum("No health scores yet" in i for i in texts(at.info)) == 3  # adoption trend, distribution, movers
    assert at.metric[4].value == "–"


@pytest.mark.parametrize("page", CUSTOMER_PAGES)
def test_customer_pages_for_a_csm_without_customers(app_env: Store, page: str) -> None:
    """A CSM who owns no customer is told how to see colleagues' customers."""
    at = run(app(page, USERS["csm"].__class__("new@bench.cscx", "New", "csm")))
    assert any("No customer is assigned to you" in i for i in texts(at.info))


@pytest.mark.parametrize("page", [*CUSTOMER_PAGES, "pages/portfolio.py"])
def test_pages_on_an_empty_store(tmp_path: Path, page: str) -> None:
    """With no customer at all every page says how to load some."""
    from pendo_core.store.engine import make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    migrate(engine)
    with use_store(Store(tmp_path / "empty.db", engine).url):
        at = run(app(page, USERS["admin"]))
    assert any("import-customers" in i for i in texts(at.info))
    assert any("No successful Pendo sync yet" in w for w in texts(at.warning))


def _rows(dataset: object) -> list[dict[str, object]]:
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    return convert_arrow_bytes_to_pandas_df(dataset.data.data).to_dict("records")  # type: ignore[attr-defined]


def test_a_customer_remapped_after_the_last_sync_is_flagged(small_store: Store, tmp_path: Path) -> None:
    """After an admin maps another account to a customer, its pages say the numbers wait for the next sync."""
    store = copy_store(small_store, tmp_path / "store.db")
    customer = customer_ids(store, "csm00@bench.cscx")[0]
    with Session(store.engine) as session, session.begin():
        session.add(models.PendoAccount(account_id="acct-new", name="New"))
        session.add(models.AccountMapping(pendo_account_id="acct-new", customer_id=customer, method="manual",
                                          mapped_at=SYNCED_AT + timedelta(minutes=1)))
    with use_store(store.url):
        flagged = run(app("pages/features.py", USERS["csm"], frame_customer=customer))
        other = run(app("pages/features.py", USERS["csm"], frame_customer=customer_ids(store, "csm00@bench.cscx")[1]))
    assert any("changed after the last sync" in i for i in texts(flagged.info))
    assert not any("changed after the last sync" in i for i in texts(other.info))
