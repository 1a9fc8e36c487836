"""Admin → Health weights: sliders with the back-test and the band preview answering as they move."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
from pydantic import ValidationError

from pages.ui import admin_settings, admin_suggest, charts, health_charts, panel_ui, shared
from pages.ui.backtest_columns import DECILE_COLUMNS, MOVE_COLUMNS
from pendo_core.admin import users as auth
from pendo_core.admin.background import BackgroundValue
from pendo_core.admin.settings import HealthSettings
from pendo_core.health import BacktestData, BacktestReport, band_preview, load_backtest, naive, run_backtest
from pendo_core.health.backtest import score_warnings
from pendo_core.health.queries import DEFINITIONS, LABELS

LEAD_TIMES = [0, 14, 30, 60, 90]
BACKTEST_TTL = 3600  # scores change with a sync (the stamp key); an import of outcomes shows within the hour
HELP = {
    "auc": "AUC: the probability that a customer who churned scored below one who renewed, using the score "
           "`lead time` days before the outcome. 0.5 is a coin toss, 1.0 is perfect.",
    "baseline": "The same AUC for the best of the naive single signals read on the day of the score: "
                + ", ".join(naive.LABELS.values()) + " (as `python -m jobs evaluate` reports them).",
    "churn": "Churn rate per band: of the customers whose score (at the lead time) fell in the band, the share "
             "that churned. A good score has high churn in red and low churn in green.",
    "preview": "Re-scores every customer's newest stored components with these settings and counts who would land "
               "in a different band than today.",
}


@st.cache_resource(ttl=BACKTEST_TTL, max_entries=1, show_spinner=False)
def backtest_loader(stamp: int) -> BackgroundValue[BacktestData]:
    """Every outcome with its stored components, read once per sync (`stamp`) on a background thread
    (it takes seconds on thousands of customers), then re-weighted in memory on every slider move."""
    engine = shared.engine()
    return BackgroundValue(lambda: load_backtest(engine))


@st.cache_data(ttl=shared.TTL, show_spinner=False)
def load_latest_components() -> pd.DataFrame:
    return band_preview.latest_components(shared.engine())


def _sliders(saved: HealthSettings) -> tuple[dict[str, int], tuple[int, int], int, int]:
    total = sum(saved.weights.as_dict().values()) or 1.0
    cols = st.columns(len(saved.weights.as_dict()))
    weights = {name: cols[i].slider(LABELS[name], 0, 100, round(100 * w / total), step=1,
                                    key=f"admin_w_{name}", help=DEFINITIONS[name])
               for i, (name, w) in enumerate(saved.weights.as_dict().items())}
    share_total = sum(weights.values()) or 1
    for i, name in enumerate(weights):
        cols[i].caption(f"{weights[name] / share_total:.0%} of the score")
    left, mid, right = st.columns([2, 1, 1])
    bands = left.slider("Bands: red below · green from", 0, 100, (int(saved.red_below), int(saved.green_from)),
                        key="admin_bands", help="Scores below the first value are red, from the second green, "
                        "yellow between.")
    floor = mid.slider("Coverage floor", 0, 100, round(saved.coverage_floor * 100), step=5, format="%d%%",
                       key="admin_floor", help="Below this share of the weight with data, a score is "
                       "'insufficient data'.")
    lead = right.select_slider("Back-test lead time (days)", LEAD_TIMES, value=30, key="admin_lead",
                               help="How long before the renewal outcome the score is read.")
    return weights, bands, floor, lead


def _candidate(saved: HealthSettings, weights: dict[str, int], bands: tuple[int, int], floor: int) -> HealthSettings:
    data: dict[str, Any] = saved.model_dump()
    total = sum(weights.values()) or 1  # stored normalised, so the sliders read back what was saved
    data.update(weights={n: round(v / total, 4) for n, v in weights.items()}, red_below=float(bands[0]),
                green_from=float(bands[1]), coverage_floor=floor / 100)
    return HealthSettings.model_validate(data)


def _report(data: BacktestData, health: HealthSettings, lead: int) -> BacktestReport:
    return run_backtest(data, health.weights.as_dict(), lead, red_below=health.red_below,
                        green_from=health.green_from, coverage_floor=health.coverage_floor)


def _backtest(saved: HealthSettings, candidate: HealthSettings, lead: int) -> BacktestData | None:
    """The back-test of the saved and candidate settings, with the saved score's warnings; the data, once read."""
    st.markdown("#### Back-test against renewal outcomes", help=HELP["auc"])
    loader = backtest_loader(shared.freshness().stamp)
    if not loader.ready:
        st.fragment(_wait_for_backtest, run_every=1.0)()
        return None
    data = loader.wait(0)
    if data is None:
        st.error(f"The back-test data could not be read: {loader.error}")
        return None
    if not data.customer_ids:
        st.info("No renewal outcomes imported yet, so there is nothing to back-test against. Import them with "
                "`python -m jobs import-outcomes FILE.csv` (header `customer_id,outcome,outcome_date`).")
        return None
    now = _report(data, saved, lead)
    for warning in score_warnings(now):
        st.warning(f"Saved score, {lead}-day lead time: {warning}", icon=":material/warning:")
    _backtest_results(now, _report(data, candidate, lead))
    return data


def _wait_for_backtest() -> None:
    """Polls the background read; one full rerun draws the back-test once it is there."""
    if backtest_loader(shared.freshness().stamp).ready:
        st.rerun(scope="app")
    st.info("Reading renewal outcomes and stored scores for the back-test… the rest of the page works "
            "meanwhile.", icon=":material/hourglass_top:")


def _backtest_results(now: BacktestReport, new: BacktestReport) -> None:
    cols = st.columns(4)
    moved = new.auc is not None and now.auc is not None and abs(new.auc - now.auc) >= 0.0005
    delta = f"{new.auc - now.auc:+.3f} vs saved" if moved else None  # type: ignore[operator]
    cols[0].metric("AUC, candidate", "–" if new.auc is None else f"{new.auc:.3f}", delta, help=HELP["auc"],
                   border=True)
    best = new.best_naive
    cols[1].metric("AUC, best naive signal", "–" if best is None else f"{best[1]:.3f}",
                   None if best is None else naive.LABELS[best[0]], delta_color="off", delta_arrow="off",
                   help=HELP["baseline"], border=True)
    cols[2].metric("Outcomes scored", f"{new.scored} of {new.outcomes}", border=True,
                   help="Outcomes with a stored score within 7 days of the lead date; the rest are skipped.")
    cols[3].metric("Churned (all outcomes)", new.churned, border=True,
                   help="Churned outcomes among all imported outcomes, scored or not.")
    if new.no_score:
        st.caption(f"{new.no_score} of {new.outcomes} outcomes have no score stored at their lead date "
                   f"({lead_text(new.lead_days)} before the outcome): it falls after the last synced day (a renewal "
                   "still ahead) or before the first, so they are in no band; "
                   f"{new.skipped - new.no_score} had a score with too little data (the 'insufficient data' band).")
    charts.show(health_charts.churn_by_band_chart([("Saved", now), ("Candidate", new)]), width="stretch")
    st.caption(HELP["churn"])
    with st.expander("Decile lift (candidate)"):
        deciles = pd.DataFrame([vars(d) for d in new.deciles])
        panel_ui.table(deciles, key="admin_deciles", file_name="backtest_deciles.csv", column_config=DECILE_COLUMNS,
                       caption="Customers sorted by score, riskiest tenth first; lift = its churn rate ÷ the "
                               "overall churn rate.")


def lead_text(days: int) -> str:
    return f"{days} day" + ("" if days == 1 else "s")


def _preview(candidate: HealthSettings) -> None:
    st.markdown("#### Band preview", help=HELP["preview"])
    preview = band_preview.preview_bands(load_latest_components(), candidate)
    if not preview.customers:
        st.info("No health scores stored yet: the preview needs one sync with scores.")
        return
    st.metric("Customers changing band", f"{preview.changed} of {preview.customers}", help=HELP["preview"])
    if preview.changed:
        panel_ui.table(preview.moves, key="admin_moves", file_name="band_moves.csv", column_config=MOVE_COLUMNS)
    counts = preview.counts.melt(id_vars="band", var_name="settings", value_name="customers")
    counts["settings"] = counts["settings"].map({"now": "Today", "candidate": "Candidate"})
    tooltip = [alt.Tooltip("band:N", title="Band"), alt.Tooltip("settings:N", title="Settings"),
               alt.Tooltip("customers:Q", title="Customers")]
    charts.show(charts.compared_bars(counts, x="band", x_order=panel_ui.BAND_ORDER, series="settings",
                                     order=["Today", "Candidate"], y=alt.Y("customers:Q", title="Customers"),
                                     tooltip=tooltip, label="customers", height=220), width="stretch")


def _same(a: HealthSettings, b: HealthSettings) -> bool:
    def norm(h: HealthSettings) -> tuple[float, ...]:
        w = h.weights.as_dict()
        total = sum(w.values())
        return (*(round(v / total, 4) for v in w.values()), h.red_below, h.green_from, h.coverage_floor)
    return norm(a) == norm(b)


@st.fragment
def render(user: auth.User) -> None:
    """The weights tab; a fragment, so moving a slider reruns only this tab."""
    version, saved = admin_settings.load_settings()
    st.caption(f"Editing settings version {version or '0 (product defaults)'}. Weights are relative: only their "
               "ratios matter. Nothing changes for users until you save.")
    weights, bands, floor, lead = _sliders(saved.health)
    try:
        candidate = _candidate(saved.health, weights, bands, floor)
    except ValidationError as exc:
        st.error(f"These settings cannot be used: {exc.errors()[0]['msg'].removeprefix('Value error, ')}")
        return
    data = _backtest(saved.health, candidate, lead)
    if data is not None:
        admin_suggest.render(data, saved, lead, user)
    _preview(candidate)
    note = st.text_input("Note for this version", key="admin_weights_note",
                         placeholder="Why the change, e.g. 'more weight on trajectory after Q3 churn review'")
    if st.button("Save weights as a new version", key="admin_weights_save", type="primary",
                 disabled=_same(candidate, saved.health), icon=":material/save:"):
        admin_settings.save(saved.model_copy(update={"health": candidate}), user.email, note, "Health weights")
        st.rerun()
    admin_settings.show_versions()
