"""Admin services: the connection test names the problem, sync history, the background sync, the
mapping queue, versioned settings saves with an audit trail, and the band preview."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import Engine, func, select

from pendo_core.admin import service as svc
from pendo_core.admin.settings import AppSettings, HealthSettings, HealthWeights
from pendo_core.store.models import AccountMapping, AuditLog, MappingRejection
from pendo_sim.data import generate
from pendo_sim.server import SimServer, start_server
from tests.support.health_alerts import add_customer, table_insert

CUSTOMER = "00000000-0000-4000-8000-000000000001"
OTHER = "00000000-0000-4000-8000-000000000002"
NOW = datetime(2026, 3, 19, 12, 0, tzinfo=UTC)

# --- the connection test ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimServer]:
    """A tiny simulated Pendo on loopback that accepts the key `demo-key`."""
    server = start_server(generate(seed=3, accounts=3, days=5, as_of=date(2026, 3, 19)))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def silent_port() -> Iterator[int]:
    """A port that accepts connections but never answers (a host that hangs)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    yield sock.getsockname()[1]
    sock.close()


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize(("key", "where", "outcome"), [
    ("demo-key", "simulator", (True, "Pendo accepted the key")),
    ("wrong-secret-123", "simulator", (False, "wrong key or wrong region")),
    ("demo-key", "closed", (False, "Cannot reach http://127.0.0.1")),
    ("demo-key", "silent", (False, "did not answer in time")),
    ("   ", "simulator", (False, "Enter the integration key")),
    ("bad\nkey", "simulator", (False, "could not be checked")),
], ids=["good-key", "wrong-key", "unreachable", "hangs", "no-key", "unsendable-key"])
def test_connection_test_names_the_problem(simulator: SimServer, silent_port: int, key: str, where: str,
                                           outcome: tuple[bool, str]) -> None:
    """A connection test says plainly whether the key works, and if not, why; never echoing the key."""
    url = {"simulator": simulator.url, "closed": f"http://127.0.0.1:{_closed_port()}",
           "silent": f"http://127.0.0.1:{silent_port}"}[where]
    check = svc.check_connection(key, "us", url, timeout=0.3)
    assert (check.ok, outcome[1] in check.message) == (outcome[0], True), check.message
    assert key.strip() == "" or key not in check.message


@pytest.mark.parametrize(("region", "base_url", "expected"), [
    ("us", None, "https://app.pendo.io"),
    ("eu", None, "https://app.eu.pendo.io"),
    ("eu", "http://127.0.0.1:9000/", "http://127.0.0.1:9000"),
], ids=["us", "eu", "override-wins"])
def test_host_follows_region_unless_overridden(region: str, base_url: str | None, expected: str) -> None:
    """The tested host is the region's, unless a base URL is given."""
    assert svc.pendo_host(region, base_url) == expected


# --- sync history ----------------------------------------------------------------------------


def _add_run(engine: Engine, run_id: int, status: str, started: datetime, *, rows: dict[str, int] | None = None,
             error: str | None = None) -> None:
    stats = {"rows": rows or {}, "report_first": "2026-03-01", "report_last": "2026-03-18"}
    table_insert(engine, "pendo_sync_runs", [{
        "id": run_id, "started_at": started, "finished_at": None if status == "running" else started
        + timedelta(minutes=3), "status": status, "mode": "daily", "as_of": date(2026, 3, 19), "stats": stats,
        "requests": 12, "retries": 1, "bad_rows": 3, "error": error}])


def test_sync_history_lists_runs_streams_and_bad_rows(engine: Engine) -> None:
    """Runs come newest first with duration and error; rows and bad rows are split per stream."""
    _add_run(engine, 1, "success", NOW - timedelta(days=1), rows={"accounts": 5, "visitor_days": 40})
    _add_run(engine, 2, "failed", NOW, rows={"accounts": 5}, error="Pendo refused the key")
    table_insert(engine, "pendo_data_quality_issues", [
        {"run_id": 1, "stream": "visitor_days", "reason": "missing visitorId", "count": 2, "sample": "{}"},
        {"run_id": 1, "stream": "visitor_days", "reason": "bad day", "count": 1, "sample": None}])
    runs = svc.sync_runs(engine)
    assert runs[["run", "status", "minutes", "error"]].values.tolist() == [
        [2, "failed", 3.0, "Pendo refused the key"], [1, "success", 3.0, ""]]
    streams = svc.stream_rows(engine, [1, 2])
    assert streams.values.tolist() == [[2, "accounts", 5, 0], [1, "accounts", 5, 0], [1, "visitor_days", 40, 3]]
    assert svc.data_quality(engine, [1])["reason"].tolist() == ["missing visitorId", "bad day"]


@pytest.mark.parametrize(("started", "expected"), [
    (NOW - timedelta(minutes=5), 7),
    (NOW - timedelta(hours=7), None),
], ids=["fresh-run-is-running", "stale-run-died"])
def test_running_sync_ignores_runs_that_died(sqlite_engine: Engine, started: datetime, expected: int | None) -> None:
    """A run marked running for hours is a dead run, not a reason to refuse a new one."""
    _add_run(sqlite_engine, 7, "running", started)
    assert svc.running_sync(sqlite_engine, now=NOW) == expected


def test_background_sync_runs_one_at_a_time_and_reports() -> None:
    """A second start while one runs is refused; the result and its message are kept."""
    job = svc.BackgroundSync(clock=lambda: NOW)
    release = threading.Event()

    def slow() -> str:
        release.wait(5)
        return "sync 3 ok"

    assert job.start(slow) is True
    assert (job.state.status, job.start(slow)) == ("running", False)
    release.set()
    assert (job.wait(5).status, job.state.message, job.state.runs) == ("success", "sync 3 ok", 1)


def test_background_sync_failure_keeps_the_reason() -> None:
    """A run that raises ends as failed with the first line of its error."""
    job = svc.BackgroundSync(clock=lambda: NOW)

    def broken() -> str:
        raise RuntimeError("sync failed: wrong key\ntraceback lines")

    job.start(broken)
    state = job.wait(5)
    assert (state.status, state.message) == ("failed", "sync failed: wrong key")


@pytest.mark.parametrize(("compute", "value", "error"), [
    (lambda: 42, 42, None),
    (lambda: 1 / 0, None, "division by zero"),
], ids=["value", "error-kept"])
def test_background_value_hands_over_its_result(compute: Callable[[], int], value: int | None,
                                                error: str | None) -> None:
    """A value computed off the page is handed over once ready; a failure keeps its reason."""
    background = svc.BackgroundValue(compute)
    assert (background.wait(5), background.ready, background.error) == (value, True, error)


# --- the mapping queue -----------------------------------------------------------------------


def _queue(engine: Engine) -> None:
    add_customer(engine, CUSTOMER, csm="a@cscx.io", accounts=["acct-mapped"])
    add_customer(engine, OTHER, csm="a@cscx.io")
    table_insert(engine, "pendo_accounts", [
        {"account_id": a, "name": n, "domain": None, "last_visit": 1_773_000_000_000}
        for a, n in (("acct-mapped", "Mapped Co"), ("acct-new", "Newco"), ("acct-lone", "Lone Ltd"))])
    table_insert(engine, "pendo_mapping_suggestions", [
        {"pendo_account_id": "acct-new", "customer_id": CUSTOMER, "score": 0.7, "reason": "similar name"},
        {"pendo_account_id": "acct-new", "customer_id": OTHER, "score": 0.9, "reason": "same domain"}])


def test_unmapped_queue_shows_the_best_suggestion(engine: Engine) -> None:
    """Unmapped accounts list their best-scoring suggestion; mapped accounts are not in the queue."""
    _queue(engine)
    queue = svc.unmapped_accounts(engine)
    assert queue[["account_id", "best_match", "score"]].fillna("").values.tolist() == [
        ["acct-lone", "", ""], ["acct-new", f"{OTHER} Inc", 0.9]]
    assert svc.suggestions(engine)["score"].tolist() == [0.9, 0.7]


def test_confirm_and_unmap_are_recorded(engine: Engine) -> None:
    """Confirming maps the account (suggestions gone); unmapping removes it and remembers the refusal."""
    _queue(engine)
    svc.confirm_account(engine, "acct-new", CUSTOMER, "admin@cscx.io")
    assert svc.suggestions(engine).empty
    mapped = svc.mapped_accounts(engine).set_index("account_id")
    assert (mapped.loc["acct-new", "method"], mapped.loc["acct-new", "mapped_by"]) == ("manual", "admin@cscx.io")
    assert svc.unmap_account(engine, "acct-new", "admin@cscx.io") is True
    assert svc.unmap_account(engine, "acct-new", "admin@cscx.io") is False
    with engine.connect() as conn:
        assert conn.execute(select(AccountMapping).where(AccountMapping.pendo_account_id == "acct-new")).first() is None
        assert conn.execute(select(MappingRejection.customer_id)).scalars().all() == [CUSTOMER]
        assert conn.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars().all() == [
            "mapping.confirm", "mapping.unmap"]


def test_confirm_to_an_unknown_customer_is_refused(sqlite_engine: Engine) -> None:
    """A mapping to a customer the store does not hold fails with a message saying to import it first."""
    _queue(sqlite_engine)
    with pytest.raises(LookupError, match="import it first"):
        svc.confirm_account(sqlite_engine, "acct-new", "00000000-0000-4000-8000-00000000dead", "admin@cscx.io")


# --- settings --------------------------------------------------------------------------------


def test_saving_settings_makes_a_new_audited_version(engine: Engine) -> None:
    """Each save is a new version with who and a note; the history shows what changed."""
    weights = HealthWeights(engagement=0.5, adoption=0.5, trajectory=0.0, onboarding=0.0)
    first = svc.save_app_settings(engine, AppSettings(health=HealthSettings(weights=weights)), "a@cscx.io", " v1 ")
    second = svc.save_app_settings(engine, AppSettings(), "b@cscx.io", "")
    history = svc.settings_versions(engine)
    assert second == first + 1
    assert history[["version", "saved_by", "note"]].values.tolist() == [[second, "b@cscx.io", ""],
                                                                        [first, "a@cscx.io", "v1"]]
    assert "health.weights.engagement: 0.25 → 0.5" in history.loc[1, "changes"]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditLog)).scalar() == 2


LATEST = pd.DataFrame({  # stored bands as an older version scored them
    "customer_id": ["a", "b", "c"], "score_date": [date(2026, 3, 18)] * 3, "band": ["green", "yellow", "yellow"],
    "engagement": [90.0, 60.0, 20.0], "adoption": [90.0, 100.0, 100.0], "trajectory": [80.0, 40.0, None],
    "onboarding": [None, None, None], "breadth_change": [None, None, None], "attrition": [None, None, None],
    "sustained_trend": [None, None, None]})


@pytest.mark.parametrize(("weights", "moves"), [
    ({"engagement": 0.45, "adoption": 0.1, "trajectory": 0.45}, {("yellow", "red"): 1}),  # the pre-issue-12 defaults
    ({"engagement": 0.0, "adoption": 1.0, "trajectory": 0.0}, {("yellow", "green"): 2}),
    ({"engagement": 0.0, "adoption": 0.0, "trajectory": 1.0}, {("yellow", "red"): 1,
                                                               ("yellow", "insufficient data"): 1}),
], ids=["default-weights", "adoption-only", "trajectory-only-leaves-c-without-data"])
def test_band_preview_counts_customers_who_change_band(weights: dict[str, float],
                                                       moves: dict[tuple[str, str], int]) -> None:
    """The preview re-scores stored components with candidate weights and counts band moves."""
    candidate = HealthWeights(**weights, onboarding=0.0, breadth_change=0.0, attrition=0.0, sustained_trend=0.0)
    preview = svc.preview_bands(LATEST, HealthSettings(weights=candidate, red_below=50, green_from=75))
    found = dict(zip(zip(preview.moves["from_band"], preview.moves["to_band"], strict=True),
                     preview.moves["customers"], strict=True))
    assert (preview.customers, preview.changed, found) == (3, sum(moves.values()), moves)
    assert preview.counts.set_index("band")["now"].to_dict() == {"red": 0, "yellow": 2, "green": 1,
                                                                 "insufficient data": 0}


def test_band_preview_without_scores_is_empty() -> None:
    """No stored scores: nothing to preview, no error."""
    preview = svc.preview_bands(LATEST.iloc[0:0], HealthSettings())
    assert (preview.customers, preview.changed, preview.moves.empty) == (0, 0, True)


def test_latest_components_reads_the_newest_day(sqlite_engine: Engine) -> None:
    """The preview starts from the newest scored day only."""
    rows = [{"customer_id": CUSTOMER, "score_date": day, "engagement": e, "adoption": None, "trajectory": None,
             "onboarding": None, "overall": e, "band": "green", "coverage": 1.0, "settings_version": 0,
             "weights": {}, "inputs": {}} for day, e in ((date(2026, 3, 17), 10.0), (date(2026, 3, 18), 80.0))]
    table_insert(sqlite_engine, "pendo_health_scores", rows)
    latest = svc.latest_components(sqlite_engine)
    assert latest[["score_date", "engagement"]].values.tolist() == [[date(2026, 3, 18), 80.0]]
