"""compute_metrics agrees with the plain-loop reference on every cell of random small activity."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from pendo_core.usage import compute_metrics
from tests.support.metrics import (
    Activity,
    FDay,
    Feature,
    GEvent,
    Guide,
    Outputs,
    PDay,
    Step,
    VDay,
    VHour,
    insert_outputs,
    read_outputs,
    seed,
)
from tests.support.reference_metrics import reference_metrics
from tests.support.store import wipe

FIRST = date(2024, 3, 1)
EPOCH_FIRST_MS = 1_709_251_200_000  # 2024-03-01T00:00Z: hour buckets below are UTC
ACCOUNTS = ("acc-1", "acc-2", "acc-3")
CUSTOMERS = ("cust-a", "cust-b")
# APENDO_T_1 is identified: it only matches an unescaped LIKE '_PENDO_T_%'.
VISITORS = ("v1", "v2", "_PENDO_T_anon", "APENDO_T_1")
# Offsets from FIRST on and around every window edge of a range of up to 4 days.
EDGE_OFFSETS = (-92, -91, -90, -89, -88, -60, -33, -31, -30, -29, -28, -10, -8, -7, -6, -5,
                -2, -1, 0, 1, 2, 3, 4, 5)
GUIDE_OFFSETS = (-200, -31, -30, -29, -28, -1, 0, 1, 2, 3)
FEATURES = (Feature("f1", "Export", "p1", True), Feature("f2", "Share", None, False),
            Feature("f3", "Blank page", "", True), Feature("f4", "Quiet page", "p9", False))
GUIDES = (Guide("g1", "Onboarding tour"), Guide("g2", "Setup", "New ONBOARDING"), Guide("g3", "Release notes"),
          Guide("g4", "Onboarding without steps"))
STEPS = (Step("s1", "g1", 0), Step("s2a", "g2", 0), Step("s2b", "g2", 1), Step("s2c", "g2", 2),
         Step("s3a", "g3", 5), Step("s3b", "g3", 1))
GUIDE_STEPS = {"g1": ("s1", "s2c"), "g2": ("s2a", "s2b", "s2c"), "g3": ("s3a", "s3b"),
               "g4": ("s4",), "g9": ("s9",)}
EVENT_TYPES = ("guideSeen", "guideAdvanced", "guideDismissed", "guideTimeout")

accounts = st.sampled_from(ACCOUNTS)
visitors = st.sampled_from(VISITORS)
days = st.sampled_from(EDGE_OFFSETS).map(lambda k: FIRST + timedelta(days=k))
near_days = st.integers(-2, 5).map(lambda k: FIRST + timedelta(days=k))
small = st.integers(0, 4)


def _dedupe(rows: list, width: int) -> list:
    """One row per primary key (the first `width` fields)."""
    return list({row[:width]: row for row in rows}.values())


@st.composite
def twinned(draw: st.DrawFn, rows: st.SearchStrategy, max_size: int) -> list:
    """Rows, some copied into another account (the same visitor seen in two accounts)."""
    out = []
    for row in draw(st.lists(rows, max_size=max_size)):
        out.append(row)
        if draw(st.booleans()):
            out.append(row._replace(account_id=draw(accounts), num_events=draw(small)))
    return out


@st.composite
def hour_runs(draw: st.DrawFn) -> list[VHour]:
    """Runs of hours around midnights, some twinned in another account, some hours inactive."""
    rows = []
    for _ in range(draw(st.integers(0, 8))):
        visitor, start, length = draw(visitors), 24 * draw(st.integers(-1, 4)) + draw(st.integers(-3, 1)), draw(
            st.integers(1, 4))
        starts = [(draw(accounts), start)]
        if draw(st.booleans()):
            starts.append((draw(accounts), start + draw(st.integers(-2, 2))))
        for account, first in starts:
            rows.extend(VHour(account, visitor, EPOCH_FIRST_MS + hour * 3_600_000, FIRST + timedelta(days=hour // 24),
                              draw(st.sampled_from((1, 1, 4, 0))), draw(small))
                        for hour in range(first, first + length))
    return _dedupe(rows, 3)


@st.composite
def guide_events(draw: st.DrawFn) -> list[GEvent]:
    """Guide events on and around the 30-day window's edges and long before."""
    rows = []
    for i in range(draw(st.integers(0, 24))):
        guide = draw(st.sampled_from(sorted(GUIDE_STEPS)))
        day = FIRST + timedelta(days=draw(st.sampled_from(GUIDE_OFFSETS)))
        rows.append(GEvent(draw(visitors), guide, draw(st.sampled_from(GUIDE_STEPS[guide])),
                           draw(st.sampled_from(EVENT_TYPES)), i, draw(accounts), day))
    return rows


@st.composite
def activities(draw: st.DrawFn) -> Activity:
    owners = draw(st.lists(st.sampled_from((*CUSTOMERS, None)), min_size=len(ACCOUNTS), max_size=len(ACCOUNTS)))
    return Activity(
        mapping={a: c for a, c in zip(ACCOUNTS, owners, strict=True) if c is not None},
        visitor_days=_dedupe(draw(twinned(st.builds(VDay, accounts, days, visitors, small, small), 16)), 3),
        visitor_hours=draw(hour_runs()),
        page_days=_dedupe(draw(st.lists(st.builds(PDay, accounts, near_days, st.sampled_from(("p1", "p2")),
                                                  small, small), max_size=8)), 3),
        feature_visitor_days=_dedupe(draw(twinned(st.builds(
            FDay, accounts, near_days, st.sampled_from(("f1", "f2", "f3", "f4", "f5")), visitors, small, small),
            12)), 4),
        features=list(FEATURES), guides=list(GUIDES), guide_steps=list(STEPS),
        guide_events=draw(guide_events()),
    )


@st.composite
def runs(draw: st.DrawFn) -> dict:
    return {
        "last_day": FIRST + timedelta(days=draw(st.integers(0, 3))),
        "include_anonymous": draw(st.booleans()),
        "customer_ids": draw(st.one_of(st.none(), st.lists(st.sampled_from((*CUSTOMERS, "cust-z")), unique=True))),
        "onboarding_guide_ids": draw(st.one_of(st.none(), st.lists(st.sampled_from(("g1", "g2", "g3", "g9")),
                                                                   unique=True))),
        # One customer at a time, or all together (the default at this size).
        "chunk_customers": draw(st.sampled_from((1, 2500))),
    }


def _stale(first: date, last: date) -> Outputs:
    """Old rows of every customer inside and just outside the range."""
    usage, onboarding = {}, {}
    for customer in (*CUSTOMERS, "cust-z"):
        for day in (first - timedelta(days=1), first, last, last + timedelta(days=1)):
            usage[(customer, day)] = ("old", 9, 9, 9, 9, 9, 1.5, 9, 9, 9)
            onboarding[(customer, day)] = (9, 9, 1.0)
    return {"pendo_usage_metrics": usage, "pendo_onboarding_progress": onboarding}


def _expected(stale: Outputs, fresh: Outputs, run: dict) -> Outputs:
    """Stale rows survive outside the range and for customers the run does not cover."""
    covered = run["customer_ids"]
    expected: Outputs = {}
    for name, rows in fresh.items():
        kept = {k: v for k, v in stale.get(name, {}).items()
                if not FIRST <= k[-1] <= run["last_day"] or (covered is not None and k[0] not in covered)}
        expected[name] = {**kept, **rows}
    return expected


def _check(engine: Engine, activity: Activity, run: dict) -> None:
    wipe(engine)
    seed(engine, activity, extra_customers=(*CUSTOMERS, "cust-z"))
    stale = _stale(FIRST, run["last_day"])
    insert_outputs(engine, stale)
    result = compute_metrics(engine, first_day=FIRST, memory_limit="256MB", **run)
    fresh = reference_metrics(activity, FIRST, **{k: v for k, v in run.items() if k != "chunk_customers"})
    assert read_outputs(engine) == _expected(stale, fresh, run)
    assert result.usage_rows == len(fresh["pendo_usage_metrics"])
    assert result.feature_rows == len(fresh["pendo_feature_usage"])
    assert result.guide_rows == len(fresh["pendo_guide_metrics"])
    assert result.onboarding_rows == len(fresh["pendo_onboarding_progress"])


PROPERTY = {"deadline": None, "suppress_health_check": [HealthCheck.function_scoped_fixture],
            "derandomize": True}


@settings(max_examples=80, **PROPERTY)
@given(activity=activities(), run=runs())
def test_matches_reference_on_sqlite(sqlite_engine: Engine, activity: Activity, run: dict) -> None:
    """Every stored cell equals the reference's, and rows outside the run are left alone (SQLite)."""
    _check(sqlite_engine, activity, run)


@pytest.mark.postgres
@settings(max_examples=10, **PROPERTY)
@given(activity=activities(), run=runs())
def test_matches_reference_on_postgres(pg_engine: Engine, activity: Activity, run: dict) -> None:
    """Every stored cell equals the reference's, and rows outside the run are left alone (PostgreSQL)."""
    try:
        _check(pg_engine, activity, run)
    finally:
        wipe(pg_engine)  # the database is shared with other tests
