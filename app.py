"""The app's frame: navigation, sidebar and data freshness. Pages only render."""

from __future__ import annotations

import streamlit as st

from pages import shared

st.set_page_config(page_title="CSCX · Pendo Usage", page_icon="📈", layout="wide")

navigation = st.navigation(
    {"Customer": [st.Page("pages/account_usage.py", title="Account usage", icon="📊", default=True)]}
)
st.sidebar.title("CSCX · Pendo Usage")
shared.show_freshness()
navigation.run()
