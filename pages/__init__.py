"""Streamlit pages: they only render; data comes from the cached loaders in pages/ui/shared.py."""
