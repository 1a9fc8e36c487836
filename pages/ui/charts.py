"""Altair charts the pages and the chat share, and their one theme: lines that break at missing days
(with a 7-day-average switch for daily series), a gauge with its scale, heatmaps, bars.

The theme is PALETTE (series in order), ACCENT (the second-axis series) and the band colours
(`panel_ui.BAND_COLORS`); every chart on every page takes its colours from here. Every chart names its
units on the axes and in the tooltips; the pages put the metric's definition in the help text next to
the chart's title. Altair's mark_* and resolve_* methods are untyped (they return Any), so each chart
is bound to its declared type before it is returned.

Encodings are channel objects (alt.Text("t:N"), not "t:N"; alt.OpacityValue, not alt.condition): Altair 6
turns a string or a dict into a channel with `from_dict`, which hashes its ~570 schema classes on every
call (3-8 ms each; vega/altair#3547); the spec is the same. Layers that draw one frame take it on the
layer chart, not on each layer: Altair would lift it there itself, after hashing each layer with the
frame printed as text.

Every chart is drawn through `show`: st.altair_chart checks each spec against the Vega-Lite JSON schema
(jsonschema over the whole spec, a third of a page's render); `show` builds the same spec without that
check and draws it with st.vega_lite_chart. The tests switch the check on (`VALIDATE`), so every chart a
test draws is still checked.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from typing import Any, Final

import altair as alt
import pandas as pd
import streamlit as st
from streamlit import dataframe_util
from streamlit.delta_generator import DeltaGenerator
from streamlit.util import calc_hash

# Validate each spec once when it is drawn, not every piece as it is built: 5x faster chart building.
alt.utils.schemapi.disable_debug_mode()

PALETTE = ["#1f5fbf", "#2ea39b", "#f29c38", "#8a5cc7", "#d14b5a", "#7f8c8d", "#3d9bd6", "#a2672d"]
ACCENT = "#d14b5a"  # a series on the second axis (stickiness beside active users)
COMPARED = (PALETTE[5], PALETTE[0])  # a comparison's two series: what is (grey), then what would be
TEXT = "#1c2433"  # values written on a chart
SMOOTH_DAYS = 7
SMOOTH_LABEL = "7-day average"
SMOOTH_HELP = ("Each day shows the mean of that day and the 6 before (all 7 needed, so a gap in the synced days "
               "stays a gap): weekends no longer zig-zag the line. Off: each day's own value.")
DAY = alt.X("metric_date:T", title=None, axis=alt.Axis(format="%d %b", labelOverlap=True))
MAX_DAY_TICKS = 10
# Missing values break the line instead of joining across the gap (days outside the synced data).
BREAK: Final = "break-paths-show-domains"
VALIDATE = False  # check each spec against the Vega-Lite schema when drawn (the tests switch it on)
# Altair's theme and data transformer are process-wide settings: one conversion at a time.
_ALTAIR_SETTINGS = threading.Lock()


def _arrow_dataset(data: Any, datasets: dict[str, bytes]) -> dict[str, str]:
    """Altair data transformer: the frame as Arrow bytes, named by their hash (what st.altair_chart does,
    so the spec stays the same across reruns while the data does)."""
    payload = dataframe_util.convert_anything_to_arrow_bytes(data)
    name = calc_hash(payload)
    datasets[name] = payload
    return {"name": name}


alt.data_transformers.register("cscx_arrow", _arrow_dataset)


def spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's Vega-Lite spec as st.altair_chart makes it (no default theme, data as Arrow datasets),
    checked against the schema only when VALIDATE is on."""
    datasets: dict[str, bytes] = {}
    with _ALTAIR_SETTINGS:
        theme = alt.theme.enable("none") if alt.theme.active == "default" else nullcontext()
        with theme, alt.data_transformers.enable("cscx_arrow", datasets=datasets):
            out: dict[str, Any] = chart.to_dict(validate=VALIDATE)
    out["datasets"] = {**out.get("datasets", {}), **datasets}
    return out


def show(chart: alt.TopLevelMixin, where: DeltaGenerator | None = None, **kwargs: Any) -> None:
    """Draw the chart in `where` (the page by default); `kwargs` are st.vega_lite_chart's (width, key...)."""
    (where or st).vega_lite_chart(spec(chart), **kwargs)


def day_axis(days: pd.Series, field: str = "metric_date") -> alt.X:
    """The x axis of a daily chart: ticks on whole days only, every k-th day so at most MAX_DAY_TICKS
    labels show (left to Vega, a week-long axis ticks every 12 hours and prints each date twice)."""
    known = pd.to_datetime(days).dropna()
    span = int((known.max() - known.min()).days) + 1 if len(known) else 1
    step = max(1, math.ceil(span / MAX_DAY_TICKS))
    return alt.X(f"{field}:T", title=None, axis=alt.Axis(format="%d %b", labelOverlap=True,
                                                          tickCount={"interval": "day", "step": step}))


def smoothing_toggle(key: str) -> bool:
    """The switch every daily chart has: draw 7-day averages instead of each day's value."""
    return bool(st.toggle(SMOOTH_LABEL, key=key, help=SMOOTH_HELP))


def smoothed(frame: pd.DataFrame, columns: Sequence[str], on: bool = True) -> pd.DataFrame:
    """The frame with each of `columns` replaced by its trailing 7-day mean (rows are consecutive days; a
    window with a missing day has no mean); unchanged when `on` is false. From the frame the page already
    has: no query."""
    if not on:
        return frame
    means = {c: frame[c].astype(float).rolling(SMOOTH_DAYS, min_periods=SMOOTH_DAYS).mean() for c in columns}
    return frame.assign(**means)


def lines(frame: pd.DataFrame, series: Mapping[str, str], y_title: str, *, fmt: str = ",.0f",
          height: int = 260, x: str = "metric_date", points: bool = False, faint: Sequence[str] = (),
          legend: bool | None = None) -> alt.Chart:
    """One line per column of `series` (column -> legend label) over days; `points` marks each value,
    for sparse series whose isolated days would not show as a line; `faint` columns draw thin and pale;
    the legend shows with more than one series unless `legend` says otherwise."""
    long = frame.melt(id_vars=x, value_vars=list(series), var_name="series", value_name="value")
    long["series"] = long["series"].map(series)
    order = list(series.values())
    shown = len(series) > 1 if legend is None else legend
    pale = [series[c] for c in faint if c in series]
    chart: alt.Chart = (
        alt.Chart(long).mark_line(strokeWidth=2, invalid=BREAK, interpolate="monotone",
                                  point=alt.OverlayMarkDef(size=14) if points else False)
        .encode(x=day_axis(frame[x], x),
                y=alt.Y("value:Q", title=y_title, axis=alt.Axis(format=fmt)),
                color=alt.Color("series:N", title=None, sort=order,
                                scale=alt.Scale(domain=order, range=PALETTE[:len(order)]),
                                legend=alt.Legend(orient="top") if shown else None),
                opacity=alt.OpacityValue(1.0, condition={"test": {"field": "series", "oneOf": pale}, "value": 0.35}),
                tooltip=[alt.Tooltip(f"{x}:T", title="Day", format="%a %d %b %Y"),
                         alt.Tooltip("series:N", title="Metric"), alt.Tooltip("value:Q", title=y_title, format=fmt)])
        .properties(height=height)
    )
    return chart


def users_with_stickiness(frame: pd.DataFrame, height: int = 300) -> alt.LayerChart:
    """DAU, WAU and MAU (left axis, visitors) with each day's stickiness, the frame's `stickiness`
    column (right axis, %, dashed); all four in one legend."""
    labels = {"dau": "DAU", "wau": "WAU", "mau": "MAU"}
    stickiness = "Stickiness (right axis)"
    domain = [*labels.values(), stickiness]
    colors = alt.Scale(domain=domain, range=[*PALETTE[:3], ACCENT])
    dashes = alt.Scale(domain=domain, range=[[1, 0]] * 3 + [[5, 3]])
    legend = alt.Legend(orient="top", symbolType="stroke", symbolStrokeWidth=2)
    users = lines(frame, labels, "Active visitors", height=height).encode(
        color=alt.Color("series:N", title=None, scale=colors, legend=legend),
        strokeDash=alt.StrokeDash("series:N", title=None, scale=dashes, legend=legend))
    stick = (
        alt.Chart(frame.assign(series=stickiness)).mark_line(strokeWidth=2, invalid=BREAK)
        .encode(x=day_axis(frame["metric_date"]), y=alt.Y("stickiness:Q", title="Stickiness, 7-day mean DAU ÷ MAU",
                                axis=alt.Axis(format=".0%", titleColor=ACCENT, labelColor=ACCENT),
                                scale=alt.Scale(domainMin=0)),
                color=alt.Color("series:N", title=None, scale=colors, legend=legend),
                strokeDash=alt.StrokeDash("series:N", title=None, scale=dashes, legend=legend),
                tooltip=[alt.Tooltip("metric_date:T", title="Day", format="%a %d %b %Y"),
                         alt.Tooltip("stickiness:Q", title="Stickiness", format=".1%"),
                         alt.Tooltip("dau_mau:Q", title="DAU ÷ MAU that day", format=".1%")])
    )
    chart: alt.LayerChart = alt.LayerChart(layer=[users, stick]).resolve_scale(y="independent")
    return chart


def chat_chart(frame: pd.DataFrame, *, x: str, y: str, series: str, title: str, y_title: str,
               smooth: bool = False) -> alt.Chart:
    """The chat's trend chart (long form: one row per day and series) in the pages' theme, each series as
    7-day averages when `smooth`."""
    order = list(dict.fromkeys(frame[series]))
    wide = (frame.assign(**{x: pd.to_datetime(frame[x])})
            .pivot_table(index=x, columns=series, values=y, aggfunc="first", dropna=False)
            .reset_index().rename(columns={x: "metric_date"}).sort_values("metric_date"))
    wide = smoothed(wide, order, smooth)
    chart: alt.Chart = lines(wide, {name: name for name in order}, y_title, legend=True).properties(title=title)
    return chart


def gauge(value: float | None, marks: Mapping[str, float | None], title: str = "DAU ÷ MAU") -> alt.LayerChart:
    """A half-circle gauge of a share (0..1), with a tick on the rim for each reference value
    (e.g. peer medians). Angles are raw radians (no scale): -pi/2 is 0%, +pi/2 is 100%."""
    def angle(share: float) -> float:
        return -math.pi / 2 + math.pi * max(0.0, min(1.0, share))

    shown = value if value is not None and not math.isnan(value) else None
    arcs = pd.DataFrame({"part": ["track", "value"], "start": [angle(0), angle(0)],
                         "end": [angle(1), angle(shown or 0.0)]})
    ring = alt.Chart(arcs).mark_arc(innerRadius=70, outerRadius=105).encode(
        theta=alt.Theta("start:Q", scale=None), theta2=alt.Theta2("end:Q"),
        color=alt.Color("part:N", scale=alt.Scale(domain=["track", "value"], range=["#e6ebf2", "#1f5fbf"]),
                        legend=None))
    label = f"{shown:.0%}" if shown is not None else "–"
    text = (alt.Chart(pd.DataFrame({"t": [label]})).mark_text(fontSize=30, fontWeight="bold", dy=-14)
            .encode(text=alt.Text("t:N")))
    caption = (alt.Chart(pd.DataFrame({"t": [title]})).mark_text(fontSize=12, dy=10, color="#555")
               .encode(text=alt.Text("t:N")))
    refs = {k: v for k, v in marks.items() if v is not None and not math.isnan(v)}
    ticks = pd.DataFrame({"who": list(refs), "share": list(refs.values())})
    ticks["start"], ticks["end"] = [angle(v) - 0.025 for v in refs.values()], [angle(v) + 0.025 for v in refs.values()]
    rims = alt.Chart(ticks).mark_arc(innerRadius=64, outerRadius=114).encode(
        theta=alt.Theta("start:Q", scale=None), theta2=alt.Theta2("end:Q"),
        color=alt.Color("who:N", title=None, scale=alt.Scale(range=["#f29c38", "#2ea39b"]),
                        legend=alt.Legend(orient="bottom", direction="vertical")),
        tooltip=[alt.Tooltip("who:N", title="Median of"), alt.Tooltip("share:Q", title="DAU ÷ MAU", format=".0%")])
    chart: alt.LayerChart = alt.LayerChart(layer=[ring, _gauge_scale(angle), rims, text, caption]).resolve_scale(
        color="independent")
    return chart.properties(height=260, padding={"top": 20, "bottom": 5, "left": 5, "right": 5})  # room for 50%


def _gauge_scale(angle: Callable[[float], float]) -> alt.LayerChart:
    """The gauge's scale: a tick and its label at 0, 25, 50, 75 and 100% outside the ring."""
    steps = pd.DataFrame({"share": [0.0, 0.25, 0.5, 0.75, 1.0]})
    steps["theta"] = [angle(v) for v in steps["share"]]
    steps["start"], steps["end"] = steps["theta"] - 0.008, steps["theta"] + 0.008
    steps["label"] = [f"{v:.0%}" for v in steps["share"]]
    ticks = alt.Chart().mark_arc(innerRadius=105, outerRadius=109, color="#7f8c8d").encode(
        theta=alt.Theta("start:Q", scale=None), theta2=alt.Theta2("end:Q"))
    labels = alt.Chart().mark_text(radius=117, fontSize=10, color="#555", baseline="middle").encode(
        theta=alt.Theta("theta:Q", scale=None), text=alt.Text("label:N"))
    return alt.LayerChart(data=steps, layer=[ticks, labels])  # the frame on the layer chart (module docstring)


def heatmap(frame: pd.DataFrame, *, x: str, y: str, value: str, x_title: str, y_title: str, value_title: str,
            fmt: str = ".0%", x_sort: Sequence[str] | None = None, y_sort: Sequence[str] | None = None,
            extra_tooltips: Sequence[alt.Tooltip] = ()) -> alt.Chart:
    """Cells coloured by `value` (blues), one row per `y` and one column per `x` (both categories);
    `x_sort` also fixes the columns, so a column without data shows empty instead of vanishing."""
    rows = max(1, frame[y].nunique())
    columns = len(x_sort) if x_sort is not None else frame[x].nunique()
    # every column named (Vega-Lite hides every other label that would overlap: the newcomer could not tell
    # which customer a column was); many columns stand their labels steeper so they do not overlap
    angle = -35 if columns <= 12 else -60
    chart: alt.Chart = (
        alt.Chart(frame).mark_rect(stroke="white", strokeWidth=1.5, cornerRadius=2)
        .encode(x=alt.X(f"{x}:N", title=x_title, sort=list(x_sort) if x_sort is not None else "ascending",
                        scale=alt.Scale(domain=list(x_sort)) if x_sort is not None else alt.Scale(),
                        axis=alt.Axis(labelAngle=angle, labelLimit=160, labelOverlap=False, orient="top")),
                y=alt.Y(f"{y}:N", title=None, sort=list(y_sort) if y_sort is not None else "ascending",
                        axis=alt.Axis(labelOverlap=False, labelLimit=240)),
                color=alt.Color(f"{value}:Q", title=value_title, scale=alt.Scale(scheme="blues", domainMin=0),
                                legend=alt.Legend(format=fmt, orient="bottom", gradientLength=260)),
                tooltip=[alt.Tooltip(f"{y}:N", title=y_title), alt.Tooltip(f"{x}:N", title=x_title),
                         alt.Tooltip(f"{value}:Q", title=value_title, format=fmt), *extra_tooltips])
        .properties(height=26 * rows + 150)
    )
    return chart


def bars(frame: pd.DataFrame, *, x: str, y: str, x_title: str, fmt: str = ",.0f", color: str = "#1f5fbf",
         sort: str | Sequence[str] = "-x", domain: tuple[float, float] | None = None) -> alt.LayerChart:
    """Horizontal bars of `x` per `y` category, one readable row each, the value written at the end."""
    scale = alt.Scale(domain=list(domain)) if domain else alt.Scale()
    y_axis = alt.Y(f"{y}:N", title=None, sort=sort if isinstance(sort, str) else list(sort),
                   axis=alt.Axis(labelOverlap=False, labelLimit=260))
    base = alt.Chart().encode(x=alt.X(f"{x}:Q", title=x_title, axis=alt.Axis(format=fmt), scale=scale), y=y_axis)
    bar = base.mark_bar(color=color, cornerRadiusEnd=3, height={"band": 0.7}).encode(
        tooltip=[alt.Tooltip(f"{y}:N", title="Name"), alt.Tooltip(f"{x}:Q", title=x_title, format=fmt)])
    text = base.mark_text(align="left", dx=4, color=TEXT, fontSize=11).encode(text=alt.Text(f"{x}:Q", format=fmt))
    return alt.LayerChart(data=frame, layer=[bar, text]).properties(height=32 * max(1, len(frame)) + 50)


def compared_bars(frame: pd.DataFrame, *, x: str, x_order: Sequence[str], series: str, order: Sequence[str],
                  y: alt.Y, tooltip: Sequence[alt.Tooltip | str], label: str | None = None,
                  height: int = 240) -> alt.LayerChart:
    """Bars of two series side by side per `x` category (saved and candidate settings): the first in the
    theme's grey, the second in its first colour (COMPARED); `label` names a column written above each bar."""
    base = alt.Chart().encode(x=alt.X(f"{x}:N", title=None, sort=list(x_order), axis=alt.Axis(labelAngle=0)),
                                   xOffset=alt.XOffset(f"{series}:N", sort=list(order)), y=y, tooltip=list(tooltip))
    bar = base.mark_bar(cornerRadiusEnd=3).encode(color=alt.Color(
        f"{series}:N", title=None, sort=list(order), scale=alt.Scale(domain=list(order), range=list(COMPARED)),
        legend=alt.Legend(orient="top")))
    written = base.mark_text(dy=-7, fontSize=11, color=TEXT).encode(text=alt.Text(f"{label}:N"))
    layers = [bar] if label is None else [bar, written]
    return alt.LayerChart(data=frame, layer=layers).properties(height=height)
