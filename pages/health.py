"""Health: a customer's score and band, what it is made of, what moved it, and its 90-day history."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import charts, customer_header, health_charts, loaders, panel_ui, shared
from pages.ui.people_section import render_champions
from pendo_core.admin.settings import HealthSettings
from pendo_core.health import queries as health_view
from pendo_core.health.score import CHANGE_DAYS, Explanation

HELP = {
    "score": "Weighted mean of the components that have data (weights renormalised over them), 0–100.",
    "coverage": "Share of the total weight whose component had data. Below the coverage floor the score is "
                "'insufficient data'.",
    "history": "The overall score per scored day. Shaded bands: red, yellow, green. A dashed line marks the first "
               "day scored with a new settings version (weights or bands changed).",
}


COMPONENT_ROW = 68  # two to three lines: 'Measured' wraps (Streamlit wraps text only above 64 px)


def _headline(detail: health_view.ScoreDetail, explanation: Explanation | None) -> None:
    cols = st.columns(4)
    score = "No score" if detail.insufficient else f"{detail.overall:.1f} / 100"
    # The score's change is the one window every screen uses (CHANGE_DAYS, as the header above); the
    # 7-day change beside it is named as such.
    change_28 = explanation.change_28d if explanation else None
    delta = None if change_28 is None else f"{change_28:+.1f} pts in {CHANGE_DAYS} days"
    cols[0].metric("Health score", score, delta, help=HELP["score"], border=True)
    change_7 = explanation.change_7d if explanation else None
    cols[1].metric("Health change, 7 days", panel_ui.fmt_points(change_7, signed=True) + " pts"
                   if change_7 is not None else "–", border=True,
                   help=f"Overall score today minus the score 7 days earlier, in points (the {CHANGE_DAYS}-day "
                        "change is under the score, as in the header).")
    cols[2].metric("Coverage", f"{detail.coverage:.0%}", help=HELP["coverage"], border=True)
    cols[3].metric("Settings version", f"v{detail.settings_version}" if detail.settings_version else "defaults",
                   help="The admin settings (weights, bands) this score was computed with.", border=True)
    st.markdown(f"Band: {panel_ui.band_badge(detail.band)} &nbsp; · &nbsp; scored on **{detail.day:%d %b %Y}**")


def _insufficient(detail: health_view.ScoreDetail, health: HealthSettings) -> None:
    missing = [f"**{health_view.LABELS[n]}**: {health_view.missing_reason(n, detail.inputs)}"
               for n, value in detail.components.items() if value is None and detail.weights.get(n, 0) > 0]
    st.warning(f"**Insufficient data.** Only {detail.coverage:.0%} of the score's weight has data; a score needs "
               f"at least {health.coverage_floor:.0%}, so none is given rather than a misleading one.")
    if missing:
        st.markdown("Missing components:\n" + "\n".join(f"- {line}" for line in missing))


def _components(customer_id: str, explanation: Explanation, detail: health_view.ScoreDetail,
                health: HealthSettings) -> None:
    table = health_view.component_table(explanation, detail, loaders.weekly_visitor_days(customer_id, detail.day))
    st.markdown("#### What the score is made of", help="Each component is scored 0–100; its points are its score "
                "× its renormalised weight, so the points add up to the overall score. A bar's colour is the "
                f"component's own score on the bands: red below {health.red_below:g}, yellow below "
                f"{health.green_from:g}, green from there.")
    if not detail.insufficient:  # no score, nothing to decompose: the table still shows what there is
        charts.show(health_charts.contributions_chart(table, red_below=health.red_below,
                                                             green_from=health.green_from), width="stretch")
    config = {"component": st.column_config.TextColumn("Component", width=120),
              "score": st.column_config.NumberColumn("Score", format="%.1f", width=60, help="0–100."),
              "weight": st.column_config.NumberColumn("Weight", format="percent", width=64,
                                                      help="Renormalised over the components with data."),
              "points": st.column_config.NumberColumn("Points", format="%.1f", width=60),
              "change_7d": st.column_config.NumberColumn("Δ 7 d", format="%+.1f", width=56,
                                                         help="Change of the component's points in 7 days."),
              "change_28d": st.column_config.NumberColumn("Δ 28 d", format="%+.1f", width=60,
                                                          help="Change of the component's points in 28 days."),
              "measured": st.column_config.TextColumn("Measured", width=400, help="What the component read.")}
    panel_ui.table(table.drop(columns=["nominal"]), key="health_components", file_name="health_components.csv",
                   column_config=config,
                   row_height=COMPONENT_ROW, height=35 + COMPONENT_ROW * len(table) + 3)


def _history(customer_id: str, health: HealthSettings) -> None:
    first, last = shared.date_range()
    days = (last - first).days + 1
    history = loaders.health_history(customer_id, first, last)
    head, toggle = st.columns([3, 1], vertical_alignment="bottom")
    head.markdown(f"#### Score history, {first:%d %b} – {last:%d %b %Y}", help=HELP["history"])
    show = toggle.toggle("Show components", key="health_show_components")
    if history.empty:
        st.info("No scored day in this date range: widen the range in the sidebar.")
        return
    changes = _described_changes(health_view.version_changes(history))
    charts.show(health_charts.history_chart(history, changes, red_below=health.red_below,
                                            green_from=health.green_from, show_components=show, first=first,
                                            last=last), width="stretch")
    gaps, thin = days - len(history), int(history["overall"].isna().sum())
    note = f" {gaps} day(s) without a score (not synced) are left out." if gaps > 0 else ""
    note += f" {thin} day(s) with insufficient data show as grey marks at the bottom." if thin else ""
    st.caption(f"Bands: red below {health.red_below:g}, green from {health.green_from:g}.{note}")
    with st.expander("Daily scores"):
        panel_ui.table(history.sort_values("score_date", ascending=False), key="health_history",
                       file_name=f"health_history_{customer_id}.csv",
                       column_config={"score_date": st.column_config.DateColumn("Day"),
                                      "coverage": st.column_config.NumberColumn("Coverage", format="percent")})


def _described_changes(changes: pd.DataFrame) -> pd.DataFrame:
    versions = loaders.settings_versions().set_index("version")
    def say(row: pd.Series) -> str:
        saved = versions.loc[row.to_version] if row.to_version in versions.index else None
        who = f" by {saved.saved_by}" if saved is not None else ""
        note = f": {saved.note}" if saved is not None and saved.note else ""
        return f"settings v{row.from_version} → v{row.to_version}{who}{note}"
    return changes.assign(what=[say(r) for _, r in changes.iterrows()]) if not changes.empty else changes


def _how_it_works(health: HealthSettings) -> None:
    with st.expander("How the health score is computed"):
        for name, text in health_view.DEFINITIONS.items():
            st.markdown(f"- **{health_view.LABELS[name]}**: {text}")
        st.markdown(f"- **Overall**: the weighted mean of the components with data; weights are renormalised over "
                    f"them. Below {health.coverage_floor:.0%} coverage the score is *insufficient data*.\n"
                    f"- **Bands**: red below {health.red_below:g}, yellow up to {health.green_from:g}, green from "
                    f"{health.green_from:g}. Admins set weights and bands; every change is a new settings version.")


def render() -> None:
    panel_ui.signed_in("health")
    picked = shared.pick_customer()
    if picked is None:
        shared.page_header("Health")
        shared.no_customer_message()
        return
    customer_id, name = picked
    shared.page_header("Health", name)
    customer_header.render(customer_id)
    detail = loaders.latest_score(customer_id)
    if detail is None:
        st.info(f"{name} has no health score yet. Scores are computed by the daily sync once the customer's Pendo "
                "accounts are mapped and their usage is synced.")
        return
    health = loaders.health_settings(detail.settings_version)
    explanation = loaders.explanation(customer_id, detail.day)
    _headline(detail, explanation)  # the open alerts are linked from the customer header
    if detail.insufficient:
        _insufficient(detail, health)
    elif explanation is not None:
        st.markdown("**What moved it:** " + " ".join(health_view.what_moved(explanation)))
    if explanation is not None and explanation.components:
        _components(customer_id, explanation, detail, health)
    _history(customer_id, health)
    render_champions(shared.engine, customer_id, detail.day)
    _how_it_works(health)


render()
