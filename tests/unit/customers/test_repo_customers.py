"""Customers, CSMs and account mappings in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.customers import repo
from pendo_core.customers.csv_parse import CustomerRow
from pendo_core.customers.mapping import AutoMatch, MatchPlan, Suggestion, match_accounts
from pendo_core.pendo.sync import store as sync_store
from pendo_core.store.models import AccountMapping, Csm, Customer, MappingSuggestion, PendoAccount

U1 = "11111111-1111-1111-1111-111111111111"
U2 = "22222222-2222-2222-2222-222222222222"
T = TypeVar("T")


def in_tx(engine: Engine, work: Callable[[Session], T]) -> T:
    """Run `work` in one committed transaction, as a job would."""
    with Session(engine) as session, session.begin():
        return work(session)


def customers(engine: Engine) -> list[tuple[Any, ...]]:
    with Session(engine) as session:
        query = select(Customer.customer_id, Customer.name, Customer.domain, Customer.segment, Customer.arr,
                       Customer.renewal_date, Customer.csm_email).order_by(Customer.customer_id)
        return [tuple(r) for r in session.execute(query)]


def csms(engine: Engine) -> dict[str, str]:
    with Session(engine) as session:
        return {c.email: c.name for c in session.scalars(select(Csm))}


def mappings(engine: Engine) -> dict[str, tuple[str, str, str | None]]:
    with Session(engine) as session:
        return {m.pendo_account_id: (m.customer_id, m.method, m.mapped_by)
                for m in session.scalars(select(AccountMapping))}


def suggestions(engine: Engine) -> set[tuple[str, str]]:
    with Session(engine) as session:
        return {(s.pendo_account_id, s.customer_id) for s in session.scalars(select(MappingSuggestion))}


def add_accounts(engine: Engine, *accounts: PendoAccount) -> None:
    def work(session: Session) -> None:
        session.add_all(accounts)

    in_tx(engine, work)


ACME = CustomerRow(U1, "Acme", domain="acme.com", segment="Enterprise", arr=120000.0, csm_name="Jo",
                   csm_email="jo@cscx.io", pendo_account_ids=("acme-1",))
GLOBEX = CustomerRow(U2, "Globex", csm_email="jo@cscx.io")


def test_upsert_is_idempotent(engine: Engine) -> None:
    """Importing the same rows twice inserts once, then rewrites the same values."""
    first = in_tx(engine, lambda s: repo.upsert_customers(s, [ACME, GLOBEX]))
    before = (customers(engine), csms(engine), mappings(engine))
    second = in_tx(engine, lambda s: repo.upsert_customers(s, [ACME, GLOBEX]))
    assert (first, second) == (repo.UpsertCounts(2, 0), repo.UpsertCounts(0, 2))
    assert (customers(engine), csms(engine), mappings(engine)) == before
    assert before[1] == {"jo@cscx.io": "Jo"}
    assert before[2] == {"acme-1": (U1, "import", None)}


def test_reimport_updates_columns(engine: Engine) -> None:
    """A later import rewrites a customer's columns, blanks included, and its CSM's name."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME]))
    renamed = CustomerRow(U1, "Acme Holdings", csm_name="Joanna", csm_email="jo@cscx.io")
    counts = in_tx(engine, lambda s: repo.upsert_customers(s, [renamed]))
    assert counts == repo.UpsertCounts(inserted=0, updated=1)
    assert customers(engine) == [(U1, "Acme Holdings", None, None, None, None, "jo@cscx.io")]
    assert csms(engine) == {"jo@cscx.io": "Joanna"}


def test_csm_without_name_never_erases_a_known_name(engine: Engine) -> None:
    """An e-mail given without a name creates the CSM but keeps a name imported earlier."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME]))
    bare = CustomerRow(U1, "Acme", csm_email="new@cscx.io")
    in_tx(engine, lambda s: repo.upsert_customers(s, [GLOBEX, bare]))
    assert csms(engine) == {"jo@cscx.io": "Jo", "new@cscx.io": "new@cscx.io"}


def test_upsert_in_batches_with_repeats(engine: Engine) -> None:
    """More rows than a batch, a CSM shared across batches and a repeated customer all land once."""
    rows = [CustomerRow(f"00000000-0000-0000-0000-{i:012d}", f"C{i}", csm_name=f"CSM {i % 3}",
                        csm_email=f"csm{i % 3}@cscx.io", pendo_account_ids=(f"acct-{i}",))
            for i in range(repo.BATCH * 2 + 7)]
    counts = in_tx(engine, lambda s: repo.upsert_customers(s, [*rows, rows[0]]))
    assert counts == repo.UpsertCounts(inserted=len(rows), updated=0)
    assert len(customers(engine)) == len(mappings(engine)) == len(rows)
    assert csms(engine) == {f"csm{i}@cscx.io": f"CSM {i}" for i in range(3)}


def test_import_mapping_replaces_auto_mapping_and_its_suggestions(engine: Engine) -> None:
    """An account id in the import overrides an automatic mapping and clears its suggestions."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [GLOBEX, CustomerRow(U1, "Acme")]))
    plan = MatchPlan(auto=[AutoMatch("acct", U1, "auto_name")],
                     suggestions=[Suggestion("other", U1, 80.0, "name 80% similar"),
                                  Suggestion("other", U2, 75.0, "name 75% similar")])
    in_tx(engine, lambda s: repo.apply_matches(s, plan))
    assert mappings(engine) == {"acct": (U1, "auto_name", None)}
    explicit = CustomerRow(U2, "Globex", pendo_account_ids=("acct", "other"))
    in_tx(engine, lambda s: repo.upsert_customers(s, [explicit]))
    assert mappings(engine) == {"acct": (U2, "import", None), "other": (U2, "import", None)}
    assert suggestions(engine) == set()


def test_apply_matches_never_overrides_and_replaces_suggestions(engine: Engine) -> None:
    """Automatic mappings fill only free accounts; the suggestion table is replaced, mapped ones dropped."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [CustomerRow(U1, "Acme"), GLOBEX]))
    in_tx(engine, lambda s: repo.confirm_mapping(s, "manual-acct", U2, by="ann@cscx.io"))
    old = MatchPlan(auto=[], suggestions=[Suggestion("stale", U1, 90.0, "name 90% similar")])
    in_tx(engine, lambda s: repo.apply_matches(s, old))
    plan = MatchPlan(auto=[AutoMatch("manual-acct", U1, "auto_domain"), AutoMatch("free", U1, "auto_domain")],
                     suggestions=[Suggestion("open", U2, 77.0, "name 77% similar")])
    counts = in_tx(engine, lambda s: repo.apply_matches(s, plan))
    assert counts == repo.ApplyCounts(auto_mapped=1, suggestions=1)
    assert mappings(engine) == {"manual-acct": (U2, "manual", "ann@cscx.io"),
                                "free": (U1, "auto_domain", None)}
    assert suggestions(engine) == {("open", U2)}


def test_confirm_and_unmap(engine: Engine) -> None:
    """A person's mapping replaces the earlier one; unmapping reports whether there was one."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME, GLOBEX]))
    in_tx(engine, lambda s: repo.confirm_mapping(s, "acme-1", U2.upper(), by="ann@cscx.io"))
    assert mappings(engine) == {"acme-1": (U2, "manual", "ann@cscx.io")}
    assert in_tx(engine, lambda s: repo.unmap(s, "acme-1")) is True
    assert in_tx(engine, lambda s: repo.unmap(s, "acme-1")) is False
    assert mappings(engine) == {}


@pytest.mark.parametrize("customer_id", ["33333333-3333-3333-3333-333333333333", "not-a-uuid"],
                         ids=["unknown-customer", "not-a-uuid"])
def test_confirm_mapping_to_a_missing_customer_fails_clearly(engine: Engine, customer_id: str) -> None:
    """Mapping to a customer the store does not hold is refused with what to do."""
    with pytest.raises(LookupError, match="customer"):
        in_tx(engine, lambda s: repo.confirm_mapping(s, "acct", customer_id, by="ann@cscx.io"))
    assert mappings(engine) == {}


def test_queue_lists_unmapped_accounts_and_their_suggestions(engine: Engine) -> None:
    """The mapping queue shows unmapped accounts (names from metadata when the columns are empty)."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME, CustomerRow(U2, "Globex Corporation")]))
    add_accounts(engine,
                 PendoAccount(account_id="acme-1", name="Acme"),
                 PendoAccount(account_id="gx", metadata_json={"agent": {"name": "Globex"},
                                                              "custom": {"website": "https://globex.io"}}),
                 PendoAccount(account_id="gx-eu", name="Globex Europe", last_visit=1_700_000_000_000))
    plan = in_tx(engine, lambda s: match_accounts(*repo.match_inputs(s)))
    in_tx(engine, lambda s: repo.apply_matches(s, plan))
    unmapped = in_tx(engine, repo.list_unmapped_accounts)
    assert unmapped == [repo.UnmappedAccount("gx-eu", "Globex Europe", None, 1_700_000_000_000)]
    assert mappings(engine)["gx"] == (U2, "auto_name", None)
    views = in_tx(engine, repo.list_suggestions)
    assert [(v.account_id, v.account_name, v.customer_id, v.customer_name) for v in views] == [
        ("gx-eu", "Globex Europe", U2, "Globex Corporation")]
    assert views[0].reason.startswith("name ")


def kept(engine: Engine) -> dict[str, int]:
    """The customers kept for a whole-range recompute, with their versions."""
    return {c: version for c, (version, _written) in in_tx(engine, sync_store.stale_score_customers).items()}


def settle(engine: Engine) -> None:
    """What a run's metrics and health steps do with the kept customers: compute them, then let them go."""
    def work(session: Session) -> None:
        versions = {c: version for c, (version, _w) in sync_store.stale_score_customers(session).items()}
        sync_store.mark_stale_metrics_written(session, versions)
        sync_store.forget_stale_score_customers(session, versions)

    in_tx(engine, work)


def test_an_import_keeps_the_customers_whose_accounts_it_moves(engine: Engine) -> None:
    """The customers of a new mapping, and both owners of an account it moves, are computed again over the
    whole range; importing the same mapping again, or a move refused as a conflict, keeps nobody."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME, GLOBEX]))
    assert kept(engine) == {U1: 1}
    settle(engine)
    in_tx(engine, lambda s: repo.upsert_customers(s, [ACME]))
    moving = CustomerRow(U2, "Globex", pendo_account_ids=("acme-1",))
    counts = in_tx(engine, lambda s: repo.upsert_customers(s, [moving]))
    assert counts.conflicts
    assert kept(engine) == {}
    in_tx(engine, lambda s: repo.upsert_customers(s, [moving], reassign=True))
    assert mappings(engine) == {"acme-1": (U2, "import", None)}
    assert kept(engine) == {U1: 1, U2: 1}


def test_automatic_matches_keep_only_the_customers_gaining_an_account(engine: Engine) -> None:
    """An automatic match never moves a held account: its owner is not kept, the customer it would have
    gone to is kept only for the free account it gains."""
    in_tx(engine, lambda s: repo.upsert_customers(s, [CustomerRow(U1, "Acme"), GLOBEX]))
    in_tx(engine, lambda s: repo.confirm_mapping(s, "held", U2, by="ann@cscx.io"))
    settle(engine)
    plan = MatchPlan(auto=[AutoMatch("held", U1, "auto_domain")], suggestions=[])
    in_tx(engine, lambda s: repo.apply_matches(s, plan))
    assert kept(engine) == {}
    plan = MatchPlan(auto=[AutoMatch("held", U1, "auto_domain"), AutoMatch("free", U1, "auto_name")],
                     suggestions=[])
    in_tx(engine, lambda s: repo.apply_matches(s, plan))
    assert kept(engine) == {U1: 1}
