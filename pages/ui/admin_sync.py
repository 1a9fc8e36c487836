"""Admin → Sync: status, "sync now" (the one sync pipeline, on a background thread), history with rows
per stream, bad rows and errors."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from pages.ui import charts, panel_ui, shared
from pendo_core import pipeline
from pendo_core.admin import sync_history
from pendo_core.admin import users as auth
from pendo_core.admin.background import BackgroundSync

HISTORY_RUNS = 50


@st.cache_resource
def sync_job() -> BackgroundSync:
    """One background sync per app process, shared by every admin's session."""
    return BackgroundSync()


@st.cache_data(ttl=30, show_spinner=False)
def load_runs() -> pd.DataFrame:
    return sync_history.sync_runs(shared.engine(), HISTORY_RUNS)


@st.cache_data(ttl=30, show_spinner=False)
def load_streams(run_id: int) -> pd.DataFrame:
    return sync_history.stream_rows(shared.engine(), [run_id])


@st.cache_data(ttl=30, show_spinner=False)
def load_quality(run_id: int) -> pd.DataFrame:
    return sync_history.data_quality(shared.engine(), [run_id])


def _run_sync() -> str:
    """The daily incremental run through the sync pipeline (as `python -m jobs sync`); its summary line."""
    line = pipeline.brief(pipeline.run_sync(panel_ui.settings(), shared.engine()))
    return f"{line[:1].upper()}{line[1:]}."


def _start() -> None:
    if sync_history.running_sync(shared.engine()) is not None:
        panel_ui.set_flash("admin", "error", "A sync is already running (started by the scheduler or another "
                                             "admin); wait for it to finish.")
        return
    if not sync_job().start(_run_sync):
        panel_ui.set_flash("admin", "error", "A sync started from the app is still running.")


def _live_status() -> None:
    """Polls the background sync while it runs; refreshes every page's data once it ends."""
    state = sync_job().state
    if state.status == "running" and state.started_at is not None:
        st.info(f"Sync running since {state.started_at:%H:%M:%S} UTC… this panel refreshes by itself.",
                icon=":material/sync:")
    seen = st.session_state.get("admin_sync_seen", 0)
    if state.runs > seen:
        st.session_state["admin_sync_seen"] = state.runs
        st.cache_data.clear()  # a new freshness stamp also refreshes the back-test data (keyed on it)
        ok = state.status == "success"
        panel_ui.set_flash("admin", "success" if ok else "error",
                           (state.message or "Sync finished.") if ok else f"Sync failed: {state.message}")
        st.session_state.pop("admin_sync_run", None)  # show the newest run's streams
        st.rerun(scope="app")


def _overview(runs: pd.DataFrame, running: bool) -> None:
    cols = st.columns([1, 1, 1, 1.2], vertical_alignment="center")
    last = runs.iloc[0] if not runs.empty else None
    ok = runs[runs["status"] == "success"]
    cols[0].metric("Last run", "never" if last is None else last.status.title(), border=True,
                   help="The newest sync run and how it ended.")
    cols[1].metric("Data through", ok.iloc[0].days.split(" → ")[-1] if not ok.empty else "–", border=True,
                   help="The last complete day the newest successful run reported.")
    failed = int((runs.head(7)["status"] == "failed").sum())
    cols[2].metric("Failed, last 7 runs", failed, border=True)
    cols[3].button("Sync now", key="admin_sync_now", type="primary", on_click=_start, disabled=running,
                   icon=":material/sync:", help="Runs the daily incremental sync (the lookback window), then "
                   "metrics, health scores and alerts. It runs in the background; you can leave this page.")
    if last is not None and last.status == "failed":
        st.error(f"Run {last.run} failed: {last.error}")


def _run_detail(runs: pd.DataFrame) -> None:
    labels = {r.run: f"Run {r.run} · {r.status} · {r.started:%d %b %H:%M}" for r in runs.itertuples()}
    run_id = st.selectbox("Run", list(labels), format_func=labels.__getitem__, key="admin_sync_run", width=360)
    streams = load_streams(int(run_id)).drop(columns=["run"])
    if streams.empty:
        st.caption("This run wrote no rows.")
    else:
        chart, table = st.columns([3, 2])
        bar = alt.Chart(streams).mark_bar(color=charts.PALETTE[0]).encode(
            y=alt.Y("stream:N", title=None, sort="-x"), x=alt.X("rows:Q", title="Rows written (count)"),
            tooltip=[alt.Tooltip("stream:N", title="Stream"), alt.Tooltip("rows:Q", title="Rows", format=","),
                     alt.Tooltip("bad_rows:Q", title="Bad rows skipped")],
        ).properties(height=28 * len(streams) + 40)
        charts.show(bar, chart, width="stretch")
        chart.caption("Rows written per stream in this run (entities and activity). Re-read days count again.")
        with table:
            panel_ui.table(streams, key="admin_streams", file_name=f"sync_{run_id}_streams.csv", column_config={
                "stream": "Stream", "rows": st.column_config.NumberColumn("Rows", format="localized"),
                "bad_rows": st.column_config.NumberColumn("Bad rows", format="localized")})
    quality = load_quality(int(run_id))
    st.markdown("##### Bad rows", help="Rows Pendo sent that could not be stored (missing ids, bad values); they "
                "are skipped, counted per stream and reason, with one sample.")
    if quality.empty:
        st.caption("No bad rows in this run.")
    else:
        panel_ui.table(quality, key="admin_quality", file_name=f"sync_{run_id}_bad_rows.csv")


def render(user: auth.User) -> None:
    """The sync tab."""
    running = sync_job().state.status == "running" or sync_history.running_sync(shared.engine()) is not None
    st.fragment(_live_status, run_every=2.0 if running else None)()
    runs = load_runs()
    _overview(runs, running)
    if runs.empty:
        st.info("No sync has run yet. Press **Sync now**, or run `python -m jobs sync` (the scheduler runs it "
                "daily).")
        return
    st.markdown("#### History")
    panel_ui.table(runs, key="admin_runs", file_name="sync_runs.csv", column_config={
        "run": st.column_config.NumberColumn("Run", format="%d", width=44), "status": "Status", "mode": "Mode",
        "started": st.column_config.DatetimeColumn("Started", format="D MMM, HH:mm", help="UTC; the finish time "
                                                   "is in the CSV."),
        "minutes": st.column_config.NumberColumn("Minutes", format="%.1f"),
        "as_of": st.column_config.DateColumn("As of", format="D MMM YY"),
        "days": st.column_config.NumberColumn("Days", help="Days reported."),
        "requests": st.column_config.NumberColumn("Requests", format="%d"),
        "retries": st.column_config.NumberColumn("Retries", format="%d"),
        "bad_rows": st.column_config.NumberColumn("Bad rows", format="%d"),
        "finished": None,
        "error": st.column_config.TextColumn("Error", width=200, help="Wrapped over three lines; whole in the CSV.")},
                   row_height=68)
    st.markdown("#### Rows per stream")
    _run_detail(runs)
