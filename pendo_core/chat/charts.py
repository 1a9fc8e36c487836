"""Altair charts for answers that carry chart data (no Streamlit here, so tests can check them)."""

from __future__ import annotations

import altair as alt
import pandas as pd

from pendo_core.chat.model import Chart


def altair_chart(chart: Chart) -> alt.Chart:
    """A line per series over days; days without data break the line (a gap, not a zero)."""
    frame = pd.DataFrame(list(chart.rows))
    frame[chart.x] = pd.to_datetime(frame[chart.x])
    order = list(dict.fromkeys(frame[chart.series]))
    drawn: alt.Chart = (
        alt.Chart(frame, title=chart.title).mark_line(invalid="break-paths-show-domains")
        .encode(x=alt.X(f"{chart.x}:T", title="Day"), y=alt.Y(f"{chart.y}:Q", title=chart.y_title),
                color=alt.Color(f"{chart.series}:N", title=None, sort=order),
                tooltip=[alt.Tooltip(f"{chart.x}:T", title="Day"), alt.Tooltip(f"{chart.series}:N", title="Metric"),
                         alt.Tooltip(f"{chart.y}:Q", title=chart.y_title, format=",.0f")])
        .properties(height=260)
    )
    return drawn
