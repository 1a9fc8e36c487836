"""The days before first_day are loaded as one row per visitor (its last active day): exact at every edge."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine

from pendo_core.usage import compute_metrics
from tests.support.metrics import Activity, VDay, read_outputs, seed
from tests.support.reference_metrics import reference_metrics
from tests.support.store import wipe

FIRST = date(2024, 3, 1)
# Awkward ids travel through Arrow's CSV into COPY (pendo_account_id is the ';'-joined accounts).
A1, A2, A3 = 'acc,"1"', "acc\n2\\N", "acc 3\r"


def _d(k: int) -> date:
    return FIRST + timedelta(days=k)


ACTIVITY = Activity(
    mapping={A1: "cust-a", A2: "cust-a", A3: "cust-b"},
    visitor_days=[
        VDay(A1, _d(-90), "too-old"),                        # just outside the 90-day base
        VDay(A1, _d(-89), "edge-89"),                        # only the 90-day window of first_day
        VDay(A1, _d(-1), "edge-1"),                          # every window of first_day
        VDay(A1, _d(-60), "quiet-later", 3),                 # active, then a num_events = 0 row later
        VDay(A1, _d(-2), "quiet-later", 0),
        VDay(A1, _d(-29), "quiet-only", 0),                  # never active before first_day
        VDay(A1, _d(-40), "two-accounts"),                   # one customer, two accounts, two last days
        VDay(A2, _d(-6), "two-accounts"),
        VDay(A2, _d(-25), "two-accounts", 2),
        VDay(A2, _d(-3), "_PENDO_T_anon"),                   # anonymous: only with include_anonymous
        VDay(A3, _d(-7), "edge-7"),                          # WAU of first_day? (7-day window)
        VDay(A3, _d(-30), "edge-30"),                        # MAU edge
        VDay(A3, _d(-29), "edge-29"),
        VDay(A3, _d(1), "edge-1"),                           # activity inside the range as well
        VDay(A2, _d(0), "two-accounts", 4, 7),
    ],
)


@pytest.mark.parametrize("include_anonymous", [False, True])
@pytest.mark.parametrize("span", [0, 3])
def test_last_active_rows_give_the_reference_windows(engine: Engine, include_anonymous: bool, span: int) -> None:
    wipe(engine)
    try:
        seed(engine, ACTIVITY)
        run = {"last_day": _d(span), "include_anonymous": include_anonymous}
        compute_metrics(engine, first_day=FIRST, memory_limit="256MB", **run)
        expected = reference_metrics(ACTIVITY, FIRST, **run)
        got = read_outputs(engine)
        assert got["pendo_usage_metrics"] == expected["pendo_usage_metrics"]
        assert got == expected
    finally:
        wipe(engine)
