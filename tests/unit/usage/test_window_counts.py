"""window_counts: distinct visitors over trailing windows, against counting them one day at a time."""

from __future__ import annotations

import random
from datetime import date, timedelta

import duckdb

from pendo_core.usage.windows import create_calendar, window_counts

FIRST, LAST = date(2024, 3, 1), date(2024, 3, 20)
WINDOWS = {"dau": 1, "wau": 7, "mau": 30}


def brute(rows: list[tuple[str, str, str, int, str, date]]) -> dict[tuple[str, str, date], int]:
    """n per (customer, kind, day): the visitors with a row in [day - w + 1, day], counted as a set."""
    counts = {}
    day = FIRST
    while day <= LAST:
        for customer in {r[0] for r in rows}:
            for kind, w in WINDOWS.items():
                seen = {r[4] for r in rows if r[0] == customer and r[2] == kind
                        and day - timedelta(days=w - 1) <= r[5] <= day}
                if seen:
                    counts[(customer, kind, day)] = len(seen)
        day += timedelta(days=1)
    return counts


def computed(rows: list[tuple[str, str, str, int, str, date]]) -> dict[tuple[str, str, date], int]:
    duck = duckdb.connect(":memory:")
    duck.execute("CREATE TABLE src (customer_id VARCHAR, obj_id VARCHAR, kind VARCHAR, w INTEGER, "
                 "visitor_id VARCHAR, day DATE)")
    duck.executemany("INSERT INTO src VALUES (?, ?, ?, ?, ?, ?)", rows)
    create_calendar(duck, FIRST, LAST)
    window_counts(duck, "src", "out")
    return {(c, k, d): n for c, _, k, d, n in duck.execute("SELECT * FROM out").fetchall()}


def test_a_repeated_visitor_day_counts_once() -> None:
    """A visitor active in two of a customer's accounts on one day reaches the source twice (the usage
    metrics no longer de-duplicate first): every window still counts that visitor once."""
    rng = random.Random(7)
    rows = []
    for customer in ("c1", "c2"):
        for visitor in ("v1", "v2", "v3", "v4"):
            for _ in range(8):
                day = FIRST - timedelta(days=rng.randrange(0, 40)) + timedelta(days=rng.randrange(0, 20))
                for kind, w in WINDOWS.items():
                    rows.append((customer, "", kind, w, visitor, day))
    repeated = rows + rng.sample(rows, len(rows) // 2)  # the second account's rows: same keys again
    rng.shuffle(repeated)

    expected = brute(rows)
    assert expected  # the fixture reaches the reported days
    assert computed(rows) == expected
    assert computed(repeated) == expected
