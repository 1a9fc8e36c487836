"""How far the judgments can be trusted: alerts and the health score scored against labelled truth.

Plain records in, a report out (the simulator's labelled worlds feed it, see `pendo_sim/evaluate.py`):

- **alert precision and recall per kind**. A case says which kinds (and, for feature_abandonment,
  which features) it must raise, and which it may raise without being wrong (a decline between
  clearly flat and clearly down). A required alert that is open at the end is a hit, a missing one a
  miss; an open alert neither required nor allowed is a false alert.
- **sustained-decline recall**: of the accounts whose use fell more than 25% over 28 days and
  still is down, the share with a usage_drop alert; and the usage_drop alerts on the hard
  negatives (holiday dips, weekday-only and tiny teams, month-end peaks, recovered dips, unsynced days).
- **churn AUC** of the health score (lower = riskier) beside naive single signals: the 30-day MAU
  change, recent-vs-baseline DAU (mean DAU of the last 28 days vs the 28 before), last week's mean
  DAU and days since the last login; all on the same customers. And the churn rate per band.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pendo_core.health.backtest import auc, falling
from pendo_core.health.naive import LABELS as NAIVE
from pendo_core.health.naive import RISK_SIGN
from pendo_core.health.score import COMPONENTS

BANDS = ("red", "yellow", "green")


@dataclass(frozen=True)
class Case:
    """One labelled account at the end of its world: what it should raise, what it did, its scores."""

    customer_id: str
    story: str
    expected: Mapping[str, frozenset[str]]  # kind -> the subjects it must raise ("" for the customer)
    allowed: frozenset[str]  # kinds that may fire without being false
    churned: bool
    hard_negative: bool
    sustained: bool  # its use fell more than 25% over 28 days and still is down
    alerts: frozenset[tuple[str, str]]  # (kind, subject) open at the end
    health: float | None
    band: str | None
    signals: Mapping[str, float] = field(default_factory=dict)
    components: Mapping[str, float | None] = field(default_factory=dict)


@dataclass(frozen=True)
class KindScore:
    """Hits, false alerts and misses of one alert kind."""

    kind: str
    hits: int
    false: int
    misses: int

    @property
    def precision(self) -> float | None:
        """Share of its alerts that were right (None: it never fired)."""
        return self.hits / (self.hits + self.false) if self.hits + self.false else None

    @property
    def recall(self) -> float | None:
        """Share of the required alerts it raised (None: none was required)."""
        return self.hits / (self.hits + self.misses) if self.hits + self.misses else None


@dataclass(frozen=True)
class BandChurn:
    """Customers and churners in one band."""

    band: str
    customers: int
    churned: int

    @property
    def rate(self) -> float | None:
        """Churn rate of the band (None when empty)."""
        return self.churned / self.customers if self.customers else None


def score_kind(cases: Iterable[Case], kind: str) -> KindScore:
    """Precision and recall of one kind over every case (subjects compared one by one)."""
    hits = false = misses = 0
    for case in cases:
        fired = {s for k, s in case.alerts if k == kind}
        required = set(case.expected.get(kind, frozenset()))
        hits += len(fired & required)
        misses += len(required - fired)
        false += 0 if kind in case.allowed else len(fired - required)
    return KindScore(kind, hits, false, misses)


def sustained_recall(cases: Iterable[Case]) -> tuple[int, int]:
    """(flagged, total) of the accounts with a sustained decline of more than 25% over 28 days."""
    population = [c for c in cases if c.sustained]
    return sum(any(k == "usage_drop" for k, _ in c.alerts) for c in population), len(population)


def false_alerts_on_hard_negatives(cases: Iterable[Case], kind: str = "usage_drop") -> dict[str, tuple[int, int]]:
    """Story -> (cases with a `kind` alert, cases) over the hard negatives."""
    out: dict[str, list[int]] = {}
    for case in cases:
        if case.hard_negative:
            row = out.setdefault(case.story, [0, 0])
            row[0] += any(k == kind for k, _ in case.alerts)
            row[1] += 1
    return {story: (fired, n) for story, (fired, n) in sorted(out.items())}


def churn_aucs(cases: Sequence[Case]) -> dict[str, float | None]:
    """Churn AUC of the health score and of each naive signal, on the cases that have a score."""
    scored = [c for c in cases if c.health is not None]
    churned = np.array([c.churned for c in scored])
    out = {"health": auc(-np.array([c.health for c in scored], dtype=float), churned)}
    for name, sign in RISK_SIGN.items():
        out[name] = auc(sign * np.array([c.signals[name] for c in scored], dtype=float), churned)
    return out


def churn_by_band(cases: Iterable[Case]) -> list[BandChurn]:
    """Customers and churners per band (red, yellow, green)."""
    rows = {b: [0, 0] for b in BANDS}
    for case in cases:
        if case.band in rows:
            rows[case.band][0] += 1
            rows[case.band][1] += case.churned
    return [BandChurn(b, n, c) for b, (n, c) in rows.items()]


def monotone(bands: Sequence[BandChurn]) -> bool:
    """True when churn falls from red to yellow to green (empty bands are skipped)."""
    return falling([b.rate for b in bands])


def case_frame(cases: Sequence[Case]) -> pd.DataFrame:
    """One row per case: story, churned, health, band, each component (NaN: no data) and naive signal."""
    return pd.DataFrame([{"customer_id": c.customer_id, "story": c.story, "churned": c.churned, "health": c.health,
                          "band": c.band, **{n: c.components.get(n) for n in COMPONENTS},
                          **{n: c.signals.get(n) for n in RISK_SIGN}} for c in cases], dtype=object)


def report(cases: Sequence[Case], kinds: Sequence[str]) -> list[str]:
    """The evaluation as printable lines."""
    lines = ["alert kind            hits  false  misses  precision  recall"]
    for kind in kinds:
        s = score_kind(cases, kind)
        lines.append(f"{kind:<20} {s.hits:5d} {s.false:6d} {s.misses:7d}  {_f(s.precision):>9}  {_f(s.recall):>6}")
    unlabelled = [k for k in kinds if not any(k in c.expected for c in cases)]
    if unlabelled:
        lines.append(f"(no story requires {', '.join(unlabelled)}: every such alert counts as false)")
    flagged, total = sustained_recall(cases)
    lines.append(f"sustained declines (>25% over 28 days): {flagged} of {total} flagged, recall "
                 f"{_f(flagged / total if total else None)}")
    negatives = false_alerts_on_hard_negatives(cases)
    lines.append("usage_drop on hard negatives: " + ", ".join(f"{s} {f}/{n}" for s, (f, n) in negatives.items()))
    aucs = churn_aucs(cases)
    best = max((v for k, v in aucs.items() if k != "health" and v is not None), default=None)
    ratio = aucs["health"] / best if aucs["health"] is not None and best else None
    lines.append(f"churn AUC: health {_f(aucs['health'])} ({_f(ratio)}x the best naive signal)")
    lines.extend(f"  {label:<24} {_f(aucs[name])}" for name, label in NAIVE.items())
    bands = churn_by_band(cases)
    lines.append("churn by band: " + ", ".join(f"{b.band} {_pct(b.rate)} ({b.churned}/{b.customers})" for b in bands)
                 + ("" if monotone(bands) else "  NOT MONOTONE"))
    return lines


def story_lines(cases: Sequence[Case], kinds: Sequence[str]) -> list[str]:
    """Per story: accounts, churned, mean health, and how many raised each kind (required ones in brackets)."""
    head = "story               accounts churned health  " + "  ".join(f"{k[:12]:>12}" for k in kinds)
    lines = [head]
    for story in sorted({c.story for c in cases}):
        group = [c for c in cases if c.story == story]
        health = [c.health for c in group if c.health is not None]
        cells = []
        for kind in kinds:
            fired = sum(any(k == kind for k, _ in c.alerts) for c in group)
            required = sum(kind in c.expected for c in group)
            cells.append(f"{fired:>7d} [{required:>2d}]")
        mean = f"{sum(health) / len(health):6.1f}" if health else "     -"
        lines.append(f"{story:<20}{len(group):8d}{sum(c.churned for c in group):8d} {mean}  " + "  ".join(cells))
    return lines


def _f(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f}%"
