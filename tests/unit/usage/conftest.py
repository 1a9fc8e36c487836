"""Fixtures of the metrics tests."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine


@pytest.fixture
def store(engine: Engine) -> Engine:
    """A migrated, empty store on SQLite and on PostgreSQL (`engine`, under the name these tests read best with)."""
    return engine
