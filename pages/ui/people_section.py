"""People on the account screen and champion engagement on the health screen (render functions only).

`render_people(source, customer_id, as_of)` and `render_champions(source, customer_id, as_of)` take an
Engine or a function returning one (e.g. `shared.engine`) and `as_of`, the last complete day shown.
Sorting, search and paging run in SQL (pendo_core.customers.people); reads are cached per arguments.
Session-state keys start with `people_`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import altair as alt
import pandas as pd
import streamlit as st
from sqlalchemy import Engine

from pages.ui import charts
from pendo_core.common import csv_export
from pendo_core.customers import people

EngineSource = Engine | Callable[[], Engine]
TTL = 300
EXPORT_MAX = 100_000
SORTS = {"-active_days": "Most active days", "-last_active": "Most recently active", "last_active": "Longest quiet",
         "-minutes": "Most minutes", "-sessions": "Most sessions", "-features": "Most features",
         "-trend": "Rising most", "trend": "Falling most", "name": "Name", "role": "Role"}
SHOW = {"all": "Everyone", "key": "Champions and decision makers", "contacts": "Imported contacts",
        "unmatched": "Visitors without a contact"}
ROLES = {"champion": "Champion", "decision_maker": "Decision maker", "admin": "Admin", "user": "User"}
HELP = ("Identified Pendo visitors of this customer's accounts active in the last 90 days, plus its imported "
        "contacts. Over the 30 days ending the last day: active days (days with a Pendo events row with "
        "numEvents > 0; a person in two accounts counts a day once), minutes in app, sessions (runs of consecutive "
        "active hours) and features used. Trend: active days of the last 28 days against the 28 before (blank when "
        "the person was not active before). Contacts match visitors by e-mail, ignoring case.")
CHAMPION_HELP = (f"Champions and decision makers from the contacts import. Active = a day with Pendo activity in the "
                 f"customer's accounts; the share counts champions active in the last {people.ACTIVE_DAYS} days.")


def _engine(source: EngineSource) -> Engine:
    return source if isinstance(source, Engine) else source()


@st.cache_data(ttl=TTL, show_spinner=False)
def _page(_engine: Engine, url: str, customer_id: str, as_of: date, *, page: int, size: int, sort: str,
          search: str, only: str) -> people.VisitorPage:
    return people.visitors_page(_engine, customer_id, as_of, page, size, sort, search or None, only=only)


@st.cache_data(ttl=TTL, show_spinner=False)
def _unmatched(_engine: Engine, url: str, customer_id: str, as_of: date) -> tuple[list[people.ContactMatch],
                                                                                   list[people.PersonRow]]:
    rows, _ = people.visitor_rows(_engine, customer_id, as_of, limit=10, only="unmatched")
    return people.unmatched_contacts(_engine, customer_id, as_of), [r for r in rows if r.active_days]


@st.cache_data(ttl=TTL, show_spinner=False)
def _status(_engine: Engine, url: str, customer_id: str, as_of: date) -> people.ChampionStatus:
    return people.champion_status(_engine, customer_id, as_of)


def people_frame(rows: list[people.PersonRow]) -> pd.DataFrame:
    """The table's rows: one per visitor, with the contact's name and role when matched."""
    return pd.DataFrame([{
        "name": r.name or "", "visitor_id": r.visitor_id, "email": r.email or r.contact_email or "",
        "role": ROLES.get(r.role or "", ""), "title": r.title or "", "last_active": r.last_active,
        "active_days": r.active_days, "minutes": r.minutes, "sessions": r.sessions, "features": r.features,
        "trend": None if r.trend is None else 100 * r.trend, "activity": list(r.daily_events),
        "top_features": ", ".join(r.top_features)} for r in rows],
        columns=["name", "visitor_id", "email", "role", "title", "last_active", "active_days", "minutes", "sessions",
                 "features", "trend", "activity", "top_features"])


COLUMNS = {  # the whole row in the CSV; on screen the columns that fit 1280 px, the features wrapped
    "name": st.column_config.TextColumn("Contact"),
    "visitor_id": st.column_config.TextColumn("Visitor"),
    "email": st.column_config.TextColumn("E-mail"),
    "role": st.column_config.TextColumn("Role"),
    "title": st.column_config.TextColumn("Title"),
    "last_active": st.column_config.DateColumn("Last active", format="D MMM YYYY"),
    "active_days": st.column_config.NumberColumn("Active days (30)", help="Days active in the last 30 days."),
    "minutes": st.column_config.NumberColumn("Minutes (30)", format="%d"),
    "sessions": st.column_config.NumberColumn("Sessions (30)"),
    "features": st.column_config.NumberColumn("Features (30)"),
    "trend": st.column_config.NumberColumn("Trend, 28 d", format="%+.0f%%",
                                           help="Active days of the last 28 days vs the 28 before."),
    "activity": st.column_config.BarChartColumn("Events a day, 28 d", y_min=0),
    "top_features": st.column_config.TextColumn("Most used features"),
}
ROLE_SEPARATOR = " — "  # between a person and their role and title: the grid shows a line break as a space,
# which read "Chris Martinez Champion · Finance Lead" as a surname
SCREEN_ROW = 68  # three lines: the person and the features wrap (Streamlit wraps text only above 64 px)
SCREEN_COLUMNS = {
    "person": st.column_config.TextColumn("Person", width=290, help="The contact's name, else the visitor's e-mail "
                                                                   "or id (all three in the CSV); under it the "
                                                                   "contact's role and title."),
    "last_active": st.column_config.DateColumn("Last active", format="D MMM YY", width=78),
    "active_days": st.column_config.NumberColumn("Days", width=48, help="Days active in the last 30 days."),
    "minutes": st.column_config.NumberColumn("Minutes", format="%d", width=66, help="Minutes in the last 30 days."),
    "sessions": st.column_config.NumberColumn("Sessions", width=68, help="Sessions in the last 30 days."),
    "trend": st.column_config.NumberColumn("Trend", format="%+.0f%%", width=64,
                                           help="Active days of the last 28 days vs the 28 before."),
    "activity": st.column_config.BarChartColumn("Events, 28 d", y_min=0, width=88),
    "top_features": st.column_config.TextColumn("Most used features", width=240,
                                                help="Up to three, most used first (all in the CSV)."),
}


def screen_frame(rows: list[people.PersonRow]) -> pd.DataFrame:
    """The table's rows as shown: one person column (name, else e-mail, else visitor id, with the role and
    title on a second line) and the three most used features."""
    frame = people_frame(rows)
    person = frame["name"].where(frame["name"] != "", frame["email"].where(frame["email"] != "", frame["visitor_id"]))
    role = [" · ".join(p for p in (r, t) if p) for r, t in zip(frame["role"], frame["title"], strict=True)]
    top = [", ".join(r.top_features[:3]) for r in rows]
    person = [f"{who}{ROLE_SEPARATOR}{what}" if what else who for who, what in zip(person, role, strict=True)]
    return frame.assign(person=person, top_features=top)[list(SCREEN_COLUMNS)]


def _controls() -> tuple[str, str, str, int]:
    left, mid, right, size_col = st.columns([3, 2, 2, 1])
    search = left.text_input("Search people", key="people_search", placeholder="Name, e-mail, title or role")
    only = mid.selectbox("Show", list(SHOW), format_func=SHOW.__getitem__, key="people_only")
    sort = right.selectbox("Sort by", list(SORTS), format_func=SORTS.__getitem__, key="people_sort")
    size = size_col.selectbox("Rows", [25, 50, 100], index=1, key="people_size")
    return search.strip(), str(only), str(sort), int(size)


def render_people(source: EngineSource, customer_id: str, as_of: date) -> None:
    """The People section: a searched, sorted, paged table of the customer's visitors and contacts."""
    engine = _engine(source)
    url = engine.url.render_as_string(hide_password=True)
    st.markdown("#### People", help=HELP)
    search, only, sort, size = _controls()
    first = _page(engine, url, customer_id, as_of, page=1, size=size, sort=sort, search=search, only=only)
    if first.total == 0:
        st.info("Nobody matches." if search or only != "all" else
                "No visitor of this customer was active in the last 90 days and no contact is imported.")
        return
    number = int(st.number_input(f"Page (of {first.pages})", min_value=1, max_value=first.pages, step=1,
                                 key=f"people_page_{customer_id}_{sort}_{only}_{size}_{search}"))
    shown = first if number == 1 else _page(engine, url, customer_id, as_of, page=number, size=size, sort=sort,
                                            search=search, only=only)
    start = (number - 1) * size
    st.caption(f"{start + 1:,}–{start + len(shown.rows):,} of {shown.total:,} · 30 days ending {as_of:%d %b %Y}")
    st.dataframe(screen_frame(shown.rows), hide_index=True, width="stretch", key="people_table",
                 column_config=SCREEN_COLUMNS, row_height=SCREEN_ROW)
    export = _export(engine, customer_id, as_of, sort=sort, search=search, only=only)
    st.download_button("Download the whole list (CSV)", export, "people.csv", mime="text/csv", key="people_download",
                       icon=":material/download:")
    _data_to_fix(engine, url, customer_id, as_of)


def _export(engine: Engine, customer_id: str, as_of: date, *, sort: str, search: str,
            only: str) -> Callable[[], bytes]:
    """Every row of the filtered list as CSV, read in pages when someone clicks."""
    def build() -> bytes:
        rows: list[people.PersonRow] = []
        while len(rows) < EXPORT_MAX:
            page, total = people.visitor_rows(engine, customer_id, as_of, limit=people.MAX_PAGE_SIZE,
                                              offset=len(rows), sort=sort, search=search or None, only=only)
            rows.extend(page)
            if not page or len(rows) >= total:
                break
        return csv_export.to_csv_bytes(people_frame(rows).drop(columns=["activity"]))

    return build


def _data_to_fix(engine: Engine, url: str, customer_id: str, as_of: date) -> None:
    contacts, visitors = _unmatched(engine, url, customer_id, as_of)
    label = (f"Data to fix: {len(contacts)} contact(s) without a Pendo visitor" if contacts
             else "Active visitors who are not contacts (every contact matches a visitor)")
    with st.expander(label, icon=":material/link_off:"):
        st.caption("A contact matches a visitor whose id or Pendo e-mail is the contact's e-mail (case ignored). "
                   "Fix a misspelt e-mail in the contacts file and import it again.")
        if contacts:
            st.dataframe(pd.DataFrame([{"name": c.name, "email": c.email, "role": ROLES.get(c.role, c.role),
                                        "title": c.title} for c in contacts]), hide_index=True, width="stretch",
                         key="people_unmatched_contacts")
        st.markdown("Most active visitors who are not a contact")
        st.dataframe(people_frame(visitors)[["visitor_id", "email", "last_active", "active_days", "minutes"]],
                     hide_index=True, width="stretch", key="people_unmatched_visitors",
                     column_config={k: v for k, v in COLUMNS.items() if k != "activity"})


# --- champions -------------------------------------------------------------------------------


CHAMPION_COLUMNS = {
    "name": st.column_config.TextColumn("Person", width=170, help="Name, then role and title."),
    "email": st.column_config.TextColumn("E-mail", width=272),
    "last_active": st.column_config.DateColumn("Last active", format="D MMM YY", width=84),
    "days_quiet": st.column_config.NumberColumn("Quiet", width=60, help="Days since active."),
    "active_days_window": None,  # labelled with the window, below
    "active_days_30": st.column_config.NumberColumn("Days (30)", width=72, help="Days active in the last 30 days."),
    "minutes_30": st.column_config.NumberColumn("Minutes", width=66, help="Minutes in the last 30 days."),
    "state": st.column_config.TextColumn("State", width=140),
}


def champions_frame(status: people.ChampionStatus) -> pd.DataFrame:
    """One row per champion or decision maker: last active, days quiet, active days, minutes, state."""
    return pd.DataFrame([{
        "name": p.name, "role": ROLES.get(p.role, p.role), "title": p.title or "", "email": p.email,
        "last_active": p.last_active, "days_quiet": p.days_quiet(status.as_of),
        "active_days_window": p.active_days_window, "active_days_30": p.active_days_30, "minutes_30": p.minutes_30,
        "state": _state(p, status)} for p in status.people],
        columns=["name", "role", "title", "email", "last_active", "days_quiet", "active_days_window", "active_days_30",
                 "minutes_30", "state"]).astype({"days_quiet": "Int64"})


def _state(person: people.Stakeholder, status: people.ChampionStatus) -> str:
    if not person.matched:
        return "No Pendo visitor with this e-mail"
    if person.active_days_window:
        return "Active"
    quiet = person.days_quiet(status.as_of)
    return f"Quiet for {quiet} days" if quiet is not None else "Not active in 90 days"


def render_champions(source: EngineSource, customer_id: str, as_of: date) -> None:
    """Champion engagement: the share active lately, each one's state and weekly activity."""
    engine = _engine(source)
    status = _status(engine, engine.url.render_as_string(hide_password=True), customer_id, as_of)
    st.markdown("#### Champion engagement", help=CHAMPION_HELP)
    if not status.people:
        st.info("No champion or decision maker is on record for this customer, so its health score leaves the key "
                "contacts out. An admin adds them in Admin → Imports (a contacts CSV with role `champion` or "
                "`decision_maker`).")
        return
    share = status.share_active
    cols = st.columns(3)
    cols[0].metric(f"Champions active, {status.window_days} d", "–" if share is None else f"{share:.0%}",
                   help=CHAMPION_HELP, border=True)
    cols[1].metric("Champions", f"{status.champions_active} of {status.champions} active", border=True)
    makers = [p for p in status.people if p.role == "decision_maker"]
    cols[2].metric("Decision makers", f"{sum(1 for p in makers if p.active_days_window)} of {len(makers)} active",
                   border=True)
    frame = champions_frame(status)
    who = [f"{n}{ROLE_SEPARATOR}{' · '.join(p for p in (r, t) if p)}" for n, r, t in zip(
        frame["name"], frame["role"], frame["title"], strict=True)]
    cc = st.column_config  # fits 1280 px: the person's role and title under the name, the state wrapped
    st.dataframe(frame.assign(name=who), hide_index=True, width="stretch", key="people_champions",
                 row_height=SCREEN_ROW, column_order=list(CHAMPION_COLUMNS), column_config={
        **CHAMPION_COLUMNS, "active_days_window": cc.NumberColumn(f"Days ({status.window_days})", width=70,
                                                                  help=f"Days active in {status.window_days} days.")})
    weekly = people.champion_engagement(status)
    charts.show(_weekly_chart(weekly), width="stretch")
    st.download_button("Download champion activity (CSV)", lambda: csv_export.to_csv_bytes(weekly),
                       file_name="champion_activity.csv", mime="text/csv", key="people_champions_download",
                       icon=":material/download:")


def _weekly_chart(weekly: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (alt.Chart(weekly).mark_line(point=True, interpolate="monotone")
            .encode(x=alt.X("week_ending:T", title="7 days ending", axis=alt.Axis(format="%d %b")),
                    y=alt.Y("active_days:Q", title="Active days a week", scale=alt.Scale(domain=[0, 7])),
                    color=alt.Color("name:N", title=None, legend=alt.Legend(orient="top")),
                    tooltip=[alt.Tooltip("name:N", title="Name"), alt.Tooltip("role:N", title="Role"),
                             alt.Tooltip("week_ending:T", title="7 days ending", format="%d %b %Y"),
                             alt.Tooltip("active_days:Q", title="Active days"),
                             alt.Tooltip("minutes:Q", title="Minutes")])
            .properties(height=240))
    return chart
