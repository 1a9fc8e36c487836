"""The band preview: how candidate health weights and bands would re-band the customers scored on the
newest day, from their stored components (no re-computation of inputs)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy import Engine, func, select

from pendo_core.admin.settings import HealthSettings
from pendo_core.health import score
from pendo_core.health.backtest import BANDS
from pendo_core.store import models

__all__ = ["BandPreview", "latest_components", "preview_bands"]


def latest_components(engine: Engine) -> pd.DataFrame:
    """The newest scored day's stored components and band of every customer (for the band preview)."""
    h = models.HealthScore
    with engine.connect() as conn:
        last = conn.execute(select(func.max(h.score_date))).scalar()
        if last is None:
            return pd.DataFrame(columns=["customer_id", "score_date", "band", *score.COMPONENTS])
        stmt = select(h.customer_id, h.score_date, h.band, *(getattr(h, n) for n in score.COMPONENTS))
        rows = conn.execute(stmt.where(h.score_date == last)).all()
    return pd.DataFrame(rows, columns=["customer_id", "score_date", "band", *score.COMPONENTS])


@dataclass(frozen=True)
class BandPreview:
    """How candidate health settings would re-band the customers scored on the newest day."""

    customers: int
    changed: int
    moves: pd.DataFrame  # from_band, to_band, customers (only the bands that change)
    counts: pd.DataFrame  # band, now, candidate


def preview_bands(latest: pd.DataFrame, health: HealthSettings) -> BandPreview:
    """Re-score the stored components with candidate weights and bands; count who changes band."""
    bands = list(BANDS)
    if latest.empty:
        empty = pd.DataFrame({"band": bands, "now": 0, "candidate": 0})
        return BandPreview(0, 0, pd.DataFrame(columns=["from_band", "to_band", "customers"]), empty)
    values = {n: latest[n].to_numpy(dtype=float) for n in score.COMPONENTS}
    overall, _ = score.combine(values, health.weights.as_dict(), health.coverage_floor)
    candidate = score.bands(overall, health.red_below, health.green_from)
    now = latest["band"].to_numpy(dtype=str)
    moved = pd.DataFrame({"from_band": now, "to_band": candidate})[now != candidate]
    moves = moved.value_counts().rename("customers").reset_index()
    counts = pd.DataFrame({"band": bands, "now": [int((now == b).sum()) for b in bands],
                           "candidate": [int((candidate == b).sum()) for b in bands]})
    return BandPreview(len(latest), int(np.sum(now != candidate)), moves, counts)
