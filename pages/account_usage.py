"""Account usage: active users and stickiness, sessions, time in app, page views and feature
events for one customer, against its segment and the portfolio."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from pages.ui import charts, customer_header, loaders, samples, shared
from pages.ui.people_section import render_people
from pendo_core.usage import kpis, measures
from pendo_core.usage import queries as read

KPI_DAYS = kpis.WEEK + kpis.BASELINE_DAYS  # the last 7 days and the 4 weeks before them
HELP = {
    "dau": "Mean DAU of the last 7 days (distinct visitors active each day), all 7 synced; against the mean of the "
           "28 days before them.",
    "users": "DAU / WAU / MAU: distinct identified visitors active (a Pendo `events` row with numEvents > 0) on "
             "the day / in the 7 / in the 30 days ending it, counted once across all the customer's Pendo accounts. "
             "Dashed line, right axis: each day's stickiness (below). Days outside the synced data are gaps, not "
             "zeros.",
    "stickiness": measures.STICKINESS_DEFINITION + " Markers: the median of the customer's segment and of all "
                                                   "customers.",
    "trend": measures.trend_definition() + " On the last day with data.",
    "sessions": "A session is a maximal run of consecutive active hours of one visitor in one account; it counts on "
                "the day it starts. Average session length = minutes in app that day ÷ sessions.",
    "time": "Time in app: the sum of Pendo's numMinutes over the day's events rows, in minutes.",
    "events": "Page views: the day's numEvents of pageEvents rows. Feature events: the day's numEvents of "
              "featureEvents rows (clicks on tagged features).",
    "compare": "Last 7 days, per active user a day (sums ÷ the week's sum of DAU), so customers of any size compare. "
               "Segment: the median of the other customers of the same segment. Percentile: share of those peers "
               "below this customer (half the ties count), 0-100.",
}


def _measures(customer_id: str, day: date) -> dict[str, float | None]:
    """Stickiness and the 28-day trend of the customer on `day` (`customer_measures`, as the API and chat)."""
    frame = loaders.customer_measures(customer_id, day)
    row = frame.iloc[0] if len(frame) else {}
    return {k: measures.number(row.get(k)) for k in ("stickiness", "trend")}


def _kpis(frame: pd.DataFrame, customer_id: str, health_change: float | None) -> None:
    """The headline numbers; each delta compares like with like (kpis.py) and is coloured by its meaning."""
    last_day = frame.dropna(subset=["dau"])["metric_date"].iloc[-1].date()
    recent = shared.usage_series(customer_id, last_day - timedelta(days=KPI_DAYS - 1), last_day)
    now = _measures(customer_id, last_day)
    dau, wau = kpis.mean_change(recent["dau"]), kpis.weekly_change(recent["wau"])
    stick = kpis.Change(now["stickiness"], kpis.weekly_change(recent["stickiness"]).before)
    sessions = kpis.mean_change(recent["session_count"])
    length = kpis.ratio_change(recent["time_in_app_minutes"], recent["session_count"])
    falling = kpis.declining(dau.relative, now["trend"], health_change)
    top, bottom = st.columns(4), st.columns(4)
    _metric(top[0], "DAU, 7-day mean", dau, "{:,.1f}", falling, help=HELP["dau"])
    _metric(top[1], "WAU", wau, "{:,.0f}", falling, help="Distinct visitors active in the 7 days ending the last day.")
    top[2].metric("MAU", f"{recent['mau'].iloc[-1]:,.0f}", border=True,
                  help="Distinct visitors active in the 30 days ending the last day.")
    _metric(top[3], "Stickiness", stick, measures.STICKINESS_FORMAT, falling, points=True, help=HELP["stickiness"])
    bottom[0].metric("DAU trend, 28 days", "–" if now["trend"] is None else f"{now['trend']:+.0%}",
                     help=HELP["trend"], border=True)
    _metric(bottom[1], "Sessions a day", sessions, "{:,.1f}", falling,
            help=HELP["sessions"] + " Mean of the last 7 days.")
    _metric(bottom[2], "Session length", length, "{:,.0f} min", falling, better="neither",
            help=HELP["sessions"] + " Last 7 days.")
    known = frame[frame["metric_date"].dt.date <= last_day]["dau"]
    _metric(bottom[3], "Days since login", kpis.login_change(known), "{:.0f}", falling, better="lower", unit="days",
            help="Days since anyone at the customer was active (0: someone was, on the last day), against a week "
                 "before; up means another silent week.")
    st.caption(f"Latest day with data: {last_day:%a %d %b %Y}. {kpis.COMPARE_HELP}")


def _metric(where: Any, label: str, change: kpis.Change, fmt: str, falling: bool, *, points: bool = False,
            better: kpis.Better = "higher", unit: str | None = None, help: str) -> None:
    """One headline card: the value now and its change against the baseline, coloured by meaning."""
    moved = change.difference if points or unit else change.relative
    if moved is not None:  # as shown: a change that rounds to nothing is no change
        moved = round(moved, 3) if points else round(moved) if unit else round(moved, 2)
    delta = None
    if moved == 0:
        delta = "no change"
    elif moved is not None:
        delta = (f"{moved * 100:+.1f} pts" if points else f"{moved:+.0f} {unit}" if unit else f"{moved:+.0%}")
    where.metric(label, "–" if change.now is None else fmt.format(change.now), delta, border=True, help=help,
                 delta_color=kpis.delta_color(moved, better, is_declining=falling) if moved else "off",
                 delta_arrow="auto" if moved else "off")


def _comparison(customer_id: str, last_day: date) -> pd.DataFrame:
    week = shared.customer_week(last_day)
    return read.compare_rates(week, shared.customers(), customer_id)


def _compare_table(table: pd.DataFrame, peers: int) -> None:
    """The customer's last-7-day rates beside its segment's and everyone's; the percentile among fewer than 5
    segment peers is left empty ('too few to say', in a caption)."""
    shown = table.assign(rank=samples.shares(table["percentile"], [peers] * len(table)))
    is_share = shown["rate"] == "stickiness"  # a share: shown in percent like everywhere else
    shown.loc[is_share, ["customer", "segment", "portfolio"]] *= 100
    shown.loc[is_share, "label"] = "Stickiness, % (7-day mean DAU ÷ MAU)"
    fmt = "%.2f"
    shared.table(shown, key="usage_compare_table", columns={
        "label": st.column_config.TextColumn("Measure (last 7 days)", width=260),
        "customer": st.column_config.NumberColumn("This customer", format=fmt),
        "segment": st.column_config.NumberColumn("Segment median", format=fmt),
        "portfolio": st.column_config.NumberColumn("All customers median", format=fmt),
        "rank": st.column_config.NumberColumn("Percentile in segment", format="%.0f", help=samples.HELP)})
    note = samples.left_empty("Percentile in segment", peers, "other customers in the segment")
    if note:
        st.caption(note)


DAILY = ("dau", "session_count", "time_in_app_minutes", "page_views", "feature_events")  # WAU, MAU: windows already


def _smoothed(frame: pd.DataFrame) -> pd.DataFrame:
    """The daily series as 7-day averages when the switch is on; session length as the week's minutes ÷ its
    sessions (not a mean of daily ratios)."""
    if not charts.smoothing_toggle("usage_smooth"):
        return frame
    week = {c: frame[c].astype(float).rolling(charts.SMOOTH_DAYS, min_periods=charts.SMOOTH_DAYS).sum()
            for c in ("time_in_app_minutes", "session_count")}
    length = week["time_in_app_minutes"] / week["session_count"].where(week["session_count"] > 0)
    return charts.smoothed(frame, DAILY).assign(avg_session_minutes=length)


def _charts(frame: pd.DataFrame, compare: pd.DataFrame) -> None:
    frame = _smoothed(frame)
    left, right = st.columns([3, 1])
    with left:
        st.markdown("#### Active users and stickiness", help=HELP["users"])
        charts.show(charts.users_with_stickiness(frame), width="stretch")
    with right:
        st.markdown("#### Stickiness, 7 days", help=HELP["stickiness"])
        rates = compare.set_index("rate") if not compare.empty else None
        value = rates.loc["stickiness", "customer"] if rates is not None else None
        marks = {} if rates is None else {"Segment": rates.loc["stickiness", "segment"],
                                          "All customers": rates.loc["stickiness", "portfolio"]}
        charts.show(charts.gauge(value, marks, title="Stickiness"), width="stretch")
    left, right = st.columns(2)
    with left:
        st.markdown("#### Sessions", help=HELP["sessions"])
        charts.show(charts.lines(frame, {"session_count": "Sessions"}, "Sessions a day", height=220),
                    width="stretch")
        st.markdown("#### Time in app", help=HELP["time"])
        charts.show(charts.lines(frame, {"time_in_app_minutes": "Minutes in app"}, "Minutes a day", height=220),
                    width="stretch")
    with right:
        st.markdown("#### Average session length", help=HELP["sessions"])
        charts.show(charts.lines(frame, {"avg_session_minutes": "Minutes per session"}, "Minutes", fmt=",.0f",
                                 height=220, points=True), width="stretch")
        st.markdown("#### Page views and feature events", help=HELP["events"])
        charts.show(charts.lines(frame, {"page_views": "Page views", "feature_events": "Feature events"},
                                 "Events a day", height=220), width="stretch")


def render() -> None:
    shared.require_page("account_usage")
    picked = shared.selected_customer()
    shared.page_header("Account usage", picked)
    if picked is None:
        shared.no_customer_message()
        return
    header = customer_header.render(picked.customer_id)
    first, last = shared.date_range()
    frame = shared.usage_series(picked.customer_id, first, last)
    st.caption(f"{first:%d %b %Y} – {last:%d %b %Y}")
    if frame["dau"].isna().all():
        st.info(f"No usage for {picked.name} between {first:%d %b %Y} and {last:%d %b %Y}. Either its Pendo accounts "
                "are not mapped yet (an admin maps them on the Admin page), or this range is outside the synced days.")
        return
    missing = int(frame["dau"].isna().sum())
    if missing:
        st.caption(f":material/info: {missing} day(s) of this range are outside the synced data: they show as gaps.")
    _kpis(frame, picked.customer_id, header.health_change if header else None)
    last_known = frame.dropna(subset=["dau"])["metric_date"].iloc[-1].date()
    compare = _comparison(picked.customer_id, last_known)
    _charts(frame, compare)
    st.markdown("#### Compared with its segment and all customers", help=HELP["compare"])
    _compare_table(compare, int((shared.customers()["segment"] == picked.segment).sum()) - 1)
    st.download_button("Download daily usage (CSV)", shared.csv_download(frame), file_name="account_usage.csv",
                       mime="text/csv", key="usage_download", icon=":material/download:")
    render_people(shared.engine, picked.customer_id, last_known)


render()
