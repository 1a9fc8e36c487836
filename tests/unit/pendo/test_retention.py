"""Retention of raw rows: exactly the days before the cut-off go, first guide completions stay, the
floor of RAW_RETENTION_DAYS matches what the code reads, and restatement stops at purged inputs."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from pendo_core.alerts.settings import AbandonmentSettings, ChampionSettings
from pendo_core.common.config import (
    LONGEST_RAW_READ_DAYS,
    METRICS_REACH_DAYS,
    Settings,
    SettingsError,
    load_settings,
    raw_retention_floor,
)
from pendo_core.customers.people_queries import LOOKBACK_DAYS
from pendo_core.pendo.sync import retention, store
from pendo_core.pendo.sync.runner import RunSummary, SyncRequest
from pendo_core.pendo.sync.streams import EVENT_STREAMS
from pendo_core.store import models
from pendo_core.store.engine import session_factory
from tests.support.store import running_run

CUTOFF = date(2024, 3, 10)
DAYS = [CUTOFF - timedelta(days=2), CUTOFF - timedelta(days=1), CUTOFF, CUTOFF + timedelta(days=1)]
ACCOUNTS = ("a1", "a2", "a3")
HOUR_MS = 3_600_000


def _rows(day: date, account: str) -> dict[Any, list[dict[str, Any]]]:
    """One row per raw table for an account and day (two visitors for visitor days)."""
    ms = int((day - date(1970, 1, 1)).total_seconds() * 1000)
    return {
        models.VisitorDay: [{"account_id": account, "day": day, "visitor_id": v, "num_events": 1, "num_minutes": 2}
                            for v in ("v1", "v2")],
        models.VisitorHour: [{"account_id": account, "visitor_id": "v1", "hour_start": ms + 9 * HOUR_MS, "day": day,
                              "num_events": 1, "num_minutes": 2}],
        models.PageDay: [{"account_id": account, "day": day, "page_id": "p", "num_events": 3, "num_minutes": 1}],
        models.FeatureVisitorDay: [{"account_id": account, "day": day, "feature_id": "f", "visitor_id": "v1",
                                    "num_events": 4, "num_minutes": 1}],
        models.GuideEvent: [{"visitor_id": "v1", "guide_id": "g", "step_id": "s", "event_type": kind,
                             "browser_time": ms + HOUR_MS, "account_id": account, "day": day}
                            for kind in ("guideSeen", "guideDismissed")],
    }


def _seed(engine: Engine) -> None:
    with session_factory(engine).begin() as session:
        for day in DAYS:
            for account in ACCOUNTS:
                for model, rows in _rows(day, account).items():
                    session.execute(insert(model), rows)


def _days(engine: Engine, model: Any) -> list[tuple[Any, ...]]:
    """(day, account, event type or '') of every row, sorted; dates as ISO text on both stores."""
    kind = model.event_type if model is models.GuideEvent else None
    columns = [model.day, model.account_id] + ([kind] if kind is not None else [])
    with engine.connect() as conn:
        rows = conn.execute(select(*columns)).all()
    return sorted((str(r[0]), *r[1:]) for r in rows)


def test_purge_deletes_exactly_the_days_before_the_cutoff(engine: Engine) -> None:
    """Every raw table loses its rows of days before the cut-off and keeps the rest, in every account."""
    _seed(engine)
    expected = {m: [r for r in _days(engine, m) if r[0] >= CUTOFF.isoformat()]
                for m in (models.VisitorDay, models.VisitorHour, models.PageDay, models.FeatureVisitorDay)}
    deleted = retention.purge(engine, CUTOFF)
    for model, rows in expected.items():
        assert _days(engine, model) == rows, model.__tablename__
    assert deleted == {"visitor_days": 12, "visitor_hours": 6, "page_days": 6, "feature_days": 6,
                       "guide_events": 9}


def test_the_retention_step_of_an_overtaken_run_deletes_nothing(engine: Engine) -> None:
    """Once a newer run has started (this run's lock lost), the step refuses before it moves the watermark
    or deletes a row: the newer run may be writing those days again (an earlier --as-of)."""
    _seed(engine)
    before = {m: _days(engine, m) for m in (models.VisitorDay, models.FeatureVisitorDay, models.GuideEvent)}
    days = raw_retention_floor(Settings().lookback_days)
    step = retention.make_retention_step(Settings(raw_retention_days=days))
    as_of = CUTOFF + timedelta(days=days)
    summary = RunSummary(running_run(engine), DAYS[0], as_of - timedelta(days=1))
    running_run(engine)
    with pytest.raises(store.RunSuperseded):
        step(engine, SyncRequest(as_of), summary)
    assert {m: _days(engine, m) for m in before} == before
    with session_factory(engine)() as session:
        assert retention.kept_from_day(session) is None


def test_guide_events_keep_each_first_completion(engine: Engine) -> None:
    """Onboarding counts a step from its first completion ever: that event stays, later old ones go."""
    _seed(engine)
    retention.purge(engine, CUTOFF)
    first = DAYS[0].isoformat()
    kept_old = [r for r in _days(engine, models.GuideEvent) if r[0] < CUTOFF.isoformat()]
    assert kept_old == [(first, account, "guideSeen") for account in ACCOUNTS]
    assert len(_days(engine, models.GuideEvent)) == 3 + 2 * 2 * len(ACCOUNTS)


def test_purge_again_deletes_nothing_and_the_watermark_never_goes_back(engine: Engine) -> None:
    """A second purge at the same or an earlier cut-off finds nothing; the kept-from day stays the latest."""
    _seed(engine)
    retention.purge(engine, CUTOFF)
    assert set(retention.purge(engine, CUTOFF).values()) == {0}
    retention.purge(engine, CUTOFF - timedelta(days=5))
    with session_factory(engine)() as session:
        assert retention.kept_from_day(session) == CUTOFF
    assert retention.restatable_from(engine) == CUTOFF + timedelta(days=METRICS_REACH_DAYS)


def test_the_account_api_counts_purged_days_as_unknown_not_idle(engine: Engine) -> None:
    """Coverage stays after a purge (so the sync never fetches those days again), but the API's synced
    days stop at the cut-off: a purged day has no figures, not zero activity."""
    from api.accounts import synced_days

    with session_factory(engine).begin() as session:
        session.execute(insert(models.SyncCoverage), [
            {"stream": "visitor_days", "day": d, "synced_as_of": DAYS[-1], "include_anonymous": False} for d in DAYS])
    assert synced_days(engine, "visitor_days", DAYS[0], DAYS[-1]) == set(DAYS)
    retention.purge(engine, CUTOFF)
    assert synced_days(engine, "visitor_days", DAYS[0], DAYS[-1]) == {d for d in DAYS if d >= CUTOFF}


def test_nothing_purged_means_every_day_is_restatable(engine: Engine) -> None:
    """Before any purge no restatement is clamped."""
    assert retention.restatable_from(engine) is None
    assert retention.clamp_restatement(engine, DAYS[0], DAYS[-1], "metrics") == DAYS[0]


def test_clamp_keeps_purged_days_and_logs_it(engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    """A restatement that would start before the restatable days starts at them, and says so."""
    with session_factory(engine).begin() as session:
        store.set_watermark(session, retention.RAW_KEPT_FROM, CUTOFF.isoformat())
    floor = CUTOFF + timedelta(days=METRICS_REACH_DAYS)
    with caplog.at_level(logging.WARNING, logger="pendo_core.pendo.sync.retention"):
        assert retention.clamp_restatement(engine, floor - timedelta(days=5), floor + timedelta(days=5), "x") == floor
    assert "keep their stored figures" in caplog.text
    assert retention.clamp_restatement(engine, floor, floor + timedelta(days=5), "x") == floor


@pytest.mark.parametrize(("lookback", "days", "ok"), [
    pytest.param(10, 149, False, id="below-the-alert-windows"),
    pytest.param(10, 150, True, id="at-the-floor"),
    pytest.param(30, 150, True, id="longest-lookback-still-under-150"),
    pytest.param(10, None, True, id="unset-keeps-everything"),
])
def test_retention_floor(lookback: int, days: int | None, ok: bool) -> None:
    """RAW_RETENTION_DAYS below the longest look-back is refused with a one-line error naming the floor."""
    if ok:
        assert Settings(lookback_days=lookback, raw_retention_days=days).raw_retention_days == days
    else:
        with pytest.raises(ValueError, match="RAW_RETENTION_DAYS=149 is below 150"):
            Settings(lookback_days=lookback, raw_retention_days=days)


def test_bad_retention_from_the_environment_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """What an operator sees: one SettingsError line, no traceback."""
    monkeypatch.setenv("RAW_RETENTION_DAYS", "30")
    with pytest.raises(SettingsError) as caught:
        load_settings()
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith("bad setting: RAW_RETENTION_DAYS=30 is below 150")


def test_floor_constants_match_the_code_that_reads_raw_rows() -> None:
    """The floor's parts are the real look-backs: the streams' reach (the 90-day base of active_visitors),
    the people lookback, the 13-week heatmap and the alert windows at their bounds."""
    assert max(s.reach_back for s in EVENT_STREAMS) == METRICS_REACH_DAYS
    fields = AbandonmentSettings.model_fields
    quiet = _upper(ChampionSettings.model_fields["days"].metadata)
    windows = [_upper(fields["recent_days"].metadata) + _upper(fields["prior_days"].metadata), LOOKBACK_DAYS,
               13 * 7, quiet]
    assert max(windows) == LONGEST_RAW_READ_DAYS
    assert raw_retention_floor(30) == max(30 + METRICS_REACH_DAYS, LONGEST_RAW_READ_DAYS)


def _upper(metadata: list[Any]) -> int:
    return next(int(m.le) for m in metadata if getattr(m, "le", None) is not None)
