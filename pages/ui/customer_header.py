"""The customer header, drawn at the top of every per-customer screen (Account usage with its People
section, Feature adoption, Guides, Health): name, owner, segment, ARR, renewal, health score with its
band and 28-day change, and the open alerts by severity, linked to the Alerts inbox filtered to the
customer. Its data is one read, `pendo_core.book.header`; this module only draws it.
"""

from __future__ import annotations

from datetime import date

import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from pages.ui import panel_ui, shared
from pendo_core.alerts.priority import WEIGHTING_HELP
from pendo_core.book import header as read
from pendo_core.book.header import CustomerHeader
from pendo_core.usage.facts import LastActive, last_active

TTL = 60  # alerts change when people act on them: a short TTL shows a colleague's action soon
RENEWAL_SOON_DAYS = 90
ALERTS_PAGE = "pages/alerts.py"
SEVERITY_COLORS = {"high": "red", "medium": "orange", "low": "yellow"}
HELP = {
    "health": "The newest health score (0–100) and its band; the change is against the score 28 days earlier.",
    "renewal": f"Days from today to the renewal date; orange within {RENEWAL_SOON_DAYS} days.",
    "alerts": "Alerts that still need someone (open or acknowledged), by severity. " + WEIGHTING_HELP,
}


@st.cache_data(ttl=TTL, show_spinner=False)
def load(customer_id: str, today: date) -> CustomerHeader | None:
    """The customer's header data (cleared by the Alerts page when someone acts on an alert)."""
    return read.customer_header(shared.engine(), customer_id, today)


@st.cache_data(ttl=TTL, show_spinner=False)
def load_last_active(customer_id: str, through: date) -> LastActive:
    """The customer's last day with anyone active, up to the last synced day (one indexed read)."""
    return last_active(shared.engine(), customer_id, through)


def render(customer_id: str) -> CustomerHeader | None:
    """Draw the header of the customer; returns its data (None when the customer does not exist). A customer
    nobody used for a week or more gets that said first, above the numbers that still count older days."""
    data = load(customer_id, panel_ui.today())
    if data is None:
        return None
    silence = silence_text(data.name, load_last_active(customer_id, shared.data_through()))
    if silence:
        st.warning(silence, icon=":material/person_off:")
    with st.container(border=True, key="customer_header"):
        cols = st.columns([3, 3, 2, 2, 4], vertical_alignment="top")
        cols[0].markdown(f"**{data.name}**  \n:gray[{data.segment or 'No segment'} · Owner: {owner_text(data)}]")
        cols[1].markdown(f"**Health**  \n{health_text(data)}", help=HELP["health"])
        cols[2].markdown(f"**ARR**  \n{read.format_arr(data.arr)}")
        cols[3].markdown(f"**Renewal**  \n{renewal_text(data)}", help=HELP["renewal"])
        with cols[4]:
            _alerts(data)
    return data


def _alerts(data: CustomerHeader) -> None:
    st.markdown(f"**Open alerts**  \n{alerts_text(data)}", help=HELP["alerts"])
    if not data.open_alerts:
        return
    label = f"{data.open_alerts} open alert(s): see Alerts"
    try:
        st.page_link(ALERTS_PAGE, label=label, icon=":material/notifications_active:",
                     query_params={"customer": data.customer_id})
    except StreamlitPageNotFoundError:  # a page script run on its own, outside the app's navigation
        st.caption(label)


def silence_text(name: str, found: LastActive) -> str | None:
    """"No one at X has been active since <day> (N days) ..." when nobody was in the last week; else None (also
    when nobody ever was: a customer with no usage yet, whose pages say so themselves)."""
    if found.day is None or not found.is_quiet:
        return None
    return (f"No one at {name} has been active since {found.day:%d %b %Y} ({found.quiet_days} days): figures over "
            "30 or 90 days below still count the days before.")


def owner_text(data: CustomerHeader) -> str:
    """The CSM's name (else e-mail), or "no CSM"."""
    return data.csm_name or data.csm_email or "no CSM"


def health_text(data: CustomerHeader) -> str:
    """Score, band badge and the 28-day change coloured by direction (down red, up green)."""
    if data.band is None:
        return ":gray[Not scored yet]"
    score = "No score" if data.score is None else f"{data.score:.1f}"
    change = data.health_change
    if change is None:
        moved = ":gray[no score 28 days earlier]"
    elif change == 0:
        moved = ":gray[unchanged in 28 days]"
    else:
        moved = f":{'red' if change < 0 else 'green'}[{'▼' if change < 0 else '▲'} {change:+.1f} pts in 28 days]"
    return f"{score} {panel_ui.band_badge(data.band)}  \n{moved}"


def renewal_text(data: CustomerHeader) -> str:
    """The renewal date and the days to it (orange when soon, grey once passed)."""
    if data.renewal_date is None or data.days_to_renewal is None:
        return ":gray[No renewal date]"
    days = data.days_to_renewal
    when = f"{data.renewal_date:%d %b %Y}"
    if days < 0:
        return f"{when}  \n:gray[passed {-days} days ago]"
    soon = "orange" if days <= RENEWAL_SOON_DAYS else "gray"
    return f"{when}  \n:{soon}[in {days} day{'s' if days != 1 else ''}]"


def alerts_text(data: CustomerHeader) -> str:
    """Badges with the count per severity, or "None"."""
    if not data.open_alerts:
        return ":gray[None]"
    return " ".join(f":{SEVERITY_COLORS[s]}-badge[{n} {s}]" for s, n in data.alerts.items())
