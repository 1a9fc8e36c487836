"""The simulator's whole-column answers are exactly the general engine's: same rows, order and bytes."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from pendo_core.common.timeutil import local_midnight_ms
from pendo_core.pendo.client import queries
from pendo_sim.context import EvalContext
from pendo_sim.data import Subscription, generate
from pendo_sim.entities import WEIRD_ACCOUNT_ID
from pendo_sim.fastpath import fast_rows
from pendo_sim.pipeline import parse_request, run_pipeline
from pendo_sim.provider import SimProvider

AS_OF = date(2024, 3, 15)
HOUR = 3_600_000


@pytest.fixture(scope="module")
def sub() -> Subscription:
    # New York: the window below crosses the March DST change, so one day has 23 hours.
    return generate(seed=7, accounts=25, days=30, as_of=AS_OF, tz="America/New_York")


def _body(pipeline: list[dict[str, Any]]) -> dict[str, Any]:
    return queries.aggregation_request(pipeline, request_id="test")


def _general(sub: Subscription, body: dict[str, Any]) -> list[str]:
    rows = run_pipeline(parse_request(body), SimProvider(sub), EvalContext(sub.now_ms, sub.tz))
    return [json.dumps(row) for row in rows]


def _fast(sub: Subscription, body: dict[str, Any]) -> list[str] | None:
    answer = fast_rows(body, SimProvider(sub), EvalContext(sub.now_ms, sub.tz))
    return None if answer is None else list(answer)


def _window(sub: Subscription, days: int, hourly: bool = False) -> tuple[int, int]:
    first = local_midnight_ms(AS_OF - timedelta(days=days), sub.tz)
    last = local_midnight_ms(AS_OF - timedelta(days=1), sub.tz)
    return first, (last + 23 * HOUR if hourly else last)


def _group(source: str, period: str, keys: list[str], first: int, last: int, *, identified: bool = True,
           fields: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    series = {"period": period, "first": first, "last": last}
    head = [{"source": {source: {"appId": queries.ALL_APPS}, "timeSeries": series}}]
    group = {"group": {"group": keys, "fields": fields or {"numEvents": {"sum": "numEvents"},
                                                            "numMinutes": {"sum": "numMinutes"}}}}
    return head + ([{"identified": "visitorId"}] if identified else []) + [group]


SYNC_BUILDERS = {
    "visitor-days": (queries.events_by_visitor_day, False),
    "visitor-hours": (queries.events_by_visitor_hour, True),
    "page-days": (queries.page_events_by_account_day, False),
    "feature-days": (queries.feature_events_by_visitor_day, False),
}


@pytest.mark.parametrize("stream", list(SYNC_BUILDERS))
@pytest.mark.parametrize("identified_only", [True, False], ids=["identified", "with-anonymous"])
def test_the_syncs_usage_requests_get_the_general_answer(sub: Subscription, stream: str,
                                                         identified_only: bool) -> None:
    """Each usage request the sync sends, over a week across a DST change, is answered byte for byte alike."""
    build, hourly = SYNC_BUILDERS[stream]
    body = _body(build(*_window(sub, 10, hourly), identified_only))
    fast = _fast(sub, body)
    assert fast is not None
    assert fast == _general(sub, body)
    assert len(fast) > 50


@pytest.mark.parametrize(("source", "period", "keys"), [
    ("events", "dayRange", ["accountId"]),
    ("events", "dayRange", ["day", "visitorId"]),
    ("pageEvents", "dayRange", ["pageId"]),
    ("featureEvents", "hourRange", ["featureId", "hour", "accountId"]),
    ("events", "hourRange", ["visitorId"]),
], ids=["per-account-across-days", "keys-reordered", "per-page-across-accounts", "features-hourly", "per-visitor"])
def test_other_groupings_merge_rows_in_first_appearance_order(sub: Subscription, source: str, period: str,
                                                              keys: list[str]) -> None:
    """Groups that merge rows across days, accounts or visitors sum them in the order the engine meets them."""
    body = _body(_group(source, period, keys, *_window(sub, 5, period == "hourRange")))
    assert _fast(sub, body) == _general(sub, body)


@pytest.mark.parametrize(("source", "period", "keys", "sort"), [
    ("featureEvents", "dayRange", ["accountId", "visitorId", "featureId", "day"], ["day", "accountId", "featureId"]),
    ("events", "hourRange", ["accountId", "visitorId", "hour"], ["hour", "accountId", "visitorId"]),
    ("pageEvents", "dayRange", ["accountId", "pageId", "day"], ["pageId"]),
    ("events", "dayRange", ["visitorId", "day"], ["visitorId", "day"]),
], ids=["features-by-day-then-ids", "hours", "pages-ties-kept-in-order", "visitor-then-day"])
def test_a_sort_on_the_group_keys_orders_rows_as_the_engine_does(sub: Subscription, source: str, period: str,
                                                                 keys: list[str], sort: list[str]) -> None:
    """An ascending sort on the group's keys: ids in text order (the weird account's too), ties in first
    appearance order, as the engine's stable sort leaves them."""
    body = _body([*_group(source, period, keys, *_window(sub, 5, period == "hourRange")), {"sort": sort}])
    fast = _fast(sub, body)
    assert fast is not None
    assert fast == _general(sub, body)
    assert fast != _general(sub, _body(_group(source, period, keys, *_window(sub, 5, period == "hourRange"))))


@pytest.mark.parametrize("pipeline", [
    [{"source": {"events": {"appId": queries.ALL_APPS},
                 "timeSeries": {"period": "dayRange", "first": 0, "last": 1}}}],
    _group("events", "dayRange", ["appId"], 0, 86_400_000),
    _group("events", "dayRange", ["hour"], 0, 86_400_000),
    _group("events", "dayRange", ["accountId"], 0, 86_400_000, fields={"n": {"count": None}}),
    _group("guideEvents", "dayRange", ["accountId"], 0, 86_400_000),
    [{"source": {"features": None}}],
    [*_group("events", "dayRange", ["accountId", "day"], 0, 86_400_000), {"sort": ["-day"]}],
    [*_group("events", "dayRange", ["accountId", "day"], 0, 86_400_000), {"sort": ["numEvents"]}],
    [{"source": {"visitors": None}}, {"sort": ["visitorId"]}, {"limit": 5}],
    [{"source": {"visitors": None}}, {"sort": ["metadata.auto.lastupdated", "visitorId"]},
     {"filter": "metadata.auto.lastupdated >= 0 && visitorId != \"x\""}, {"limit": 5}],
], ids=["no-group", "other-key", "bucket-of-another-period", "other-aggregate", "guide-events", "catalogue",
        "group-sorted-descending", "group-sorted-by-a-sum", "other-sort", "other-filter"])
def test_other_shapes_take_the_general_path(sub: Subscription, pipeline: list[dict[str, Any]]) -> None:
    """A pipeline outside the two shapes is not answered here (the general engine answers it)."""
    assert _fast(sub, _body(pipeline)) is None


@pytest.mark.parametrize(("source", "identified", "page"), [
    ("visitors", True, 40), ("visitors", False, 7), ("accounts", None, 6),
], ids=["identified-visitors", "all-visitors", "accounts"])
def test_keyset_pages_walk_the_same_rows(sub: Subscription, source: str, identified: bool | None, page: int) -> None:
    """Paging by (lastupdated, id) as the sync does gives the general engine's pages, weird ids included."""
    since, after, seen = 0, None, []
    while True:
        if source == "visitors":
            pipeline = queries.visitors_since(since, after, page, identified_only=bool(identified))
        else:
            pipeline = queries.accounts_since(since, after, page)
        body = _body(pipeline)
        fast = _fast(sub, body)
        assert fast == _general(sub, body)
        assert fast is not None
        seen += fast
        if len(fast) < page:
            break
        last = json.loads(fast[-1])
        id_field = "visitorId" if source == "visitors" else "accountId"
        since, after = last["metadata"]["auto"]["lastupdated"], last[id_field]
    assert len(seen) == len({json.dumps(json.loads(s)) for s in seen}) > page
    if source == "accounts":
        assert any(WEIRD_ACCOUNT_ID in json.loads(s)["accountId"] for s in seen)


def test_a_later_watermark_reads_only_what_changed(sub: Subscription) -> None:
    """`lastupdated >= T` with a late T returns only the recently updated visitors, as the engine does."""
    since = int(sorted(sub.recency[2].tolist())[-5])
    body = _body(queries.visitors_since(since, None, 100, identified_only=False))
    fast = _fast(sub, body)
    assert fast == _general(sub, body)
    assert fast is not None
    assert 0 < len(fast) < 20
