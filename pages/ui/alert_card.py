"""One alert in full, the Alerts inbox's detail of a selected row: its customer's facts, numbers,
suggested action and history, with acknowledge, snooze, dismiss and reopen, and a way to open the
customer. Also the inbox's cached read and the actions every control of the page goes through
(`alerts.queries.act`, one alert at a time). Session-state keys start with `alerts_`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pandas as pd
import streamlit as st

from pages.ui import customer_header, loaders, panel_ui, shared
from pendo_core.access.rules import Viewer
from pendo_core.alerts import AlertTransitionError, latest_snooze
from pendo_core.alerts import queries as alerts_view
from pendo_core.alerts.kinds import label
from pendo_core.book import inbox as read_inbox
from pendo_core.book.header import format_arr

DISMISS_REASONS = ["Expected: seasonal or planned", "Known: the customer told us", "Not actionable",
                   "Data looks wrong", "Other (write below)"]
STATUS_TEXT = {"open": "Open", "acknowledged": "Acknowledged", "snoozed": "Snoozed", "dismissed": "Dismissed",
               "resolved": "Resolved"}
STATUS_COLORS = {"open": "red", "acknowledged": "blue", "snoozed": "violet", "dismissed": "gray",
                 "resolved": "green"}
FLASH = "alerts_flash"
CUSTOMER_PAGE = "pages/account_usage.py"


@st.cache_data(ttl=loaders.ALERTS_TTL, show_spinner=False)
def load_inbox(viewer: Viewer, include_closed: bool, today: date) -> pd.DataFrame:
    """The viewer's alerts grouped by customer, with health, ARR, renewal and priority."""
    return read_inbox.inbox(shared.engine(), viewer, include_closed=include_closed, today=today)


def refresh() -> None:
    """Forget every cached read an action on an alert changes."""
    for cached in (load_inbox, loaders.alert_trail, customer_header.load):
        cached.clear()


def act_on(alert_ids: Iterable[int], action: str, viewer: Viewer, *, reason: str | None = None,
           until: date | None = None) -> tuple[dict[int, str], list[str]]:
    """Run the action on each alert through `alerts.queries.act`, one at a time (one refused leaves the
    others done); ({alert id: what happened}, what was refused and why)."""
    done, refused = {}, []
    for alert_id in map(int, alert_ids):
        try:
            done[alert_id] = alerts_view.act(shared.engine(), alert_id, action, viewer, today=panel_ui.today(),
                                             reason=reason, until=until)
        except AlertTransitionError as exc:
            refused.append(f"Alert {alert_id}: {exc}")
    refresh()
    return done, refused


def _act(alert_id: int, action: str, viewer: Viewer) -> None:
    """Button callback of a card: run the action, leave the outcome for the next run."""
    state = st.session_state
    reason = None
    if action == "dismiss":
        picked = state.get(f"alerts_reason_{alert_id}", DISMISS_REASONS[0])
        extra = state.get(f"alerts_reason_text_{alert_id}", "").strip()
        reason = extra if picked.startswith("Other") else f"{picked}{': ' + extra if extra else ''}"
    until = state.get(f"alerts_until_{alert_id}") if action == "snooze" else None
    done, refused = act_on([alert_id], action, viewer, reason=reason, until=until)
    state[FLASH] = [("success", text) for text in done.values()] + [("error", text) for text in refused]


HEADLINE_CHARS = 36  # what the inbox's Alert column (242 px, so 1280 px still fits) holds at the grid's font


def headline(kind_label: str, numbers: str, limit: int = HEADLINE_CHARS) -> str:
    """An alert in one line of at most `limit` characters: its kind, then its numbers up to the first clause
    ("; "), shortened with "…" when longer, at a word unless that loses a third of the line (its card shows
    the numbers in full)."""
    text = f"{kind_label} · {numbers.split('; ', maxsplit=1)[0]}"
    if len(text) <= limit:
        return text
    room = text[: limit - 1]
    at_word = room.rsplit(" ", 1)[0].rstrip(" ,;:(·–")
    return (at_word if len(at_word) >= 2 * len(room) // 3 else room) + "…"


def status_line(alert: pd.Series) -> str:
    """Who last acted on the alert, when, and why (empty while nobody has)."""
    if not alert.status_by or alert.status_by == "system":
        return ""
    when = f" on {alert.status_at:%d %b %Y %H:%M} UTC" if pd.notna(alert.status_at) else ""
    verb = STATUS_TEXT.get(alert.status, alert.status)
    if alert.status == "snoozed" and pd.notna(alert.snoozed_until):
        verb = f"Snoozed until {alert.snoozed_until:%d %b %Y}"
    reason = f": {alert.dismiss_reason}" if alert.status == "dismissed" and alert.dismiss_reason else ""
    return f"{verb} by {alert.status_by}{when}{reason}"


def customer_line(alert: pd.Series) -> str:
    """The customer's health, ARR and renewal in one line."""
    health = "not scored" if pd.isna(alert.health) else f"{alert.health:.1f} ({alert.band})"
    if pd.notna(alert.health_change):
        health += f", {alert.health_change:+.1f} pts in 28 days"
    renewal = ("no renewal date" if pd.isna(alert.renewal_date) else
               f"renewal {alert.renewal_date:%d %b %Y} ({int(alert.days_to_renewal)} days)")
    return f"Health {health} · ARR {format_arr(None if pd.isna(alert.arr) else float(alert.arr))} · {renewal}"


def render(alert: pd.Series, viewer: Viewer) -> None:
    """The alert as a card: what it is, its customer, numbers, suggested action, buttons."""
    with st.container(border=True):
        color = STATUS_COLORS.get(alert.status, "gray")
        st.markdown(f"**{alert.customer}** · {label(alert.kind)} &nbsp; {panel_ui.severity_badge(alert.severity)} "
                    f":{color}-badge[{STATUS_TEXT.get(alert.status, alert.status)}]")
        acted = status_line(alert)
        rule = f" (rule: {alert.rule_severity})" if alert.rule_severity != alert.severity else ""
        st.caption(f"Opened {alert.triggered_on:%d %b %Y}{' · CSM ' + alert.csm if alert.csm else ''} · "
                   f"alert #{alert.id} · priority {alert.priority:.0f}{rule}{' · ' + acted if acted else ''}")
        st.markdown(f"{customer_line(alert)}  \n**Numbers:** {alert.numbers}  \n"
                    f"**Suggested action:** {alert.suggested_action}")
        row = st.container(horizontal=True, gap="small")
        if alert.status != "resolved":
            _buttons(row, alert, viewer)
        with row.popover("History", icon=":material/history:"):
            _trail(int(alert.id))
        if row.button(f"Open {alert.customer}", key=f"alerts_open_{alert.id}", icon=":material/open_in_new:"):
            st.session_state[shared.CUSTOMER_KEY] = alert.customer_id
            st.switch_page(CUSTOMER_PAGE)


def snooze_until_input(key: str) -> None:
    """The snooze date picker: a week ahead by default, from tomorrow to a year from today (the lifecycle's
    limit), so a date the action would refuse cannot be picked."""
    today = panel_ui.today()
    st.date_input("Until", value=today + timedelta(days=7), min_value=today + timedelta(days=1),
                  max_value=latest_snooze(today), key=key, help="At most a year ahead; dismiss the alert to "
                  "silence it for longer.")


def _buttons(row: st.delta_generator.DeltaGenerator, alert: pd.Series, viewer: Viewer) -> None:
    args = {"viewer": viewer}
    if not viewer.may_act_on(alert.customer_csm, alert.csm):
        row.caption("Only the customer's CSM or a leader can act on this alert.")
        return
    active = alert.status in ("open", "acknowledged", "snoozed")
    row.button("Acknowledge", key=f"alerts_ack_{alert.id}", disabled=alert.status != "open", type="primary",
               on_click=_act, args=(alert.id, "acknowledge"), kwargs=args, icon=":material/check:")
    with row.popover("Snooze", disabled=not active or alert.status == "snoozed", icon=":material/snooze:"):
        snooze_until_input(f"alerts_until_{alert.id}")
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


def _trail(alert_id: int) -> None:
    """Who did what to the alert, and when (UTC)."""
    columns = {"at": st.column_config.DatetimeColumn("When (UTC)", format="D MMM YYYY, HH:mm"), "who": "Who",
               "action": "What", "note": "Note"}
    panel_ui.table(loaders.alert_trail(alert_id), key=f"alerts_trail_{alert_id}",
                   file_name=f"alert_{alert_id}_history.csv", column_config=columns)
