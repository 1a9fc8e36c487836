"""Fuzzing the customer and outcome CSVs (hypothesis): good lines always land, every bad line is
reported by its own line number, and no input, however broken, raises.

Files are written with Python's csv writer (so quoting is right) from lines that are good or bad by
construction: a bad line is a good line with one field broken. Line numbers are counted here from
the text written, a record with a quoted newline starting where its first physical line is.
"""

from __future__ import annotations

import csv
import io
import os
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pendo_core.customers.csv_parse import COLUMNS, parse_customers_csv
from pendo_core.customers.outcomes import parse_outcomes_csv

FUZZ = settings(max_examples=40, deadline=timedelta(seconds=5), derandomize=os.environ.get("CI") == "true",
                suppress_health_check=[HealthCheck.too_slow])
LINE = re.compile(r"^line (\d+): ")

# Printable text, including the characters CSV must quote; no line breaks other than quoted "\n".
TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="\ufeff")
names = st.text(TEXT | st.sampled_from([",", '"', "\n", ";"]), min_size=1, max_size=40).filter(
    lambda s: s.strip() and len(s.strip()) <= 300)


ID_SUFFIXES = ["", ' q"uote', " back\\slash", " ✓"]


@dataclass(frozen=True)
class Line:
    """One CSV record to write, and whether it must be accepted."""

    fields: list[str]
    good: bool
    key: str  # the customer_id (or customer_id|date) a good line stands for


@st.composite
def customer_lines(draw: st.DrawFn, n: int) -> Line:
    customer = draw(st.uuids())
    fields = {
        "customer_id": draw(st.sampled_from([str(customer), str(customer).upper(), customer.hex])),
        "name": draw(names),
        "domain": draw(st.sampled_from(["", "acme.com", "https://www.Globex.io/x", "ops@initech.co.uk"])),
        "segment": draw(st.text(TEXT, max_size=20)),
        "arr": draw(st.sampled_from(["", "0", "120000", "120,000.50", "7.5"])),
        "renewal_date": draw(st.one_of(st.just(""), st.dates(date(2000, 1, 1), date(2099, 12, 31)).map(str))),
        "csm_name": "", "csm_email": "",
        "pendo_account_ids": ";".join(f"acct-{n}-{i}" + draw(st.sampled_from(ID_SUFFIXES))
                                      for i in range(draw(st.integers(0, 3)))),
    }
    if draw(st.booleans()):
        fields["csm_name"], fields["csm_email"] = draw(names).replace("\n", " "), f"csm{n}@cscx.io"
    good = draw(st.integers(0, 3)) > 0
    if not good:
        column, value = draw(st.sampled_from([
            ("customer_id", "not-a-uuid"), ("customer_id", ""), ("name", "   "), ("arr", "-5"), ("arr", "$100"),
            ("arr", "1.2.3"), ("renewal_date", "2024-13-01"), ("renewal_date", "03/04/2024"),
            ("csm_email", "nobody"), ("domain", "not a domain"), ("pendo_account_ids", "x" * 513),
            ("segment", "s" * 101)]))
        fields[column] = value
    return Line([fields[c] for c in COLUMNS], good, str(customer))


def write(header: list[str], lines: list[Line], *, drop_field: int | None = None) -> tuple[str, list[int]]:
    """The file's text and each record's first physical line number (header = 1)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    starts = []
    for i, line in enumerate(lines):
        starts.append(out.getvalue().count("\n") + 1)
        writer.writerow(line.fields[:-1] if i == drop_field else line.fields)
    return out.getvalue(), starts


def error_lines(messages: list[Any]) -> set[int]:
    numbers = set()
    for message in messages:
        match = LINE.match(str(message))
        assert match, f"an error without its line number: {message}"
        numbers.add(int(match.group(1)))
    return numbers


# --- customers ----------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_customer_files_keep_good_lines_and_name_bad_ones(data: st.DataObject) -> None:
    """Each good line becomes a customer; each bad line, and only it, is reported by its number."""
    count = data.draw(st.integers(1, 12))
    lines = [data.draw(customer_lines(n)) for n in range(count)]
    drop = data.draw(st.one_of(st.none(), st.integers(0, count - 1)))
    lines = [Line(line.fields, line.good and i != drop, line.key) for i, line in enumerate(lines)]
    text, starts = write(list(COLUMNS), lines, drop_field=drop)
    result = parse_customers_csv(io.StringIO(text, newline=""))
    assert [row.customer_id for row in result.rows] == [line.key for line in lines if line.good]
    assert error_lines(result.errors) == {start for start, line in zip(starts, lines, strict=True) if not line.good}
    for row, line in zip(result.rows, [x for x in lines if x.good], strict=True):
        assert row.name == line.fields[1].strip()
        assert row.line_no == starts[lines.index(line)]


@FUZZ
@given(text=st.text(max_size=400), header=st.booleans())
def test_any_text_as_a_customer_file_never_raises(text: str, header: bool) -> None:
    """Arbitrary text (after a real header, or alone): rows or line-numbered errors, never an exception."""
    body = (",".join(COLUMNS) + "\n" if header else "") + text
    result = parse_customers_csv(io.StringIO(body, newline=""))
    error_lines(result.errors)
    assert all(isinstance(uuid.UUID(row.customer_id), uuid.UUID) for row in result.rows)


def test_a_huge_field_is_one_bad_line() -> None:
    """A field past the csv module's size limit is reported on its line; the next line still lands."""
    good = str(uuid.uuid4())
    text = ",".join(COLUMNS) + f'\n{uuid.uuid4()},"{"x" * 200_000}",,,,,,,\n{good},Fine,,,,,,,\n'
    result = parse_customers_csv(io.StringIO(text, newline=""))
    assert error_lines(result.errors) == {2}
    assert [row.customer_id for row in result.rows] == [good]


# --- outcomes ---------------------------------------------------------------------------------------------

OUTCOME_HEADER = ["customer_id", "outcome", "outcome_date"]


@st.composite
def outcome_lines(draw: st.DrawFn, n: int) -> Line:
    customer = str(draw(st.uuids()))
    day = draw(st.dates(date(2000, 1, 1), date(2099, 12, 31))).isoformat()
    outcome = draw(st.sampled_from(["renewed", "churned", "RENEWED", " Churned "]))
    fields = [customer, outcome, day]
    good = draw(st.integers(0, 3)) > 0
    if not good:
        column, value = draw(st.sampled_from([(0, "nope"), (0, ""), (1, "maybe"), (1, ""), (2, "2024-02-30"),
                                              (2, "yesterday"), (2, "")]))
        fields[column] = value
    return Line(fields, good, f"{customer}|{day}")


@FUZZ
@given(data=st.data())
def test_outcome_files_keep_good_lines_and_name_bad_ones(data: st.DataObject) -> None:
    """Each good line becomes an outcome; each bad line, and only it, is reported by its number."""
    count = data.draw(st.integers(1, 12))
    lines = [data.draw(outcome_lines(n)) for n in range(count)]
    order = data.draw(st.permutations(OUTCOME_HEADER))
    reordered = [Line([line.fields[OUTCOME_HEADER.index(c)] for c in order], line.good, line.key) for line in lines]
    text, starts = write(list(order), reordered)
    result = parse_outcomes_csv(io.StringIO(text, newline=""))
    assert [f"{r.customer_id}|{r.outcome_date.isoformat()}" for r in result.rows] == [
        line.key for line in lines if line.good]
    assert {r.outcome for r in result.rows} <= {"renewed", "churned"}
    assert error_lines(result.errors) == {start for start, line in zip(starts, lines, strict=True) if not line.good}


@FUZZ
@given(text=st.text(max_size=400), header=st.booleans())
def test_any_text_as_an_outcome_file_never_raises(text: str, header: bool) -> None:
    """Arbitrary text: rows or line-numbered errors, never an exception."""
    body = ("customer_id,outcome,outcome_date\n" if header else "") + text
    result = parse_outcomes_csv(io.StringIO(body, newline=""))
    error_lines(result.errors)


def test_a_huge_outcome_field_is_one_bad_line() -> None:
    """A field past the csv module's size limit is reported on its line; the next line still lands."""
    good = str(uuid.uuid4())
    text = f'customer_id,outcome,outcome_date\n{uuid.uuid4()},"{"x" * 200_000}",2024-01-01\n{good},renewed,2024-01-02\n'
    result = parse_outcomes_csv(io.StringIO(text, newline=""))
    assert error_lines(result.errors) == {2}
    assert [row.customer_id for row in result.rows] == [good]
