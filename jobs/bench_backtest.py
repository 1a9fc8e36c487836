"""`python -m jobs.bench_backtest`: how fast the admin health back-test answers at 5,000 customers.

On the page benchmark's synthetic store (jobs.bench_pages, 5,000 customers x 90 days; a renewal
outcome per customer is added once, `bench_store.add_outcomes`, when it has none):

- load: `load_backtest`, every outcome's stored components, DAU and MAU (once per sync, on a
  background thread: what the first admin after a sync waits for);
- first answer at a lead time: the first `run_backtest` at a lead time (it also reads the naive signals);
- re-weighting: every further `run_backtest` with other weights, a slider move (median and p95);
- suggest: `suggest_weights`, the "Suggest weights" button (grid, refinement, 5-fold cross-validation).

The target (issue 12) is a re-weighting under 200 ms. Times are wall seconds on whatever else runs.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TypeVar

import numpy as np

from jobs.bench_pages import DEFAULT_STORE, _ensure_store, _store_url, p95

T = TypeVar("T")
TARGET_S = 0.2
LEADS = (0, 14, 30, 60, 90)  # the page's lead times


def _timed(work: Callable[[], T]) -> tuple[float, T]:
    """(wall seconds, value) of one call."""
    started = time.perf_counter()
    value = work()
    return time.perf_counter() - started, value


def run(args: argparse.Namespace) -> dict[str, float]:
    """Build or reuse the store, add outcomes if needed, then time load, first answers, re-weighting and suggest."""
    from sqlalchemy import func, select

    from jobs.bench_store import add_outcomes
    from pendo_core.health import load_backtest, run_backtest, score
    from pendo_core.health.fit import suggest_weights
    from pendo_core.store import models
    from pendo_core.store.engine import make_engine

    url = _store_url(args)
    last = _ensure_store(url, args.rebuild, args.customers)
    engine = make_engine(url)
    with engine.connect() as conn:
        have = conn.execute(select(func.count()).select_from(models.Outcome)).scalar_one()
    if not have:
        print(f"added {add_outcomes(engine, last)} outcomes to the store", file=sys.stderr)
    load_s, data = _timed(lambda: load_backtest(engine))
    rng = np.random.default_rng(5)
    weights = [dict(zip(score.COMPONENTS, rng.dirichlet(np.ones(len(score.COMPONENTS))), strict=True))
               for _ in range(args.repeats)]
    first = [_timed(partial(run_backtest, data, weights[0], lead))[0] for lead in LEADS]
    moves = [_timed(partial(run_backtest, data, w, 30))[0] for w in weights]
    suggest_s, suggestion = _timed(lambda: suggest_weights(data, weights[0], 30))
    figures = {"outcomes": float(len(data.customer_ids)), "load_s": load_s, "first_answer_max_s": max(first),
               "reweight_median_s": statistics.median(moves), "reweight_p95_s": p95(moves), "suggest_s": suggest_s}
    print(f"suggested {suggestion.weights} (cross-validated AUC {suggestion.suggested_auc}, the first random "
          f"weights {suggestion.current_auc})", file=sys.stderr)
    engine.dispose()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jobs.bench_backtest", description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=20, help="re-weightings timed")
    parser.add_argument("--store", type=Path, default=DEFAULT_STORE, help="SQLite file of the synthetic store")
    parser.add_argument("--rebuild", action="store_true", help="build the store again")
    args = parser.parse_args(argv)
    args.store.parent.mkdir(parents=True, exist_ok=True)
    figures = run(args)
    print("| measure | seconds |\n| --- | ---: |")
    for name, value in figures.items():
        print(f"| {name} | {value:,.0f} |" if name == "outcomes" else f"| {name} | {value:.3f} |")
    return 0 if figures["reweight_p95_s"] < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
