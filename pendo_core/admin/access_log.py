"""The access log (`app_audit_log`): who did what in the app and when: sign-ins, admin writes,
tokens, mapping decisions, settings saves. Not to be confused with the data-quality audit
(`pendo_core.pendo.quality_audit`), which compares the store with Pendo.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

from pendo_core.store import models

__all__ = ["record"]


def record(session: Session, actor: str, action: str, details: dict[str, Any] | None = None) -> None:
    """Append one action to the access log (in the caller's transaction)."""
    session.add(models.AuditLog(actor=actor, action=action, details=details, at=datetime.now(UTC)))
