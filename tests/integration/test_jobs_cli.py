"""`python -m jobs` as operators and outside checks run it: exit codes and one-line reasons."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from pendo_core.store import models
from pendo_sim.data import Subscription, generate
from pendo_sim.server import SimServer, start_server
from tests.support import REPO

ROOT = REPO
GOOD = "3f2b8c1e-2f1a-4c7e-9a55-0c6c1f1e9a01"


@pytest.fixture(scope="module")
def subscription() -> Subscription:
    return generate(seed=5, accounts=8, days=60, as_of=date(2024, 3, 20), tz="UTC")


@pytest.fixture
def server(subscription: Subscription) -> Iterator[SimServer]:
    sim = start_server(subscription)
    yield sim
    sim.stop()


def _jobs(engine: Engine, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    url = engine.url.render_as_string(hide_password=False)
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("PENDO_")}
    full_env = {**inherited, "DATABASE_URL": url, **env}
    return subprocess.run([sys.executable, "-m", "jobs", *args], cwd=ROOT, env=full_env, capture_output=True,
                          text=True, timeout=300, check=False)


def test_sync_succeeds_and_reports(engine: Engine, server: SimServer) -> None:
    """Exit 0 and a summary line; the run is recorded as a success."""
    done = _jobs(engine, "sync", "--as-of", "2024-03-20", "--backfill-days", "3",
                 PENDO_INTEGRATION_KEY="demo-key", PENDO_BASE_URL=server.url)
    assert done.returncode == 0, done.stderr
    assert "ok: days 2024-03-17..2024-03-19" in done.stdout
    with engine.connect() as conn:
        assert conn.scalar(select(models.SyncRun.status).order_by(models.SyncRun.id.desc())) == "success"


def test_wrong_key_says_wrong_key_or_region(engine: Engine, server: SimServer) -> None:
    """A refused key: non-zero exit, one line naming the cause, and the key never printed."""
    secret = "not-the-key-8f3a91"
    done = _jobs(engine, "sync", "--backfill-days", "2", PENDO_INTEGRATION_KEY=secret, PENDO_BASE_URL=server.url)
    assert done.returncode != 0
    error_lines = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(error_lines) == 1
    assert "wrong key or wrong region" in error_lines[0]
    assert secret not in done.stderr + done.stdout
    with engine.connect() as conn:
        run = conn.execute(select(models.SyncRun.status, models.SyncRun.error)).one()
    assert run.status == "failed"
    assert secret not in (run.error or "")


def test_unreachable_database_is_one_line(tmp_path: Path) -> None:
    """A store that cannot be reached: exit non-zero with a line that names DATABASE_URL, no trace."""
    env = {**os.environ, "DATABASE_URL": "postgresql://nobody:secretpw@127.0.0.1:1/none"}
    done = subprocess.run([sys.executable, "-m", "jobs", "sync"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode != 0
    assert "DATABASE_URL" in done.stderr
    assert "Traceback" not in done.stderr
    assert "secretpw" not in done.stderr


def test_import_customers_reports_bad_lines_by_number(engine: Engine, tmp_path: Path) -> None:
    """Bad lines are named by line number and skipped; good lines land."""
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "customer_id,name,domain,segment,arr,renewal_date,csm_name,csm_email,pendo_account_ids\n"
        f"{GOOD},Acme Corp,acme.com,Enterprise,120000,2025-01-31,Dana Lee,dana@cscx.example,acct-1;acct-2\n"
        "not-a-uuid,Broken Inc,broken.com,,,,,,\n"
        "1c7d2a3b-8e9f-4a0b-9c1d-2e3f4a5b6c7d,Beta LLC,beta.io,SMB,abc,,,,\n",
        encoding="utf-8",
    )
    done = _jobs(engine, "import-customers", str(csv))
    assert done.returncode == 0, done.stderr
    assert "line 3" in done.stderr
    assert "line 4" in done.stderr
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(models.Customer)) == 1
        mapped = set(conn.scalars(select(models.AccountMapping.pendo_account_id)))
    assert mapped == {"acct-1", "acct-2"}


def test_missing_file_is_an_error(engine: Engine, tmp_path: Path) -> None:
    """A path that is not there: exit 1 and the path in the message."""
    done = _jobs(engine, "import-customers", str(tmp_path / "nope.csv"))
    assert done.returncode == 1
    assert "nope.csv" in done.stderr
