"""The runner's lanes (runner.py): on PostgreSQL two streams are written at once, each stream's windows
in order by one lane; the store ends as a one-lane run leaves it; a lane that fails stops the other
before its next window, and the next run finishes the rest. Plus the one row both lanes write, the
first day the metrics must restate from, kept at the earlier day when two windows lower it at once."""

from __future__ import annotations

import threading
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.customers.job import make_mapping_step
from pendo_core.pendo.client import PendoAuthError
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.progress import LogProgress
from pendo_core.pendo.sync.runner import LANE_DIALECTS, LANES, METRICS_STALE_FROM, SyncError, SyncRequest, SyncRunner
from pendo_core.store import models
from pendo_core.store.engine import session_factory
from pendo_core.usage.job import make_metrics_step
from tests.support.faults import AS_OF, FakePendo, import_acme
from tests.support.store import wait_until_blocked, wipe
from tests.support.sync import snapshot


class ByLane(LogProgress):
    """Which thread committed each window, in the order they committed."""

    def __init__(self) -> None:
        super().__init__()
        self.windows: list[tuple[str, str, str]] = []  # (thread, stream, first day)

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        super().window_done(stream, first, last, rows)
        self.windows.append((threading.current_thread().name, stream, first))


class FailingFeatures(FakePendo):
    """Pendo refusing the feature events (as a key without their scope would), the rest answered."""

    def aggregate(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> Any:
        if "featureEvents" in pipeline[0]["source"]:
            raise PendoAuthError("feature events refused: wrong key or wrong region", status_code=403)
        return super().aggregate(pipeline, **kwargs)


class AccountsAfterAWindow(FakePendo):
    """Pendo whose accounts answer notes whether a usage window has been written by then; with `wait`, it
    first waits (up to 30 s) for one."""

    def __init__(self, windows: threading.Event, *, wait: bool) -> None:
        super().__init__()
        self.windows, self.wait = windows, wait
        self.window_before_accounts: bool | None = None

    def aggregate_all(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
        if "accounts" in pipeline[0]["source"] and self.window_before_accounts is None:
            self.window_before_accounts = self.windows.wait(timeout=30) if self.wait else self.windows.is_set()
        return super().aggregate_all(pipeline, **kwargs)


class FailingAccounts(FakePendo):
    """Pendo refusing the accounts (the visitors, catalogue and usage answered)."""

    def aggregate_all(self, pipeline: list[dict[str, Any]], **kwargs: Any) -> list[Any]:
        if "accounts" in pipeline[0]["source"]:
            raise PendoAuthError("accounts refused: wrong key or wrong region", status_code=403)
        return super().aggregate_all(pipeline, **kwargs)


class Signalling(ByLane):
    def __init__(self) -> None:
        super().__init__()
        self.event = threading.Event()

    def window_done(self, stream: str, first: str, last: str, rows: int) -> None:
        super().window_done(stream, first, last, rows)
        self.event.set()


def _run(engine: Engine, client: FakePendo, *, concurrency: int = 4, progress: LogProgress | None = None) -> None:
    config = Settings(pendo_integration_key="k", window_days=7, max_concurrency=concurrency)
    runner = SyncRunner(config, engine, client, progress=progress,  # type: ignore[arg-type]
                        after_windows=[make_mapping_step(config)], steps=[make_metrics_step(config)])
    runner.run(SyncRequest(AS_OF, 21))


def _assert_the_next_run_finishes(engine: Engine) -> None:
    """The next run, answered, leaves what one clean run leaves."""
    _run(engine, FakePendo())
    resumed = snapshot(engine)
    wipe(engine)
    import_acme(engine)
    _run(engine, FakePendo())
    assert snapshot(engine) == resumed


def _lanes(engine: Engine) -> int:
    return LANES if engine.dialect.name in LANE_DIALECTS else 1


def test_each_stream_is_written_in_order_by_one_lane(engine: Engine) -> None:
    import_acme(engine)
    progress = ByLane()
    _run(engine, FakePendo(), progress=progress)
    lane_of: dict[str, set[str]] = {}
    for thread, stream, _first in progress.windows:
        lane_of.setdefault(stream, set()).add(thread)
    assert all(len(threads) == 1 for threads in lane_of.values()), lane_of
    assert len({thread for thread, _, _ in progress.windows}) == _lanes(engine)
    for stream in lane_of:
        firsts = [first for _, s, first in progress.windows if s == stream]
        assert firsts == sorted(firsts)
        assert len(firsts) > 1


def test_two_lanes_leave_the_store_a_single_lane_leaves(engine: Engine) -> None:
    import_acme(engine)
    _run(engine, FakePendo())
    laned = snapshot(engine)
    wipe(engine)
    import_acme(engine)
    _run(engine, FakePendo(), concurrency=1)  # one request at a time: one lane
    assert snapshot(engine) == laned
    assert laned["pendo_feature_usage"]
    assert laned["pendo_visitor_hours"]


def test_a_failed_lane_stops_the_other_and_the_next_run_finishes(engine: Engine) -> None:
    """The feature events, taken first, fail at once: the run fails saying why, the other lane writes
    at most the stream it had taken, and the next run, answered, leaves what one clean run leaves."""
    import_acme(engine)
    progress = ByLane()
    with pytest.raises(SyncError, match="wrong key or wrong region"):
        _run(engine, FailingFeatures(), progress=progress)
    assert {stream for _, stream, _ in progress.windows} <= {"visitor_hours"}
    with engine.connect() as conn:
        covered = set(conn.execute(select(models.SyncCoverage.stream).distinct()).scalars())
        # the failed run still records the entities it synced (beside the lanes)
        stats = conn.execute(select(models.SyncRun.stats).order_by(models.SyncRun.id.desc()).limit(1)).scalar_one()
    assert covered <= {"visitor_hours"}
    assert {"accounts", "visitors", "features"} <= set(stats["rows"]), stats
    _assert_the_next_run_finishes(engine)


@pytest.mark.postgres
def test_two_windows_lowering_the_restatement_day_keep_the_earlier(pg_engine: Engine) -> None:
    """The earlier day's window holds its transaction open while the later day's lowers the same row: the
    later waits, then keeps the earlier day (read-then-write would overwrite it with its own)."""
    wipe(pg_engine)
    sessions = session_factory(pg_engine)
    earlier = date(2024, 3, 1)
    errors: list[BaseException] = []

    def later_window() -> None:
        try:
            with sessions.begin() as session:
                store.lower_date_watermark(session, METRICS_STALE_FROM, earlier + timedelta(days=5))
        except BaseException as exc:  # handed to the test
            errors.append(exc)

    with sessions.begin() as first:
        store.lower_date_watermark(first, METRICS_STALE_FROM, earlier)
        second = threading.Thread(target=later_window, daemon=True)
        second.start()
        wait_until_blocked(pg_engine, second)
    second.join(timeout=60)
    assert not errors, errors
    with Session(pg_engine) as session:
        assert store.get_watermark(session, METRICS_STALE_FROM) == earlier.isoformat()
    wipe(pg_engine)


def test_lowering_the_restatement_day_keeps_the_earliest(engine: Engine) -> None:
    days = [date(2024, 3, 9), date(2024, 3, 2), date(2024, 3, 5)]
    with session_factory(engine).begin() as session:
        for day in days:
            store.lower_date_watermark(session, METRICS_STALE_FROM, day)
        assert store.get_watermark(session, METRICS_STALE_FROM) == "2024-03-02"


def test_the_entities_sync_beside_the_windows_where_two_lanes_run(engine: Engine) -> None:
    """On PostgreSQL the accounts are asked for while the windows are written (their answer waits for a
    written window, and gets one); on SQLite, and with no request to spare, before the first window."""
    for concurrency in (4, LANES):
        beside = engine.dialect.name == "postgresql" and concurrency > LANES
        wipe(engine)
        import_acme(engine)
        progress = Signalling()
        client = AccountsAfterAWindow(progress.event, wait=beside)
        _run(engine, client, concurrency=concurrency, progress=progress)
        assert client.window_before_accounts is beside
        assert progress.windows, "no window written"
    wipe(engine)


def test_entities_that_fail_fail_the_run_once_the_windows_beside_them_are_written(engine: Engine) -> None:
    """The accounts refused: the run fails saying why. Beside the windows (PostgreSQL) every window is written
    first and kept; where the entities run first, none is. The next run, answered, leaves what one clean
    run leaves."""
    import_acme(engine)
    progress = ByLane()
    with pytest.raises(SyncError, match="accounts refused: wrong key or wrong region"):
        _run(engine, FailingAccounts(), progress=progress)
    beside = engine.dialect.name == "postgresql"
    with engine.connect() as conn:
        covered = set(conn.execute(select(models.SyncCoverage.stream).distinct()).scalars())
    assert covered == ({"feature_days", "visitor_hours", "visitor_days", "page_days", "guide_events"} if beside
                       else set())
    assert bool(progress.windows) == beside
    _assert_the_next_run_finishes(engine)
