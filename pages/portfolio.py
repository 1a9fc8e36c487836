"""Portfolio (leaders and admins): usage, adoption and health across every customer, the biggest
drops and movers, adoption by segment, customers by CSM, and a CSV export."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from pages.ui import charts, loaders, samples, shared
from pages.ui.panel_ui import BAND_COLORS
from pendo_core.book.header import ARR_FORMAT
from pendo_core.health.score import CHANGE_DAYS
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import measures
from pendo_core.usage import portfolio_queries as read_portfolio

HELP = {
    "users": "Per day, summed over all customers: DAU, WAU and MAU (distinct visitors active on the day / in 7 / in "
             "30 days, per customer). A visitor of two customers counts in both.",
    "pooled": measures.POOLED_DAU_MAU_DEFINITION + " The thick line sums over the 7 days ending each day.",
    "adoption": "Weekly: the mean over scored customers of key-feature breadth (share of the key features used by at "
                "least one visitor in the 30 days ending that day), from the daily health scoring.",
    "health": "Customers per health band on the newest scored day: red below 50, yellow below 75, green from 75 "
              "(admin settings). 'Insufficient data' when too few components had data.",
    "movers": f"Change of the overall health score over {CHANGE_DAYS} days, in points (as on My customers, the "
              "customer header and the chat).",
    "segment": "Per segment: the median customer's key-feature breadth (30 days) and stickiness. "
               + measures.STICKINESS_DEFINITION,
    "drops": measures.trend_definition() + " Listed: customers whose mean DAU fell from at least "
             f"{measures.MIN_PRIOR_DAU:.0f} daily user.",
    "trend": measures.trend_definition(),
    "csm": "Customers per CSM, their ARR and monthly users, the median stickiness and 28-day trend, and how many "
           "customers sit in each health band.",
}
WEEKS = 13
NO_HEALTH = ("No health scores yet: the daily sync scores every customer once usage is synced (engagement, adoption, "
             "trajectory). Health distribution, movers and the adoption trend appear then.")


def _table(last: date, health_day: date | None) -> pd.DataFrame:
    """Every customer with usage, trend, health and key-feature breadth (from the health scoring's
    inputs when customers are scored, else counted from the feature rows)."""
    customers = shared.customers()
    now = before = read_portfolio.no_health()
    if health_day is not None:
        then = health_day - timedelta(days=CHANGE_DAYS)
        health = loaders.health_on((health_day, then))
        now = health[health["score_date"] == pd.Timestamp(health_day)]
        before = health[health["score_date"] == pd.Timestamp(then)]
    table = read_portfolio.portfolio_table(customers, shared.customer_trends(last), now, before)
    if health_day is not None:
        return table.merge(now[["customer_id", "breadth"]].astype({"breadth": float}), on="customer_id", how="left")
    spread = read_features.breadth(shared.feature_days(last), shared.feature_catalogue(), customers["customer_id"])
    return table.merge(spread[["customer_id", "breadth"]], on="customer_id", how="left")


def _kpis(table: pd.DataFrame, totals: pd.DataFrame) -> None:
    cols = st.columns(5)
    cols[0].metric("Customers", f"{len(table):,}", border=True)
    cols[1].metric("Monthly active users", f"{table['mau'].sum():,.0f}", border=True,
                   help="MAU on the last day, summed over customers.")
    recent = totals.tail(7)
    pooled = measures.number(measures.pooled_dau_mau(recent["dau"].sum(), recent["mau"].sum()))
    cols[2].metric("DAU ÷ MAU, 7 days", "–" if pooled is None else f"{pooled:.0%}",
                   help=HELP["pooled"], border=True)
    trends = table["trend"].dropna()  # none when no customer has 14 synced days in both windows yet
    cols[3].metric("Median 28-day trend", _pct(trends.median() if len(trends) else float("nan")), help=HELP["trend"],
                   border=True)
    red = int((table["band"] == "red").sum())
    cols[4].metric("Customers in red", f"{red:,}" if (table["band"] != "not scored").any() else "–",
                   help=HELP["health"], border=True)


def _pct(value: float) -> str:
    return "–" if pd.isna(value) else f"{value:+.0%}"


def _totals(first: date, last: date) -> pd.DataFrame:
    """Daily totals of the range, sliced from the cached last DEFAULT_DAYS when the range lies inside
    them, so changing the range does not read the store again."""
    through = shared.data_through()
    window_first = through - timedelta(days=shared.DEFAULT_DAYS - 1)
    if first < window_first or last > through:
        return loaders.daily_totals(first, last)
    frame = loaders.daily_totals(window_first, through)
    return frame[frame["metric_date"].between(pd.Timestamp(first), pd.Timestamp(last))]


def _trends(totals: pd.DataFrame, first: date, health_day: date | None) -> None:
    smooth = charts.smoothing_toggle("portfolio_smooth")
    left, right = st.columns(2)
    with left:
        st.markdown("#### Active users, all customers", help=HELP["users"])
        charts.show(charts.lines(charts.smoothed(totals, ["dau"], smooth), {"dau": "DAU", "wau": "WAU",
                                                                             "mau": "MAU"}, "Active visitors"),
                    width="stretch")
    with right:
        st.markdown("#### DAU ÷ MAU, all customers", help=HELP["pooled"])
        week = {c: totals[c].rolling(7, min_periods=4).sum() for c in ("dau", "mau")}
        pooled = totals.assign(avg7=measures.pooled_dau_mau(week["dau"], week["mau"]))
        series = {"avg7": "7 days"} if smooth else {"avg7": "7 days", "pooled_dau_mau": "Each day"}
        charts.show(charts.lines(pooled, series, "DAU ÷ MAU", fmt=".0%", faint=("pooled_dau_mau",), legend=True),
                    width="stretch")
    health = read_portfolio.no_weekly_health()
    if health_day is not None:  # the last 13 weeks of scores, shown from the range's start
        health = loaders.weekly_health(health_day, WEEKS)
        health = health[health["score_date"] >= pd.Timestamp(first)]
    left, right = st.columns(2)
    with left:
        st.markdown("#### Adoption, weekly", help=HELP["adoption"])
        if health.empty:
            st.info(NO_HEALTH)
        else:
            chart = (alt.Chart(health).mark_line(point=True, color=charts.PALETTE[1])
                     .encode(x=alt.X("score_date:T", title="Week ending", axis=alt.Axis(format="%d %b")),
                             y=alt.Y("breadth:Q", title="Mean key-feature breadth", axis=alt.Axis(format=".0%")),
                             tooltip=[alt.Tooltip("score_date:T", title="Day", format="%d %b %Y"),
                                      alt.Tooltip("breadth:Q", title="Breadth", format=".1%")])
                     .properties(height=260))
            charts.show(chart, width="stretch")
    with right:
        st.markdown("#### Health distribution", help=HELP["health"])
        if health.empty:
            st.info(NO_HEALTH)
        else:
            now = health.iloc[-1]
            bands = pd.DataFrame({"band": list(read_portfolio.BANDS), "customers": [int(now[b]) for b in
                                                                                     read_portfolio.BANDS]})
            colors = alt.Scale(domain=list(read_portfolio.BANDS), range=[BAND_COLORS[b] for b in read_portfolio.BANDS])
            chart = (alt.Chart(bands).mark_bar(cornerRadiusEnd=3)
                     .encode(x=alt.X("customers:Q", title=f"Customers on {now.score_date:%d %b %Y}"),
                             y=alt.Y("band:N", title=None, sort=list(read_portfolio.BANDS)),
                             color=alt.Color("band:N", scale=colors, legend=None),
                             tooltip=[alt.Tooltip("band:N"), alt.Tooltip("customers:Q")])
                     .properties(height=180))
            charts.show(chart, width="stretch")


def _movers_and_drops(table: pd.DataFrame) -> None:
    """The biggest usage drops, then the biggest health moves (one under the other: each needs the width)."""
    columns: dict[str, Any] = {"name": st.column_config.TextColumn("Customer", width=200), "csm_name": "CSM"}
    st.markdown("#### Top drops in usage", help=HELP["drops"])
    drops = read_portfolio.top_drops(table)
    shared.table(drops, key="portfolio_drops", percent=("trend",), columns={
        **columns, "trend": shared.percent_column("28-day trend"),
        "dau_28d": st.column_config.NumberColumn("DAU, 28-day mean", format="%.1f"), "band": "Band"})
    st.markdown("#### Health movers", help=HELP["movers"])
    moved = table.dropna(subset=["health_change"])
    if moved.empty:
        st.info(NO_HEALTH)
        return
    ranked = moved.reindex(moved["health_change"].abs().sort_values(ascending=False).index).head(10)
    shared.table(ranked, key="portfolio_movers", columns={
        **columns, "overall": st.column_config.NumberColumn("Health", format="%.1f"),
        "health_change": st.column_config.NumberColumn(f"Change, {CHANGE_DAYS} days", format="%+.1f",
                                                       help=HELP["movers"]), "band": "Band"})


def _segments_and_csms(table: pd.DataFrame) -> None:
    left, right = st.columns([1, 3])
    with left:
        st.markdown("#### Adoption by segment", help=HELP["segment"])
        segments = read_portfolio.by_segment(table)
        few = segments[segments["customers"].map(samples.too_few)]
        if not few.empty:  # a median of 1 to 4 customers is no segment's picture
            st.caption(f"{', '.join(few['segment'])}: {samples.TOO_FEW} (fewer than {samples.MIN_SAMPLE} customers).")
            segments = segments[~segments["customers"].map(samples.too_few)]
        long = segments.melt(id_vars="segment", value_vars=["breadth", "stickiness"], var_name="measure")
        long["measure"] = long["measure"].map({"breadth": "Key-feature breadth", "stickiness": "Stickiness"})
        chart = (alt.Chart(long).mark_bar(cornerRadiusEnd=3)
                 .encode(y=alt.Y("segment:N", title=None), yOffset=alt.YOffset("measure:N"),
                         x=alt.X("value:Q", title="Median customer", axis=alt.Axis(format=".0%")),
                         color=alt.Color("measure:N", title=None, scale=alt.Scale(range=charts.PALETTE[1:]),
                                         legend=alt.Legend(orient="bottom", direction="vertical")),
                         tooltip=[alt.Tooltip("segment:N"), alt.Tooltip("measure:N"),
                                  alt.Tooltip("value:Q", format=".0%")])
                 .properties(height=60 * max(1, len(segments)) + 40))
        charts.show(chart, width="stretch")
    with right:
        st.markdown("#### Customers by CSM", help=HELP["csm"])
        csms = read_portfolio.by_csm(table)
        shared.table(csms, key="portfolio_csms", percent=("stickiness", "trend"), columns={
            "csm": "CSM", "customers": "Customers", "arr": st.column_config.NumberColumn("ARR", format=ARR_FORMAT),
            "mau": st.column_config.NumberColumn("MAU", format="localized"),
            "stickiness": shared.percent_column("Stickiness"), "trend": shared.percent_column("28-day trend"),
            **{band: st.column_config.NumberColumn(band.capitalize() if band != "insufficient data" else "No score")
               for band in ("red", "yellow", "green", "insufficient data")}})


def _export(table: pd.DataFrame, last: date) -> None:
    st.markdown("#### All customers")
    shared.table(table, key="portfolio_all", percent=("stickiness", "trend", "breadth"), height=420, columns={
        # the name wide enough for the demo's long names ("Yarrow Technologies, Inc."); the segment stays in
        # the CSV below and in Adoption by segment, so the columns fit 1280 px
        "name": st.column_config.TextColumn("Customer", width=200),
        "csm_name": st.column_config.TextColumn("CSM", width=110),
        "arr": st.column_config.NumberColumn("ARR", format=ARR_FORMAT), "renewal_date": "Renewal",
        "mau": st.column_config.NumberColumn("MAU", format="%d"),
        "stickiness": shared.percent_column("Stickiness", help="7-day mean DAU ÷ MAU"),
        "trend": shared.percent_column("28-day trend"),
        "breadth": shared.percent_column("Breadth", help="Key-feature breadth: key features used in 30 days ÷ key "
                                                         "features."),
        "overall": st.column_config.NumberColumn("Health", format="%.1f"),
        "health_change": st.column_config.NumberColumn(f"Δ {CHANGE_DAYS} d", format="%+.1f", help=HELP["movers"]),
        "band": "Band"})
    st.download_button("Download all customers (CSV)", shared.csv_download(table), file_name=f"portfolio-{last}.csv",
                       mime="text/csv", key="portfolio_download", icon=":material/download:", type="primary")


def render() -> None:
    shared.require_page("portfolio")
    shared.page_header("Portfolio")
    first, last = shared.date_range()
    if shared.customers().empty:
        shared.no_customer_message()
        return
    totals = _totals(first, last)
    if totals.empty:
        st.info(f"No usage stored between {first:%d %b %Y} and {last:%d %b %Y}: pick a range inside the synced days, "
                "or map the customers' Pendo accounts on the Admin page.")
        return
    health_day = loaders.latest_health_day(last)
    table = _table(last, health_day)
    st.caption(f"All {len(table):,} customers · {first:%d %b %Y} – {last:%d %b %Y}")
    _kpis(table, totals)
    _trends(totals, first, health_day)
    _movers_and_drops(table)
    _segments_and_csms(table)
    _export(table, last)


render()
