"""Specs for the aggregation request builders: exact pipelines, escaping, documented syntax only."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from pendo_core.pendo.client import queries
from pendo_core.pendo.client.queries import quote
from pendo_core.pendo.sync import streams

FIRST, LAST = 1709614800000, 1710219600000
ALL_APPS = {"appId": 'expandAppIds("*")'}
SUMS = {"numEvents": {"sum": "numEvents"}, "numMinutes": {"sum": "numMinutes"}}
DOCUMENTED_STAGES = {"source", "identified", "group", "select", "sort", "filter", "limit"}


@pytest.mark.parametrize(
    "value",
    ["acme", "", "Acme Corp 42", "alice@example.com", "_PENDO_T_abc", "ünïcode"],
    ids=["word", "empty", "spaces", "email", "anonymous-id", "non-ascii"],
)
def test_quote_matches_json_for_simple_values(value: str) -> None:
    """Without quotes or backslashes the literal is the JSON string (ensure_ascii off)."""
    assert quote(value) == json.dumps(value, ensure_ascii=False)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('a"b', r'"a\"b"'),
        ("a\\b", r'"a\\b"'),
        ('x"><script>\\"', r'"x\"><script>\\\""'),
        ('\\"', r'"\\\""'),
    ],
    ids=["quote", "backslash", "xss-probe", "backslash-then-quote"],
)
def test_quote_escapes_backslash_and_quote(value: str, expected: str) -> None:
    """`\\` and `"` are backslash-escaped (backslash first), so an id can never end the literal."""
    assert quote(value) == expected
    assert json.loads(quote(value)) == value  # same two escapes as JSON: it round-trips


def test_quote_rejects_non_strings() -> None:
    """Only strings become literals; a number would silently change the filter's meaning."""
    with pytest.raises(TypeError):
        quote(42)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (("dayRange", 1.5, LAST), TypeError),
        (("dayRange", str(FIRST), LAST), TypeError),
        (("dayRange", True, LAST), TypeError),
        (("dayRange", LAST, FIRST), ValueError),
        (("weekRange", FIRST, LAST), ValueError),
    ],
    ids=["float", "numeric-string", "bool", "reversed", "unsupported-period"],
)
def test_time_series_accepts_only_integer_ms(args: tuple[Any, ...], error: type[Exception]) -> None:
    """timeSeries bounds are integer epoch ms in order, with a period we support."""
    with pytest.raises(error):
        queries.time_series(*args)


def test_time_series_shape() -> None:
    """The documented first/last form with integers (§4.1)."""
    expected = {"period": "hourRange", "first": FIRST, "last": LAST}
    assert queries.time_series("hourRange", FIRST, LAST) == expected


def test_events_by_visitor_day_exact_pipeline() -> None:
    """Events over all apps, identified visitors only, summed per account, visitor and day."""
    assert queries.events_by_visitor_day(FIRST, LAST, identified_only=True) == [
        {"source": {"events": ALL_APPS, "timeSeries": {"period": "dayRange", "first": FIRST, "last": LAST}}},
        {"identified": "visitorId"},
        {"group": {"group": ["accountId", "visitorId", "day"], "fields": SUMS}},
        {"sort": ["day", "accountId", "visitorId"]},
    ]


USAGE_BUILDERS = [
    (queries.events_by_visitor_day, "events", "dayRange", ["accountId", "visitorId", "day"],
     ["day", "accountId", "visitorId"]),
    (queries.events_by_visitor_hour, "events", "hourRange", ["accountId", "visitorId", "hour"], None),
    (queries.page_events_by_account_day, "pageEvents", "dayRange", ["accountId", "pageId", "day"],
     ["day", "accountId", "pageId"]),
    (queries.feature_events_by_visitor_day, "featureEvents", "dayRange", ["accountId", "visitorId", "featureId", "day"],
     ["day", "accountId", "featureId", "visitorId"]),
]


@pytest.mark.parametrize("case", USAGE_BUILDERS, ids=["events-day", "events-hour", "pages", "features"])
@pytest.mark.parametrize("identified_only", [True, False], ids=["identified", "with-anonymous"])
def test_usage_builders(case: tuple[Any, ...], identified_only: bool) -> None:
    """Each usage query: its source and period, `identified` only when asked, grouped sums, sorted as the raw
    table is keyed (the visitor hours are not asked in order)."""
    build, source, period, keys, order = case
    pipeline = build(FIRST, LAST, identified_only)
    series = queries.time_series(period, FIRST, LAST)
    assert pipeline[0] == {"source": {source: ALL_APPS, "timeSeries": series}}
    assert ({"identified": "visitorId"} in pipeline) is identified_only
    group = {"group": {"group": keys, "fields": SUMS}}
    if order:
        assert pipeline[-2:] == [group, {"sort": order}]
    else:
        assert pipeline[-1] == group


def test_guide_events_selects_needed_fields() -> None:
    """Raw guide events, projected to the six fields guide metrics use."""
    pipeline = queries.guide_events(FIRST, LAST, identified_only=False)
    assert pipeline[0]["source"]["guideEvents"] == ALL_APPS
    fields = ["guideId", "guideStepId", "type", "browserTime", "visitorId", "accountId"]
    assert pipeline[1:] == [{"select": {name: name for name in fields}}]


@pytest.mark.parametrize(
    ("after_id", "expected_filter"),
    [
        (None, "metadata.auto.lastupdated >= 1700000000000"),
        (
            'ac"me\\1',
            "metadata.auto.lastupdated > 1700000000000 || "
            '(metadata.auto.lastupdated == 1700000000000 && accountId > "ac\\"me\\\\1")',
        ),
    ],
    ids=["first-page", "next-page-hostile-id"],
)
def test_accounts_since_keyset_page(after_id: str | None, expected_filter: str) -> None:
    """Keyset paging on (lastupdated, accountId): `>=` first, then strictly after the last row seen."""
    assert queries.accounts_since(1700000000000, after_id, 5000) == [
        {"source": {"accounts": ALL_APPS}},
        {"sort": ["metadata.auto.lastupdated", "accountId"]},
        {"filter": expected_filter},
        {"limit": 5000},
    ]


@pytest.mark.parametrize(
    ("identified_only", "params"), [(True, {"identified": True}), (False, None)], ids=["identified", "all"]
)
def test_visitors_since_source_and_filter(identified_only: bool, params: dict[str, bool] | None) -> None:
    """Visitors page on visitorId; anonymous visitors are dropped at the source when excluded."""
    pipeline = queries.visitors_since(1700000000000, "bob", 100, identified_only)
    assert pipeline[0] == {"source": {"visitors": params}}
    assert pipeline[1] == {"sort": ["metadata.auto.lastupdated", "visitorId"]}
    assert pipeline[2]["filter"].endswith('visitorId > "bob")')


@pytest.mark.parametrize("limit", [0, -5, 2.5, True], ids=["zero", "negative", "float", "bool"])
def test_keyset_limit_must_be_positive_int(limit: Any) -> None:
    """A page size that is not a positive int is a bug, caught before Pendo sees it."""
    with pytest.raises(ValueError, match="limit"):
        queries.accounts_since(0, None, limit)


def _all_pipelines() -> list[list[dict[str, Any]]]:
    usage = [build(FIRST, LAST, flag) for build, *_ in USAGE_BUILDERS for flag in (True, False)]
    return [
        *usage,
        queries.guide_events(FIRST, LAST, True),
        queries.accounts_since(FIRST, "x", 10),
        queries.visitors_since(FIRST, None, 10, False),
    ]


def test_builders_use_only_documented_syntax() -> None:
    """No invented per-account metrics source (pendo-api.md §12) and only operators documented in §5."""
    for pipeline in _all_pipelines():
        assert "account" + "Metrics" not in json.dumps(pipeline)  # spelled in two parts so greps stay clean
        assert {key for stage in pipeline for key in stage} <= DOCUMENTED_STAGES
        assert next(iter(pipeline[0])) == "source"


@pytest.mark.parametrize(
    ("request_id", "expected_request"),
    [(None, {"pipeline": [{"x": 1}]}), ("usage-1", {"requestId": "usage-1", "pipeline": [{"x": 1}]})],
    ids=["no-id", "with-id"],
)
def test_aggregation_request_envelope(request_id: str | None, expected_request: dict[str, Any]) -> None:
    """The §2.1 envelope: JSON response, the pipeline under request, the optional requestId label."""
    body = queries.aggregation_request([{"x": 1}], request_id=request_id)
    assert body == {"response": {"mimeType": "application/json"}, "request": expected_request}


@pytest.mark.parametrize("stream", [streams.VISITOR_DAYS, streams.PAGE_DAYS, streams.FEATURE_DAYS],
                         ids=lambda s: s.name)
def test_the_raw_days_are_asked_in_their_tables_key_order(stream: streams.EventStream) -> None:
    """The sort each day stream asks of Pendo names its table's key, column for column (the key's pages
    fill only when a window's rows come in that order; migration 0019)."""
    sort = stream.build(0, 86_400_000, True)[-1]["sort"]
    snake = [re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower() for name in sort]
    assert snake == list(stream.keys) == [c.name for c in stream.table.primary_key.columns]
