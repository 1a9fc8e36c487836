"""The one place a sync run is composed and started; the CLI, the scheduler, the app and the API all come here.

    run     starts a run: `run_sync` (the lock, secrets, client, windows, then the steps in order)
    edges   builds the edges a run needs from Settings: the store (`open_store`), the Pendo client
    errors  the errors a delivery layer shows as they are (PipelineError and its kinds)

Inside, imports go down that list only (a layers contract in pyproject.toml). Delivery layers import
from here; what is not re-exported below stays the submodules' own (tests reach it there). Callers
start a run as `pipeline.run_sync`, looked up on this package, so a test can stand in for it here.
"""

from __future__ import annotations

from pendo_core.pipeline.edges import DEMO_HISTORY_DAYS, open_store, pendo_client, use_demo_server
from pendo_core.pipeline.errors import PipelineError, StoreUnavailable, SyncBusy
from pendo_core.pipeline.run import INGEST_STEPS, brief, check_operations, describe, run_sync, sync_runner

__all__ = [
    "DEMO_HISTORY_DAYS",
    "INGEST_STEPS",
    "PipelineError",
    "StoreUnavailable",
    "SyncBusy",
    "brief",
    "check_operations",
    "describe",
    "open_store",
    "pendo_client",
    "run_sync",
    "sync_runner",
    "use_demo_server",
]
