"""`import-outcomes`: the CSV rules (the reader shared with the customers and contacts imports), good lines
land, bad lines are reported by number, re-importing changes nothing."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobs.commands import JobError
from jobs.outcomes import import_outcomes
from pendo_core.common.config import Settings
from pendo_core.customers.outcomes import parse_outcomes_csv
from pendo_core.customers.repo import known_customers, upsert_outcomes
from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import Outcome
from tests.support.health_alerts import add_customer

ACME = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
GLOBEX = "6fa459ea-ee8a-3ca4-894e-db77e160355e"


def test_good_lines_parse_and_bad_lines_are_numbered() -> None:
    """Each bad line is reported with its number and reason; the good ones are kept."""
    text = ("customer_id,outcome,outcome_date\n"
            f"{ACME.upper()},Renewed,2026-01-31\n"
            "not-a-uuid,churned,2026-02-01\n"
            f"{GLOBEX},lost,2026-02-30\n"
            "\n"
            f"{GLOBEX},churned\n"
            f"{GLOBEX},churned,2026-03-01\n")
    parsed = parse_outcomes_csv(text.splitlines(keepends=True))
    assert [(r.customer_id, r.outcome, r.outcome_date, r.line_no) for r in parsed.rows] == [
        (ACME, "renewed", date(2026, 1, 31), 2), (GLOBEX, "churned", date(2026, 3, 1), 7)]
    assert [e.message for e in parsed.errors] == [
        'line 3: customer_id "not-a-uuid" is not a UUID',
        'line 4: outcome "lost" is not renewed or churned',
        'line 4: outcome_date "2026-02-30" is not a date in the form YYYY-MM-DD',
        "line 6: expected 3 fields, found 2; quote a value that holds a comma",
    ]
    assert parsed.bad_lines == [3, 4, 6]


@pytest.mark.parametrize(("text", "error"), [
    pytest.param("", "line 1: the file is empty", id="empty"),
    pytest.param("customer,result,date\n", 'line 1: header lacks "customer_id", "outcome", "outcome_date"; has '
                 'unknown "customer", "result", "date"', id="wrong-header"),
])
def test_unusable_files_say_why(text: str, error: str) -> None:
    """An empty file or a wrong header is one error on line 1."""
    parsed = parse_outcomes_csv(text.splitlines(keepends=True))
    assert parsed.rows == []
    assert parsed.errors[0].message.startswith(error)


def test_header_in_any_order_and_case() -> None:
    """Columns may come in any order and case."""
    parsed = parse_outcomes_csv([" Outcome_Date ,OUTCOME,customer_id\n", f"2026-01-31,churned,{ACME}\n"])
    assert [(r.customer_id, r.outcome) for r in parsed.rows] == [(ACME, "churned")]


def test_upsert_is_idempotent_and_unknown_customers_are_rejected(engine: Engine) -> None:
    """Known customers' outcomes land once (a re-import updates); unknown ones are bad lines."""
    add_customer(engine, ACME)
    first = parse_outcomes_csv(["customer_id,outcome,outcome_date\n", f"{ACME},renewed,2026-01-31\n",
                                f"{GLOBEX},churned,2026-01-31\n"])
    with Session(engine) as session, session.begin():
        rows = known_customers(session, first.rows, first.errors)
        assert upsert_outcomes(session, rows) == 1
    assert [e.message for e in first.errors] == [
        f"line 3: customer_id {GLOBEX} is not an imported customer; run import-customers first"]
    again = parse_outcomes_csv(["customer_id,outcome,outcome_date\n", f"{ACME},churned,2026-01-31\n"])
    for _ in range(2):
        with Session(engine) as session, session.begin():
            upsert_outcomes(session, known_customers(session, again.rows, again.errors))
    with Session(engine) as session:
        stored = session.execute(select(Outcome.customer_id, Outcome.outcome, Outcome.outcome_date)).all()
    assert [tuple(r) for r in stored] == [(ACME, "churned", date(2026, 1, 31))]


def test_command_reports_bad_lines_and_imports_good_ones(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints each bad line on stderr, a summary on stdout, and exits 0."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    settings = Settings(database_url=url)
    engine = make_engine(url)
    migrate(engine)
    add_customer(engine, ACME)
    path = tmp_path / "outcomes.csv"
    path.write_text(f"customer_id,outcome,outcome_date\n{ACME},churned,2026-02-01\n{ACME},maybe,2026-02-02\n")
    assert import_outcomes(settings, argparse.Namespace(file=path)) == 0
    out, err = capsys.readouterr()
    assert out.strip() == "1 outcome(s) imported; 1 line(s) rejected"
    assert err.strip() == f'{path}: line 3: outcome "maybe" is not renewed or churned'


def test_command_with_nothing_good_fails_with_one_line(tmp_path: Path) -> None:
    """A file with only bad lines is a JobError naming the file; a missing file too."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    path = tmp_path / "outcomes.csv"
    path.write_text("customer_id,outcome,outcome_date\nx,y,z\n")
    with pytest.raises(JobError, match="no outcome imported"):
        import_outcomes(settings, argparse.Namespace(file=path))
    with pytest.raises(JobError, match="no such file"):
        import_outcomes(settings, argparse.Namespace(file=tmp_path / "missing.csv"))


def test_a_repeated_customer_and_date_keeps_the_later_line_with_a_warning() -> None:
    """As in the customers and contacts imports: the later line wins and a warning names the earlier one."""
    parsed = parse_outcomes_csv(["customer_id,outcome,outcome_date\n", f"{ACME},renewed,2026-01-31\n",
                                 f"{ACME},churned,2026-01-31\n"])
    assert [(r.outcome, r.line_no) for r in parsed.rows] == [("churned", 3)]
    assert [w.message for w in parsed.warnings] == [
        f"line 3: customer {ACME} on 2026-01-31 repeats line 2; this line replaces it"]
    assert parsed.errors == []
