"""Altair charts of the Health page (contributions per component, the score history with its bands
and the days the settings changed) and of the admin back-test (churn rate per band)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import altair as alt
import pandas as pd

from pages.ui import charts
from pages.ui.charts import PALETTE
from pages.ui.panel_ui import BAND_COLORS, BAND_ORDER
from pendo_core.health import BacktestReport
from pendo_core.health.queries import LABELS

COMPONENT_COLORS = dict(zip(LABELS.values(), PALETTE, strict=False))  # every component, in the pages' palette


SCORE_DAY_TIP = alt.Tooltip("score_date:T", title="Day", format="%d %b %Y")  # dates as every chart writes them

def component_band(score: float | None, *, red_below: float, green_from: float) -> str:
    """How good a component is, by its own 0-100 score on the score's bands (grey "insufficient data"
    without one): the colour of its bar, whatever its name or the sign of what it measures."""
    if score is None or pd.isna(score):
        return "insufficient data"
    return "red" if score < red_below else "yellow" if score < green_from else "green"


def contributions_chart(table: pd.DataFrame, *, red_below: float = 50.0, green_from: float = 75.0) -> alt.LayerChart:
    """Horizontal bars: points each component adds to the overall score (score times its renormalised
    weight), each coloured by the component's own score on the bands (a perfect score is green)."""
    data = table.assign(points=table["points"].fillna(0.0), quality=[
        component_band(s, red_below=red_below, green_from=green_from) for s in table["score"]], label=[
        f"{p:.1f} pts  (score {s:.0f} × {w:.0%})" if pd.notna(s) and w > 0 else "no data" if pd.isna(s)
        else "not weighted" for p, s, w in zip(table["points"], table["score"], table["weight"], strict=True)])
    base = alt.Chart().encode(  # the frame on the layer chart (charts.py's docstring)
        y=alt.Y("component:N", title=None, sort=list(COMPONENT_COLORS)),
        x=alt.X("points:Q", title="Points contributed to the score (of 100)", scale=alt.Scale(domain=[0, 100])),
        tooltip=[alt.Tooltip("component:N", title="Component"), alt.Tooltip("score:Q", title="Score (0–100)",
                 format=".1f"), alt.Tooltip("weight:Q", title="Weight", format=".0%"),
                 alt.Tooltip("points:Q", title="Points", format=".1f"), alt.Tooltip("measured:N", title="Measured")],
    )
    colors = alt.Scale(domain=BAND_ORDER, range=[BAND_COLORS[b] for b in BAND_ORDER])
    bars = base.mark_bar(height=22).encode(color=alt.Color("quality:N", scale=colors, legend=None))
    text = base.mark_text(align="left", dx=6, color="#333").encode(text=alt.Text("label:N"))
    return alt.LayerChart(data=data, layer=[bars, text]).properties(height=42 * max(1, len(data)) + 30)


def _band_areas(red_below: float, green_from: float) -> alt.Chart:
    bands = pd.DataFrame({"band": ["red", "yellow", "green"], "low": [0.0, red_below, green_from],
                          "high": [red_below, green_from, 100.0]})
    areas: alt.Chart = alt.Chart(bands).mark_rect(opacity=0.10).encode(
        y=alt.Y("low:Q", scale=alt.Scale(domain=[0, 100])), y2="high:Q",
        color=alt.Color("band:N", scale=alt.Scale(domain=list(BAND_COLORS)[:3],
                                                  range=list(BAND_COLORS.values())[:3]), legend=None),
        tooltip=[alt.Tooltip("band:N", title="Band"), alt.Tooltip("low:Q", title="From"),
                 alt.Tooltip("high:Q", title="Below")])
    return areas


def history_chart(history: pd.DataFrame, changes: pd.DataFrame, *, red_below: float, green_from: float,
                  show_components: bool, first: date, last: date) -> alt.LayerChart:
    """The overall score per day on its bands; dashed rules where the settings version changed."""
    x = alt.X("score_date:T", title="Day", scale=alt.Scale(domain=[first.isoformat(), last.isoformat()]),
              axis=alt.Axis(format="%d %b", labelOverlap=True))  # one date format, as every day axis
    tips = [SCORE_DAY_TIP, alt.Tooltip("overall:Q", title="Score", format=".1f"),
            alt.Tooltip("band:N", title="Band"), alt.Tooltip("coverage:Q", title="Coverage", format=".0%"),
            alt.Tooltip("settings_version:Q", title="Settings version")]
    overall = alt.Chart(history).mark_line(color="#1f2d3d", strokeWidth=2.5, point=alt.OverlayMarkDef(size=14)).encode(
        x=x, y=alt.Y("overall:Q", title="Health score (0–100)", scale=alt.Scale(domain=[0, 100])), tooltip=tips)
    layers: list[alt.Chart] = [_band_areas(red_below, green_from)]
    if show_components:
        layers.append(_component_lines(history, x))
    layers.append(overall)
    missing = history[history["overall"].isna()]
    if not missing.empty:
        layers.append(alt.Chart(missing.assign(y=2.0, note="insufficient data")).mark_tick(
            color=BAND_COLORS["insufficient data"], thickness=3, size=14).encode(
            x=x, y="y:Q", tooltip=[SCORE_DAY_TIP, alt.Tooltip("note:N", title="Score"),
                                   alt.Tooltip("coverage:Q", title="Coverage", format=".0%")]))
    if not changes.empty:
        layers.append(alt.Chart(changes).mark_rule(color="#555", strokeDash=[4, 3], strokeWidth=1.5).encode(
            x="score_date:T", tooltip=[alt.Tooltip("score_date:T", title="Settings changed on", format="%d %b %Y"),
                                       alt.Tooltip("what:N", title="Change")]))
    return alt.LayerChart(layer=layers).properties(height=320)


def _component_lines(history: pd.DataFrame, x: alt.X) -> alt.Chart:
    long = history.melt(id_vars="score_date", value_vars=list(LABELS), var_name="component", value_name="score")
    long["component"] = long["component"].map(LABELS)
    colors = alt.Scale(domain=list(COMPONENT_COLORS), range=list(COMPONENT_COLORS.values()))
    lines = alt.Chart(long.dropna(subset=["score"])).mark_line(strokeWidth=1.3, opacity=0.8, strokeDash=[5, 2])
    chart: alt.Chart = lines.encode(
        x=x, y=alt.Y("score:Q"), color=alt.Color("component:N", scale=colors, title="Component"),
        tooltip=[SCORE_DAY_TIP, alt.Tooltip("component:N", title="Component"),
                 alt.Tooltip("score:Q", title="Score", format=".1f")])
    return chart


def churn_by_band_chart(reports: Sequence[tuple[str, BacktestReport]]) -> alt.LayerChart:
    """Grouped bars: the churn rate per band of each labelled back-test (the theme's comparison colours)."""
    rows = [{"settings": label, "band": b.band, "churn_rate": b.churn_rate or 0.0, "customers": b.customers,
             "churned": b.churned, "label": f"{b.churned} of {b.customers}"}
            for label, report in reports for b in report.bands if b.customers]
    tooltip = [alt.Tooltip("settings:N", title="Settings"), alt.Tooltip("band:N", title="Band"),
               alt.Tooltip("churn_rate:Q", title="Churn rate", format=".0%"),
               alt.Tooltip("customers:Q", title="Customers"), alt.Tooltip("churned:Q", title="Churned")]
    return charts.compared_bars(pd.DataFrame(rows), x="band", x_order=BAND_ORDER, series="settings",
                                order=[label for label, _ in reports], label="label", height=260, tooltip=tooltip,
                                y=alt.Y("churn_rate:Q", title="Churn rate", axis=alt.Axis(format="%")))
