"""Helpers the test suites share (builders, reference computations, harnesses); fixtures live in conftest.py."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
