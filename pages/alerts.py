"""Alerts: recent usage alerts with the numbers behind them and a suggested action; acknowledge,
snooze or dismiss each in one click, recorded with who and when."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from pages.ui import loaders, panel_ui, shared
from pendo_core.access import Viewer
from pendo_core.alerts import AlertTransitionError
from pendo_core.alerts import queries as alerts_view
from pendo_core.alerts.kinds import label

PAGE_SIZE = 10
DISMISS_REASONS = ["Expected: seasonal or planned", "Known: the customer told us", "Not actionable",
                   "Data looks wrong", "Other (write below)"]
STATUS_TEXT = {"open": "Open", "acknowledged": "Acknowledged", "snoozed": "Snoozed", "dismissed": "Dismissed",
               "resolved": "Resolved"}


def _act(alert_id: int, action: str, viewer: Viewer) -> None:
    """Button callback: run the action, remember the outcome for the next run, refresh the loaders."""
    state = st.session_state
    reason = None
    if action == "dismiss":
        picked = state.get(f"alerts_reason_{alert_id}", DISMISS_REASONS[0])
        extra = state.get(f"alerts_reason_text_{alert_id}", "").strip()
        reason = extra if picked.startswith("Other") else f"{picked}{': ' + extra if extra else ''}"
    until = state.get(f"alerts_until_{alert_id}") if action == "snooze" else None
    try:
        state["alerts_flash"] = ("success", alerts_view.act(shared.engine(), alert_id, action, viewer,
                                                            today=panel_ui.today(), reason=reason, until=until))
    except AlertTransitionError as exc:
        state["alerts_flash"] = ("error", f"Alert {alert_id}: {exc}")
    loaders.visible_alerts.clear()
    loaders.alert_trail.clear()


def _status_line(alert: pd.Series) -> str:
    """Who last acted on the alert, when, and why (empty while nobody has)."""
    if not alert.status_by or alert.status_by == "system":
        return ""
    when = f" on {alert.status_at:%d %b %Y %H:%M} UTC" if pd.notna(alert.status_at) else ""
    verb = STATUS_TEXT.get(alert.status, alert.status)
    if alert.status == "snoozed" and pd.notna(alert.snoozed_until):
        verb = f"Snoozed until {alert.snoozed_until:%d %b %Y}"
    reason = f": {alert.dismiss_reason}" if alert.status == "dismissed" and alert.dismiss_reason else ""
    return f"{verb} by {alert.status_by}{when}{reason}"


STATUS_COLORS = {"open": "red", "acknowledged": "blue", "snoozed": "violet", "dismissed": "gray",
                 "resolved": "green"}


def _buttons(alert: pd.Series, viewer: Viewer) -> None:
    args = {"viewer": viewer}
    if not viewer.may_act_on(alert.customer_csm, alert.csm):
        st.caption("Only the customer's CSM or a leader can act on this alert.")
        return
    active = alert.status in ("open", "acknowledged", "snoozed")
    row = st.container(horizontal=True, gap="small")
    row.button("Acknowledge", key=f"alerts_ack_{alert.id}", disabled=alert.status != "open", type="primary",
               on_click=_act, args=(alert.id, "acknowledge"), kwargs=args, icon=":material/check:")
    with row.popover("Snooze", disabled=not active or alert.status == "snoozed", icon=":material/snooze:"):
        st.date_input("Until", value=panel_ui.today() + timedelta(days=7), min_value=panel_ui.today()
                      + timedelta(days=1), key=f"alerts_until_{alert.id}")
        st.button("Snooze alert", key=f"alerts_snooze_{alert.id}", on_click=_act, args=(alert.id, "snooze"),
                  kwargs=args, type="primary")
    with row.popover("Dismiss", disabled=not active, icon=":material/close:"):
        st.selectbox("Reason", DISMISS_REASONS, key=f"alerts_reason_{alert.id}")
        st.text_input("Details", key=f"alerts_reason_text_{alert.id}", placeholder="Optional; required for Other")
        st.button("Dismiss alert", key=f"alerts_dismiss_{alert.id}", on_click=_act, args=(alert.id, "dismiss"),
                  kwargs=args, type="primary")
    if alert.status in ("dismissed", "snoozed", "acknowledged"):
        row.button("Reopen", key=f"alerts_reopen_{alert.id}", on_click=_act, args=(alert.id, "reopen"),
                   kwargs=args, icon=":material/undo:")
    with row.popover("History", icon=":material/history:"):
        _trail(int(alert.id))


def _trail(alert_id: int) -> None:
    """Who did what to the alert, and when (UTC)."""
    columns = {"at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"), "who": "Who",
               "action": "What", "note": "Note"}
    panel_ui.table(loaders.alert_trail(alert_id), key=f"alerts_trail_{alert_id}",
                   file_name=f"alert_{alert_id}_history.csv", column_config=columns)


def _card(alert: pd.Series, viewer: Viewer) -> None:
    with st.container(border=True):
        kind = label(alert.kind)
        color = STATUS_COLORS.get(alert.status, "gray")
        st.markdown(f"**{alert.customer}** · {kind} &nbsp; {panel_ui.severity_badge(alert.severity)} "
                    f":{color}-badge[{STATUS_TEXT.get(alert.status, alert.status)}]")
        acted = _status_line(alert)
        st.caption(f"Opened {alert.triggered_on:%d %b %Y}{' · CSM ' + alert.csm if alert.csm else ''} · "
                   f"alert #{alert.id}{' · ' + acted if acted else ''}")
        st.markdown(f"**Numbers:** {alert.numbers}  \n**Suggested action:** {alert.suggested_action}")
        if alert.status != "resolved":
            _buttons(alert, viewer)
        else:
            with st.popover("History", icon=":material/history:"):
                _trail(int(alert.id))


def _filters(frame: pd.DataFrame) -> pd.DataFrame:
    cols = st.columns([2, 2, 2, 2])
    kinds = cols[0].multiselect("Kind", sorted(frame["kind"].unique()), key="alerts_kinds",
                                format_func=label, placeholder="All kinds")
    severities = cols[1].multiselect("Severity", ["high", "medium", "low"], key="alerts_severities",
                                     placeholder="All severities")
    search = cols[2].text_input("Customer", key="alerts_search", placeholder="Type to filter by name")
    cols[3].toggle("Show closed alerts", key="alerts_include_closed",
                   help="Also show alerts dismissed or resolved in the last 30 days.")
    shown = frame
    if kinds:
        shown = shown[shown["kind"].isin(kinds)]
    if severities:
        shown = shown[shown["severity"].isin(severities)]
    if search.strip():
        shown = shown[shown["customer"].str.contains(search.strip(), case=False, regex=False)]
    return shown


def _summary(frame: pd.DataFrame) -> None:
    cols = st.columns(4)
    counts = frame["status"].value_counts()
    cols[0].metric("Open", int(counts.get("open", 0)), border=True, help="New alerts nobody has acted on yet.")
    high = int(((frame["severity"] == "high") & (frame["status"] == "open")).sum())
    cols[1].metric("Open, high severity", high, border=True, help="Open alerts rated high severity.")
    cols[2].metric("Acknowledged", int(counts.get("acknowledged", 0)), border=True,
                   help="Someone has seen it and is on it; it resolves itself when the condition clears.")
    cols[3].metric("Snoozed", int(counts.get("snoozed", 0)), border=True,
                   help="Hidden until the snooze date; it comes back if the condition still holds then.")


def _inbox(shown: pd.DataFrame, viewer: Viewer) -> None:
    pages = max(1, -(-len(shown) // PAGE_SIZE))
    page = 1
    if pages > 1:
        page = int(st.selectbox("Page", list(range(1, pages + 1)), key="alerts_page", width=160,
                                format_func=lambda p: f"{p} of {pages}"))
    for _, alert in shown.iloc[(page - 1) * PAGE_SIZE: page * PAGE_SIZE].iterrows():
        _card(alert, viewer)


def _table(shown: pd.DataFrame) -> None:
    view = shown.assign(kind=shown["kind"].map(label)).drop(
        columns=["customer_id", "customer_csm"])
    config = {"id": st.column_config.NumberColumn("Alert", format="%d"), "customer": "Customer", "kind": "Kind",
              "severity": "Severity", "status": "Status", "csm": "CSM", "status_by": "Last change by",
              "snoozed_until": st.column_config.DateColumn("Snoozed until"), "dismiss_reason": "Dismiss reason",
              "triggered_on": st.column_config.DateColumn("Opened"),
              "status_at": st.column_config.DatetimeColumn("Last change", format="D MMM YYYY, HH:mm"),
              "numbers": st.column_config.TextColumn("Numbers", width="large"),
              "suggested_action": st.column_config.TextColumn("Suggested action", width="large")}
    panel_ui.table(view, key="alerts_all", file_name="alerts.csv", column_config=config)


def render() -> None:
    panel_ui.signed_in("alerts")
    viewer = shared.viewer()
    assert viewer is not None  # signed_in stops the page otherwise
    shared.page_header("Alerts")
    scope = ("Alerts on every customer." if viewer.sees_all
             else "Alerts on your customers (routed to you, or on customers you own).")
    st.caption(f"{scope} Alerts are evaluated by every sync on complete days only; one alert per customer, kind "
               "and subject while its condition holds, resolved automatically when it clears.")
    notice = st.container()  # always drawn, so the tabs below keep their place (and their selection)
    flash = st.session_state.pop("alerts_flash", None)
    if flash:
        (notice.success if flash[0] == "success" else notice.error)(flash[1])
    include_closed = bool(st.session_state.get("alerts_include_closed", False))
    frame = loaders.visible_alerts(viewer, include_closed, panel_ui.today())
    _summary(frame)
    shown = _filters(frame)
    if frame.empty:
        where = "any customer" if viewer.sees_all else "your customers"
        st.info(f"No alerts: nothing on {where} needs attention "
                "right now. Alerts appear here after a sync finds a usage drop, an abandoned key feature, no login "
                "or a guide most people dismiss.")
        return
    if shown.empty:
        st.info("No alert matches these filters.")
        return
    inbox, table = st.tabs(["Inbox", "Table and download"], key="alerts_tab")
    inbox.caption(f"{len(shown)} alert(s), most urgent first.")
    with inbox:
        _inbox(shown, viewer)
    with table:
        _table(shown)


render()
