"""The synthetic subscription: deterministic, internally consistent, realistic enough to exercise the product."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from pendo_core.common.timeutil import HOUR_MS, day_of_ms, hour_starts_ms, local_midnight_ms
from pendo_sim import entities
from pendo_sim.catalog import DEFAULT_APP_ID, MOBILE_APP_ID
from pendo_sim.context import EvalContext, QueryError
from pendo_sim.data import Subscription, generate
from pendo_sim.pipeline import run_pipeline
from pendo_sim.provider import SimProvider

NY = "America/New_York"
EXPAND = 'expandAppIds("*")'
Row = dict[str, Any]


@pytest.fixture(scope="module")
def spring() -> Subscription:
    """Small, New York, spanning the 2024-03-10 spring-forward day."""
    return generate(seed=11, accounts=40, days=30, as_of=date(2024, 3, 15), tz=NY)


@pytest.fixture(scope="module")
def fall() -> Subscription:
    """Small, New York, spanning the 2024-11-03 fall-back day."""
    return generate(seed=11, accounts=40, days=10, as_of=date(2024, 11, 6), tz=NY)


@pytest.fixture(scope="module")
def big() -> Subscription:
    """Enough accounts and weeks for the realism checks (incl. 2024-01-01)."""
    return generate(seed=7, accounts=150, days=90, as_of=date(2024, 3, 15), tz=NY)


def query(sub: Subscription, pipeline: list[Row]) -> list[Row]:
    return list(run_pipeline(pipeline, SimProvider(sub), EvalContext(sub.now_ms, sub.tz)))


def src(name: str, params: Any = None, period: str | None = None, first_ms: int = 0, count: int = 1) -> Row:
    """A source stage; event sources get `count` buckets from `first_ms`."""
    source: Row = {name: params}
    if period:
        source["timeSeries"] = {"period": f"{period}Range", "first": first_ms, "count": count}
    return {"source": source}


def rows(
    sub: Subscription,
    name: str,
    params: Any = None,
    period: str | None = None,
    first: date | None = None,
    *,
    days: int = 1,
) -> list[Row]:
    """All rows of a source; event sources cover `days` local days from `first`."""
    if period is None or first is None:
        return query(sub, [src(name, params)])
    count = (
        days
        if period == "day"
        else len([h for k in range(days) for h in hour_starts_ms(first + timedelta(days=k), sub.tz)])
    )
    return query(sub, [src(name, params, period, local_midnight_ms(first, sub.tz), count)])


GRAIN = ("visitorId", "accountId", "appId", "server", "remoteIp", "userAgent")
DAYS = [
    ("spring", date(2024, 3, 10)),
    ("spring", date(2024, 3, 12)),
    ("spring", date(2024, 3, 15)),
    ("fall", date(2024, 11, 3)),
    ("fall", date(2024, 11, 4)),
]
DAY_IDS = ["spring-forward", "weekday", "as-of-partial", "fall-back", "after-fall-back"]


def test_same_inputs_give_the_same_rows() -> None:
    """Two subscriptions built from the same inputs answer every source identically."""
    a, b = (generate(seed=3, accounts=25, days=20, as_of=date(2024, 5, 1), tz=NY) for _ in range(2))
    for name, period in [
        ("events", "day"),
        ("featureEvents", "hour"),
        ("guideEvents", "day"),
        ("visitors", None),
        ("accounts", None),
        ("features", None),
    ]:
        first = date(2024, 4, 20) if period else None
        assert rows(a, name, {"appId": EXPAND}, period, first, days=5) == rows(
            b, name, {"appId": EXPAND}, period, first, days=5
        )


def test_another_seed_gives_other_rows() -> None:
    """The seed matters."""
    a = generate(seed=3, accounts=25, days=20, as_of=date(2024, 5, 1))
    b = generate(seed=4, accounts=25, days=20, as_of=date(2024, 5, 1))
    assert rows(a, "visitors") != rows(b, "visitors")
    assert rows(a, "events", None, "day", date(2024, 4, 29)) != rows(b, "events", None, "day", date(2024, 4, 29))


def test_a_day_does_not_depend_on_what_was_generated_before() -> None:
    """Days are generated on demand from their own seed: order and cache state change nothing."""
    a, b = (generate(seed=5, accounts=30, days=40, as_of=date(2024, 5, 1)) for _ in range(2))
    for k in range(10, 40, 3):
        b.daybook.day(k)
    expected = rows(a, "events", None, "hour", date(2024, 4, 10), days=2)
    assert expected
    assert rows(b, "events", None, "hour", date(2024, 4, 10), days=2) == expected


def _sums(items: list[Row], key: tuple[str, ...], tz: Any, bucket: str) -> dict[tuple[Any, ...], tuple[int, int]]:
    out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for row in items:
        k = (*(row[f] for f in key), day_of_ms(row[bucket], tz))
        out[k][0] += row["numEvents"]
        out[k][1] += row["numMinutes"]
    return {k: (v[0], v[1]) for k, v in out.items()}


@pytest.mark.parametrize(
    ("name", "extra"),
    [("events", ()), ("pageEvents", ("pageId",)), ("featureEvents", ("featureId",))],
    ids=["events", "pages", "features"],
)
@pytest.mark.parametrize(("fixture", "day"), DAYS, ids=DAY_IDS)
def test_hour_rows_add_up_to_day_rows(
    request: pytest.FixtureRequest, fixture: str, day: date, name: str, extra: tuple[str, ...]
) -> None:
    """Summed over a local day, hourRange rows equal that day's dayRange row (events and minutes)."""
    sub = request.getfixturevalue(fixture)
    key = GRAIN + extra
    day_rows = rows(sub, name, {"appId": EXPAND}, "day", day)
    hour_rows = rows(sub, name, {"appId": EXPAND}, "hour", day)
    assert day_rows
    assert len({tuple(r[f] for f in key) for r in day_rows}) == len(day_rows), "one day row per grain"
    assert _sums(hour_rows, key, sub.tz, "hour") == _sums(day_rows, key, sub.tz, "day")


@pytest.mark.parametrize(
    ("fixture", "day", "hours"),
    [("spring", date(2024, 3, 10), 23), ("spring", date(2024, 3, 12), 24), ("fall", date(2024, 11, 3), 25)],
    ids=["spring-forward", "normal", "fall-back"],
)
def test_buckets_follow_the_subscription_timezone(
    request: pytest.FixtureRequest, fixture: str, day: date, hours: int
) -> None:
    """Day buckets are local midnights; hour buckets are absolute hours of that local day (23/24/25 of them)."""
    sub = request.getfixturevalue(fixture)
    starts = hour_starts_ms(day, sub.tz)
    assert len(starts) == hours
    hour_rows = rows(sub, "events", None, "hour", day)
    assert {r["hour"] for r in hour_rows} <= set(starts)
    assert len({r["hour"] for r in hour_rows}) >= hours - 6, "activity is spread over the day"
    assert {r["day"] for r in rows(sub, "events", None, "day", day)} == {local_midnight_ms(day, sub.tz)}


@pytest.mark.parametrize("name", ["pageEvents", "featureEvents"])
def test_page_and_feature_events_are_a_subset_of_events(spring: Subscription, name: str) -> None:
    """Every page/feature row sits on an events row of the same grain, and their counts never exceed it."""
    key = (*GRAIN, "hour")
    events = {tuple(r[f] for f in key): r for r in rows(spring, "events", {"appId": EXPAND}, "hour", date(2024, 3, 12))}
    used: Counter[tuple[Any, ...]] = Counter()
    for row in rows(spring, name, {"appId": EXPAND}, "hour", date(2024, 3, 12)):
        k = tuple(row[f] for f in key)
        assert k in events
        used[k] += row["numEvents"]
        assert 1 <= row["numMinutes"] <= events[k]["numMinutes"]
    assert all(count <= events[k]["numEvents"] for k, count in used.items())


def test_counts_are_integers_and_minutes_follow_events(spring: Subscription) -> None:
    """numEvents and numMinutes are ints; an active row has at least one minute; times lie inside the bucket."""
    for row in rows(spring, "events", {"appId": EXPAND}, "hour", date(2024, 3, 11), days=2):
        assert type(row["numEvents"]) is int
        assert type(row["numMinutes"]) is int
        assert (row["numMinutes"] >= 1) if row["numEvents"] > 0 else (row["numMinutes"] == 0)
        assert row["hour"] <= row["firstTime"] <= row["lastTime"] < row["hour"] + HOUR_MS


def test_nothing_happens_after_the_simulated_now(spring: Subscription) -> None:
    """Now is 06:00 local on as_of: no bucket, event time or guide event after it, even asking for the future."""
    now = spring.now_ms
    assert now == local_midnight_ms(date(2024, 3, 15), spring.tz) + 6 * HOUR_MS
    future = rows(spring, "events", {"appId": EXPAND}, "hour", date(2024, 3, 15), days=3)
    assert future
    assert all(r["lastTime"] < now and r["hour"] < now for r in future)
    guides = rows(spring, "guideEvents", {"appId": EXPAND}, "day", date(2024, 3, 1), days=20)
    assert guides
    assert max(g["browserTime"] for g in guides) < now


@pytest.mark.parametrize("period", ["day", "hour"])
def test_guide_events_lie_in_the_buckets_they_are_returned_for(spring: Subscription, period: str) -> None:
    """A guide event comes back for exactly the buckets holding its browserTime."""
    whole = rows(spring, "guideEvents", {"appId": EXPAND}, "day", date(2024, 3, 11), days=3)
    start, end = local_midnight_ms(date(2024, 3, 11), spring.tz), local_midnight_ms(date(2024, 3, 14), spring.tz)
    assert whole
    assert all(start <= g["browserTime"] < end for g in whole)
    parts = [
        g
        for d in range(3)
        for g in rows(spring, "guideEvents", {"appId": EXPAND}, period, date(2024, 3, 11) + timedelta(days=d))
    ]
    assert sorted(parts, key=repr) == sorted(whole, key=repr)
    assert all(g["guideTimestamp"] >= g["browserTime"] for g in whole)


@pytest.mark.parametrize(
    ("params", "apps"),
    [
        (None, {DEFAULT_APP_ID}),
        ({"appId": EXPAND}, {DEFAULT_APP_ID, MOBILE_APP_ID}),
        ({"appId": MOBILE_APP_ID}, {MOBILE_APP_ID}),
        ({"appId": [str(DEFAULT_APP_ID), str(MOBILE_APP_ID)]}, {DEFAULT_APP_ID, MOBILE_APP_ID}),
        ({"appId": [12345]}, set()),
    ],
    ids=["default-only", "expand", "one-int", "string-list", "unknown-app"],
)
def test_app_selection(big: Subscription, params: Any, apps: set[int]) -> None:
    """Without expandAppIds only the default app's rows come back."""
    for name in ("events", "featureEvents"):
        assert {r["appId"] for r in rows(big, name, params, "day", date(2024, 3, 12))} == apps
    assert {r["appId"] for r in rows(big, "features", params)} == apps


@pytest.mark.parametrize(
    ("name", "param", "field"),
    [
        ("featureEvents", "featureId", "featureId"),
        ("pageEvents", "pageId", "pageId"),
        ("guideEvents", "guideId", "guideId"),
    ],
)
def test_id_parameters_restrict_event_sources(spring: Subscription, name: str, param: str, field: str) -> None:
    """featureId / pageId / guideId keep only that object's rows (the tap-pendo per-object pattern)."""
    everything = rows(spring, name, None, "day", date(2024, 3, 4), days=8)
    wanted = Counter(r[field] for r in everything).most_common(1)[0][0]
    only = rows(spring, name, {param: wanted, "blacklist": "apply"}, "day", date(2024, 3, 4), days=8)
    assert only == [r for r in everything if r[field] == wanted]


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        (src("nosuch"), "unknown source"),
        ({"source": {"events": None}}, "timeSeries"),
        (src("events", {"appId": "web"}, "day", 1709269200000), "appId"),
        (src("featureEvents", {"featureId": 7}, "day", 1709269200000), "featureId"),
    ],
    ids=["unknown-source", "no-time-series", "bad-app-id", "bad-feature-id"],
)
def test_bad_sources_are_query_errors(spring: Subscription, stage: Row, message: str) -> None:
    """Mistakes in a source become QueryError (the server's 400) before any row."""
    with pytest.raises(QueryError, match=message):
        query(spring, [stage])


def test_catalogue_shape(big: Subscription) -> None:
    """~40 features (6 Core Events, app-wide ones without a page), ~15 pages, 8 guides with ranked steps."""
    features, pages, guides = (rows(big, n, {"appId": EXPAND}) for n in ("features", "pages", "guides"))
    assert 36 <= len(features) <= 44
    assert 13 <= len(pages) <= 17
    assert len(guides) == 8
    assert sum(f["isCoreEvent"] for f in features) == 6
    app_wide = [f for f in features if f["appWide"]]
    assert app_wide
    assert all(not f.get("pageId") for f in app_wide)
    assert {f["pageId"] for f in features if not f["appWide"]} <= {p["id"] for p in pages}
    assert sum("onboarding" in (g["name"] + g["group"]["name"]).lower() for g in guides) == 2
    ranks = [[s["rank"] for s in g["steps"]] for g in guides]
    assert any(len(r) == 1 for r in ranks)
    assert any(len(r) >= 4 for r in ranks)
    assert all(r == sorted(r) and len(set(r)) == len(r) for r in ranks)


def test_accounts_and_visitors_look_real(big: Subscription) -> None:
    """Company names, domains or websites, e-mail ids at the account domain, consultants and anonymous visitors."""
    accounts = rows(big, "accounts")
    domains = {}
    for a in accounts:
        meta = a["metadata"]
        assert meta["agent"]["name"]
        assert meta["custom"]["planlevel"] in entities.PLANS
        assert {"id", "firstvisit", "lastvisit", "lastupdated"} <= meta["auto"].keys()
        domains[a["accountId"]] = meta["agent"].get("domain") or meta["custom"]["website"].removeprefix("https://www.")
    assert sum("domain" in a["metadata"]["agent"] for a in accounts) / len(accounts) > 0.5
    assert any("website" in a["metadata"]["custom"] for a in accounts)
    assert entities.WEIRD_ACCOUNT_ID in domains
    visitors = rows(big, "visitors")
    anonymous = [v for v in visitors if v["visitorId"].startswith("_PENDO_T_")]
    known = [v for v in visitors if not v["visitorId"].startswith("_PENDO_T_")]
    assert anonymous
    assert len(known) / len(accounts) > 10
    for v in known:
        auto = v["metadata"]["auto"]
        assert v["visitorId"] == v["metadata"]["agent"]["email"]
        assert v["visitorId"].endswith("@" + domains[auto["accountid"]])
        assert auto["firstvisit"] <= auto["lastvisit"] <= auto["lastupdated"] < big.now_ms
    consultants = sum(len(v["metadata"]["auto"]["accountids"]) == 2 for v in known) / len(known)
    assert 0.01 < consultants < 0.06
    assert {v["visitorId"] for v in rows(big, "visitors", {"identified": True})} == {v["visitorId"] for v in known}


def _per_day(sub: Subscription, first: date, days: int) -> dict[date, int]:
    grouped = query(
        sub,
        [
            src("events", None, "day", local_midnight_ms(first, sub.tz), days),
            {"group": {"group": ["day"], "fields": {"n": {"count": "visitorId"}}}},
        ],
    )
    return {day_of_ms(r["day"], sub.tz): r["n"] for r in grouped}


def test_weekly_rhythm_and_holidays(big: Subscription) -> None:
    """Weekends run at about a fifth of weekdays; New Year's Day dips like a weekend."""
    per_day = _per_day(big, date(2024, 1, 1), 56)
    weekday = [n for d, n in per_day.items() if d.weekday() < 5 and d != date(2024, 1, 1)]
    weekend = [n for d, n in per_day.items() if d.weekday() >= 5]
    ratio = (sum(weekend) / len(weekend)) / (sum(weekday) / len(weekday))
    assert 0.1 < ratio < 0.4
    assert per_day[date(2024, 1, 1)] < 0.5 * per_day[date(2024, 1, 8)]


def test_office_hours_and_night_owls(big: Subscription) -> None:
    """Most hour rows fall in local office hours; some sessions run from 23:00 across midnight."""
    hour_rows = rows(big, "events", None, "hour", date(2024, 3, 4), days=5)
    local_hours = Counter(
        (r["hour"] - local_midnight_ms(day_of_ms(r["hour"], big.tz), big.tz)) // HOUR_MS for r in hour_rows
    )
    assert sum(local_hours[h] for h in range(8, 18)) / len(hour_rows) > 0.6
    seen = {(r["visitorId"], r["accountId"], r["userAgent"], r["hour"]) for r in hour_rows}
    crossing = [
        k
        for k in seen
        if (k[0], k[1], k[2], k[3] + HOUR_MS) in seen and day_of_ms(k[3], big.tz) != day_of_ms(k[3] + HOUR_MS, big.tz)
    ]
    assert crossing


def test_some_visitor_days_use_two_user_agents(big: Subscription) -> None:
    """A visitor-day may be split over two clients, so clients must sum rows."""
    per = Counter(
        (r["visitorId"], r["accountId"], r["day"]) for r in rows(big, "events", None, "day", date(2024, 3, 12))
    )
    assert 0 < sum(n > 1 for n in per.values()) < 0.5 * len(per)


def test_archetypes_shape_activity(big: Subscription) -> None:
    """Churning accounts fall silent weeks before as_of, new ones start late, tiny ones have 1-3 users."""
    arche = {big.accounts.ids[i]: a for i, a in enumerate(big.accounts.archetype.tolist())}
    recent = {r["accountId"] for r in rows(big, "events", {"appId": EXPAND}, "day", date(2024, 3, 1), days=15)}
    churning = {a for a, k in arche.items() if k == entities.CHURNING}
    assert churning
    assert not churning & recent
    early = {r["accountId"] for r in rows(big, "events", {"appId": EXPAND}, "day", date(2023, 12, 17), days=7)}
    new = {a for a, k in arche.items() if k == entities.NEW}
    assert new
    assert not new & early
    sizes = Counter(v["metadata"]["auto"]["accountid"] for v in rows(big, "visitors", {"identified": True}))
    assert all(1 <= sizes[a] <= 3 for a, k in arche.items() if k == entities.TINY)


def test_guide_events_carry_the_guide_vocabulary(big: Subscription) -> None:
    """Seen, advanced and dismissed dominate; activity, timeouts and `ui:web:` prefixes appear as noise."""
    events = rows(big, "guideEvents", {"appId": EXPAND}, "day", date(2024, 2, 1), days=30)
    types = Counter(e["type"] for e in events)
    for kind in ("guideSeen", "guideAdvanced", "guideDismissed", "guideActivity", "guideTimeout"):
        assert types[kind] > 0
    assert any(t.startswith("ui:web:") for t in types)
    assert types["guideSeen"] > types["guideTimeout"]
    assert {"guideStepId", "accountIds", "url", "country", "latitude", "loadTime"} <= events[0].keys()


def test_twenty_thousand_accounts_are_generated_lazily() -> None:
    """Entities come up front; activity only for the days asked for (its speed is `make bench-large`'s to
    measure, not a test's)."""
    sub = generate(seed=1, accounts=20_000, days=180, as_of=date(2024, 3, 15))
    one_day = rows(sub, "events", None, "day", date(2024, 3, 13))
    assert len(sub.visitors) > 300_000
    assert len(one_day) > 10_000
