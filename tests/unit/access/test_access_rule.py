"""The access rule (pendo_core.access.rules): who sees and may act on which customer, one e-mail
normalisation, the same answer in Python and in SQL, and the audit line of a widened view."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.access.rules import Viewer, normalise_email, visible_customer_ids
from pendo_core.access.sql import customer_filter, record_scope, visible_customers
from pendo_core.store.models import AuditLog, Csm, Customer

ALICE = Viewer("alice@cscx.io", "csm")
PAIRS = [("c0", "alice@cscx.io"), ("c1", "Bob@CSCX.io"), ("c2", "alice@cscx.io")]
# Stored CSM e-mails as an old import or a hand edit may have left them: case and spaces differ.
STORED = [("c0", "alice@cscx.io"), ("c1", " Bob@CSCX.io"), ("c2", "ALICE@cscx.io "), ("c3", None)]
VIEWERS = {
    "csm-own": ALICE, "csm-typed-oddly": Viewer("  Alice@CSCX.IO ", "csm"), "csm-other": Viewer("bob@cscx.io", "csm"),
    "csm-showing-all": Viewer("bob@cscx.io", "csm", show_all=True), "csm-without-customers": Viewer("x@cscx.io", "csm"),
    "leader": Viewer("l@cscx.io", "leader"), "admin": Viewer("a@cscx.io", "admin"),
    "unknown-role": Viewer("alice@cscx.io", "guest"), "empty-email": Viewer("  ", "csm"),
}


@pytest.mark.parametrize(("viewer", "expected"), [
    (ALICE, ["c0", "c2"]), (Viewer("alice@cscx.io", "csm", show_all=True), ["c0", "c1", "c2"]),
    (Viewer("BOB@cscx.io", "csm"), ["c1"]), (Viewer("x@cscx.io", "csm"), []),
    (Viewer("l@cscx.io", "leader"), ["c0", "c1", "c2"]), (Viewer("a@cscx.io", "admin"), ["c0", "c1", "c2"])],
    ids=["csm-own", "csm-asks-for-all", "csm-email-case", "csm-without-customers", "leader", "admin"])
def test_who_sees_which_customers(viewer: Viewer, expected: list[str]) -> None:
    """A CSM sees their own customers unless they ask for all; leaders and admins see everyone."""
    assert visible_customer_ids(PAIRS, viewer) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("ana@cscx.io", "ana@cscx.io"), ("  Ana@CSCX.io\t", "ana@cscx.io"), ("ANA@CSCX.IO", "ana@cscx.io")],
    ids=["plain", "spaces-and-case", "upper"])
def test_emails_compare_after_one_normalisation(raw: str, expected: str) -> None:
    """Surrounding spaces go and case folds, once, for every comparison."""
    assert normalise_email(raw) == expected


@pytest.mark.parametrize(("viewer", "sees", "may_act"), [
    (ALICE, True, True),
    (Viewer("bob@cscx.io", "csm"), False, False),
    (Viewer("bob@cscx.io", "csm", show_all=True), True, False),
    (Viewer("l@cscx.io", "leader"), True, True),
    (Viewer("a@cscx.io", "admin", show_all=True), True, True),
    (Viewer("", "csm"), False, False),
], ids=["owner", "other-csm", "csm-showing-all", "leader", "admin", "no-email"])
def test_show_all_is_read_only(viewer: Viewer, sees: bool, may_act: bool) -> None:
    """"Show all" lets a CSM see another CSM's customer but never act on it; leaders and admins do both."""
    assert (viewer.sees(" Alice@cscx.io"), viewer.may_act_on(" Alice@cscx.io")) == (sees, may_act)


@pytest.mark.parametrize(("owner", "routed", "expected"), [
    ("alice@cscx.io", None, True), ("bob@cscx.io", "ALICE@cscx.io", True), ("bob@cscx.io", "bob@cscx.io", False),
    (None, None, False)], ids=["her-customer", "routed-to-her", "someone-elses", "nobodys"])
def test_an_alert_is_seen_through_its_customer_or_its_routing(owner: str | None, routed: str | None,
                                                                expected: bool) -> None:
    """A CSM sees (and acts on) an alert on a customer they own or routed to them."""
    assert (ALICE.sees(owner, routed), ALICE.may_act_on(owner, routed)) == (expected, expected)


def test_only_a_widened_view_is_worth_recording() -> None:
    """"Show all" widens a CSM's view only; leaders and admins see everyone anyway."""
    assert [v.widened for v in (Viewer("b@x.io", "csm", True), Viewer("b@x.io", "csm"),
                                Viewer("l@x.io", "leader", True))] == [True, False, False]


def _store(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        session.add_all([Csm(email=e, name=e.strip()) for e in {e for _, e in STORED if e}])
        session.flush()
        session.add_all([Customer(customer_id=c, name=c.upper(), csm_email=e) for c, e in STORED])


@pytest.mark.parametrize("who", list(VIEWERS))
def test_sql_and_python_agree(engine: Engine, who: str) -> None:
    """customer_filter keeps exactly the customers Viewer.sees keeps, on SQLite and PostgreSQL."""
    _store(engine)
    viewer = VIEWERS[who]
    with engine.connect() as conn:
        in_sql = conn.execute(select(Customer.customer_id).where(customer_filter(viewer, Customer.csm_email))
                              .order_by(Customer.customer_id)).scalars().all()
    assert in_sql == visible_customer_ids(STORED, viewer)
    assert [c.customer_id for c in visible_customers(engine, viewer)] == in_sql


def test_scope_change_is_audited(engine: Engine) -> None:
    """A CSM switching to everyone's customers leaves a line in the audit log, with where they asked."""
    with Session(engine) as session, session.begin():
        record_scope(session, Viewer(" Alice@cscx.io", "csm", show_all=True))
        record_scope(session, ALICE, via="api")
    with Session(engine) as session:
        rows = session.scalars(select(AuditLog).order_by(AuditLog.id)).all()
    assert [(r.actor, r.action, r.details) for r in rows] == [
        ("alice@cscx.io", "view_all_customers", {"role": "csm"}),
        ("alice@cscx.io", "view_own_customers", {"role": "csm", "via": "api"})]
