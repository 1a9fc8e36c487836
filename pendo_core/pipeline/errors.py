"""The errors a delivery layer shows as they are: each message is one line naming the cause and the fix.

    PipelineError         a sync, or an edge it needs, cannot start or finish
    ├── StoreUnavailable  the database cannot be reached (edges.open_store); names DATABASE_URL
    └── SyncBusy          another sync holds the run lock (run.run_sync); also a SyncAlreadyRunning

The CLI prints `error: <message>` and exits 1; the API answers with the message; a page shows it.
"""

from __future__ import annotations

from pendo_core.pendo.sync.lock import SyncAlreadyRunning

__all__ = ["PipelineError", "StoreUnavailable", "SyncBusy"]


class PipelineError(RuntimeError):
    """A run or an edge that cannot go on; `str()` is one line naming the cause and the fix."""


class StoreUnavailable(PipelineError):
    """The store cannot be opened; the message names the database (never its password)."""


class SyncBusy(PipelineError, SyncAlreadyRunning):
    """Another sync holds the lock; code that knows the lock may catch SyncAlreadyRunning instead."""
