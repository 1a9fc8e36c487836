"""The simulator's expression language: syntax, value rules, functions and parse errors."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pendo_sim.expr import (
    ALL_APPS,
    EvalContext,
    QueryError,
    eval_text,
    evaluate,
    field_path,
    parse_expression,
)

NY = ZoneInfo("America/New_York")
NOW = 1709700000000  # 2024-03-05 23:40:00 EST
CTX = EvalContext(now_ms=NOW, tz=NY)
DAY = 86_400_000
HOUR = 3_600_000
MAR_10 = 1710046800000  # 2024-03-10 00:00 EST, a 23-hour day
MAR_11 = 1710129600000  # 2024-03-11 00:00 EDT

ROW: dict[str, Any] = {
    "visitorId": "alice@example.com",
    "accountId": 'a"b\\c',
    "numEvents": 14,
    "ratio": 2.5,
    "day": 1709614800000,
    "type": "guideEvent:guideSeen",
    "empty": "",
    "nothing": None,
    "flag": True,
    "metadata": {"auto": {"lastupdated": 1709600000000, "id": "v1"}, "custom": {}},
    "polls": [{"id": "p1"}, {"id": "p2"}, {"id": "p3"}],
    "tags": ["red", "blue"],
    "s": [{"x": 1}, {"x": 2}],
    "metadata.auto.flat": "dotted key",
}


def run(text: str, row: dict[str, Any] | None = None) -> Any:
    return eval_text(text, ROW if row is None else row, CTX)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("numEvents", 14, id="bare-field"),
        pytest.param("metadata.auto.lastupdated", 1709600000000, id="dotted-path"),
        pytest.param("polls[0].id", "p1", id="index"),
        pytest.param("s[-1].x", 2, id="negative-index"),
        pytest.param("polls[7].id", None, id="index-out-of-range-is-null"),
        pytest.param("missing", None, id="missing-field-is-null"),
        pytest.param("metadata.nope.deeper", None, id="missing-inside-path-is-null"),
        pytest.param("numEvents.x", None, id="member-of-number-is-null"),
        pytest.param('metadata["auto"].id', "v1", id="string-index"),
        pytest.param("metadata.auto.flat", None, id="dotted-key-not-used-when-first-name-exists"),
        pytest.param("split(`a,b,c`, `,`)[1]", "b", id="index-on-call-result"),
    ],
)
def test_field_paths(text: str, expected: Any) -> None:
    """Paths follow maps and lists; anything absent is null."""
    assert run(text) == expected


def test_dotted_name_falls_back_to_a_flat_key() -> None:
    """A group output key like "metadata.auto.id" stays reachable by its dotted name."""
    assert run("metadata.auto.id", {"metadata.auto.id": "acme"}) == "acme"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("42", 42, id="int"),
        pytest.param("2.5", 2.5, id="float"),
        pytest.param("1e3", 1000.0, id="exponent"),
        pytest.param('"plain"', "plain", id="double-quoted"),
        pytest.param(r'"a\"b\\c"', 'a"b\\c', id="escaped-quote-and-backslash"),
        pytest.param(r'"tab\there\u00e9"', "tab\there\u00e9", id="other-escapes"),
        pytest.param('`raw \\ "quoted"`', 'raw \\ "quoted"', id="backtick-raw"),
        pytest.param("null", None, id="null"),
        pytest.param("true", True, id="true"),
        pytest.param("false", False, id="false"),
    ],
)
def test_literals(text: str, expected: Any) -> None:
    """Numbers, both string forms and the keywords read as values."""
    assert run(text) == expected


@pytest.mark.parametrize(
    ("row_id", "matches"),
    [
        pytest.param('a"b\\c', True, id="exact-id"),
        pytest.param('a"b\\\\c', False, id="doubled-backslash"),
        pytest.param("ab\\c", False, id="no-quote"),
    ],
)
def test_escaped_id_in_filter(row_id: str, matches: bool) -> None:
    """`accountId == "a\\"b\\\\c"` matches exactly the id a"b\\c."""
    assert run(r'accountId == "a\"b\\c"', {"accountId": row_id}) is matches


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("1 + 2 * 3", 7, id="mul-before-add"),
        pytest.param("(1 + 2) * 3", 9, id="parentheses"),
        pytest.param("10 - 4 - 3", 3, id="left-assoc"),
        pytest.param("-numEvents + 4", -10, id="unary-minus"),
        pytest.param("7 / 2", 3.5, id="inexact-division-float"),
        pytest.param("now() / 1000", 1709700000, id="exact-division-int"),
        pytest.param("7 % 3", 1, id="mod"),
        pytest.param("-7 % 3", -1, id="mod-sign-of-dividend"),
        pytest.param("1 / 0", None, id="div-by-zero-null"),
        pytest.param("5 % 0", None, id="mod-by-zero-null"),
        pytest.param('"ab" + `cd`', "abcd", id="string-concat"),
        pytest.param("nothing + 1", None, id="null-arith-null"),
        pytest.param('"a" * 2', None, id="string-times-null"),
        pytest.param("now() - 30 * 1000 * 60 *60 * 24", NOW - 30 * DAY, id="pendo-month-ago"),
        pytest.param("1 < 2 == true", True, id="relational-before-equality"),
        pytest.param("true || false && false", True, id="and-before-or"),
        pytest.param("!false && !nothing", True, id="not"),
        pytest.param("!numEvents", False, id="not-of-number"),
    ],
)
def test_operators(text: str, expected: Any) -> None:
    """Arithmetic and logic follow C precedence and the documented null rules."""
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("null == null", True, id="null-eq-null"),
        pytest.param("nothing == null", True, id="null-field-eq-null"),
        pytest.param("missing == null", True, id="missing-eq-null"),
        pytest.param("nothing != 0", True, id="null-ne-zero"),
        pytest.param('nothing == ""', False, id="null-ne-empty"),
        pytest.param("nothing < 5", False, id="null-lt-false"),
        pytest.param("nothing >= 5", False, id="null-ge-false"),
        pytest.param("5 > nothing", False, id="gt-null-false"),
        pytest.param("1 == 1.0", True, id="int-eq-float"),
        pytest.param("flag == 1", False, id="bool-ne-int"),
        pytest.param('"1" == 1', False, id="string-ne-number"),
        pytest.param('"10" < 9', False, id="mixed-types-unordered"),
        pytest.param('visitorId > ""', True, id="string-gt-empty"),
        pytest.param('"abc" < "abd"', True, id="lexicographic"),
        pytest.param('"B" < "a"', True, id="code-point-order"),
        pytest.param("day >= 1709614800000", True, id="ge-boundary"),
        pytest.param("day > 1709614800000", False, id="gt-boundary"),
        pytest.param("ratio <= 2.5", True, id="float-le"),
        pytest.param('numEvents == "14"', False, id="fast-path-string-constant-vs-number"),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    """Equality treats null as a value; ordering with null or mixed types is false."""
    assert run(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("now()", NOW, id="now"),
        pytest.param("date(2024, 3, 10)", MAR_10, id="date-local-midnight"),
        pytest.param(
            "date(2024, 3, 10, 12, 30, 15)", MAR_10 + 11 * HOUR + 1_815_000, id="date-time-after-dst"
        ),
        pytest.param('date("2024-03-10")', MAR_10, id="date-from-string"),
        pytest.param('date("2024-03-10T05:00:00+00:00")', MAR_10, id="date-from-aware-string"),
        pytest.param('date("not a date")', None, id="date-bad-string-null"),
        pytest.param("date(2024, 2, 30)", None, id="date-invalid-null"),
        pytest.param('dateAdd(date(2024, 3, 10), 1, "days")', MAR_11, id="dateAdd-day-over-dst"),
        pytest.param('dateAdd(date(2024, 3, 10), 24, "hours")', MAR_11 + HOUR, id="dateAdd-hours-absolute"),
        pytest.param('dateAdd(date(2024, 3, 3), 1, "weeks")', MAR_10, id="dateAdd-week"),
        pytest.param('dateAdd(date(2024, 1, 31), 1, "months")', 1709182800000, id="dateAdd-month-clamps"),
        pytest.param('dateAdd(now(), -30, "days")', NOW - 30 * DAY, id="dateAdd-negative"),
        pytest.param('startOfPeriod("daily", now())', 1709614800000, id="start-daily"),
        pytest.param('startOfPeriod("hourly", now())', NOW - 40 * 60_000, id="start-hourly"),
        pytest.param('startOfPeriod("weekly", date(2024, 3, 13))', MAR_10, id="start-weekly-sunday"),
        pytest.param('startOfPeriod("monthly", now())', 1709269200000, id="start-monthly"),
        pytest.param('formatTime("2006-01-02", day)', "2024-03-05", id="formatTime-date"),
        pytest.param(
            'formatTime("2006-01-02 15:04:05", now())', "2024-03-05 23:40:00", id="formatTime-datetime"
        ),
        pytest.param(
            'formatTime("Jan 2, 2006 3:04PM MST -07:00", now())',
            "Mar 5, 2024 11:40PM EST -05:00",
            id="formatTime-names-zone",
        ),
        pytest.param('formatTime("15:04:05.000", now() + 7)', "23:40:00.007", id="formatTime-millis"),
        pytest.param("isNil(nothing)", True, id="isNil-null"),
        pytest.param("isNil(missing)", True, id="isNil-missing"),
        pytest.param("isNull(empty)", False, id="isNull-empty-string"),
        pytest.param('contains(visitorId, "@example")', True, id="contains-string"),
        pytest.param('contains(tags, "blue")', True, id="contains-list"),
        pytest.param('contains(nothing, "x")', False, id="contains-null"),
        pytest.param('startsWith(visitorId, "alice")', True, id="startsWith"),
        pytest.param('if(numEvents > 10, "busy", "quiet")', "busy", id="if-true"),
        pytest.param("if(nothing, 1 / 0, 2)", 2, id="if-false-branch-only"),
        pytest.param("len(tags)", 2, id="len-list"),
        pytest.param("len(visitorId)", 17, id="len-string"),
        pytest.param("len(nothing)", 0, id="len-null"),
        pytest.param("eventSubType(type)", "guideSeen", id="eventSubType"),
        pytest.param('eventSubType("plain")', "plain", id="eventSubType-no-colon"),
        pytest.param("keys(metadata)", ["auto", "custom"], id="keys-sorted"),
        pytest.param('toLowerCase("MiXeD")', "mixed", id="toLowerCase"),
        pytest.param("toString(numEvents)", "14", id="toString-int"),
        pytest.param("toString(1e3)", "1000", id="toString-integral-float"),
        pytest.param("toString(flag)", "true", id="toString-bool"),
        pytest.param('split("a,b", ",")', ["a", "b"], id="split"),
        pytest.param("map(p, polls, p.id)", ["p1", "p2", "p3"], id="map"),
        pytest.param('hash("abc") == hash(`abc`)', True, id="hash-stable"),
        pytest.param('hash("abc") == hash("abd")', False, id="hash-differs"),
    ],
)
def test_functions(text: str, expected: Any) -> None:
    """Library functions work in the subscription timezone and never raise on odd values."""
    assert run(text) == expected


def test_expand_app_ids_is_the_all_apps_marker() -> None:
    """expandAppIds("*") evaluates to the marker meaning every app."""
    assert eval_text('expandAppIds("*")', {}, CTX) is ALL_APPS


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        pytest.param(
            'appId in ["a", "b"]',
            "'in' is not supported (write a == x || a == y) at position 6",
            id="in-list",
        ),
        pytest.param('visitorId == "alice', "unterminated string at position 13", id="unterminated-double"),
        pytest.param("visitorId == `alice", "unterminated string at position 13", id="unterminated-backtick"),
        pytest.param('x == "ends with backslash\\', "unterminated string", id="unterminated-escape"),
        pytest.param(r'x == "bad \q escape"', "invalid escape '\\q' at position 10", id="bad-escape"),
        pytest.param("numEvents > 1 2", "unexpected 2 at position 14", id="trailing-junk"),
        pytest.param("numEvents > ", "unexpected end of expression", id="dangling-operator"),
        pytest.param("(1 + 2", "expected ')'", id="unclosed-paren"),
        pytest.param("nosuch(1)", "unknown function 'nosuch' at position 0", id="unknown-function"),
        pytest.param("len(a, b)", "len() takes 1 argument(s), got 2", id="wrong-arity"),
        pytest.param('dateAdd(now(), 1, "fortnights")', "'fortnights' is not one of", id="bad-unit"),
        pytest.param('startOfPeriod("yearly", now())', "'yearly' is not one of", id="bad-period"),
        pytest.param('expandAppIds("x")', "'x' is not one of *", id="expandAppIds-non-star"),
        pytest.param("a = 1", "use '==' to compare", id="single-equals"),
        pytest.param("a & b", "unexpected character '&'", id="single-ampersand"),
        pytest.param("[1, 2]", "list literals are not supported", id="list-literal"),
        pytest.param("polls[x]", "an index must be an integer or string literal", id="non-literal-index"),
        pytest.param("", "empty expression", id="empty"),
        pytest.param("if(a, b)", "if() takes 3 arguments", id="if-arity"),
        pytest.param("map(1, polls, x)", "map() takes a variable name", id="map-needs-variable"),
    ],
)
def test_parse_errors(text: str, fragment: str) -> None:
    """Bad expressions raise QueryError naming the problem and where it is."""
    with pytest.raises(QueryError) as info:
        parse_expression(text)
    assert fragment in str(info.value)


def test_deep_nesting_is_a_query_error() -> None:
    """Pathological nesting is refused as a QueryError, not a crash."""
    with pytest.raises(QueryError, match="nested too deeply"):
        parse_expression("(" * 5000 + "1" + ")" * 5000)


def test_non_string_expression_is_a_query_error() -> None:
    """An expression given as a JSON number (not a string) is refused."""
    with pytest.raises(QueryError, match="must be a string"):
        parse_expression(5)  # type: ignore[arg-type]


def test_parse_is_cached_and_evaluate_reuses_it() -> None:
    """The same text parses once; evaluate runs the compiled form on any row."""
    expr = parse_expression("numEvents * 2")
    assert parse_expression("numEvents * 2") is expr
    assert [evaluate(expr, {"numEvents": n}, CTX) for n in (1, 2)] == [2, 4]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("a.b[0].c", ("a", "b", 0, "c"), id="mixed"),
        pytest.param("s[-1]", ("s", -1), id="negative"),
        pytest.param("name", ("name",), id="bare"),
    ],
)
def test_field_path(text: str, expected: tuple[Any, ...]) -> None:
    """field_path splits a bare path into its steps."""
    assert field_path(text) == expected


def test_field_path_rejects_expressions() -> None:
    """field_path refuses anything that is not a bare path."""
    with pytest.raises(QueryError, match="not a field path"):
        field_path("a + 1")


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('dateAdd(visitorId, 1, "days")', id="dateAdd-string-time"),
        pytest.param('dateAdd(1e300, 1, "days")', id="dateAdd-overflow"),
        pytest.param("formatTime(`2006`, visitorId)", id="formatTime-string-time"),
        pytest.param("date(numEvents, tags, 1)", id="date-list-part"),
        pytest.param("eventSubType(numEvents)", id="eventSubType-number"),
        pytest.param("keys(tags)", id="keys-of-list"),
        pytest.param("toLowerCase(nothing)", id="toLowerCase-null"),
    ],
)
def test_functions_return_null_on_unusable_values(text: str) -> None:
    """A function given a value it cannot use yields null instead of failing the query."""
    assert run(text) is None
