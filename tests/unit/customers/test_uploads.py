"""CSV uploads from the Admin screen say exactly what the CLI says for the same file (every problem
by line number, the same closing line), land the same rows, and are in the access log. SQLite and
PostgreSQL for the upload; the CLI on its own SQLite store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from jobs.commands import import_customers
from jobs.contacts import import_contacts
from jobs.outcomes import import_outcomes
from pendo_core.common.config import Settings
from pendo_core.customers.uploads import text_lines, upload_csv
from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import AccountMapping, AuditLog, Contact, Customer, Outcome
from tests.support.health_alerts import add_customer, table_insert

ACME = "1b4e28ba-2fa1-11d2-883f-0016d3cca427"
GLOBEX = "6fa459ea-ee8a-3ca4-894e-db77e160355e"
UNKNOWN = "00000000-0000-4000-8000-00000000dead"
CUSTOMERS = ("customer_id,name,domain,segment,arr,renewal_date,csm_name,csm_email,pendo_account_ids\n"
             f"{GLOBEX},Globex,globex.com,SMB,\"120,000\",2026-09-30,Jo Ellis,jo@cscx.io,acct-g1;acct-g2\n"
             "not-a-uuid,Broken,,,,,,,\n"
             f"{UNKNOWN},Bad Money,,,$5,2026-02-30,,,\n"
             f"{ACME},Acme Renamed,,,,,Lonely Name,,\n")
CONTACTS = ("customer_id,name,email,title,role\n"
            f"{ACME},Ann Champion,ann@acme.com,VP,Champion\n"
            f"{UNKNOWN},Nobody,no@body.com,,user\n"
            f"{ACME},No Mail,,,user\n"
            f"{ACME},Ann Again,ANN@acme.com,CTO,decision-maker\n")
OUTCOMES = ("customer_id,outcome,outcome_date\n"
            f"{ACME},renewed,2026-01-31\n"
            f"{ACME},maybe,2026-02-01\n"
            f"{UNKNOWN},churned,2026-02-01\n")
CLI: dict[str, Callable[[Settings, argparse.Namespace], int]] = {
    "customers": import_customers, "contacts": import_contacts, "outcomes": import_outcomes}
CASES = {"customers": (CUSTOMERS, 2, Customer), "contacts": (CONTACTS, 1, Contact), "outcomes": (OUTCOMES, 1, Outcome)}


def _count(engine: Engine, model: type) -> int:
    with engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(model)) or 0)


def _cli(kind: str, text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[list[str], str]:
    """(problem lines without the path, the summary line) of the command on its own store."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    migrate(engine)
    add_customer(engine, ACME)
    engine.dispose()
    path = tmp_path / f"{kind}.csv"
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert CLI[kind](Settings(database_url=url), argparse.Namespace(file=path)) == 0
    out, err = capsys.readouterr()
    return sorted(line.removeprefix(f"{path}: ") for line in err.splitlines()), out.splitlines()[0]


@pytest.mark.parametrize("kind", list(CASES))
def test_an_upload_reports_what_the_cli_reports(engine: Engine, kind: str, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    """Same problems by line number, same closing line, same rows landed; the upload is audited."""
    text, landed, model = CASES[kind]
    add_customer(engine, ACME)
    before = _count(engine, model)
    report = upload_csv(engine, kind, text_lines(text.encode()), by="ada@cscx.io", file_name=f"{kind}.csv")
    problems, summary = _cli(kind, text, tmp_path, capsys)
    assert sorted(p.message for p in report.problems) == problems
    assert report.summary() == summary
    assert all(p.message.startswith(f"line {p.line_no}: ") for p in report.problems)
    assert report.imported == landed
    assert _count(engine, model) - before == (landed if kind != "customers" else 1)  # Acme was there already
    with Session(engine) as session:
        entry = session.execute(select(AuditLog)).scalar_one()
    assert (entry.actor, entry.action, entry.details) == ("ada@cscx.io", f"import.{kind}", {
        "file": f"{kind}.csv", "imported": landed, "rejected_lines": len(report.rejected)})


def test_uploaded_customers_map_their_accounts(engine: Engine) -> None:
    """As the CLI does, the upload maps the listed Pendo accounts (and matches unmapped ones again)."""
    table_insert(engine, "pendo_accounts", [{"account_id": "acct-g1", "name": "Globex"}])
    report = upload_csv(engine, "customers", text_lines(CUSTOMERS.encode()), by="ada@cscx.io")
    assert (report.inserted, report.updated, report.rejected) == (2, 0, [3, 4])
    with engine.connect() as conn:
        mapped = dict(conn.execute(select(AccountMapping.pendo_account_id, AccountMapping.customer_id)).all())
    assert mapped == {"acct-g1": GLOBEX, "acct-g2": GLOBEX}


@pytest.mark.parametrize(("data", "first_problem"), [
    (b"\xef\xbb\xbfcustomer_id,outcome,outcome_date\n" + f"{ACME},churned,2026-02-01\n".encode(), None),
    (b"customer_id,outcome,outcome_date\n" + f"{ACME},churned,2026-02-01\n".encode() + b"\xff\xfe,bad\n",
     "line 3: field 1 is not valid UTF-8 (byte 0xFF)"),  # on its own line, as the CLI reads (issue 11)
    (b"", "line 1: the file is empty"),
    (b"customer,result\n", "line 1: header lacks"),
], ids=["bom", "not-utf8-midway", "empty", "wrong-header"])
def test_file_level_problems_are_numbered_too(engine: Engine, data: bytes, first_problem: str | None) -> None:
    """A BOM is fine; bytes that are not UTF-8, an empty file or a wrong header are one numbered problem."""
    add_customer(engine, ACME)
    report = upload_csv(engine, "outcomes", text_lines(data), by="ada@cscx.io")
    if first_problem is None:
        assert (report.imported, report.problems) == (1, [])
    else:
        assert report.problems[0].message.startswith(first_problem)


def test_an_unknown_kind_is_refused(engine: Engine) -> None:
    """Only the three imports exist."""
    with pytest.raises(ValueError, match="unknown upload 'users'"):
        upload_csv(engine, "users", [], by="ada@cscx.io")
