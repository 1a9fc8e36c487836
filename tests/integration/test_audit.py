"""The audit: a clean sync matches Pendo's own aggregates at 100%; every planted error is found,
named by check, key and figure; the audit is recorded, and the command prints and exits as documented."""

from __future__ import annotations

import argparse
import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select, update

from pendo_core.common.config import Settings
from pendo_core.pendo.client import PendoClient, RetryPolicy
from pendo_core.pendo.quality_audit import AuditError, Mismatch, compare, last_audit, run_audit, synced_range
from pendo_core.store import models
from pendo_core.store.engine import make_engine
from pendo_sim.data import Subscription, generate
from pendo_sim.faults import Faults
from pendo_sim.server import SimServer, start_server
from tests.support.sync import import_demo_customers, run_sync

TZ = "America/New_York"
AS_OF = date(2024, 3, 20)
BACKFILL = 10
FIRST, LAST = date(2024, 3, 10), date(2024, 3, 19)


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=21, accounts=8, days=100, as_of=AS_OF, tz=TZ)


def _settings(url: str) -> Settings:
    return Settings(pendo_integration_key="demo-key", pendo_base_url=url, pendo_timezone=TZ, window_days=30)


def _sync(engine: Engine, subscription: Subscription, server: SimServer) -> None:
    import_demo_customers(engine, subscription)
    run_sync(engine, server.url, TZ, AS_OF, BACKFILL, window_days=30)


@pytest.fixture(scope="module")
def synced_file(subscription: Subscription, server: SimServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store synced once; each test works on its own copy."""
    from pendo_core.store.engine import migrate

    path = tmp_path_factory.mktemp("audit") / "synced.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    _sync(engine, subscription, server)
    engine.dispose()  # checkpoints the WAL into the file
    return path


@pytest.fixture
def synced(synced_file: Path, tmp_path: Path) -> Iterator[Engine]:
    copy = tmp_path / "store.db"
    shutil.copyfile(synced_file, copy)
    engine = make_engine(f"sqlite:///{copy}")
    yield engine
    engine.dispose()


def _audit(engine: Engine, server: SimServer, first: date = FIRST, last: date = LAST) -> tuple[float, list[Mismatch]]:
    with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client:
        result = run_audit(engine, client, _settings(server.url), first, last)
    return result.match_rate, result.mismatches


# --- a clean sync ---------------------------------------------------------------------------------


def test_a_clean_sync_audits_at_100_percent(engine: Engine, subscription: Subscription, server: SimServer) -> None:
    """Every check compares real items, and all of them match, on SQLite and PostgreSQL."""
    _sync(engine, subscription, server)
    assert synced_range(engine) == (FIRST, LAST)
    with PendoClient(server.url, "demo-key", retry=RetryPolicy.for_tests()) as client:
        result = run_audit(engine, client, _settings(server.url), FIRST, LAST)
    assert result.mismatches == []
    assert result.match_rate == 1.0
    assert all(checked > 0 for checked, _ in result.by_check.values()), result.by_check
    recorded = last_audit(engine)
    assert recorded is not None
    assert (recorded.status, recorded.checked, recorded.match_rate) == ("success", result.checked, 1.0)


# --- planted errors -----------------------------------------------------------------------------------


def _first_row(engine: Engine, table: Any, day: Any, *order: Any) -> Any:
    """The first row of `table` on an audited day."""
    with engine.connect() as conn:
        row = conn.execute(select(table).where(day.between(FIRST, LAST)).order_by(*order).limit(1)).first()
    assert row is not None
    return row


def _bump_events(engine: Engine) -> tuple[str, str, str]:
    vd = models.VisitorDay
    row = _first_row(engine, vd, vd.day, vd.account_id, vd.day, vd.visitor_id)
    with engine.begin() as conn:
        conn.execute(update(vd).where(vd.account_id == row.account_id, vd.day == row.day,
                                      vd.visitor_id == row.visitor_id).values(num_events=vd.num_events + 5))
    return "account_day", f"{row.account_id} {row.day.isoformat()}", "events"


def _lose_feature_row(engine: Engine) -> tuple[str, str, str]:
    fd = models.FeatureVisitorDay
    row = _first_row(engine, fd, fd.day, fd.feature_id, fd.day)
    with engine.begin() as conn:
        conn.execute(delete(fd).where(fd.account_id == row.account_id, fd.day == row.day,
                                      fd.feature_id == row.feature_id, fd.visitor_id == row.visitor_id))
    return "feature_day", f"{row.feature_id} {row.day.isoformat()}", "clicks"


def _wrong_dau(engine: Engine) -> tuple[str, str, str]:
    um = models.UsageMetric
    with engine.connect() as conn:  # a one-account customer, where dau is compared
        row = conn.execute(select(um.customer_id, um.metric_date).where(~um.pendo_account_id.contains(";"), um.dau > 0)
                           .order_by(um.customer_id, um.metric_date).limit(1)).one()
    with engine.begin() as conn:
        conn.execute(update(um).where(um.customer_id == row.customer_id, um.metric_date == row.metric_date)
                     .values(dau=um.dau - 1))
    return "customer_day", f"{row.customer_id} {row.metric_date.isoformat()}", "dau"


def _wrong_clicks(engine: Engine) -> tuple[str, str, str]:
    fu = models.FeatureUsage
    row = _first_row(engine, fu, fu.metric_date, fu.customer_id, fu.feature_id, fu.metric_date)
    with engine.begin() as conn:
        conn.execute(update(fu).where(fu.customer_id == row.customer_id, fu.feature_id == row.feature_id,
                                      fu.metric_date == row.metric_date).values(clicks=fu.clicks * 2 + 1))
    key = f"{row.customer_id} {row.feature_id} {row.metric_date.isoformat()}"
    return "customer_feature_day", key, "clicks"


@pytest.mark.parametrize("plant", [_bump_events, _lose_feature_row, _wrong_dau, _wrong_clicks],
                         ids=["events-bumped", "feature-row-lost", "dau-off-by-one", "clicks-wrong"])
def test_a_planted_mismatch_is_found_and_named(synced: Engine, server: SimServer,
                                               plant: Callable[[Engine], tuple[str, str, str]]) -> None:
    """One changed figure in the store: the audit reports exactly it, and the rate drops below 100%."""
    check, key, figure = plant(synced)
    rate, mismatches = _audit(synced, server)
    assert [(m.check, " ".join(m.key), m.figure) for m in mismatches] == [(check, key, figure)]
    assert rate < 1.0
    recorded = last_audit(synced)
    assert recorded is not None
    assert recorded.mismatches == [str(mismatches[0])]


# --- the comparison rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(("pendo", "stored", "expected"), [
    ({("a",): (1,)}, {("a",): (1,)}, (1, 1, [])),
    ({("a",): (2,)}, {}, (1, 0, [Mismatch("feature_day", ("a",), "clicks", 2, 0)])),
    ({}, {("a",): (3,)}, (1, 0, [Mismatch("feature_day", ("a",), "clicks", 0, 3)])),
    ({("a",): (0,)}, {}, (1, 1, [])),
], ids=["equal", "missing-in-store", "missing-in-pendo", "zero-equals-absent"])
def test_compare_reads_a_missing_key_as_zero(pendo: dict[Any, Any], stored: dict[Any, Any],
                                            expected: tuple[Any, ...]) -> None:
    """A key on one side only is compared with zeros."""
    assert compare("feature_day", pendo, stored) == expected


def test_compare_skips_figures_that_do_not_compare() -> None:
    """dau of a customer with several accounts (None) is not compared; its feature events still are."""
    pendo = {("c", "2024-03-01"): (5, None)}
    stored = {("c", "2024-03-01"): (5, 7)}
    assert compare("customer_day", pendo, stored) == (1, 1, [])


# --- ranges, failures and the command ---------------------------------------------------------------------


def test_a_pendo_failure_is_recorded_and_raised(synced: Engine, subscription: Subscription) -> None:
    """Pendo answering 503 throughout: AuditError with the reason, and a failed audit row."""
    sim = start_server(subscription, faults=Faults(error_every=1, error_statuses=(503,)))
    try:
        with pytest.raises(AuditError, match="Pendo failed on its side"):
            _audit(synced, sim)
    finally:
        sim.stop()
    recorded = last_audit(synced)
    assert recorded is not None
    assert recorded.status == "failed"
    assert recorded.error is not None
    assert "HTTP 503" in recorded.error


def _run_command(engine: Engine, server: SimServer, days: int | None) -> int:
    from jobs.audit import audit

    settings = Settings(pendo_integration_key="demo-key", pendo_base_url=server.url, pendo_timezone=TZ,
                        window_days=30, database_url=engine.url.render_as_string(hide_password=False))
    return audit(settings, argparse.Namespace(days=days))


@pytest.mark.parametrize(("days", "first"), [(None, FIRST), (3, date(2024, 3, 17)), (400, FIRST)],
                         ids=["whole-range", "last-3-days", "more-days-than-synced"])
def test_the_command_prints_the_match_rate(synced: Engine, server: SimServer, capsys: pytest.CaptureFixture[str],
                                           days: int | None, first: date) -> None:
    """`jobs audit [--days N]` audits the synced range (or its last N days), prints 100% and exits 0."""
    assert _run_command(synced, server, days) == 0
    out = capsys.readouterr().out
    assert f"days {first}..{LAST}" in out
    assert "(100.00%; target 99%)" in out


def test_the_command_fails_below_target_listing_each_mismatch(synced: Engine, server: SimServer,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    """Many planted errors: each is printed, and the command fails naming the target."""
    from jobs.commands import JobError

    with synced.begin() as conn:
        conn.execute(update(models.VisitorDay).values(num_events=models.VisitorDay.num_events + 1))
    with pytest.raises(JobError, match="audit below target"):
        _run_command(synced, server, None)
    out = capsys.readouterr().out
    with synced.connect() as conn:
        account_days = conn.execute(select(models.VisitorDay.account_id, models.VisitorDay.day)
                                    .where(models.VisitorDay.day.between(FIRST, LAST)).distinct()).all()
    assert out.count("mismatch: account_day") == len(account_days)


def test_the_command_needs_a_synced_store(sqlite_engine: Engine, server: SimServer) -> None:
    """Before any sync there is nothing to audit: say so and how to fix it."""
    from jobs.commands import JobError

    with pytest.raises(JobError, match="run `python -m jobs sync` first"):
        _run_command(sqlite_engine, server, None)
