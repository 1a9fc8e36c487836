"""CSCX Pendo Usage: sync, mapping, metrics, health and alerts over Pendo product-usage data."""
