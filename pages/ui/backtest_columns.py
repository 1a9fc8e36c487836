"""Readable column labels of the Health weights tab's back-test tables (the decile lift and the band moves)."""

from __future__ import annotations

from typing import Any

import streamlit as st

DECILE_COLUMNS: dict[str, Any] = {
    "decile": st.column_config.NumberColumn("Tenth", format="%d", help="1 = the lowest scores (riskiest)."),
    "customers": st.column_config.NumberColumn("Customers", format="%d"),
    "churned": st.column_config.NumberColumn("Churned", format="%d"),
    "churn_rate": st.column_config.NumberColumn("Churn rate", format="percent"),
    "lift": st.column_config.NumberColumn("Lift", format="%.2f×", help="Churn rate ÷ the overall churn rate."),
    "min_score": st.column_config.NumberColumn("Lowest score", format="%.1f"),
    "max_score": st.column_config.NumberColumn("Highest score", format="%.1f"),
}
MOVE_COLUMNS: dict[str, Any] = {
    "from_band": st.column_config.TextColumn("Band today"),
    "to_band": st.column_config.TextColumn("Band with the candidate"),
    "customers": st.column_config.NumberColumn("Customers", format="%d"),
}
