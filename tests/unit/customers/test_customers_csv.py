"""The customers CSV: good lines land, each bad line is reported by its physical line number."""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date

import pytest

from pendo_core.customers.csv_parse import ParseResult, parse_customers_csv

HEADER = "customer_id,name,domain,segment,arr,renewal_date,csm_name,csm_email,pendo_account_ids"
U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"
U3 = "33333333-3333-3333-3333-333333333333"
GOOD2 = f"{U2},Globex,,,,,,,"
GOOD3 = f"{U3},Initech,,,,,,,"
NOT_AMOUNT = "is not an amount such as 120000 or 120,000.50 (no currency sign)"
NOT_DATE = "is not a date in the form YYYY-MM-DD"


def parse(text: str) -> ParseResult:
    """Parse text as a file opened with newline='' yields it: physical lines, endings kept."""
    return parse_customers_csv(io.StringIO(text, newline=""))


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def test_good_file_lands_every_column() -> None:
    """A complete line gives a normalised row with every column."""
    result = parse(csv_text(
        HEADER,
        f"{U1.upper()},\"Acme, Inc.\",https://www.Acme.com:8443/home,Enterprise,\"120,000.50\",2026-03-31,"
        "Jo Smith,Jo.Smith@CSCX.io,acme-1;acme-2",
        GOOD2,
    ))
    assert result.errors == []
    assert result.warnings == []
    first, second = result.rows
    assert (first.customer_id, first.name, first.domain, first.segment) == (U1, "Acme, Inc.", "acme.com",
                                                                           "Enterprise")
    assert (first.arr, first.renewal_date) == (120000.5, date(2026, 3, 31))
    assert (first.csm_name, first.csm_email) == ("Jo Smith", "jo.smith@cscx.io")
    assert first.pendo_account_ids == ("acme-1", "acme-2")
    assert (first.line_no, second.line_no) == (2, 3)
    assert (second.domain, second.arr, second.renewal_date) == (None, None, None)
    assert second.pendo_account_ids == ()


@pytest.mark.parametrize(
    ("column", "raw", "expected"),
    [
        ("customer_id", "{11111111-1111-1111-1111-111111111111}", U1),
        ("customer_id", "11111111111111111111111111111111", U1),
        ("arr", "120000", 120000.0),
        ("arr", "0", 0.0),
        ("arr", '"1,234,567"', 1234567.0),
        ("arr", "99.5", 99.5),
        ("domain", "ACME.co.uk", "acme.co.uk"),
        ("domain", "http://www.acme.com/path?q=1", "acme.com"),
        ("domain", "someone@acme.com", "acme.com"),
        ("pendo_account_ids", " a ; b ;; a ;", ("a", "b")),
        ("pendo_account_ids", '"x""y\\z;w"', ('x"y\\z', "w")),
        ("pendo_account_ids", '"a,b; c"', ("a,b", "c")),
        ("pendo_account_ids", '"acme\nsecond;x"', ("acme\nsecond", "x")),
        ("segment", "  SMB  ", "SMB"),
        ("csm_email", "", None),
    ],
    ids=["uuid-braces", "uuid-bare-hex", "arr-plain", "arr-zero", "arr-grouped", "arr-decimal",
         "domain-lowercased", "domain-from-url", "domain-from-email", "ids-trimmed-deduped",
         "id-with-quote-and-backslash", "id-with-comma", "id-with-newline", "segment-trimmed",
         "email-optional"],
)
def test_good_values_are_normalised(column: str, raw: str, expected: object) -> None:
    """Accepted spellings of a value become its one stored form."""
    values = {"customer_id": U1, "name": "Acme", "csm_name": "Jo", "csm_email": "jo@cscx.io"} | {column: raw}
    line = ",".join(values.get(c, "") for c in HEADER.split(","))
    result = parse(csv_text(HEADER, line))
    assert result.errors == []
    assert getattr(result.rows[0], column) == expected


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ("abc,X,,,,,,,", 'line 3: customer_id "abc" is not a UUID'),
        (",X,,,,,,,", "line 3: customer_id is empty; every line needs the customer's UUID"),
        (f"{U1},,,,,,,,", "line 3: name is empty; every customer needs a name"),
        (f"{U1},X,,,-5,,,,", 'line 3: arr "-5" is negative; ARR must be 0 or more'),
        (f"{U1},X,,,$100,,,,", f'line 3: arr "$100" {NOT_AMOUNT}'),
        (f"{U1},X,,,\"12,00\",,,,", f'line 3: arr "12,00" {NOT_AMOUNT}'),
        (f"{U1},X,,,,2026-02-30,,,", f'line 3: renewal_date "2026-02-30" {NOT_DATE}'),
        (f"{U1},X,,,,31/01/2026,,,", f'line 3: renewal_date "31/01/2026" {NOT_DATE}'),
        (f"{U1},X,,,,,Jo,jo-at-cscx,", 'line 3: csm_email "jo-at-cscx" is not an e-mail address'),
        (f"{U1},X,not a domain,,,,,,", 'line 3: domain "not a domain" is not a domain such as acme.com'),
        (f"{U1},{'n' * 301},,,,,,,", "line 3: name is 301 characters long; at most 300 fit"),
        (f"{U1},X,,,,,,", "line 3: expected 9 fields, found 8; quote a value that holds a comma"),
        (f"{U1},Acme, Inc,,,,,,,", "line 3: expected 9 fields, found 10; quote a value that holds a comma"),
        (f'{U1},"Acme"x,,,,,,,', "line 3: malformed CSV (',' expected after '\"'); quote fields holding "
                                  "commas, quotes or newlines"),
    ],
    ids=["not-uuid", "no-id", "no-name", "negative-arr", "currency-arr", "misgrouped-arr", "impossible-date",
         "non-iso-date", "bad-email", "bad-domain", "name-too-long", "too-few-fields", "unquoted-comma",
         "text-after-quote"],
)
def test_bad_line_is_reported_and_good_lines_land(bad_line: str, message: str) -> None:
    """A bad line gives one line-numbered error naming the column; its neighbours still land."""
    result = parse(csv_text(HEADER, GOOD2, bad_line, GOOD3))
    assert [e.message for e in result.errors] == [message]
    assert [e.line_no for e in result.errors] == [3]
    assert [r.customer_id for r in result.rows] == [U2, U3]


def test_every_problem_of_a_line_is_reported() -> None:
    """A line with several wrong columns gets one error per column, all on its line."""
    result = parse(csv_text(HEADER, "abc,X,,,-1,tomorrow,,nope,"))
    assert [str(e) for e in result.errors] == [
        'line 2: customer_id "abc" is not a UUID',
        'line 2: arr "-1" is negative; ARR must be 0 or more',
        f'line 2: renewal_date "tomorrow" {NOT_DATE}',
        'line 2: csm_email "nope" is not an e-mail address',
    ]
    assert result.bad_lines == [2]


def test_quoted_newlines_keep_physical_line_numbers() -> None:
    """A record spanning lines counts every line; errors name the line the record starts on."""
    text = csv_text(
        HEADER,
        f'{U1},"Acme\nHoldings\nGroup",,,,,,,',  # lines 2-4
        "bad-id,X,,,,,,,",  # line 5
        f'{U2},"Globex\r\nEast",,,oops,,,,',  # lines 6-7 (a CRLF inside quotes)
        "",  # line 8: blank, skipped
        "also-bad,X,,,,,,,",  # line 9
        GOOD3,  # line 10
    )
    result = parse(text)
    assert [(e.line_no, e.message.split(": ", 1)[1]) for e in result.errors] == [
        (5, 'customer_id "bad-id" is not a UUID'), (6, f'arr "oops" {NOT_AMOUNT}'),
        (9, 'customer_id "also-bad" is not a UUID')]
    assert [(r.customer_id, r.line_no) for r in result.rows] == [(U1, 2), (U3, 10)]
    assert result.rows[0].name == "Acme\nHoldings\nGroup"


def test_lines_without_endings_parse_the_same() -> None:
    """Lines given without their newline (splitlines) still join quoted fields with a newline."""
    text = csv_text(HEADER, f'{U1},"Acme\nGroup",,,,,,,', "bad,X,,,,,,,", GOOD2)
    from_file, from_list = parse(text), parse_customers_csv(text.splitlines())
    assert from_list.rows == from_file.rows
    assert from_list.errors == from_file.errors == [from_file.errors[0]]
    assert from_file.errors[0].line_no == 4


def test_unclosed_quote_is_reported_where_it_opens() -> None:
    """A quote never closed swallows the rest of the file; the error names the line it opened on."""
    result = parse(csv_text(HEADER, GOOD2, f'{U1},"Acme,,,,,,,', GOOD3))
    assert [str(e) for e in result.errors] == [
        'line 3: a quoted field opened on this line is never closed (a missing closing ")']
    assert [r.customer_id for r in result.rows] == [U2]


def test_bom_is_tolerated() -> None:
    """A UTF-8 byte order mark before the header (Excel's 'CSV UTF-8') is ignored."""
    result = parse("\ufeff" + csv_text(HEADER, GOOD2))
    assert (result.errors, [r.customer_id for r in result.rows]) == ([], [U2])


def test_header_may_reorder_and_recase_columns() -> None:
    """Columns are found by name: any order, any case, spaces around names ignored."""
    columns = HEADER.split(",")
    header = ",".join(f" {c.upper()} " for c in reversed(columns))
    result = parse(csv_text(header, f"a;b,,,,,,,Globex,{U2}"))
    assert result.errors == []
    assert (result.rows[0].name, result.rows[0].pendo_account_ids) == ("Globex", ("a", "b"))


@pytest.mark.parametrize(
    ("header", "problem"),
    [
        (HEADER.replace(",segment", ""), 'header lacks "segment"'),
        (HEADER + ",region", 'header has unknown "region"'),
        (HEADER.replace("arr", "arr_usd"), 'header lacks "arr"; has unknown "arr_usd"'),
        (HEADER + ",name", 'header repeats "name"'),
        (GOOD2, 'header lacks "customer_id", "name", "domain"'),
    ],
    ids=["missing-column", "unknown-column", "renamed-column", "repeated-column", "no-header-line"],
)
def test_wrong_header_is_one_clear_error(header: str, problem: str) -> None:
    """A wrong header is a single error on line 1 that shows the expected header; nothing is read."""
    result = parse(csv_text(header, GOOD2, "bad,X,,,,,,,"))
    assert len(result.errors) == 1
    assert result.errors[0].line_no == 1
    assert result.errors[0].message.startswith(f"line 1: {problem}")
    assert result.errors[0].message.endswith(f"; expected {HEADER}")
    assert result.rows == []


@pytest.mark.parametrize("text", ["", "\n\n", "\ufeff", " , ,\n"], ids=["no-bytes", "blank-lines", "bom-only",
                                                                          "bare-commas"])
def test_empty_file_is_one_clear_error(text: str) -> None:
    """A file without a header is one error that says what the first line should be."""
    result = parse(text)
    assert [str(e) for e in result.errors] == [f"line 1: the file is empty; expected the header {HEADER}"]
    assert result.rows == []


def test_header_only_file_is_fine() -> None:
    """A header with no customers is not an error: nothing to import."""
    assert parse(csv_text(HEADER)) == ParseResult()


def test_duplicate_customer_id_later_line_wins_with_warning() -> None:
    """The same customer twice: the later line replaces the earlier, and a warning names both."""
    result = parse(csv_text(HEADER, f"{U1},Acme Old,,,,,,,", GOOD2, f"{U1.upper()},Acme New,,,,,,,"))
    assert result.errors == []
    assert [str(w) for w in result.warnings] == [
        f"line 4: customer_id {U1} repeats line 2; this line replaces it"]
    assert [(r.customer_id, r.name) for r in result.rows] == [(U2, "Globex"), (U1, "Acme New")]


def test_account_claimed_by_two_customers_is_an_error_on_the_second() -> None:
    """An account id already claimed by another customer rejects the later line."""
    result = parse(csv_text(HEADER, f"{U1},Acme,,,,,,,shared;a1", f"{U2},Globex,,,,,,,g1; shared ", GOOD3))
    assert [str(e) for e in result.errors] == [
        f'line 3: pendo_account_ids "shared" is already claimed by customer {U1} on line 2']
    assert [(r.customer_id, r.pendo_account_ids) for r in result.rows] == [(U1, ("shared", "a1")), (U3, ())]


def test_replaced_line_releases_its_account_claims() -> None:
    """When a customer's later line wins, the accounts only its earlier line claimed are free again."""
    result = parse(csv_text(HEADER, f"{U1},Acme,,,,,,,a", f"{U1},Acme,,,,,,,b", f"{U2},Globex,,,,,,,a"))
    assert result.errors == []
    assert [(r.customer_id, r.pendo_account_ids) for r in result.rows] == [(U1, ("b",)), (U2, ("a",))]


def test_csm_name_without_email_is_dropped_with_warning() -> None:
    """A CSM is keyed by e-mail: a name alone cannot be stored, so it is dropped and said so."""
    result = parse(csv_text(HEADER, f"{U1},Acme,,,,,Jo Smith,,"))
    assert [str(w) for w in result.warnings] == [
        'line 2: csm_name "Jo Smith" ignored: csm_email is empty (a CSM is keyed by e-mail)']
    assert (result.rows[0].csm_name, result.rows[0].csm_email) == (None, None)


def test_invalid_utf8_stops_with_a_clear_error() -> None:
    """Bytes that are not UTF-8 stop the read with an error that says how to fix the file."""
    raw = (csv_text(HEADER, GOOD2) + f"{U1},Caf\xe9,,,,,,,\n").encode("latin-1")
    result = parse_customers_csv(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8", newline=""))
    assert len(result.errors) == 1
    assert "not valid UTF-8" in result.errors[0].message
    assert result.errors[0].message.endswith("save it as UTF-8 CSV")


def test_reads_a_one_shot_stream_of_many_lines() -> None:
    """Lines are consumed as they come (a generator, never a list), with errors placed exactly."""

    def lines() -> Iterator[str]:
        yield HEADER + "\n"
        for i in range(20_000):
            yield (f"{i:08d}-0000-0000-0000-000000000000,Customer {i},,,{i},,,,acct-{i}\n" if i != 12_345
                   else "broken,X,,,,,,,\n")

    result = parse_customers_csv(lines())
    assert [str(e) for e in result.errors] == ['line 12347: customer_id "broken" is not a UUID']
    assert len(result.rows) == 19_999
    assert result.rows[-1].line_no == 20_001
