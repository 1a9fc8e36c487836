"""Which days the metrics step recomputes: from the first day whose raw rows changed, unless what else
the metrics read changed since they were computed (the catalogue, the onboarding guides, the visitor
rule); then from the first day re-read, as if every re-read day had changed."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.pendo.sync import store
from pendo_core.pendo.sync.runner import METRICS_RANGE, METRICS_STALE_FROM, SCORES_STALE_FROM, RunSummary
from pendo_core.store import models
from pendo_core.usage.job import compute_moved_metrics
from tests.support.health_alerts import table_insert
from tests.support.store import running_run

FIRST, LAST = date(2024, 3, 1), date(2024, 3, 19)
REREAD = date(2024, 3, 9)


def _moved(engine: Engine, changed_from: date | None, *, include_anonymous: bool = False) -> date | None:
    """metrics_first of a run over FIRST..LAST that re-read from REREAD and changed rows from changed_from."""
    summary = RunSummary(running_run(engine), FIRST, LAST, refetched=REREAD, changed_from=changed_from)
    settings = Settings(pendo_integration_key="k", include_anonymous=include_anonymous)
    compute_moved_metrics(settings, engine, summary)
    return summary.metrics_first


def test_metrics_move_from_the_first_changed_day_while_their_other_inputs_stay(engine: Engine) -> None:
    """A re-read that changed nothing moves no metric; a changed catalogue or visitor rule moves every
    re-read day's, once."""
    table_insert(engine, "pendo_features", [{"feature_id": "f1", "name": "Reports", "page_id": "p1"}])
    table_insert(engine, "pendo_guides", [{"guide_id": "g1", "name": "Welcome", "group_name": None}])
    with Session(engine) as session, session.begin():
        store.set_watermark(session, METRICS_RANGE, f"{FIRST}..{LAST}")
    nothing = LAST + timedelta(days=1)
    assert _moved(engine, None) == REREAD  # computed before this digest was kept: every re-read day
    assert _moved(engine, None) == nothing  # the re-read changed no row
    assert _moved(engine, date(2024, 3, 16)) == date(2024, 3, 16)
    with engine.begin() as conn:
        conn.execute(update(models.PendoFeature).values(page_id="p2"))  # the feature's page views move
    assert _moved(engine, None) == REREAD
    assert _moved(engine, None) == nothing
    with engine.begin() as conn:
        conn.execute(update(models.PendoGuide).values(name="Onboarding: welcome"))  # now an onboarding guide
    assert _moved(engine, None) == REREAD
    assert _moved(engine, None, include_anonymous=True) == REREAD
    assert _moved(engine, None, include_anonymous=True) == nothing


def test_the_first_day_computed_is_kept_for_the_health_scores(engine: Engine) -> None:
    """The step lowers SCORES_STALE_FROM to the first day it computed (the health step clears it once it has
    scored), and leaves it alone when it computed nothing."""
    with Session(engine) as session, session.begin():
        store.set_watermark(session, METRICS_RANGE, f"{FIRST}..{LAST}")
    _moved(engine, None)  # computed before the inputs digest was kept: from the first re-read day
    assert _scores_stale_from(engine) == REREAD.isoformat()
    _moved(engine, None)  # nothing changed: nothing computed
    assert _scores_stale_from(engine) == REREAD.isoformat()
    _moved(engine, date(2024, 3, 16))  # a later day keeps the earlier one until the scores are written
    assert _scores_stale_from(engine) == REREAD.isoformat()
    with Session(engine) as session, session.begin():
        store.clear_watermark(session, SCORES_STALE_FROM)
    _moved(engine, date(2024, 3, 16))
    assert _scores_stale_from(engine) == "2024-03-16"


def _scores_stale_from(engine: Engine) -> str | None:
    with Session(engine) as session:
        return store.get_watermark(session, SCORES_STALE_FROM)


def test_a_run_with_no_reported_days_computes_nothing_and_leaves_what_waits(engine: Engine) -> None:
    """As of a day before the stored start nothing is reported: the step computes nothing, marks no kept
    customer's metrics as written, and leaves the first raw day written since the metrics (METRICS_STALE_FROM)
    for the next run."""
    with Session(engine) as session, session.begin():
        store.keep_stale_score_customers(session, ["c1"])
        store.lower_date_watermark(session, METRICS_STALE_FROM, REREAD)
    summary = RunSummary(running_run(engine), LAST, FIRST)
    compute_moved_metrics(Settings(pendo_integration_key="k"), engine, summary)
    assert summary.metrics_first == FIRST + timedelta(days=1)
    with Session(engine) as session:
        assert store.stale_score_customers(session) == {"c1": (1, None)}
        assert store.get_watermark(session, METRICS_STALE_FROM) == REREAD.isoformat()
