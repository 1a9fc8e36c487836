"""Feature adoption: which features a customer uses, how that moves week by week, how it compares
with its peers, and the features its peers use that it does not."""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from pages.ui import charts, customer_header, loaders, samples, shared
from pendo_core.usage import feature_queries as read_features
from pendo_core.usage import measures

HELP = {
    "list": "Last 30 days. Users: distinct visitors with a featureEvents row for the feature. Adoption = users ÷ "
            "the customer's MAU on the last day. Clicks: the sum of numEvents. Days used: days with any use. "
            "Sec / user-day: time on the feature (Pendo numMinutes) ÷ users summed over days. "
            "Key features (★): Pendo Core Events unless an admin picked others. Peer percentile: share of "
            "same-segment customers with fewer days of use (half the ties count).",
    "weeks": "Whole weeks ending on the range's last day. Cell = distinct users of the feature that week ÷ the "
             "customer's WAU on the week's last day. An empty cell: nobody used the feature that week.",
    "customers": "Adoption over the 30 days ending the range's last day: distinct users of the feature ÷ the "
                 "customer's MAU that day. The 25 customers with the most monthly users in the chosen group.",
    "detail": "Per day: clicks (numEvents of featureEvents), users (distinct visitors) and page views of the page "
              "the feature sits on. Days outside the synced data are gaps; a synced day without use is 0.",
    "gaps": "Features this customer did not use in the last 30 days, ranked by the share of its peers (same "
            "segment) that used them at least once in the same 30 days.",
    "peers": "Percentile rank among the customers of the same segment, 0-100 (50 = the median customer). Breadth = "
             "share of key features used in 30 days. " + measures.STICKINESS_DEFINITION,
}
MAX_FEATURES = 25
TABS = ("By week", "Across customers", "One feature, day by day")
TAB_KEY = "features_tab"


def _kpis(table: pd.DataFrame, mine: pd.Series) -> None:
    cols = st.columns(4)
    used = int((table["users"] > 0).sum())
    keys = table[table["is_key"]]
    cols[0].metric("Features used, 30 days", f"{used}", help="Features with at least one user in 30 days.", border=True)
    cols[1].metric("Key features used", f"{int((keys['users'] > 0).sum())} of {len(keys)}", border=True,
                   help=measures.BREADTH_DEFINITION)
    unused = int((keys["users"] == 0).sum())
    cols[2].metric("Key features unused", f"{unused}", border=True,
                   help="Key features nobody at this customer used in 30 days: listed first under 'Not using'.")
    rank = mine.get("breadth_pct")
    cols[3].metric("Breadth percentile", samples.share_text(rank, mine.get("peers"), fmt="{:.0f}"),
                   help=HELP["peers"] + " " + samples.HELP, border=True)


def _feature_table(table: pd.DataFrame, peers: pd.DataFrame, mau: float | None, peer_count: int) -> None:
    """One row per feature; adoption is empty below 5 MAU, the peer columns below 5 peers (numbers, so each
    column sorts by them; a caption says which column is empty and why)."""
    shown = table.merge(peers[["feature_id", "percentile", "peer_share"]], on="feature_id", how="left")
    shown = shown.assign(key=shown["is_key"].map({True: "★", False: ""}),
                         adoption=samples.shares(shown["adoption_pct"], [mau] * len(shown)),
                         peers=samples.shares(shown["peer_share"], [peer_count] * len(shown)),
                         rank=samples.shares(shown["percentile"], [peer_count] * len(shown)))
    cc = st.column_config
    shared.table(shown, key="features_table", height=min(35 * len(shown) + 38, 560), percent=("adoption", "peers"),
                 columns={
        "key": cc.TextColumn("Key", width=40, help="★ = key feature"),
        "name": cc.TextColumn("Feature", width=220),
        "adoption": shared.percent_column("Adoption", help="Users ÷ MAU. " + samples.HELP),
        "users": cc.NumberColumn("Users", format="%d"),
        "clicks": cc.NumberColumn("Clicks", format="localized"),
        "days_used": cc.NumberColumn("Days used", format="%d"),
        "seconds_per_user_day": cc.NumberColumn("Sec / user-day", format="%.0f"),
        "rank": cc.NumberColumn("Peer percentile", format="%.0f", help=HELP["peers"] + " " + samples.HELP),
        "peers": shared.percent_column("Peers using it", help="Share of the segment's other customers that used it. "
                                                               + samples.HELP)})
    notes = [samples.left_empty("Adoption", mau, "monthly active users"),
             samples.left_empty("Peer percentile and peers using it", peer_count, "peers in the segment")]
    for note in filter(None, notes):
        st.caption(note)


def _week_heatmap(customer_id: str, usage: pd.DataFrame, last: date, weeks: int, names: dict[str, str]) -> None:
    frame = loaders.weekly_feature_users(customer_id, last, weeks)
    if frame.empty:
        st.info("No feature use in these weeks.")
        return
    wau = usage.set_index("metric_date")["wau"]
    frame["wau"] = frame["week_end"].map(wau)
    frame["share"] = measures.adoption(frame["users"], frame["wau"])  # weekly adoption: the week's users ÷ WAU
    frame["feature"] = frame["feature_id"].map(names).fillna(frame["feature_id"])
    order = frame.groupby("feature")["users"].sum().sort_values(ascending=False).index[:MAX_FEATURES].tolist()
    frame = frame[frame["feature"].isin(order)].sort_values("week_end")
    frame["week"] = frame["week_end"].dt.strftime("%d %b")
    columns = [f"{last - timedelta(days=7 * k):%d %b}" for k in reversed(range(weeks))]
    charts.show(charts.heatmap(frame, x="week", y="feature", value="share", x_title="Week ending",
                               y_title="Feature", value_title="Users ÷ WAU", x_sort=columns,
                               y_sort=order,
                               extra_tooltips=[alt.Tooltip("users:Q", title="Users"),
                                               alt.Tooltip("clicks:Q", title="Clicks", format=",")]),
                width="stretch")


def _customer_heatmap(picked: shared.CustomerRow, last: date, names: dict[str, str]) -> None:
    visible = shared.visible_customers()
    scope = st.segmented_control("Customers", ["Same segment", "All I can see"], default="Same segment",
                                 key="features_heatmap_scope", required=True, persist_state="session")
    group = visible[visible["segment"] == picked.segment] if scope == "Same segment" else visible
    week = shared.customer_week(last).set_index("customer_id")["mau"]
    top = group.assign(mau=group["customer_id"].map(week)).sort_values("mau", ascending=False).head(25)
    frame = loaders.feature_users_by_customer(tuple(top["customer_id"]), last)
    if frame.empty:
        st.info("None of these customers used a feature in the last 30 days.")
        return
    frame["customer"] = frame["customer_id"].map(dict(zip(top["customer_id"], top["name"], strict=True)))
    frame["feature"] = frame["feature_id"].map(names).fillna(frame["feature_id"])
    order = frame.groupby("feature")["users"].sum().sort_values(ascending=False).index[:MAX_FEATURES].tolist()
    frame = frame[frame["feature"].isin(order)]
    charts.show(charts.heatmap(frame, x="customer", y="feature", value="adoption_pct", x_title="Customer",
                               y_title="Feature", value_title="Adoption (users ÷ MAU)", y_sort=order,
                               extra_tooltips=[alt.Tooltip("users:Q", title="Users")]), width="stretch")


def _drill_down(customer_id: str, usage: pd.DataFrame, first: date, last: date, table: pd.DataFrame) -> None:
    options = table.sort_values("users", ascending=False)
    labels = dict(zip(options["feature_id"], options["name"], strict=True))
    feature_id = st.selectbox("Feature", list(labels), format_func=labels.__getitem__, key="features_drill")
    daily = loaders.feature_daily(customer_id, feature_id, first, last)
    synced = usage.set_index("metric_date")["dau"].notna()
    inside = daily["metric_date"].map(synced).eq(True)
    for column in ("clicks", "unique_visitors"):
        daily[column] = daily[column].astype(float).fillna(0.0).where(inside)
    daily = charts.smoothed(daily, ["clicks", "unique_visitors", "views"], charts.smoothing_toggle("features_smooth"))
    left, right = st.columns(2)
    charts.show(charts.lines(daily, {"clicks": "Clicks"}, "Clicks a day", height=220), left, width="stretch")
    charts.show(charts.lines(daily, {"unique_visitors": "Users", "views": "Page views"}, "Users / views a day",
                             height=220), right, width="stretch")


def _gaps_and_peers(peers: pd.DataFrame, mine: pd.Series) -> None:
    left, right = st.columns(2)
    with left:
        st.markdown("#### Not using, but peers do", help=HELP["gaps"])
        gaps = peers[(peers["days_used"] == 0) & (peers["peer_share"] > 0)].sort_values("peer_share", ascending=False)
        if gaps.empty:
            st.success("This customer uses every feature its peers use.")
        else:
            gaps = gaps.head(10).assign(label=lambda f: f["name"] + f["is_key"].map({True: " ★", False: ""}))
            charts.show(charts.bars(gaps, x="peer_share", y="label", x_title="Share of peers using it", fmt=".0%",
                                    color=charts.PALETTE[2], domain=(0, 1)), width="stretch")
    with right:
        st.markdown("#### Percentile among peers", help=HELP["peers"])
        ranks = pd.DataFrame({"measure": ["Key-feature breadth", "Features used", "Stickiness",
                                          "Feature events per user"],
                              "percentile": [mine.get(k) for k in ("breadth_pct", "features_pct", "stickiness_pct",
                                                                   "events_pct")]}).dropna()
        if samples.too_few(mine.get("peers")):
            st.info(f"Percentiles among {int(mine.get('peers') or 0)} peer(s) in this segment: {samples.TOO_FEW}.")
        elif ranks.empty:
            st.info("No peers in this segment to compare with.")
        else:
            bars = charts.bars(ranks, x="percentile", y="measure", x_title="Percentile among peers (50 = median)",
                               sort=ranks["measure"].tolist(), domain=(0, 100))
            rule = (alt.Chart(pd.DataFrame({"x": [50]})).mark_rule(strokeDash=[4, 3], color="#555")
                    .encode(x=alt.X("x:Q")))
            charts.show(alt.layer(bars, rule), width="stretch")


def _peer_ranks(picked: shared.CustomerRow, last: date) -> pd.Series:
    """The customer's percentile ranks among its segment for breadth, features used, stickiness, events."""
    from pendo_core.usage.adoption import percentile_rank

    customers = shared.customers()
    segment = customers.loc[customers["segment"] == picked.segment, "customer_id"].tolist()
    spread = read_features.breadth(shared.feature_days(last, picked.segment), shared.feature_catalogue(), segment)
    week = shared.customer_week(last)[["customer_id", "stickiness", "feature_events_per_user"]]
    spread = spread.merge(week, on="customer_id", how="left").set_index("customer_id")
    if picked.customer_id not in spread.index:
        return pd.Series(dtype=float)
    mine, others = spread.loc[picked.customer_id], spread.drop(picked.customer_id)
    ranks: dict[str, float | None] = {"peers": float(len(others))}
    if samples.too_few(len(others)):  # a percentile among 1 to 4 peers is not a rank to act on
        return pd.Series(ranks)
    for column, key in (("breadth", "breadth_pct"), ("features_used", "features_pct"),
                        ("stickiness", "stickiness_pct"), ("feature_events_per_user", "events_pct")):
        known = others[column].dropna().tolist()
        ranks[key] = percentile_rank(float(mine[column]), known) if known and pd.notna(mine[column]) else None
    return pd.Series(ranks)


def render() -> None:
    shared.require_page("features")
    picked = shared.selected_customer()
    shared.page_header("Feature adoption", picked)
    if picked is None:
        shared.no_customer_message()
        return
    customer_header.render(picked.customer_id)
    first, last = shared.date_range()
    table = loaders.feature_list(picked.customer_id, last)
    st.caption(f"Last 30 days ending {last:%d %b %Y}")
    if table.empty or (table["users"] == 0).all():
        st.info(f"No feature use by {picked.name} in the 30 days ending {last:%d %b %Y}. Features appear once its "
                "Pendo accounts are mapped and visitors click tagged features.")
        return
    catalogue = shared.feature_catalogue()
    peers = read_features.peer_features(shared.feature_days(last, picked.segment), shared.customers(), catalogue,
                                         picked.customer_id)
    mine = _peer_ranks(picked, last)
    _kpis(table, mine)
    st.markdown("#### Features, last 30 days", help=HELP["list"])
    usage = shared.usage_series(picked.customer_id, first, last)
    known = usage["mau"].dropna()
    peer_count = int((shared.customers()["segment"] == picked.segment).sum()) - 1
    _feature_table(table, peers, float(known.iloc[-1]) if len(known) else None, peer_count)
    names = dict(zip(catalogue["feature_id"], catalogue["name"], strict=True))
    weeks = max(1, min(13, ((last - first).days + 1) // 7))
    # Only the open tab runs (a tab switch reruns the page): each tab reads and draws its own charts.
    by_week, by_customer, detail = st.tabs(list(TABS), key=TAB_KEY, on_change="rerun")
    if by_week.open:
        with by_week:
            st.markdown(f"#### Adoption by week, last {weeks} weeks", help=HELP["weeks"])
            _week_heatmap(picked.customer_id, usage, last, weeks, names)
    if by_customer.open:
        with by_customer:
            st.markdown("#### Adoption across customers", help=HELP["customers"])
            _customer_heatmap(picked, last, names)
    if detail.open:
        with detail:
            st.markdown("#### Daily detail", help=HELP["detail"])
            _drill_down(picked.customer_id, usage, first, last, table)
    _gaps_and_peers(peers, mine)


render()
