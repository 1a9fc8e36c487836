"""My customers: a CSM's book of business, most at risk first (leaders and admins: every CSM's, with a
CSM filter). Filter, sort, scroll through it, open a customer by clicking its row, or download it.

Every filtered row is in the one grid (it scrolls past VISIBLE_ROWS): Streamlit's grid sorts only the
rows it holds when a column header is clicked, and it cannot be told not to, so a paged grid sorted
only its page while "Sort by" sorted them all. Holding every row, both sort the whole list."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from pages.ui import loaders, registry, shared
from pendo_core.access.rules import Viewer
from pendo_core.alerts.kinds import label as kind_label
from pendo_core.book import CURRENCY, CURRENCY_SYMBOL, ORDER_HELP, view
from pendo_core.usage import measures

KEY = "my_customers"
SORT_KEY = f"{KEY}_sort"
REVERSE_KEY = f"{KEY}_reverse"
ROW_HEIGHT = 35
VISIBLE_ROWS = 25  # the grid is as tall as 25 rows and scrolls past them
NAME_WIDTH = 200  # px: about 28 characters of a name
ALL_CSMS = ""
HELP = {
    "health": "Health score (0–100) on the newest scored day, in whole points rounded down (so 69.8 shows 69, as "
              "its band says it is below 70), and its band (the admin's cut-offs: Health page); no score: not "
              "scored yet, or too little data.",
    "health_change": "Change of the health score over 28 days, in points.",
    "usage": "WAU (visitors active in the 7 days ending a day) on the newest day and on every 7th day before it: 12 "
             "points, oldest first (days not synced left out). One colour, no verdict: whether usage rose or fell "
             "is Usage Δ, a different measure (mean DAU, 28 days against the 28 before).",
    "usage_change": f"{measures.trend_definition()} As the health score computed it. Daily users, not the WAU line "
                    "beside it: the same few people coming on fewer days lower it while WAU stays level.",
    "mau": "Monthly active users: distinct visitors active in the 30 days ending the newest day.",
    "breadth": "Key-feature breadth: share of the key features used by anyone in the last 30 days.",
    "alerts": "Alerts still needing someone (open or acknowledged), by severity as on the Alerts page and the "
              "customer header (the rule's weighed with ARR and renewal): 2H = two high, M medium, L low.",
    "last_active": "Last active: the newest day with an active visitor in the last 90 days (blank: nobody in them).",
    "arr": f"Annual recurring revenue from the customer import, in {CURRENCY}.",
    "days": "Days to the renewal date, from the day after the newest data (today while the sync is current).",
}


def _filters(frame: pd.DataFrame, viewer: Viewer) -> view.Filters:
    """The filter row; a leader (or a CSM showing all) also picks a CSM."""
    sees_many = viewer.sees_all
    cols = st.columns([2, 2, 2, 3, 2] if sees_many else [2, 2, 2, 3])
    bands = cols[0].multiselect("Band", list(view.BANDS), key=f"{KEY}_bands",
                                placeholder="All bands")
    segments = cols[1].multiselect("Segment", sorted(frame["segment"].unique(), key=str.casefold),
                                   key=f"{KEY}_segments", placeholder="All segments")
    window = cols[2].selectbox("Renewal", list(view.RENEWAL_WINDOWS), key=f"{KEY}_renewal")
    kinds = sorted({k for ks in frame["alert_kinds"] for k in ks}, key=kind_label)
    picked = cols[3].multiselect("Open alert", kinds, format_func=kind_label, key=f"{KEY}_kinds",
                                 placeholder="Any")
    csm = None
    if sees_many:
        names = _csm_names(frame)
        csm = cols[4].selectbox("CSM", [ALL_CSMS, *names], format_func=lambda e: names.get(e, "All CSMs"),
                                key=f"{KEY}_csm") or None
    return view.Filters(bands, segments, view.RENEWAL_WINDOWS[window], picked, csm)


def _csm_names(frame: pd.DataFrame) -> dict[str, str]:
    """CSM e-mail -> name (the e-mail when the CSM has no name), by name ignoring case."""
    owners = frame.dropna(subset=["csm_email"]).drop_duplicates("csm_email")
    names = {e: n if isinstance(n, str) and n else e for e, n in zip(owners["csm_email"], owners["csm_name"],
                                                                      strict=True)}
    return dict(sorted(names.items(), key=lambda item: item[1].casefold()))


def _sorting() -> tuple[str, bool]:
    left, right, _ = st.columns([3, 2, 6], vertical_alignment="bottom")
    by = left.selectbox("Sort by", list(view.SORTS), format_func=lambda k: view.SORTS[k].label, key=SORT_KEY,
                        help=ORDER_HELP)
    reverse = right.toggle("Reverse order", key=REVERSE_KEY,
                           help="Each sort starts with the end that needs attention (lowest health, biggest fall, "
                                "soonest renewal, largest ARR, most alerts); names A to Z. Unknown values stay last.")
    return str(by), reverse


def _short_name(name: Any, email: Any) -> str:
    """ "Maya C." for Maya Chen (the e-mail's name part without a name), so the column stays narrow."""
    if not isinstance(name, str) or not name.strip():
        return str(email).split("@")[0] if isinstance(email, str) else "–"
    first, *rest = name.split()
    return f"{first} {rest[-1][0]}." if rest else first


def _renewal_text(day: Any, days: Any) -> str:
    """The renewal date and the days to it in one cell ("20 Dec 26 · 16"); blank without a date."""
    if day is None or pd.isna(day):
        return ""
    when = pd.Timestamp(day).strftime("%d %b %y").lstrip("0")
    return when if days is None or pd.isna(days) else f"{when} · {int(days)}"


def _alerts_text(row: Any) -> str:
    parts = [f"{n}{s}" for n, s in ((row.alerts_high, "H"), (row.alerts_medium, "M"), (row.alerts_low, "L")) if n]
    return " ".join(parts)


def _shown(rows: pd.DataFrame, with_csm: bool) -> tuple[pd.DataFrame, dict[str, Any]]:
    """The page's rows as displayed, and the column configuration (widths chosen to fit 1440 px)."""
    cc = st.column_config
    shown = pd.DataFrame({
        "name": rows["name"],
        "csm": [_short_name(n, e) for n, e in zip(rows["csm_name"], rows["csm_email"], strict=True)],
        "health": [view.health_text(b, s) for b, s in zip(rows["band"], rows["score"], strict=True)],
        "health_change": rows["health_change"],
        "usage": rows["usage_weeks"],
        "usage_change": rows["usage_change"] * 100,
        "mau": rows["mau"],
        "breadth": rows["breadth"] * 100,
        "alerts": [_alerts_text(r) for r in rows.itertuples(index=False)],
        "last_active": pd.to_datetime(rows["last_active"]),
        "arr": rows["arr"],
        "renewal": [_renewal_text(d, n) for d, n in zip(rows["renewal_date"], rows["days_to_renewal"], strict=True)],
        "segment": rows["segment"],
    })
    columns: dict[str, Any] = {  # widths add up to what 1280 px leaves beside the sidebar, CSM column included
        "name": cc.TextColumn("Customer", width=NAME_WIDTH, pinned=True),
        "csm": cc.TextColumn("CSM", width=72, help="The customer's CSM (first name and initial; in full in the CSV)."),
        "health": cc.TextColumn("Health", width=72, help=HELP["health"]),
        "health_change": cc.NumberColumn("Δ 28d", format="%+.0f", width=50, help=HELP["health_change"]),
        # one colour: "auto" would colour it by its first point against its last, a verdict that often
        # disagrees with Usage Δ (a level WAU line is green beside a 41% fall in DAU)
        "usage": cc.LineChartColumn("WAU", y_min=0, width=52, help=HELP["usage"]),
        "usage_change": cc.NumberColumn("Usage Δ", format="%+.0f%%", width=64, help=HELP["usage_change"]),
        "mau": cc.NumberColumn("MAU", format="%d", width=46, help=HELP["mau"]),
        "breadth": cc.NumberColumn("Breadth", format="%.0f%%", width=62, help=HELP["breadth"]),
        "alerts": cc.TextColumn("Alerts", width=72, help=HELP["alerts"]),
        "last_active": cc.DateColumn("Active", format="D MMM", width=56, help=HELP["last_active"]),
        "arr": cc.NumberColumn("ARR", format=f"{CURRENCY_SYMBOL}%,d", width=74, help=HELP["arr"]),
        "renewal": cc.TextColumn("Renewal · days", width=108, help="The renewal date and the days to it. "
                                 + HELP["days"]),
        "segment": cc.TextColumn("Segment", width=86),
    }
    # the name column is wide enough for the demo's long names ("Contoso Manufacturing", "Yarrow
    # Technologies, Inc."); a view with the CSM column leaves the segment out to make room (it stays a
    # filter and in the CSV)
    del columns["segment" if with_csm else "csm"]
    return shown[list(columns)], columns


def _table(rows: pd.DataFrame, with_csm: bool) -> None:
    """Every row in one grid (a header click sorts them all); clicking a row opens that customer on
    Account usage."""
    shown, columns = _shown(rows, with_csm)
    # a click on any cell opens the row's customer: no row-marker column, so the 13 columns fit 1280 px;
    # the selection gives the row's position in `shown` whatever order the grid shows it in
    event = st.dataframe(shown, hide_index=True, column_config=columns, key=f"{KEY}_table", on_select="rerun",
                         selection_mode="single-cell", height=ROW_HEIGHT * (min(len(shown), VISIBLE_ROWS) + 1) + 3,
                         placeholder="")
    picked = (list(event.selection.rows) or [cell[0] for cell in event.selection.cells]) if event is not None else []
    if picked:
        _open(str(rows["customer_id"].iloc[picked[0]]))


def _open(customer_id: str) -> None:
    """Make the customer the sidebar's and go to Account usage."""
    st.session_state[shared.CUSTOMER_KEY] = customer_id
    st.switch_page(next(p.path for p in registry.PAGES if p.key == "account_usage"))


def _count_bar(rows: pd.DataFrame, day: date) -> None:
    """The count and the CSV export (of every row that passes the filters)."""
    bar = st.container(horizontal=True, vertical_alignment="bottom")
    scroll = f" · scroll for all {len(rows):,}" if len(rows) > VISIBLE_ROWS else ""
    bar.markdown(f"**{len(rows):,}** customers{scroll} · click a row to open the customer · a column header "
                 "sorts the whole list")
    bar.download_button("Download CSV", shared.csv_download(view.export(rows)), file_name=f"my-customers-{day}.csv",
                        mime="text/csv", key=f"{KEY}_download", icon=":material/download:")


def _scope_caption(viewer: Viewer, frame: pd.DataFrame) -> None:
    if viewer.role == "csm" and not viewer.show_all:
        st.caption(f"Your {len(frame):,} customers. Switch on **Show all customers** in the sidebar to see your "
                   "colleagues' (read-only).")
    else:
        read_only = " (Show all customers: read-only)" if viewer.widened else ""
        st.caption(f"Every CSM's customers: {len(frame):,}{read_only}. Pick a CSM to see one book.")


def render() -> None:
    shared.require_page(KEY)
    viewer = shared.viewer()
    shared.page_header("My customers")
    if viewer is None:
        return
    frame = view.visible(loaders.whole_book(shared.data_through()), viewer)
    if frame.empty:
        shared.no_customer_message()
        return
    _scope_caption(viewer, frame)
    with st.expander("How the list is ordered", icon=":material/sort:"):
        st.markdown(ORDER_HELP)
    filters = _filters(frame, viewer)
    by, reverse = _sorting()
    rows = view.sort_rows(view.filter_rows(frame, filters), by, reverse=reverse)
    _count_bar(rows, shared.data_through())
    if rows.empty:
        st.info("No customer matches these filters.")
        return
    _table(rows, with_csm=viewer.sees_all and not filters.csm_email)


render()
