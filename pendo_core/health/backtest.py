"""Back-test of the health score against renewal outcomes, fast enough to follow a slider.

`load_backtest` reads the stored components (and DAU and MAU, for the naive signals) of every customer
with an outcome once; `run_backtest` then re-weights them for any candidate weights and lead time
in milliseconds. The score "at lead time L" of an outcome on day o is the newest stored score in
[o - L - 6, o - L]; outcomes without one are skipped and counted.

- AUC: the probability that a churned customer scores below a renewed one (ties count half),
  i.e. the Mann-Whitney statistic of the score as a churn predictor; None without both outcomes.
- Naive signals: the same AUC for each naive single signal (`naive.py`, as `jobs evaluate` reads
  them), read on the day of the score, on the same customers.
- Churn rate per band; decile lift: customers sorted by score, riskiest first, cut in ten equal
  groups; lift = the group's churn rate ÷ the overall churn rate.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, String, cast, select

from pendo_core.health import naive, score
from pendo_core.store.arrow import transposed
from pendo_core.store.models import HealthScore, Outcome, UsageMetric
from pendo_core.store.scope import IN_CHUNK, chunks, unindexed

TOLERANCE_DAYS = 7
BANDS = ("red", "yellow", "green", score.INSUFFICIENT)


@dataclass
class BacktestData:
    """Per outcome (rows) and day (columns from `start`): stored components, a score-row flag, DAU and MAU."""

    customer_ids: list[str]
    outcome_dates: list[date]
    churned: np.ndarray
    outcome_col: np.ndarray
    start: date
    components: dict[str, np.ndarray]
    has_score: np.ndarray
    mau: np.ndarray
    dau: np.ndarray
    lead_cache: dict[int, tuple[np.ndarray, dict[str, np.ndarray]]] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class BandRate:
    """Outcomes whose score fell in a band, and how many of them churned."""

    band: str
    customers: int
    churned: int
    churn_rate: float | None


@dataclass(frozen=True)
class DecileRow:
    """One tenth of the scored outcomes, riskiest first (decile 1 = lowest scores)."""

    decile: int
    customers: int
    churned: int
    churn_rate: float
    lift: float | None
    min_score: float
    max_score: float


@dataclass(frozen=True)
class BacktestReport:
    """The back-test of one set of weights at one lead time."""

    lead_days: int
    outcomes: int
    scored: int
    skipped: int  # outcomes without a score at the lead time: no stored score there, or insufficient data
    churned: int
    auc: float | None
    naive_aucs: dict[str, float | None]
    bands: list[BandRate]
    deciles: list[DecileRow]
    no_score: int = 0  # of `skipped`: no stored score within TOLERANCE_DAYS of the lead date (e.g. renewals
    # after the last synced day), counted in no band; the rest are the "insufficient data" band

    @property
    def best_naive(self) -> tuple[str, float] | None:
        """(signal, AUC) of the naive single signal that ranks churners best; None without any AUC."""
        known = [(name, value) for name, value in self.naive_aucs.items() if value is not None]
        return max(known, key=lambda item: item[1]) if known else None

    @property
    def monotone(self) -> bool:
        """True when churn falls from red to yellow to green (bands without customers are skipped)."""
        return falling([b.churn_rate for b in self.bands if b.band != score.INSUFFICIENT])


def load_backtest(engine: Engine, max_lead_days: int = 120) -> BacktestData:
    """Read every outcome and the stored scores, DAU and MAU it can need, once."""
    with engine.connect() as conn:
        outcomes = conn.execute(select(Outcome.customer_id, Outcome.outcome_date, Outcome.outcome)
                                .order_by(Outcome.customer_id, Outcome.outcome_date)).all()
    if not outcomes:
        return _empty()
    first = min(o.outcome_date for o in outcomes) - timedelta(days=max_lead_days + TOLERANCE_DAYS + naive.HISTORY_DAYS)
    last = max(o.outcome_date for o in outcomes)
    customers = sorted({o.customer_id for o in outcomes})
    scores, usage = _read_scores(engine, customers, first, last), _read_usage(engine, customers, first, last)
    index = {c: i for i, c in enumerate(customers)}
    rows = np.array([index[o.customer_id] for o in outcomes])
    days, n = (last - first).days + 1, len(customers)
    comp = {name: _grid(scores, name, n, days)[rows] for name in score.COMPONENTS}
    flag = _grid(scores, None, n, days)[rows] == 1.0
    return BacktestData([o.customer_id for o in outcomes], [o.outcome_date for o in outcomes],
                        np.array([o.outcome == "churned" for o in outcomes]),
                        np.array([(o.outcome_date - first).days for o in outcomes]), first, comp, flag,
                        *(_grid(usage, name, n, days)[rows] for name in ("mau", "dau")))


def run_backtest(data: BacktestData, weights: Mapping[str, float], lead_days: int = 30, *,
                 red_below: float = 50.0, green_from: float = 75.0, coverage_floor: float = 0.5) -> BacktestReport:
    """AUC, the naive signals' AUCs, churn rate per band and decile lift for candidate weights at a lead time."""
    if not data.customer_ids:
        return BacktestReport(lead_days, 0, 0, 0, 0, None, dict.fromkeys(naive.LABELS),
                              [BandRate(b, 0, 0, None) for b in BANDS], [])
    cols, picked = components_at(data, lead_days)
    overall, _ = score.combine(picked, weights, coverage_floor)
    unscored = cols < 0  # nothing stored at the lead date: not "insufficient data", just not known yet
    band = np.where(unscored, "", score.bands(overall, red_below, green_from))
    ok = ~np.isnan(overall)
    return BacktestReport(
        lead_days, len(cols), int(ok.sum()), int((~ok).sum()), int(data.churned.sum()),
        auc(-overall[ok], data.churned[ok]), naive_aucs(data, lead_days, ok),
        [_band_rate(b, band, data.churned) for b in BANDS], deciles(overall[ok], data.churned[ok]),
        int(unscored.sum()),
    )


def components_at(data: BacktestData, lead_days: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(column of each outcome's score at the lead time, -1 when none; its stored components, NaN when none)."""
    cols = _lead(data, lead_days)[0]
    rows = np.arange(len(data.customer_ids))
    picked = {n: np.where(cols >= 0, grid[rows, np.clip(cols, 0, None)], np.nan)
              for n, grid in data.components.items()}
    return cols, picked


def naive_aucs(data: BacktestData, lead_days: int, scored: np.ndarray) -> dict[str, float | None]:
    """Churn AUC of each naive signal read on the day of each outcome's score, over the `scored` outcomes."""
    signals = _lead(data, lead_days)[1]
    return {name: auc(naive.RISK_SIGN[name] * values[scored], data.churned[scored]) for name, values in signals.items()}


def _lead(data: BacktestData, lead_days: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(score column, naive signals on it) per outcome at a lead time, computed once per loaded data."""
    if lead_days not in data.lead_cache:
        cols = _score_columns(data, lead_days)
        data.lead_cache[lead_days] = (cols, naive.naive_signals(data.dau, data.mau, cols))
    return data.lead_cache[lead_days]


def falling(rates: Sequence[float | None]) -> bool:
    """True when the known rates fall strictly, first to last (unknown ones are skipped)."""
    known = [r for r in rates if r is not None]
    return all(a > b for a, b in itertools.pairwise(known))


def score_warnings(report: BacktestReport) -> list[str]:
    """What is wrong with a score by its back-test: bands pointing the wrong way, or a naive signal ranking better."""
    out = []
    if not report.monotone:
        rates = ", ".join(f"{b.band} {b.churn_rate:.0%} ({b.churned} of {b.customers})" for b in report.bands
                          if b.churn_rate is not None and b.band != score.INSUFFICIENT)
        out.append(f"The bands do not mean what they say: churn should fall from red to yellow to green, but it is "
                   f"{rates}.")
    best = report.best_naive
    if best is not None and report.auc is not None and report.auc < best[1]:
        out.append(f"The score ranks churners worse than a single naive signal: AUC {report.auc:.3f} against "
                   f"{best[1]:.3f} for {naive.LABELS[best[0]]}.")
    return out


def auc(risk: np.ndarray, positive: np.ndarray) -> float | None:
    """Area under the ROC curve of `risk` for `positive` (Mann-Whitney, ties count half)."""
    risk, positive = np.asarray(risk, dtype=float), np.asarray(positive, dtype=bool)
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = _average_ranks(risk)
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def deciles(overall: np.ndarray, churned: np.ndarray) -> list[DecileRow]:
    """Ten groups of (nearly) equal size by score, lowest first, with churn rate and lift."""
    if len(overall) == 0:
        return []
    order = np.argsort(overall, kind="stable")
    base = churned.mean()
    out: list[DecileRow] = []
    for i, part in enumerate(np.array_split(order, min(10, len(order))), start=1):
        rate = float(churned[part].mean())
        out.append(DecileRow(i, len(part), int(churned[part].sum()), rate, float(rate / base) if base else None,
                             float(overall[part].min()), float(overall[part].max())))
    return out


def _average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks, tied values sharing their average rank."""
    order = np.argsort(values, kind="stable")
    _, first, counts = np.unique(values[order], return_index=True, return_counts=True)
    averaged = np.repeat(first + (counts + 1) / 2.0, counts)
    ranks = np.empty(len(values))
    ranks[order] = averaged
    return ranks


def _score_columns(data: BacktestData, lead_days: int) -> np.ndarray:
    """Per outcome, the column of the newest stored score within the tolerance (-1: none)."""
    rows = np.arange(len(data.customer_ids))
    chosen = np.full(len(rows), -1)
    for back in range(TOLERANCE_DAYS - 1, -1, -1):  # nearest day last, so it wins
        col = data.outcome_col - lead_days - back
        inside = (col >= 0) & (col < data.has_score.shape[1])
        hit = inside.copy()
        hit[inside] = data.has_score[rows[inside], col[inside]]
        chosen = np.where(hit, col, chosen)
    return chosen


def _band_rate(band: str, bands: np.ndarray, churned: np.ndarray) -> BandRate:
    inside = bands == band
    n, c = int(inside.sum()), int(churned[inside].sum())
    return BandRate(band, n, c, (c / n) if n else None)


@dataclass(frozen=True)
class _Cells:
    """Stored cells of (customer, day): their row (customer index) and column (day offset), and the values."""

    rows: np.ndarray
    cols: np.ndarray
    values: dict[str, np.ndarray]


def _read_scores(engine: Engine, customers: list[str], first: date, last: date) -> _Cells:
    t = HealthScore.__table__
    columns = [t.c.customer_id, t.c.score_date, *(t.c[n] for n in score.COMPONENTS)]
    # every row of the range wanted: on SQLite a scan beats a lookup per row (its index does not cover it)
    return _read(engine, columns, customers=customers, first=first, last=last, scan=True)


def _read_usage(engine: Engine, customers: list[str], first: date, last: date) -> _Cells:
    t = UsageMetric.__table__
    return _read(engine, [t.c.customer_id, t.c.metric_date, t.c.dau, t.c.mau], customers=customers, first=first,
                 last=last)


def _read(engine: Engine, columns: list[Any], *, customers: list[str], first: date, last: date,
          scan: bool = False) -> _Cells:
    """The value columns of the customers' cells in [first, last], column by column (no frame of rows).

    Many customers (every outcome's, typically most of the store) are read as one range of days (`scan`:
    without its index on SQLite) and the others dropped here; a few by their ids. Rows come as the driver's
    tuples (days as ISO text, numbers as numbers): SQLAlchemy's row objects and a frame of 10^5 rows cost
    seconds at 5,000 customers."""
    customer_col, day_col, values = columns[0], columns[1], columns[2:]
    stmt = select(customer_col, cast(day_col, String), *values)
    if len(customers) > IN_CHUNK:
        stmts = [stmt.where((unindexed(day_col) if scan else day_col).between(first, last))]
    else:
        stmts = [stmt.where(day_col.between(first, last), customer_col.in_(chunk)) for chunk in chunks(customers)]
    fetched: list[Any] = []
    with engine.connect() as conn:
        for each in stmts:
            fetched.extend(conn.execute(each).cursor.fetchall())  # the DBAPI cursor's plain tuples
    if not fetched:
        return _Cells(np.zeros(0, int), np.zeros(0, int), {c.name: np.zeros(0) for c in values})
    ids, days, *numbers = transposed(fetched, 2 + len(values))
    iso = pd.Index([(first + timedelta(days=k)).isoformat() for k in range((last - first).days + 1)])
    rows, cols = pd.Index(customers).get_indexer(ids), iso.get_indexer(days)
    keep = (rows >= 0) & (cols >= 0)
    return _Cells(rows[keep], cols[keep], {c.name: np.array(n, dtype=float)[keep]
                                           for c, n in zip(values, numbers, strict=True)})


def _grid(cells: _Cells, column: str | None, customers: int, days: int) -> np.ndarray:
    """customers x days of a column's values (NaN where no cell); None: 1.0 on every stored cell."""
    out = np.full((customers, days), np.nan)
    out[cells.rows, cells.cols] = 1.0 if column is None else cells.values[column]
    return out


def _empty() -> BacktestData:
    none = np.zeros((0, 0))
    return BacktestData([], [], np.zeros(0, bool), np.zeros(0, int), date.min, dict.fromkeys(score.COMPONENTS, none),
                        np.zeros((0, 0), bool), none, none)
