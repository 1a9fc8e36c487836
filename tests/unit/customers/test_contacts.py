"""`import-contacts`: the CSV rules, good lines land and bad ones are numbered, contacts match visitors."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from jobs.commands import JobError
from jobs.contacts import import_contacts
from pendo_core.common.config import Settings
from pendo_core.customers.contacts import normalise_role, parse_contacts_csv
from pendo_core.customers.contacts_repo import contacts_of, remove_contact, upsert_contacts
from pendo_core.customers.people import contact_matches, unmatched_contacts
from pendo_core.customers.repo import known_customers
from pendo_core.store.engine import make_engine, migrate
from pendo_core.store.models import Contact
from tests.support.health_alerts import add_customer
from tests.support.people import ACME, AS_OF, GLOBEX, add_contacts, add_days, add_visitors, days_back, rows_of

HEADER = "customer_id,name,email,title,role\n"
LINE = f"{ACME},A,a@acme.com,,user\n"


def _parse(text: str) -> tuple[list[tuple[object, ...]], list[str]]:
    parsed = parse_contacts_csv(text.splitlines(keepends=True))
    return rows_of(parsed.rows, "customer_id", "email", "role", "line_no"), [e.message for e in parsed.errors]


def test_good_lines_land_and_bad_lines_are_numbered() -> None:
    """Each bad line is reported by its physical number (a quoted newline counts); good ones are kept."""
    text = (HEADER + f"{ACME.upper()},Jane Doe,Jane.Doe@Acme.com,VP Ops,Champion\n"
            f'{ACME},"Sam\nSmith",sam@acme.com,,decision maker\n'
            "not-a-uuid,Bob,bob@acme.com,,user\n"
            f"{GLOBEX},Al,al@globex.com,,admin\n")
    rows, errors = _parse(text)
    assert rows == [(ACME, "jane.doe@acme.com", "champion", 2), (ACME, "sam@acme.com", "decision_maker", 3),
                    (GLOBEX, "al@globex.com", "admin", 6)]
    assert errors == ['line 5: customer_id "not-a-uuid" is not a UUID']


@pytest.mark.parametrize(("line", "error"), [
    pytest.param(f"{ACME},,a@acme.com,,user", "line 2: name is empty", id="no-name"),
    pytest.param(f"{ACME},A,,,user", "line 2: email is empty", id="no-email"),
    pytest.param(f"{ACME},A,a@acme,,user", 'line 2: email "a@acme" is not an e-mail address', id="bad-email"),
    pytest.param(f"{ACME},A,a@acme.com,,sponsor", 'line 2: role "sponsor" is not one of champion', id="bad-role"),
    pytest.param(f"{ACME},A,a@acme.com,,", "line 2: role is empty; use one of champion", id="no-role"),
    pytest.param(f"{ACME},A,a@acme.com,{'x' * 201},user", "line 2: title is 201 characters long", id="long-title"),
    pytest.param(f"{ACME},A,a@acme.com,user", "line 2: expected 5 fields, found 4", id="short-line"),
    pytest.param(f'{ACME},A,"a@acme.com,,user', "line 2: a quoted field opened on this line", id="open-quote"),
])
def test_a_bad_value_rejects_its_line_with_the_reason(line: str, error: str) -> None:
    """Every problem names the line, the column and what is wrong."""
    rows, errors = _parse(HEADER + line + "\n")
    assert rows == []
    assert errors[0].startswith(error)


@pytest.mark.parametrize(("raw", "role"), [
    ("champion", "champion"), (" Champion ", "champion"), ("Decision Maker", "decision_maker"),
    ("decision-maker", "decision_maker"), ("DECISION_MAKER", "decision_maker"), ("Admin", "admin"), ("user", "user"),
    ("sponsor", None), ("", None),
], ids=["plain", "padded", "spaced", "hyphen", "upper", "admin", "user", "unknown", "empty"])
def test_role_spellings(raw: str, role: str | None) -> None:
    """Roles ignore case, padding, and spaces or hyphens for the underscore."""
    assert normalise_role(raw) == role


@pytest.mark.parametrize(("text", "error"), [
    pytest.param("", "line 1: the file is empty", id="empty"),
    pytest.param("customer_id,name,email,role\n" + LINE, 'line 1: header lacks "title"', id="missing"),
    pytest.param("customer_id,name,email,title,role,phone\n" + LINE, 'line 1: header has unknown "phone"',
                 id="unknown"),
    pytest.param("customer_id,name,email,title,role,role\n" + LINE, 'line 1: header repeats "role"', id="repeated"),
])
def test_unusable_headers_are_one_error(text: str, error: str) -> None:
    """A file without the five columns is one error on line 1 and nothing else is read."""
    rows, errors = _parse(text)
    assert (rows, len(errors)) == ([], 1)
    assert errors[0].startswith(error)


def test_header_in_any_order_case_and_with_a_bom() -> None:
    """Columns may come in any order and case, after a UTF-8 byte order mark."""
    rows, errors = _parse(f"\ufeff Role ,EMAIL,name,title,Customer_ID\nuser,a@acme.com,A,,{ACME}\n")
    assert (rows, errors) == ([(ACME, "a@acme.com", "user", 2)], [])


def test_a_repeated_contact_keeps_the_later_line_with_a_warning() -> None:
    """The same customer and e-mail (in any case) twice: the later line wins, a warning names both."""
    parsed = parse_contacts_csv([HEADER, f"{ACME},Jane,jane@acme.com,,user\n",
                                 f"{ACME},Jane D,JANE@acme.com,,champion\n", f"{GLOBEX},Jane,jane@acme.com,,user\n"])
    assert rows_of(parsed.rows, "customer_id", "name", "role") == [(ACME, "Jane D", "champion"),
                                                                   (GLOBEX, "Jane", "user")]
    assert [w.message for w in parsed.warnings] == [
        f"line 3: jane@acme.com of customer {ACME} repeats line 2; this line replaces it"]


def test_upsert_is_idempotent_and_unknown_customers_are_bad_lines(engine: Engine) -> None:
    """Known customers' contacts land once (a re-import updates them); an unknown customer is a bad line."""
    add_customer(engine, ACME)
    parsed = parse_contacts_csv([HEADER, f"{ACME},Jane,jane@acme.com,CTO,champion\n",
                                 f"{GLOBEX},Al,al@globex.com,,user\n"])
    with Session(engine) as session, session.begin():
        counts = upsert_contacts(session, known_customers(session, parsed.rows, parsed.errors))
    assert (counts.inserted, counts.updated) == (1, 0)
    assert [e.message for e in parsed.errors] == [
        f"line 3: customer_id {GLOBEX} is not an imported customer; run import-customers first"]
    again = parse_contacts_csv([HEADER, f"{ACME},Jane Doe,Jane@Acme.com,,decision_maker\n"])
    for expected in ((0, 1), (0, 1)):
        with Session(engine) as session, session.begin():
            counts = upsert_contacts(session, again.rows)
        assert (counts.inserted, counts.updated) == expected
    with Session(engine) as session:
        assert rows_of(contacts_of(session, ACME), "email", "name", "title", "role") == [
            ("jane@acme.com", "Jane Doe", None, "decision_maker")]
        assert session.execute(select(Contact.email)).scalars().all() == ["jane@acme.com"]


def test_remove_contact(engine: Engine) -> None:
    """A contact can be removed by its e-mail in any case; removing it twice says it was gone."""
    add_customer(engine, ACME)
    add_contacts(engine, ACME, [("Jane", "jane@acme.com", "user")])
    with Session(engine) as session, session.begin():
        assert remove_contact(session, ACME, " Jane@ACME.com ") is True
        assert remove_contact(session, ACME, "jane@acme.com") is False


def test_matching_ignores_case_follows_aliases_and_spans_accounts(engine: Engine) -> None:
    """A contact matches every visitor whose synced e-mail or id is its e-mail, in any case: an e-mail
    id in capitals, an opaque id with that metadata e-mail, a visitor of two accounts; others stay unmatched."""
    add_customer(engine, ACME, accounts=["acme-eu", "acme-us"])
    add_customer(engine, GLOBEX, accounts=["globex"])
    add_visitors(engine, {"u-881": "jane@acme.com", "Sam@Acme.com": "sam@acme.com", "al@globex.com": "al@globex.com"})
    add_days(engine, "acme-eu", "JANE@ACME.COM", days_back(1))  # activity only: no pendo_visitors row yet
    for account in ("acme-eu", "acme-us", "globex"):  # Sam works in two Acme accounts and in Globex
        add_days(engine, account, "Sam@Acme.com", days_back(2))
    add_contacts(engine, ACME, [("Jane", "Jane@Acme.com", "champion"), ("Sam", "sam@acme.com", "user"),
                                ("Typo", "jnae@acme.com", "decision_maker")])
    add_contacts(engine, GLOBEX, [("Sam", "sam@acme.com", "admin")])
    matched = contact_matches(engine, ACME, AS_OF)
    assert rows_of(matched, "email", "visitor_ids") == [
        ("jane@acme.com", ("JANE@ACME.COM", "u-881")), ("jnae@acme.com", ()), ("sam@acme.com", ("Sam@Acme.com",))]
    assert rows_of(contact_matches(engine, GLOBEX, AS_OF), "email", "role", "visitor_ids") == [
        ("sam@acme.com", "admin", ("Sam@Acme.com",))]
    assert rows_of(unmatched_contacts(engine, ACME, AS_OF), "email") == [("jnae@acme.com",)]


def test_command_reports_bad_lines_matches_and_imports_good_ones(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """The command prints each bad line on stderr, then a summary naming contacts no visitor matches."""
    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = make_engine(url)
    migrate(engine)
    add_customer(engine, ACME, accounts=["acme"])
    add_visitors(engine, {"jane@acme.com": "jane@acme.com"})
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + f"{ACME},Jane,JANE@acme.com,,champion\n{ACME},Bob,bob@acme.com,,boss\n"
                    f"{ACME},Kim,kim@acme.com,,user\n", encoding="utf-8")
    assert import_contacts(Settings(database_url=url), argparse.Namespace(file=path)) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == ["2 contact(s) imported (2 new, 0 updated); 1 line(s) rejected",
                                "1 of 2 match a Pendo visitor by e-mail; no visitor yet for: kim@acme.com (check the "
                                "spelling, or they have not used the product)"]
    assert err.strip() == f'{path}: line 3: role "boss" is not one of champion, decision_maker, admin, user'


def test_command_with_nothing_good_fails_with_one_line(tmp_path: Path) -> None:
    """A file with only bad lines is a JobError naming the file; a missing file too."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'store.db'}")
    path = tmp_path / "contacts.csv"
    path.write_text(HEADER + "x,y,z,,user\n")
    with pytest.raises(JobError, match="no contact imported"):
        import_contacts(settings, argparse.Namespace(file=path))
    with pytest.raises(JobError, match="no such file"):
        import_contacts(settings, argparse.Namespace(file=tmp_path / "missing.csv"))


def test_an_import_leaves_the_planner_statistics_of_the_contacts(engine: Engine) -> None:
    """The alerts' matching joins contacts to visitor days; planned on a never-analysed table PostgreSQL
    looped over every contact (README, Benchmark). SQLite plans without statistics."""
    add_customer(engine, ACME)
    add_contacts(engine, ACME, [(f"P{i}", f"p{i}@acme.com", "champion") for i in range(30)])
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT reltuples FROM pg_class WHERE relname = 'customer_contacts'").scalar()
        assert rows == 30
