"""The aggregation pipeline: envelope, each operator, aggregators, streaming and up-front validation."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pendo_sim.expr import EvalContext, QueryError
from pendo_sim.pipeline import parse_request, run_pipeline
from pendo_sim.timeseries import TimeRange

NY = ZoneInfo("America/New_York")
D1 = 1709614800000  # 2024-03-05 00:00 EST
D2 = D1 + 86_400_000
CTX = EvalContext(now_ms=D2 + 3_600_000, tz=NY)

EVENTS: list[dict[str, Any]] = [
    {"visitorId": "alice", "accountId": "acme", "day": D1, "numEvents": 5, "numMinutes": 2},
    {"visitorId": "bob", "accountId": "acme", "day": D1, "numEvents": 3, "numMinutes": 1},
    {"visitorId": "alice", "accountId": "acme", "day": D2, "numEvents": 7, "numMinutes": 3},
    {"visitorId": "carol", "accountId": "beta", "day": D2, "numEvents": 1, "numMinutes": 1},
    {"visitorId": "_PENDO_T_x1", "accountId": "", "day": D2, "numEvents": 4, "numMinutes": 1},
    {"visitorId": "dave", "accountId": 'a"b\\c', "day": D1, "numEvents": 2, "numMinutes": 0},
]
VISITORS: list[dict[str, Any]] = [
    {"visitorId": "alice", "metadata": {"auto": {"plan": "pro"}}, "polls": [{"id": "p1"}, {"id": "p2"}]},
    {"visitorId": "bob", "metadata": {"auto": {"plan": "free"}}, "polls": []},
    {"visitorId": "carol", "metadata": {"auto": {"plan": "pro"}}},
]
ACCOUNTS: list[dict[str, Any]] = [
    {"accountId": "acme", "metadata": {"custom": {"tier": "gold"}}},
    {"accountId": "beta", "metadata": {"custom": {"tier": "silver"}}},
]
EVENTS_SOURCE = {"source": {"events": None, "timeSeries": {"period": "dayRange", "first": D1, "count": 2}}}
VISITORS_SOURCE = {"source": {"visitors": None}}


class FakeProvider:
    """In-memory sources that record each call and count the rows handed out."""

    def __init__(self, sources: Mapping[str, list[dict[str, Any]]] | None = None) -> None:
        self.sources = sources or {"events": EVENTS, "visitors": VISITORS, "accounts": ACCOUNTS}
        self.calls: list[tuple[str, Mapping[str, Any] | None, TimeRange | None]] = []
        self.pulled = 0

    def rows(
        self, name: str, params: Mapping[str, Any] | None, time_range: TimeRange | None
    ) -> Iterator[dict[str, Any]]:
        self.calls.append((name, params, time_range))
        return self._stream(name)

    def _stream(self, name: str) -> Iterator[dict[str, Any]]:
        # A generator, so an unknown name fails only when the first row is pulled.
        if name not in self.sources:
            raise QueryError(f"unknown source {name!r}")
        for row in self.sources[name]:
            self.pulled += 1
            yield row


def run(*stages: dict[str, Any], provider: FakeProvider | None = None) -> list[dict[str, Any]]:
    return list(run_pipeline(list(stages), provider or FakeProvider(), CTX))


def visitor_ids(rows: list[dict[str, Any]]) -> list[str]:
    return [row["visitorId"] for row in rows]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(
            {"response": {"mimeType": "application/json"}, "request": {"pipeline": [VISITORS_SOURCE]}}, id="plain"
        ),
        pytest.param({"response": {}, "request": {"pipeline": [VISITORS_SOURCE]}}, id="empty-response"),
        pytest.param({"request": {"pipeline": [VISITORS_SOURCE]}}, id="no-response"),
        pytest.param(
            {
                "response": {"mimeType": "application/json", "location": "request"},
                "channelId": "",
                "request": {"name": "n", "requestId": "r", "sort": ["accountId"], "pipeline": [VISITORS_SOURCE]},
            },
            id="extra-keys-ignored",
        ),
    ],
)
def test_parse_request_accepts_real_envelopes(body: dict[str, Any]) -> None:
    """The envelopes real clients send all yield their pipeline."""
    assert parse_request(body) == [VISITORS_SOURCE]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        pytest.param([], "must be a JSON object", id="not-object"),
        pytest.param({"response": {}}, "needs a 'request'", id="no-request"),
        pytest.param({"requests": [{"pipeline": []}]}, "'requests' list form is not supported", id="plural"),
        pytest.param({"request": []}, "'request' must be an object", id="request-not-object"),
        pytest.param({"request": {}}, "non-empty list of stages", id="no-pipeline"),
        pytest.param({"request": {"pipeline": []}}, "non-empty list of stages", id="empty-pipeline"),
        pytest.param(
            {"response": "json", "request": {"pipeline": [VISITORS_SOURCE]}},
            "'response' must be",
            id="response-not-object",
        ),
        pytest.param(
            {"response": {"mimeType": "text/csv"}, "request": {"pipeline": [VISITORS_SOURCE]}},
            "'text/csv' is not supported",
            id="csv",
        ),
    ],
)
def test_parse_request_rejects(body: Any, fragment: str) -> None:
    """A malformed envelope is a QueryError naming the problem."""
    with pytest.raises(QueryError) as info:
        parse_request(body)
    assert fragment in str(info.value)


def test_source_gets_params_and_time_range() -> None:
    """The provider receives the source name, its params object and the parsed buckets."""
    provider = FakeProvider()
    source = {"events": {"appId": 'expandAppIds("*")'}, "timeSeries": {"period": "dayRange", "first": D1, "count": 2}}
    run({"source": source}, provider=provider)
    run(VISITORS_SOURCE, provider=provider)
    assert provider.calls == [
        ("events", {"appId": 'expandAppIds("*")'}, TimeRange("day", (D1, D2), D1, D2 + 86_400_000)),
        ("visitors", None, None),
    ]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        pytest.param("numEvents >= 4", ["alice", "alice", "_PENDO_T_x1"], id="numeric"),
        pytest.param('accountId == "beta" || visitorId == "bob"', ["bob", "carol"], id="or"),
        pytest.param(r'accountId == "a\"b\\c"', ["dave"], id="escaped-id"),
        pytest.param("accountId == `acme` && day > 1709614800000", ["alice"], id="backtick-and-day"),
        pytest.param("missing == null && !isNil(visitorId)", visitor_ids(EVENTS), id="null-rules"),
    ],
)
def test_filter(expression: str, expected: list[str]) -> None:
    """filter keeps the rows whose expression is true, in order."""
    assert visitor_ids(run(EVENTS_SOURCE, {"filter": expression})) == expected


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        pytest.param("visitorId", ["alice", "bob", "alice", "carol", "dave"], id="visitors"),
        pytest.param("!visitorId", ["_PENDO_T_x1"], id="anonymous-visitors"),
        pytest.param("accountId", ["alice", "bob", "alice", "carol", "dave"], id="accounts"),
        pytest.param("!accountId", ["_PENDO_T_x1"], id="no-account"),
    ],
)
def test_identified(arg: str, expected: list[str]) -> None:
    """identified drops anonymous visitors (or rows without an account); "!" keeps only them."""
    assert visitor_ids(run(EVENTS_SOURCE, {"identified": arg})) == expected


def test_select_projects_exactly_the_named_fields() -> None:
    """select outputs only its keys, each computed by its expression (missing -> null)."""
    rows = run(VISITORS_SOURCE, {"select": {"id": "visitorId", "plan": "metadata.auto.plan", "poll": "polls[0].id"}})
    assert rows == [
        {"id": "alice", "plan": "pro", "poll": "p1"},
        {"id": "bob", "plan": "free", "poll": None},
        {"id": "carol", "plan": "pro", "poll": None},
    ]


def test_eval_writes_nested_targets_in_order_without_touching_source_rows() -> None:
    """eval creates dotted targets, sees its earlier assignments and leaves the provider's rows intact."""
    before = copy.deepcopy(VISITORS)
    rows = run(
        VISITORS_SOURCE,
        {"limit": 1},
        {
            "eval": {
                "metadata.auto.plan": "toString(len(polls))",
                "polls[1].id": '"changed"',
                "x.y": "metadata.auto.plan",
            }
        },
    )
    assert rows[0]["metadata"] == {"auto": {"plan": "2"}}
    assert rows[0]["polls"] == [{"id": "p1"}, {"id": "changed"}]
    assert rows[0]["x"] == {"y": "2"}
    assert before == VISITORS


def test_group_sums_and_counts_distinct() -> None:
    """group yields its keys plus the aggregates; count of a field counts distinct values."""
    rows = run(
        EVENTS_SOURCE,
        {"identified": "visitorId"},
        {
            "group": {
                "group": ["accountId"],
                "fields": {
                    "numEvents": {"sum": "numEvents"},
                    "visitors": {"count": "visitorId"},
                    "rows": {"count": None},
                },
            }
        },
        {"sort": ["accountId"]},
    )
    assert rows == [
        {"accountId": 'a"b\\c', "numEvents": 2, "visitors": 1, "rows": 1},
        {"accountId": "acme", "numEvents": 15, "visitors": 2, "rows": 3},
        {"accountId": "beta", "numEvents": 1, "visitors": 1, "rows": 1},
    ]


def test_group_list_form_matches_map_form() -> None:
    """fields given as a list of one-key objects behave like the map form."""
    fields = {"events": {"sum": "numEvents"}, "visitors": {"count": "visitorId"}}
    as_map = run(EVENTS_SOURCE, {"group": {"group": ["accountId", "day"], "fields": fields}})
    as_list = run(
        EVENTS_SOURCE,
        {
            "group": {
                "group": ["accountId", "day"],
                "fields": [{"events": {"sum": "numEvents"}}, {"visitors": {"count": "visitorId"}}],
            }
        },
    )
    assert as_list == as_map
    assert as_map[0] == {"accountId": "acme", "day": D1, "events": 8, "visitors": 2}


def test_group_without_fields_is_distinct() -> None:
    """group without fields yields each distinct key tuple once, in first-seen order."""
    assert run(EVENTS_SOURCE, {"group": {"group": ["accountId"]}}) == [
        {"accountId": "acme"},
        {"accountId": "beta"},
        {"accountId": ""},
        {"accountId": 'a"b\\c'},
    ]


def test_group_by_dotted_key_keeps_the_dotted_name() -> None:
    """A dotted group key is output under its full name, which later stages can still use."""
    rows = run(
        VISITORS_SOURCE,
        {"group": {"group": ["metadata.auto.plan"], "fields": {"n": {"count": None}}}},
        {"sort": ["-metadata.auto.plan"]},
    )
    assert rows == [{"metadata.auto.plan": "pro", "n": 2}, {"metadata.auto.plan": "free", "n": 1}]


def test_group_by_list_value() -> None:
    """A list-valued key groups by content instead of failing."""
    provider = FakeProvider({"t": [{"k": [1, 2]}, {"k": [1, 2]}, {"k": [3]}]})
    rows = run(
        {"source": {"t": None}}, {"group": {"group": ["k"], "fields": {"n": {"count": None}}}}, provider=provider
    )
    assert rows == [{"k": [1, 2], "n": 2}, {"k": [3], "n": 1}]


NUMBERS: list[dict[str, Any]] = [
    {"v": 4, "w": "b"},
    {"v": None, "w": "a"},
    {"v": 1, "w": "a"},
    {"v": 4, "w": None},
    {"v": 2.5, "w": "c"},
]


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        pytest.param({"sum": "v"}, 11.5, id="sum"),
        pytest.param({"count": None}, 5, id="count-rows"),
        pytest.param({"count": "v"}, 3, id="count-distinct-non-null"),
        pytest.param({"count": None, "if": "v >= 2"}, 3, id="countIf"),
        pytest.param({"min": "v"}, 1, id="min"),
        pytest.param({"max": "w"}, "c", id="max-string"),
        pytest.param({"first": "v"}, 4, id="first"),
        pytest.param({"first": "w"}, "b", id="first-string"),
        pytest.param({"last": "w"}, "c", id="last"),
        pytest.param({"list": "w"}, ["b", "a", "a", "c"], id="list-skips-null"),
        pytest.param({"avg": "v"}, 2.875, id="avg"),
        pytest.param({"median": "v"}, 3.25, id="median-even"),
        pytest.param({"median": "v * 2"}, 6.5, id="median-of-expression"),
    ],
)
def test_aggregators(spec: dict[str, Any], expected: Any) -> None:
    """Each aggregator folds the stream as documented (nulls skipped except for count null/first/last)."""
    provider = FakeProvider({"n": NUMBERS})
    assert run({"source": {"n": None}}, {"reduce": {"out": spec}}, provider=provider) == [{"out": expected}]


def test_reduce_on_empty_stream_yields_one_row() -> None:
    """reduce over no rows still yields one row: counts and sums 0, others null, list []."""
    rows = run(
        EVENTS_SOURCE,
        {"filter": "false"},
        {
            "reduce": {
                "n": {"count": None},
                "d": {"count": "visitorId"},
                "s": {"sum": "numEvents"},
                "m": {"max": "day"},
                "f": {"first": "day"},
                "l": {"list": "day"},
                "a": {"avg": "numEvents"},
            }
        },
    )
    assert rows == [{"n": 0, "d": 0, "s": 0, "m": None, "f": None, "l": [], "a": None}]


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        pytest.param([{"uniqueAccounts": {"count": "accountId"}}], {"uniqueAccounts": 4}, id="named"),
        pytest.param([{"count": "visitorId"}], {"count": 5}, id="aggregator-named-after-itself"),
    ],
)
def test_reduce_list_forms(arg: list[dict[str, Any]], expected: dict[str, Any]) -> None:
    """reduce also takes a list of aggregates."""
    assert run(EVENTS_SOURCE, {"reduce": arg}) == [expected]


@pytest.mark.parametrize(
    ("keys", "expected"),
    [
        pytest.param(["-numEvents"], [7, 5, 4, 3, 2, 1], id="desc"),
        pytest.param(["accountId", "-numEvents"], [4, 2, 7, 5, 3, 1], id="multi-key"),
        pytest.param(["-day", "visitorId"], [4, 7, 1, 5, 3, 2], id="desc-then-asc"),
    ],
)
def test_sort(keys: list[str], expected: list[int]) -> None:
    """sort orders by several keys, "-" meaning descending, and is stable."""
    assert [row["numEvents"] for row in run(EVENTS_SOURCE, {"sort": keys})] == expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        pytest.param("v", [None, True, 1, 2.5, "a", [1]], id="nulls-first-ascending"),
        pytest.param("-v", [[1], "a", 2.5, 1, True, None], id="nulls-last-descending"),
    ],
)
def test_sort_mixed_types(key: str, expected: list[Any]) -> None:
    """Ascending sort puts null first, then booleans, numbers, strings, lists."""
    provider = FakeProvider({"m": [{"v": "a"}, {"v": 2.5}, {}, {"v": [1]}, {"v": True}, {"v": 1}]})
    assert [row.get("v") for row in run({"source": {"m": None}}, {"sort": [key]}, provider=provider)] == expected


def test_skip_and_limit_page_through_sorted_rows() -> None:
    """sort + skip + limit pages cover the sorted stream exactly once."""
    everything = run(EVENTS_SOURCE, {"sort": ["visitorId", "day"]})
    pages = [run(EVENTS_SOURCE, {"sort": ["visitorId", "day"]}, {"skip": start}, {"limit": 4}) for start in (0, 4, 8)]
    assert [len(page) for page in pages] == [4, 2, 0]
    assert pages[0] + pages[1] == everything


def test_limit_stops_pulling_from_the_source() -> None:
    """limit takes only the rows it needs from upstream."""
    provider = FakeProvider({"big": [{"i": i} for i in range(10_000)]})
    rows = run({"source": {"big": None}}, {"filter": "i % 2 == 0"}, {"limit": 3}, provider=provider)
    assert rows == [{"i": 0}, {"i": 2}, {"i": 4}]
    assert provider.pulled == 5


def test_filter_streams_lazily() -> None:
    """The first row of a filter pipeline arrives without reading the whole source."""
    provider = FakeProvider({"big": [{"i": i} for i in range(10_000)]})
    rows = run_pipeline([{"source": {"big": None}}, {"filter": "i >= 10"}], provider, CTX)
    assert next(rows) == {"i": 10}
    assert provider.pulled == 11


def test_count_stage() -> None:
    """count replaces the stream with one row holding the number of rows."""
    assert run(VISITORS_SOURCE, {"filter": 'visitorId > ""'}, {"limit": 2}, {"count": None}) == [{"count": 2}]


def test_merge_left_joins_a_sub_pipeline() -> None:
    """merge copies mapped fields from the matching sub-pipeline row; unmatched rows pass unchanged."""
    rows = run(
        EVENTS_SOURCE,
        {"filter": 'visitorId == "bob" || visitorId == "carol" || visitorId == "dave"'},
        {
            "merge": {
                "fields": ["accountId"],
                "mappings": {"account.tier": "metadata.custom.tier"},
                "pipeline": [{"source": {"accounts": None}}],
            }
        },
        {"select": {"v": "visitorId", "tier": "account.tier"}},
    )
    assert rows == [{"v": "bob", "tier": "gold"}, {"v": "carol", "tier": "silver"}, {"v": "dave", "tier": None}]


def test_merge_without_mappings_copies_all_fields() -> None:
    """Without mappings, merge copies every field of the matching row."""
    rows = run(
        VISITORS_SOURCE,
        {"limit": 1},
        {
            "merge": {
                "fields": ["visitorId"],
                "pipeline": [
                    {"source": {"events": None, "timeSeries": {"period": "dayRange", "first": D1, "count": 1}}}
                ],
            }
        },
    )
    assert rows[0]["accountId"] == "acme"
    assert rows[0]["numEvents"] == 5


@pytest.mark.parametrize(
    ("arg", "expected"),
    [
        pytest.param(
            {"field": "polls", "index": "i"}, [("alice", {"id": "p1"}, 0), ("alice", {"id": "p2"}, 1)], id="with-index"
        ),
        pytest.param(
            {"field": "polls", "keepEmpty": True},
            [("alice", {"id": "p1"}, None), ("alice", {"id": "p2"}, None), ("bob", [], None), ("carol", None, None)],
            id="keep-empty",
        ),
        pytest.param(
            "metadata.auto.plan",
            [("alice", VISITORS[0]["polls"], None), ("bob", [], None), ("carol", None, None)],
            id="scalar-counts-as-one",
        ),
    ],
)
def test_unwind(arg: Any, expected: list[tuple[str, Any, Any]]) -> None:
    """unwind yields one row per list element; empty lists drop the row unless keepEmpty."""
    rows = run(VISITORS_SOURCE, {"unwind": arg})
    assert [(row["visitorId"], row.get("polls"), row.get("i")) for row in rows] == expected


def test_cat_passes_rows_through() -> None:
    """cat changes nothing."""
    assert run(VISITORS_SOURCE, {"cat": None}) == VISITORS


def test_spawn_and_join_merge_streams_on_fields() -> None:
    """spawn runs whole pipelines; join merges their rows by key (outer join)."""
    rows = run(
        {
            "spawn": [
                [VISITORS_SOURCE, {"select": {"visitorId": "visitorId", "plan": "metadata.auto.plan"}}],
                [EVENTS_SOURCE, {"group": {"group": ["visitorId"], "fields": {"events": {"sum": "numEvents"}}}}],
            ]
        },
        {"join": {"fields": ["visitorId"], "width": 2}},
        {"filter": "!isNil(plan) || events > 3"},
    )
    assert rows == [
        {"visitorId": "alice", "plan": "pro", "events": 12},
        {"visitorId": "bob", "plan": "free", "events": 3},
        {"visitorId": "carol", "plan": "pro", "events": 1},
        {"visitorId": "_PENDO_T_x1", "events": 4},
    ]


def test_fork_and_join_combine_branch_results() -> None:
    """fork runs branches over the same stream; join with no fields merges them into one row."""
    rows = run(
        EVENTS_SOURCE,
        {
            "fork": [
                [{"reduce": {"events": {"sum": "numEvents"}}}],
                [{"identified": "visitorId"}, {"reduce": {"visitors": {"count": "visitorId"}}}],
            ]
        },
        {"join": {"fields": []}},
    )
    assert rows == [{"events": 22, "visitors": 4}]


@pytest.mark.parametrize(
    ("pipeline", "fragment"),
    [
        pytest.param([{"filter": "true"}], "stage 1 (filter): a pipeline must start with a source", id="no-source"),
        pytest.param([{"source": {}}], "exactly one source name", id="no-source-name"),
        pytest.param([{"source": {"visitors": None, "accounts": None}}], "exactly one source name", id="two-names"),
        pytest.param([{"source": {"visitors": 5}}], "must be an object or null", id="params-not-object"),
        pytest.param(
            [{"source": {"events": None, "timeSeries": {"period": "daily", "first": D1, "count": 1}}}],
            "stage 1 (source): unsupported period 'daily'",
            id="bad-time-series",
        ),
        pytest.param([VISITORS_SOURCE, VISITORS_SOURCE], "stage 2 (source): source is only allowed", id="late-source"),
        pytest.param([VISITORS_SOURCE, {"filter": "a", "limit": 1}], "stage 2: each stage must be", id="two-ops"),
        pytest.param([VISITORS_SOURCE, {"frobnicate": 1}], "unknown pipeline operator 'frobnicate'", id="unknown-op"),
        pytest.param([VISITORS_SOURCE, {"bulkExpand": {}}], "'bulkExpand' is not supported", id="unsupported-op"),
        pytest.param([VISITORS_SOURCE, {"filter": 5}], "filter must be an expression string", id="filter-not-string"),
        pytest.param([VISITORS_SOURCE, {"identified": "email"}], "identified must be one of", id="identified-bad"),
        pytest.param([VISITORS_SOURCE, {"select": {}}], "non-empty object", id="select-empty"),
        pytest.param([VISITORS_SOURCE, {"eval": {"a + 1": "2"}}], "is not a field path", id="eval-target"),
        pytest.param([VISITORS_SOURCE, {"group": ["visitorId"]}], 'group needs {"group"', id="group-shape"),
        pytest.param(
            [VISITORS_SOURCE, {"group": {"group": ["v"], "fields": {"x": {"mode": "v"}}}}],
            "unknown aggregator 'mode'",
            id="unknown-aggregator",
        ),
        pytest.param(
            [VISITORS_SOURCE, {"group": {"group": ["v"], "fields": {"x": {"sum": None}}}}],
            "x.sum must be an expression string",
            id="sum-null",
        ),
        pytest.param(
            [VISITORS_SOURCE, {"reduce": {"x": {"sum": "a", "max": "b"}}}],
            "one {aggregator: argument}",
            id="two-aggregators",
        ),
        pytest.param([VISITORS_SOURCE, {"reduce": {}}], "at least one aggregate", id="reduce-empty"),
        pytest.param([VISITORS_SOURCE, {"sort": [1]}], "sort must be a list of field names", id="sort-bad"),
        pytest.param([VISITORS_SOURCE, {"limit": -1}], "limit must be a non-negative integer", id="limit-negative"),
        pytest.param([VISITORS_SOURCE, {"skip": "5"}], "skip must be a non-negative integer", id="skip-string"),
        pytest.param([VISITORS_SOURCE, {"count": "visitorId"}], "count takes null", id="count-arg"),
        pytest.param([VISITORS_SOURCE, {"unwind": {"index": "i"}}], "unwind needs", id="unwind-no-field"),
        pytest.param([VISITORS_SOURCE, {"join": {"fields": []}}], "join must directly follow", id="lone-join"),
        pytest.param([VISITORS_SOURCE, {"fork": [[{"cat": None}]]}], "must be followed by a join", id="fork-no-join"),
        pytest.param(
            [{"spawn": [[VISITORS_SOURCE]]}, {"join": {"fields": [], "width": 2}}],
            "join width 2 does not match the 1 branches",
            id="join-width",
        ),
        pytest.param(
            [VISITORS_SOURCE, {"merge": {"fields": ["visitorId"], "pipeline": [{"filter": "true"}]}}],
            "stage 2 (merge): stage 1 (filter): a pipeline must start",
            id="merge-sub-no-source",
        ),
        pytest.param([VISITORS_SOURCE, {"filter": "visitorId in [1]"}], "'in' is not supported", id="in-list"),
    ],
)
def test_invalid_pipelines_fail_before_the_source_is_read(pipeline: list[Any], fragment: str) -> None:
    """Every shape and expression error is a QueryError raised by run_pipeline itself, before any read."""
    provider = FakeProvider()
    with pytest.raises(QueryError) as info:
        run_pipeline(pipeline, provider, CTX)
    assert fragment in str(info.value)
    assert provider.calls == []


def test_bad_expression_late_in_pipeline_raises_before_any_row() -> None:
    """A broken expression in the last stage fails the call; no row is produced first."""
    pipeline: list[dict[str, Any]] = [
        EVENTS_SOURCE,
        {"filter": "numEvents > 0"},
        {"group": {"group": ["accountId"], "fields": {"n": {"sum": "numEvents"}}}},
        {"sort": ["-n"]},
        {"select": {"accountId": "accountId", "bad": 'accountId == "unterminated'}},
    ]
    provider = FakeProvider()
    with pytest.raises(QueryError, match=r"stage 5 \(select\).*unterminated string"):
        run_pipeline(pipeline, provider, CTX)
    assert provider.pulled == 0


@pytest.mark.parametrize(
    "pipeline",
    [
        pytest.param([{"source": {"nosuch": None}}, {"limit": 1}], id="main-source"),
        pytest.param(
            [VISITORS_SOURCE, {"merge": {"fields": ["visitorId"], "pipeline": [{"source": {"nosuch": None}}]}}],
            id="merge-source",
        ),
    ],
)
def test_unknown_source_fails_at_call_time(pipeline: list[Any]) -> None:
    """A provider that rejects a source lazily still fails run_pipeline itself, not the iteration."""
    with pytest.raises(QueryError, match="unknown source 'nosuch'"):
        run_pipeline(pipeline, FakeProvider(), CTX)
