"""The Portfolio's per-day read model (pendo_core/usage/portfolio_days.py) answers exactly as the live
grouped queries, on SQLite and PostgreSQL, and is a sync step after the health scores."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
from sqlalchemy import Engine, delete, update

from jobs.bench_store import StoreShape, build_store
from pendo_core.common.config import Settings
from pendo_core.health.job import compute_health
from pendo_core.pipeline.run import STEPS, made_steps
from pendo_core.store.models import HealthScore, UsageMetric
from pendo_core.usage import portfolio_days, portfolio_queries, read_models
from pendo_core.usage.compute import compute_metrics
from pendo_core.usage.portfolio_days import refresh_portfolio_days

LAST = date(2026, 3, 18)
SHAPE = StoreShape(customers=30, days=70, csms=3, features_per_customer=2)


def _store(engine: Engine) -> None:
    """The bench's synthetic store, small, with days that have usage and no scores and the reverse."""
    build_store(engine, SHAPE, LAST)
    with engine.begin() as conn:
        conn.execute(delete(HealthScore).where(HealthScore.score_date > LAST - timedelta(days=3)))
        conn.execute(delete(UsageMetric).where(UsageMetric.metric_date == LAST - timedelta(days=14)))
        conn.execute(update(HealthScore).where(HealthScore.score_date == LAST - timedelta(days=21))
                     .values(overall=None, band="insufficient data"))


def _reads(engine: Engine) -> list[pd.DataFrame]:
    """The Portfolio's reads over ranges that start before the data, skip days and end after it."""
    first = LAST - timedelta(days=89)
    return [portfolio_queries.daily_totals(engine, first, LAST),
            portfolio_queries.daily_totals(engine, LAST - timedelta(days=20), LAST + timedelta(days=3)),
            portfolio_queries.weekly_health(engine, LAST, 12),
            portfolio_queries.weekly_health(engine, LAST - timedelta(days=3), 12),
            portfolio_queries.weekly_health(engine, LAST - timedelta(days=21), 4)]


def test_the_read_model_answers_as_the_live_queries(engine: Engine) -> None:
    """daily_totals and weekly_health give the same frames from the read model as from the rows."""
    _store(engine)
    live = _reads(engine)
    assert not portfolio_days.filled(engine)
    assert refresh_portfolio_days(engine) == SHAPE.days
    assert portfolio_days.filled(engine)
    for got, expected in zip(_reads(engine), live, strict=True):
        assert not expected.empty
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, check_dtype=False)


def test_a_refresh_follows_the_stored_rows(engine: Engine) -> None:
    """The step rewrites every day: a changed metric and a removed score show after the next refresh."""
    _store(engine)
    refresh_portfolio_days(engine)
    with engine.begin() as conn:
        conn.execute(update(UsageMetric).where(UsageMetric.metric_date == LAST).values(dau=1))
        conn.execute(delete(HealthScore).where(HealthScore.score_date == LAST - timedelta(days=7)))
    refresh_portfolio_days(engine)
    totals = portfolio_queries.daily_totals(engine, LAST, LAST)
    assert totals["dau"].tolist() == [float(SHAPE.customers)]
    weeks = portfolio_queries.weekly_health(engine, LAST - timedelta(days=7), 1)
    assert weeks.empty


def test_the_sync_writes_it_after_the_health_scores() -> None:
    """The portfolio step runs right after the health step (and the steps beside it)."""
    order = [step.__module__ for step in made_steps(Settings(database_url="sqlite://"), STEPS)
             for step in getattr(step, "parts", (step,))]
    assert order.index("pendo_core.usage.portfolio_days") == order.index("pendo_core.health.job") + 1


def test_replaced_scores_or_metrics_send_the_portfolio_live_until_its_rebuild(engine: Engine) -> None:
    """A run that replaces scores (or metrics) and stops before the portfolio step leaves the Portfolio on
    the live rows, with the new numbers, not on the model built before them; the rebuild serves again."""
    _store(engine)
    refresh_portfolio_days(engine)
    with engine.begin() as conn:  # what the health step's transaction does: new scores, the model marked
        conn.execute(update(HealthScore).where(HealthScore.score_date == LAST - timedelta(days=7)).values(overall=1))
        read_models.mark_stale(conn, read_models.PORTFOLIO)
    assert not portfolio_days.filled(engine)
    live = _reads(engine)
    assert (live[2]["overall"] < 50).any()  # the live read shows the new score
    refresh_portfolio_days(engine)
    assert portfolio_days.filled(engine)
    for got, expected in zip(_reads(engine), live, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, check_dtype=False)
    compute_metrics(engine, first_day=LAST, last_day=LAST)  # the metrics' own transaction marks it
    assert not portfolio_days.filled(engine)
    compute_health(engine, LAST - timedelta(days=1), LAST)  # and so does the health step's
    refresh_portfolio_days(engine)
    assert portfolio_days.filled(engine)
    compute_health(engine, LAST - timedelta(days=1), LAST)
    assert not portfolio_days.filled(engine)


def test_the_step_rewrites_only_the_days_that_moved(engine: Engine) -> None:
    """After a rebuild, a write marked from a day sends the step over that day on only; nothing marked, nothing
    written; an empty table or a mark without a day rewrites every day. Each time the model reads as the rows."""
    _store(engine)
    refresh_portfolio_days(engine)
    day30 = LAST - timedelta(days=30)
    kept = portfolio_queries.daily_totals(engine, day30, day30)["dau"].tolist()
    with engine.begin() as conn:  # a change no writer marked: the step must not see it, so it shows what it rewrote
        conn.execute(update(UsageMetric).where(UsageMetric.metric_date == LAST - timedelta(days=30)).values(dau=0))
    compute_health(engine, LAST - timedelta(days=5), LAST)  # marks the portfolio from LAST - 5
    with engine.connect() as conn:
        assert read_models.stale_since(conn, read_models.PORTFOLIO) == LAST - timedelta(days=5)
    assert _step(engine) == 6
    assert portfolio_days.filled(engine)
    assert portfolio_queries.daily_totals(engine, day30, day30)["dau"].tolist() == kept  # unmarked: kept its row
    assert kept != [0.0]
    assert _step(engine) == 0  # fresh: nothing to write
    with engine.begin() as conn:
        read_models.mark_stale(conn, read_models.PORTFOLIO, first_day=LAST - timedelta(days=2))
        read_models.mark_stale(conn, read_models.PORTFOLIO, first_day=LAST - timedelta(days=9))
        read_models.mark_stale(conn, read_models.PORTFOLIO, first_day=LAST)  # the earliest mark wins
    assert _step(engine) == 10
    with engine.begin() as conn:
        read_models.mark_stale(conn, read_models.PORTFOLIO)  # a write that did not say which days
    assert _step(engine) == SHAPE.days
    live = _reads(engine)
    with engine.begin() as conn:
        conn.execute(delete(portfolio_days.TABLE))
    assert _step(engine) == SHAPE.days  # empty: every day
    for got, expected in zip(_reads(engine), live, strict=True):
        pd.testing.assert_frame_equal(got, expected, check_exact=False, rtol=1e-12, check_dtype=False)



def _step(engine: Engine) -> int:
    return portfolio_days.refresh_moved_days(engine)
