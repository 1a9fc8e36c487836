"""Account usage: active users, stickiness, sessions and time in app for one customer."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pages import shared

HELP = {
    "dau": "DAU: distinct identified visitors active on the day (a Pendo `events` row with numEvents > 0), "
           "counted once across all the customer's Pendo accounts.",
    "wau": "WAU: distinct visitors active on any of the 7 days ending that day.",
    "mau": "MAU: distinct visitors active on any of the 30 days ending that day.",
    "dau_mau": "Stickiness = DAU ÷ MAU (empty when MAU is 0).",
    "sessions": "A session is a run of consecutive active hours of one visitor in one account; it counts on "
                "the day it starts. Average length = minutes in app that day ÷ sessions.",
    "time": "Time in app: the sum of Pendo's numMinutes over the day's events rows.",
}


def _trend_chart(frame: pd.DataFrame) -> alt.Chart:
    long = frame.melt(id_vars="metric_date", value_vars=["dau", "wau", "mau"], var_name="metric",
                      value_name="visitors")
    long["metric"] = long["metric"].str.upper()
    return (
        alt.Chart(long).mark_line(point=False)
        .encode(x=alt.X("metric_date:T", title="Day"), y=alt.Y("visitors:Q", title="Active visitors"),
                color=alt.Color("metric:N", title=None, sort=["DAU", "WAU", "MAU"]),
                tooltip=[alt.Tooltip("metric_date:T", title="Day"), "metric:N", "visitors:Q"])
        .properties(height=280)
    )


def _line(frame: pd.DataFrame, column: str, title: str, fmt: str = ",.0f") -> alt.Chart:
    return (
        alt.Chart(frame).mark_line(color="#4c78a8")
        .encode(x=alt.X("metric_date:T", title="Day"), y=alt.Y(f"{column}:Q", title=title),
                tooltip=[alt.Tooltip("metric_date:T", title="Day"), alt.Tooltip(f"{column}:Q", format=fmt)])
        .properties(height=220)
    )


def _headline(frame: pd.DataFrame) -> None:
    known = frame.dropna(subset=["dau"])
    if known.empty:
        return
    last = known.iloc[-1]
    cols = st.columns(5)
    cols[0].metric("DAU", f"{last.dau:,.0f}", help=HELP["dau"])
    cols[1].metric("WAU", f"{last.wau:,.0f}", help=HELP["wau"])
    cols[2].metric("MAU", f"{last.mau:,.0f}", help=HELP["mau"])
    stickiness = "–" if pd.isna(last.dau_mau) else f"{last.dau_mau:.0%}"
    cols[3].metric("DAU/MAU", stickiness, help=HELP["dau_mau"])
    cols[4].metric("Sessions (day)", f"{last.session_count:,.0f}", help=HELP["sessions"])
    st.caption(f"Latest day with data: {last.metric_date:%Y-%m-%d}")


def render() -> None:
    st.title("Account usage")
    picked = shared.pick_customer()
    if picked is None:
        st.info("No customers yet. Import them with `python -m jobs import-customers FILE.csv`, "
                "or run `make run` without a Pendo key to load demo data.")
        return
    customer_id, name = picked
    first, last = shared.pick_range()
    frame = shared.usage_series(customer_id, first, last)
    st.subheader(name)
    if frame["dau"].isna().all():
        st.info(f"No usage rows for {name} between {first} and {last}. Either its Pendo accounts are not "
                "mapped yet, or this range is outside the synced days.")
        return
    missing = int(frame["dau"].isna().sum())
    if missing:
        st.caption(f"{missing} day(s) in this range are outside the synced data and show as gaps.")
    _headline(frame)
    st.markdown("#### Active users", help=HELP["mau"])
    st.altair_chart(_trend_chart(frame), use_container_width=True)
    left, right = st.columns(2)
    with left:
        st.markdown("#### Stickiness (DAU/MAU)", help=HELP["dau_mau"])
        st.altair_chart(_line(frame, "dau_mau", "DAU ÷ MAU", ".0%"), use_container_width=True)
        st.markdown("#### Time in app", help=HELP["time"])
        st.altair_chart(_line(frame, "time_in_app_minutes", "Minutes per day"), use_container_width=True)
    with right:
        st.markdown("#### Sessions", help=HELP["sessions"])
        st.altair_chart(_line(frame, "session_count", "Sessions per day"), use_container_width=True)
        st.markdown("#### Average session length", help=HELP["sessions"])
        st.altair_chart(_line(frame, "avg_session_minutes", "Minutes", ",.1f"), use_container_width=True)


render()
