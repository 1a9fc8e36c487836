"""Alerts: an inbox that scales. One compact table of every alert the viewer sees, grouped by customer
with its health, ARR and renewal, filtered by kind, severity, status, CSM and customer; acknowledge or
snooze the selected rows at once; a selected alert opens below as a card (numbers, suggested action,
history, every action, and a way to open its customer)."""

from __future__ import annotations

import hashlib
from typing import Any

import pandas as pd
import streamlit as st

from pages.ui import alert_card, panel_ui, shared
from pendo_core.access.rules import Viewer
from pendo_core.alerts.kinds import label
from pendo_core.alerts.priority import SEVERITIES, WEIGHTING_HELP
from pendo_core.book.header import ARR_FORMAT
from pendo_core.book.inbox import InboxFilter, filter_inbox

HEADER_HEIGHT = 35
ROW_HEIGHT = 35  # one line: the Alert column holds a headline; the selected alert's card has the whole text
VISIBLE_ROWS = 12  # the table scrolls inside past this, so the actions above it and the card below stay in reach
ALERT_WIDTH = 242  # holds alert_card.HEADLINE_CHARS characters
MAX_CARDS = 5
STATUS_ORDER = ["open", "acknowledged", "snoozed", "dismissed", "resolved"]
TABLE = "alerts_table"
GENERATION = "alerts_table_generation"


def _summary(frame: pd.DataFrame) -> None:
    """The counts of the alerts the filters leave (all of them when nothing is filtered)."""
    cols = st.columns(4)
    counts = frame["status"].value_counts()
    cols[0].metric("Open", int(counts.get("open", 0)), border=True, help="New alerts nobody has acted on yet.")
    high = int(((frame["severity"] == "high") & (frame["status"] == "open")).sum())
    cols[1].metric("Open, high severity", high, border=True, help="Open alerts of high severity. " + WEIGHTING_HELP)
    cols[2].metric("Acknowledged", int(counts.get("acknowledged", 0)), border=True,
                   help="Someone has seen it and is on it; it resolves itself when the condition clears.")
    cols[3].metric("Snoozed", int(counts.get("snoozed", 0)), border=True,
                   help="Hidden until the snooze date; it comes back if the condition still holds then.")


def _from_link(frame: pd.DataFrame) -> None:
    """A customer header's link (?customer=ID) narrows the inbox to that customer, once."""
    wanted = st.query_params.get("customer")
    if wanted:
        del st.query_params["customer"]
        if wanted in set(frame["customer_id"]):
            st.session_state["alerts_customers"] = [wanted]


def _filters(frame: pd.DataFrame, viewer: Viewer) -> InboxFilter:
    cols = st.columns([2, 2, 2, 3, 3, 3], vertical_alignment="bottom")
    kinds = cols[0].multiselect("Kind", sorted(frame["kind"].unique(), key=label), key="alerts_kinds",
                                format_func=label, placeholder="All kinds")
    severities = cols[1].multiselect("Severity", list(SEVERITIES), key="alerts_severities", help=WEIGHTING_HELP,
                                     placeholder="All severities")
    present = [s for s in STATUS_ORDER if s in set(frame["status"])]
    statuses = cols[2].multiselect("Status", present, key="alerts_statuses",
                                   format_func=lambda s: alert_card.STATUS_TEXT.get(s, s), placeholder="All statuses")
    csms = _names(frame["owner"], frame["owner_name"])
    owners = cols[3].multiselect("CSM", list(csms), key="alerts_owners", format_func=csms.__getitem__,
                                 placeholder="All CSMs", disabled=not viewer.sees_all)
    names = _names(frame["customer_id"], frame["customer"])
    customers = cols[4].multiselect("Customer", list(names), key="alerts_customers", format_func=names.__getitem__,
                                    placeholder="All customers")
    cols[5].toggle("Show closed alerts", key="alerts_include_closed",
                   help="Also show alerts dismissed or resolved in the last 30 days.")
    return InboxFilter(kinds, severities, statuses, owners, customers)


def _names(keys: pd.Series, names: pd.Series) -> dict[str, str]:
    """Filter options: each key once, shown by its name (the key when it has none), by name ignoring case."""
    found = {str(k): str(n) if isinstance(n, str) and n else str(k)
             for k, n in zip(keys, names, strict=True) if isinstance(k, str) and k}
    return dict(sorted(found.items(), key=lambda item: item[1].casefold()))


def _view(shown: pd.DataFrame) -> pd.DataFrame:
    """The rows as the table shows them: labels for kind and status, the severity and status in one column, and
    the alert as a one-line headline."""
    kind = shown["kind"].map(label)
    status = shown["status"].map(alert_card.STATUS_TEXT)
    return shown.assign(kind=kind, status=status, state=shown["severity"].str.capitalize() + " · " + status.str.lower(),
                        alert=[alert_card.headline(k, str(n)) for k, n in zip(kind, shown["numbers"], strict=True)])


def _columns(viewer: Viewer) -> dict[str, Any]:
    """The table's columns in order, with widths that fit 1440 px beside the sidebar (1280 for a CSM):
    the customer and its facts, then the alert; its card shows the rest."""
    columns: dict[str, Any] = {
        "customer": st.column_config.TextColumn("Customer", width=200, pinned=True),
        "health": st.column_config.NumberColumn("Health", width=55, format="%.1f",
                                                help="Newest health score, 0–100."),
        "arr": st.column_config.NumberColumn("ARR", width=80, format=ARR_FORMAT),
        "days_to_renewal": st.column_config.NumberColumn("Renews in", width=78, format="%d d",
                                                         help="Days from today to the renewal date."),
        "state": st.column_config.TextColumn("Severity · status", width=145, help=WEIGHTING_HELP),
        "alert": st.column_config.TextColumn("Alert", width=ALERT_WIDTH, help="What fired and the start of its "
                                             "numbers; select the row for all of them, the suggested action and "
                                             "history."),
    }
    if viewer.sees_all:
        columns["owner_name"] = st.column_config.TextColumn("CSM", width=110)
    return columns


CSV_COLUMNS = ["id", "customer", "health", "band", "health_change", "arr", "renewal_date", "days_to_renewal",
               "severity", "rule_severity", "priority", "kind", "status", "numbers", "suggested_action",
               "triggered_on", "owner"]


def _table(rows: pd.DataFrame, viewer: Viewer) -> tuple[str, pd.DataFrame]:
    """The page's rows as a table with row selection; (its key, the selected rows)."""
    # The key names the rows shown, so a selection never lands on other alerts after a filter change, and
    # a generation that a bulk action moves on, so the browser drops the selection it acted on.
    shown = hashlib.sha1(",".join(map(str, rows["id"])).encode()).hexdigest()[:10]
    key = f"{TABLE}_{st.session_state.get(GENERATION, 0)}_{shown}"
    columns = _columns(viewer)
    event = st.dataframe(_view(rows), key=key, on_select="rerun", selection_mode="multi-row", hide_index=True,
                         column_config=columns, column_order=list(columns), placeholder="–",
                         row_height=ROW_HEIGHT, height=HEADER_HEIGHT + ROW_HEIGHT * min(len(rows), VISIBLE_ROWS) + 3)
    picked = list(event.selection.rows) if event is not None else []
    return key, rows.iloc[[i for i in picked if i < len(rows)]]


def _bulk(action: str, ids: list[int], viewer: Viewer, table: str) -> None:
    """Bulk callback: the action on each selected alert, one by one; then clear the selection."""
    until = st.session_state.get("alerts_bulk_until") if action == "snooze" else None
    done, refused = alert_card.act_on(ids, action, viewer, until=until)
    verb = {"acknowledge": "acknowledged", "snooze": f"snoozed until {until:%d %b %Y}" if until else "snoozed"}[action]
    which = ", ".join(f"#{i}" for i in done)
    flash = [("success", f"{len(done)} alert(s) {verb} by {viewer.key}: {which}.")] if done else []
    st.session_state[alert_card.FLASH] = flash + [("error", text) for text in refused]
    st.session_state.pop(table, None)
    st.session_state[GENERATION] = st.session_state.get(GENERATION, 0) + 1


def _bulk_bar(where: st.delta_generator.DeltaGenerator, selected: pd.DataFrame, viewer: Viewer, table: str) -> None:
    """The actions on the selected rows, drawn above the table (in `where`) so a tick shows its effect at once."""
    yours = [viewer.may_act_on(o, c) for o, c in zip(selected["customer_csm"], selected["csm"], strict=True)]
    mine = selected[pd.Series(yours, index=selected.index, dtype=bool)]
    to_ack = [int(i) for i in mine.loc[mine["status"] == "open", "id"]]
    to_snooze = [int(i) for i in mine.loc[mine["status"].isin(["open", "acknowledged"]), "id"]]
    row = where.container(horizontal=True, vertical_alignment="center", gap="small")
    row.button("Acknowledge selected", key="alerts_bulk_ack", disabled=not to_ack, type="primary",
               on_click=_bulk, args=("acknowledge", to_ack, viewer, table), icon=":material/done_all:")
    with row.popover("Snooze selected", disabled=not to_snooze, icon=":material/snooze:"):
        alert_card.snooze_until_input("alerts_bulk_until")
        st.button(f"Snooze {len(to_snooze)} alert(s)", key="alerts_bulk_snooze", type="primary", on_click=_bulk,
                  args=("snooze", to_snooze, viewer, table))
    if selected.empty:  # after the buttons, so a long line wraps beside them instead of pushing one down
        row.caption("Tick rows to act on them together; a selected alert opens below the table with its numbers, "
                    "suggested action and history.")
    else:
        row.caption(f"{len(selected)} selected" + (f", {len(selected) - len(mine)} not yours to act on"
                                                   if len(mine) < len(selected) else "")
                    + ": the card" + ("s are" if len(selected) > 1 else " is") + " below the table.")


def _cards(selected: pd.DataFrame, viewer: Viewer) -> None:
    for _, alert in selected.head(MAX_CARDS).iterrows():
        alert_card.render(alert, viewer)
    if len(selected) > MAX_CARDS:
        st.caption(f"The first {MAX_CARDS} of the {len(selected)} selected alerts are shown in full.")


def _flash(where: st.delta_generator.DeltaGenerator) -> None:
    for kind, text in st.session_state.pop(alert_card.FLASH, None) or []:
        (where.success if kind == "success" else where.error)(text)


def render() -> None:
    panel_ui.signed_in("alerts")
    viewer = shared.viewer()
    assert viewer is not None  # signed_in stops the page otherwise
    shared.page_header("Alerts")
    scope = ("Alerts on every customer." if viewer.sees_all
             else "Alerts on your customers (routed to you, or on customers you own).")
    st.caption(f"{scope} Evaluated by every sync on complete days only; one alert per customer, kind and subject "
               "while its condition holds, resolved automatically when it clears. Grouped by customer, most urgent "
               "first.")
    _flash(st.container())
    frame = alert_card.load_inbox(viewer, bool(st.session_state.get("alerts_include_closed", False)),
                                  panel_ui.today())
    summary = st.container()  # drawn above the filters, counting what they leave
    _from_link(frame)
    shown = filter_inbox(frame, _filters(frame, viewer))
    with summary:
        _summary(shown)
    if frame.empty:
        where = "any customer" if viewer.sees_all else "your customers"
        st.info(f"No alerts: nothing on {where} needs attention right now. Alerts appear here after a sync finds a "
                "usage drop, an abandoned key feature, no login, a guide most people dismiss, a falling health "
                "score or a renewal at risk.")
        return
    if shown.empty:
        st.info("No alert matches these filters.")
        return
    st.caption(f"{len(shown)} alert(s) on {shown['customer_id'].nunique()} customer(s).")
    actions = st.container()  # drawn above the table, filled once the table says what is selected
    # One grid for every alert, scrolling inside: a column-header sort orders them all, not one page.
    table, selected = _table(shown, viewer)
    _bulk_bar(actions, selected, viewer, table)
    _cards(selected, viewer)
    st.download_button("Download these alerts (CSV)", shared.csv_download(_view(shown)[CSV_COLUMNS]),
                       file_name="alerts.csv", mime="text/csv", key="alerts_download", icon=":material/download:")


render()
