"""The mapping step of a sync: accounts new to the store are matched to customers (mapping.py's rules)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from pendo_core.common.config import Settings
from pendo_core.customers.repo import refresh_mapping
from pendo_core.pendo.sync.runner import PostStep, RunSummary, SyncRequest


def make_mapping_step(settings: Settings) -> PostStep:
    """The post-window step that maps unmapped Pendo accounts (automatic matches, suggestions)."""

    def mapping_step(engine: Engine, request: SyncRequest, summary: RunSummary) -> None:
        """Match every unmapped account against the customers, in one transaction."""
        with Session(engine) as session, session.begin():
            refresh_mapping(session)

    return mapping_step
