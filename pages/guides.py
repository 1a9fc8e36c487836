"""Guides: who saw, completed and dismissed each in-app guide, and the customer's onboarding progress."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import streamlit as st

from pages.ui import charts, customer_header, loaders, samples, shared

HELP = {
    "guides": "Last 30 days, distinct visitors of this customer. Seen: a guideSeen event on any step. Completed: "
              "guideAdvanced on a one-step guide, or guideSeen/guideAdvanced on the last step of a multi-step one. "
              "Dismissed: guideDismissed on any step. Rates are ÷ the visitors who saw the guide.",
    "onboarding": "Onboarding progress = share of the onboarding guides (name or group containing \"onboarding\") "
                  "that at least one visitor of the customer completed.",
}


def _onboarding(customer_id: str, first: date, last: date) -> None:
    series = loaders.onboarding_series(customer_id, first, last)
    st.markdown("#### Onboarding progress", help=HELP["onboarding"])
    if series.empty or series["onboarding_guides"].max() == 0:
        st.info("No onboarding guides in this subscription: mark guides as onboarding by naming them or their group "
                "\"Onboarding\" in Pendo.")
        return
    now = series.iloc[-1]
    left, right = st.columns([1, 3])
    progress = 0.0 if pd.isna(now.progress) else float(now.progress)
    left.metric("Onboarding guides completed", f"{int(now.completed_guides)} of {int(now.onboarding_guides)}",
                help=HELP["onboarding"], border=True)
    left.progress(progress, text=f"{progress:.0%} complete")
    chart = (alt.Chart(series).mark_area(line={"color": charts.PALETTE[0]}, color="#dbe7f8", interpolate="step-after")
             .encode(x=charts.DAY, y=alt.Y("progress:Q", title="Onboarding progress", axis=alt.Axis(format=".0%"),
                                           scale=alt.Scale(domain=[0, 1])),
                     tooltip=[alt.Tooltip("metric_date:T", title="Day", format="%d %b %Y"),
                              alt.Tooltip("progress:Q", title="Progress", format=".0%"),
                              alt.Tooltip("completed_guides:Q", title="Guides completed")])
             .properties(height=200))
    charts.show(chart, right, width="stretch")


def _rates_chart(table: pd.DataFrame) -> alt.Chart:
    long = table.melt(id_vars="name", value_vars=["completion_rate", "dismissal_rate"], var_name="rate",
                      value_name="share")
    long["rate"] = long["rate"].map({"completion_rate": "Completed", "dismissal_rate": "Dismissed"})
    chart: alt.Chart = (alt.Chart(long).mark_bar(cornerRadiusEnd=3)
            .encode(y=alt.Y("name:N", title=None, sort=table["name"].tolist(),
                            axis=alt.Axis(labelLimit=260, labelOverlap=False)),
                    x=alt.X("share:Q", title="Share of visitors who saw it", axis=alt.Axis(format=".0%"),
                            scale=alt.Scale(domain=[0, 1])),
                    yOffset=alt.YOffset("rate:N"),
                    color=alt.Color("rate:N", title=None, scale=alt.Scale(domain=["Completed", "Dismissed"],
                                                                        range=[charts.PALETTE[1], charts.PALETTE[4]]),
                                    legend=alt.Legend(orient="top")),
                    tooltip=[alt.Tooltip("name:N"), alt.Tooltip("rate:N"), alt.Tooltip("share:Q", format=".0%")])
            .properties(height=44 * len(table) + 70))
    return chart


def _guide_table(table: pd.DataFrame) -> None:
    """One row per guide; completion and dismissal are numbers (they sort as such), empty below 5 viewers."""
    shown = table.assign(onboarding=table["name"].str.contains("onboarding", case=False)
                         | table["group"].fillna("").str.contains("onboarding", case=False),
                         completion=samples.shares(table["completion_rate"], table["seen"]),
                         dismissal=samples.shares(table["dismissal_rate"], table["seen"]))
    few = " Its n is 'Saw it'. " + samples.HELP
    shared.table(shown, key="guides_table", percent=("completion", "dismissal"), columns={
        "name": st.column_config.TextColumn("Guide", width=232), "group": st.column_config.TextColumn("Group"),
        "onboarding": st.column_config.CheckboxColumn("Onboarding", help="Name or group contains \"onboarding\""),
        "seen": st.column_config.NumberColumn("Saw it", format="%d"),
        "completed": st.column_config.NumberColumn("Completed", format="%d"),
        "dismissed": st.column_config.NumberColumn("Dismissed", format="%d"),
        "completion": shared.percent_column("Completion", help="Completed ÷ saw it." + few),
        "dismissal": shared.percent_column("Dismissal", help="Dismissed ÷ saw it." + few)})
    hidden = int(table["seen"].map(samples.too_few).sum())
    if hidden:
        st.caption(f"Completion and dismissal are left empty for {hidden} guide(s) seen by fewer than "
                   f"{samples.MIN_SAMPLE} visitors ('Saw it'): {samples.TOO_FEW}.")


def _rates(table: pd.DataFrame) -> None:
    """The overall rates and the chart of the guides seen by enough visitors to say."""
    cols = st.columns(3)
    cols[0].metric("Guides seen", f"{len(table)}", help="Guides at least one visitor saw in 30 days.", border=True)
    seen = int(table["seen"].sum())
    cols[1].metric("Completion rate", samples.share_text(table["completed"].sum() / seen if seen else None, seen),
                   border=True, help="Completions ÷ visitors who saw, summed over guides (a visitor counts once per "
                                     "guide). " + samples.HELP)
    cols[2].metric("Dismissal rate", samples.share_text(table["dismissed"].sum() / seen if seen else None, seen),
                   border=True, help="Dismissals ÷ visitors who saw, summed over guides. " + samples.HELP)
    enough = table[~table["seen"].map(samples.too_few)]
    if len(enough) < len(table):
        st.caption(f"The chart leaves out {len(table) - len(enough)} guide(s) seen by fewer than "
                   f"{samples.MIN_SAMPLE} visitors: {samples.TOO_FEW}.")
    if not enough.empty:
        charts.show(_rates_chart(enough), width="stretch")


def render() -> None:
    shared.require_page("guides")
    picked = shared.selected_customer()
    shared.page_header("Guides", picked)
    if picked is None:
        shared.no_customer_message()
        return
    customer_header.render(picked.customer_id)
    first, last = shared.date_range()
    _onboarding(picked.customer_id, first, last)
    table = loaders.guide_table(picked.customer_id, last)
    st.markdown("#### Guides seen, completed and dismissed", help=HELP["guides"])
    st.caption(f"The 30 days ending {last:%d %b %Y}, the end of the sidebar's range: guide rates always cover "
               "30 days (the metric's window), whatever the range's start; the onboarding chart above follows the "
               "whole range.")
    if table.empty:
        st.info(f"No visitor of {picked.name} saw a guide in the 30 days ending {last:%d %b %Y}.")
        return
    _rates(table)
    _guide_table(table)


render()
