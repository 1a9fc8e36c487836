"""Admin → Health weights → Suggest weights: fit the weights to the imported outcomes, compare, apply."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from pages.ui import admin_settings, charts, health_charts, panel_ui, shared
from pendo_core.admin import users as auth
from pendo_core.admin.settings import AppSettings, HealthWeights
from pendo_core.health import BacktestData, run_backtest
from pendo_core.health.fit import FOLDS, MIN_CHURNED, Suggestion, suggest_weights
from pendo_core.health.queries import LABELS

STATE = "admin_suggestion"  # (what it was fitted for, the suggestion)
SLIDERS = "admin_w_"
HELP = (f"Fits the weights (each 0 or more, summing to 100%) that rank the customers who churned lowest, on the "
        f"imported outcomes at the back-test's lead time: a coarse grid, then small moves of weight between "
        f"components. Its AUC is cross-validated ({FOLDS} folds of customers, each scored by weights fitted on the "
        f"others), so it is what to expect on customers the fit has not seen. Needs at least {MIN_CHURNED} churned "
        f"and {MIN_CHURNED} renewed customers with a score at the lead time.")


def render(data: BacktestData, saved: AppSettings, lead: int, user: auth.User) -> None:
    """The button, then the suggestion for these outcomes, lead time and saved weights with its apply button."""
    st.markdown("#### Suggest weights from outcomes", help=HELP)
    st.caption(f"Fits the weights to the renewal outcomes (needs at least {MIN_CHURNED} churned customers) and "
               "shows what they would do before you apply them.")
    fitted_for = (shared.freshness().stamp, lead, tuple(saved.health.weights.as_dict().values()))
    if st.button("Suggest weights", key="admin_suggest", icon=":material/auto_fix_high:"):
        with st.spinner("Fitting the weights to the outcomes…"):
            st.session_state[STATE] = (fitted_for, suggest_weights(data, saved.health.weights.as_dict(), lead))
    held = st.session_state.get(STATE)
    if held is None or held[0] != fitted_for:
        return
    suggestion: Suggestion = held[1]
    if suggestion.weights is None:
        st.warning(suggestion.refused, icon=":material/block:")
        return
    _compare(data, saved, lead, suggestion)
    st.button("Apply suggested weights", key="admin_suggest_apply", type="primary", icon=":material/check:",
              on_click=_apply, args=(saved, suggestion, lead, user.email))


def _compare(data: BacktestData, saved: AppSettings, lead: int, suggestion: Suggestion) -> None:
    """Cross-validated AUCs, the weights side by side, and churn by band under the saved bands."""
    cols = st.columns(2)
    cols[0].metric("AUC, saved weights (cross-validated)", _auc(suggestion.current_auc), border=True,
                   help="The saved weights are not fitted to these outcomes, so their AUC is already out of sample.")
    cols[1].metric("AUC, suggested weights (cross-validated)", _auc(suggestion.suggested_auc), border=True,
                   help=HELP)
    if suggestion.within_noise and suggestion.gain_interval is not None:
        low, high = suggestion.gain_interval
        st.warning(f"The gain is within the noise of {suggestion.churned} churned and {suggestion.renewed} renewed "
                   f"outcomes: the AUC difference could be anywhere from {low:+.3f} to {high:+.3f} (95%), so on the "
                   "next customers the suggested weights may do no better than the saved ones. Apply them only with "
                   "a reason beyond this fit, or wait for more outcomes.", icon=":material/info:")
    assert suggestion.weights is not None
    now = saved.health.weights.as_dict()
    total = sum(now.values()) or 1.0
    table = pd.DataFrame({"component": [LABELS[n] for n in now], "saved": [w / total for w in now.values()],
                          "suggested": [suggestion.weights[n] for n in now]})
    panel_ui.table(table, key="admin_suggest_weights", file_name="suggested_weights.csv", column_config={
        "saved": st.column_config.NumberColumn("Saved", format="percent"),
        "suggested": st.column_config.NumberColumn("Suggested", format="percent")})
    h = saved.health
    reports = [(label, run_backtest(data, weights, lead, red_below=h.red_below, green_from=h.green_from,
                                    coverage_floor=h.coverage_floor))
               for label, weights in (("Saved", now), ("Suggested", suggestion.weights))]
    charts.show(health_charts.churn_by_band_chart(reports), width="stretch")
    st.caption(f"Churn rate per band at a {lead}-day lead time, with the saved bands (red below {h.red_below:g}, "
               f"green from {h.green_from:g}), over {suggestion.churned} churned and {suggestion.renewed} renewed "
               "outcomes.")


def _apply(saved: AppSettings, suggestion: Suggestion, lead: int, by: str) -> None:
    """Save the suggested weights as a new settings version; the sliders then read them back."""
    assert suggestion.weights is not None
    health = saved.health.model_copy(update={"weights": HealthWeights(**suggestion.weights)})
    note = (f"Suggested weights: cross-validated AUC {_auc(suggestion.suggested_auc)} against "
            f"{_auc(suggestion.current_auc)} at a {lead}-day lead time ({suggestion.churned} churned, "
            f"{suggestion.renewed} renewed)")
    admin_settings.save(saved.model_copy(update={"health": health}), by, note, "Suggested health weights")
    for key in [k for k in st.session_state if str(k).startswith(SLIDERS)]:
        del st.session_state[key]  # so they start again from the saved weights
    st.session_state.pop(STATE, None)


def _auc(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"
