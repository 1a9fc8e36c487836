"""CSV exports as a spec: formula prefixes neutralised (OWASP), numbers left numbers, one helper for all."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pandas as pd
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.admin import access_log_queries
from pendo_core.admin.sign_in import sign_in
from pendo_core.common.csv_export import neutralise, safe_frame, to_csv_bytes
from tests.support import REPO


@pytest.mark.parametrize(
    ("value", "written"),
    [
        ('=HYPERLINK("http://evil.example","click")', '\'=HYPERLINK("http://evil.example","click")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)*cmd|' /C calc'!A0"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Acme Corp", "Acme Corp"),
        ("a=b", "a=b"),
        ("", ""),
        ("-12.5", "-12.5"),
        ("+3%", "+3%"),
        (-4, -4),
        (-4.5, -4.5),
        (None, None),
    ],
    ids=[
        "equals",
        "plus",
        "minus-formula",
        "at",
        "tab",
        "carriage-return",
        "plain",
        "inner-equals",
        "empty",
        "negative-number-as-text",
        "signed-percent",
        "negative-int",
        "negative-float",
        "none",
    ],
)
def test_a_cell_starting_like_a_formula_gets_a_quote(value: object, written: object) -> None:
    """Text starting with = + - @ tab or CR is prefixed with a single quote; numbers and plain text are not."""
    assert neutralise(value) == written


def test_numbers_stay_numbers_and_text_columns_are_neutralised() -> None:
    """Numeric columns keep their dtype (a negative number is not text); text, mixed and categorical
    columns and the column names are neutralised; missing values stay missing."""
    frame = pd.DataFrame(
        {
            "customer": ["=1+1", "Acme", None],
            "dau": [-1, 2, 3],
            "change": [-0.5, 0.1, float("nan")],
            "mixed": [-3, "@x", "ok"],
            "band": pd.Categorical(["+red", "green", "green"]),
        }
    )
    frame["=evil"] = [1, 2, 3]
    safe = safe_frame(frame)
    assert list(safe.columns) == ["customer", "dau", "change", "mixed", "band", "'=evil"]
    assert safe["customer"].tolist()[:2] == ["'=1+1", "Acme"]
    assert pd.isna(safe["customer"].iloc[2])
    assert (safe["dau"].dtype, safe["dau"].tolist()) == (frame["dau"].dtype, [-1, 2, 3])
    assert safe["change"].tolist()[:2] == [-0.5, 0.1]
    assert safe["mixed"].tolist() == [-3, "'@x", "ok"]
    assert safe["band"].tolist() == ["'+red", "green", "green"]
    assert frame["customer"].iloc[0] == "=1+1"  # the caller's frame is not changed


def test_a_sign_in_typed_as_a_formula_is_exported_from_the_access_log_as_text(sqlite_engine: Engine) -> None:
    """A failed sign-in records what was typed as the e-mail; the access-log export quotes it."""
    with Session(sqlite_engine) as session, session.begin():
        sign_in(
            session,
            '=HYPERLINK("http://evil.example","x")',
            "guess",
            client="session:s1",
            now=datetime(2026, 3, 19, 9, tzinfo=UTC),
        )
    text = access_log_queries.export_csv(sqlite_engine, access_log_queries.LogFilter(), by="ada@cscx.io")
    actors = [row["actor"] for row in csv.DictReader(io.StringIO(text))]
    assert '\'=hyperlink("http://evil.example","x")' in actors


def test_the_written_csv_reads_back_as_text_and_numbers() -> None:
    """The bytes are UTF-8 CSV: the dangerous name comes back quoted, the negative number as written."""
    frame = pd.DataFrame({"name": ['=HYPERLINK("x")', "Zoë, Inc."], "arr": [-1200.5, 3]})
    rows = list(csv.reader(io.StringIO(to_csv_bytes(frame).decode("utf-8"))))
    assert rows == [["name", "arr"], ['\'=HYPERLINK("x")', "-1200.5"], ["Zoë, Inc.", "3.0"]]


def test_every_csv_download_goes_through_the_helper() -> None:
    """No page, helper or endpoint writes CSV itself: `to_csv` appears only in pendo_core/common/csv_export.py."""
    sources = [
        *REPO.glob("pages/**/*.py"),
        *REPO.glob("api/**/*.py"),
        REPO / "app.py",
        *REPO.glob("pendo_core/**/*.py"),
    ]
    writers = sorted(
        str(p.relative_to(REPO)) for p in sources if re.search(r"\.to_csv\(", p.read_text(encoding="utf-8"))
    )
    assert writers == ["pendo_core/common/csv_export.py"]
