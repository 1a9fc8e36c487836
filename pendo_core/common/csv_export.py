"""CSV downloads a spreadsheet cannot turn into formulas (OWASP "CSV injection").

Customer, feature and visitor names come from imports and from Pendo, so anyone who can name a
customer `=HYPERLINK(...)` or a visitor `+cmd|' /C calc'!A0` could make a CSM's spreadsheet run it.
As OWASP recommends, a text cell (or column name) starting with `=`, `+`, `-`, `@`, a tab or a
carriage return gets a leading single quote, which spreadsheets show as text. Numbers stay numbers:
numeric columns are not touched, and neither is a text cell that is only a number (`-12.5`, `+3%`),
which no spreadsheet can run.

Every CSV download of the app goes through `to_csv_bytes` (a test holds the pages to it).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

__all__ = ["FORMULA_PREFIXES", "neutralise", "safe_frame", "to_csv_bytes", "to_csv_text"]

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?")


def neutralise(value: Any) -> Any:
    """A text value starting like a formula, quoted so it stays text; anything else unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every text cell and column name neutralised; numeric columns untouched."""
    out = frame.rename(columns=neutralise)
    for position, dtype in enumerate(out.dtypes):
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_datetime64_any_dtype(dtype):
            continue  # numbers and timestamps cannot start a formula
        column = out.iloc[:, position]
        out.isetitem(position, column.astype(object).map(neutralise, na_action="ignore"))
    return out


def to_csv_text(frame: pd.DataFrame) -> str:
    """CSV text (no index) of `frame`, safe to open in a spreadsheet."""
    text: str = safe_frame(frame).to_csv(index=False)
    return text


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV (no index) of `frame`, safe to open in a spreadsheet."""
    return to_csv_text(frame).encode("utf-8")
