"""Reading a drawn chart back in AppTest: the Vega-Lite spec's Arrow datasets as frames, one legend entry's
values by day."""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
import pyarrow as pa


def datasets(chart: Any) -> list[pd.DataFrame]:
    """Each Arrow dataset of a drawn Vega-Lite chart (an AppTest element) as a frame."""
    return [pa.ipc.open_stream(io.BytesIO(d.data.data)).read_pandas() for d in chart.proto.datasets]


def series(chart: Any, label: str) -> pd.Series:
    """The values of one legend entry of a `charts.lines` chart (its long-form dataset), by day."""
    long = next(f for f in datasets(chart) if "series" in f.columns and label in set(f["series"]))
    rows = long[long["series"] == label]
    return rows.set_index(pd.to_datetime(rows["metric_date"]))["value"].astype(float)
