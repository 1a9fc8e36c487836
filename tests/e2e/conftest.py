"""Browser suite: Playwright drives Debian's Chromium against a real `streamlit run app.py`.

Once per test session (all browser tests run on one xdist worker: this conftest puts every test
under tests/e2e in the xdist group "browser"):
- a temp store is loaded by `python -m jobs demo` (40 demo accounts from the built-in simulator),
  with the demo users (`pendo_core.admin.users.ensure_demo_users`, password `demo`), and health scores
  and alerts computed when the demo load did not compute them already;
- the app is started on a free loopback port and stopped at the end.

Fixtures for browser tests (also helper pages' suites, e.g. test_browser_admin.py):
- `app_url` -> str: the running app, e.g. "http://127.0.0.1:50123".
- `demo_users` -> dict role -> e-mail ("csm" is a demo CSM who owns customers; "leader"; "admin").
- `demo_store_url` -> str: the store's DATABASE_URL, to check what a click wrote.
- `browser` -> playwright Browser (Chromium at /usr/bin/chromium, never downloaded).
- `signed_in_page` -> callable(role) -> playwright Page signed in as that role's demo user, on the
  first screen; each call opens a new browser context (a new Streamlit session), closed at the end.
Helpers (tests/e2e/support.py): `open_screen(page, title)` clicks the sidebar menu entry and waits
for the page to settle; `settle(page)` waits until the script run and the charts are done;
`screenshot(page, name)` saves a full-page PNG as screenshots/<name>.png (the folder the README
names); `sign_in(page, app_url, email)` signs in through the form.

Without Chromium the browser tests are skipped, or fail when REQUIRE_BROWSER=1 (as in CI).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.support import CHROMIUM, CHROMIUM_ARGS, ROOT, sign_in

DEMO_ACCOUNTS = "40"
START_TIMEOUT_S = 60


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep every browser test on one xdist worker, so the demo store and the app start once."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.xdist_group("browser"))


def _require_browser() -> None:
    """Skip without Chromium or Playwright; fail instead when REQUIRE_BROWSER=1."""
    problem = None if CHROMIUM.is_file() else f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright package is not installed"
    if problem is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required (REQUIRE_BROWSER=1) but {problem}")
    pytest.skip(problem)


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PENDO_INTEGRATION_KEY", "PENDO_BASE_URL")}
    return env | {"DATABASE_URL": url, "DEMO_ACCOUNTS": DEMO_ACCOUNTS, "PYTHONPATH": str(ROOT)}


@pytest.fixture(scope="session")
def demo_store_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A temp SQLite store loaded by `python -m jobs demo`, with demo users, scores and alerts."""
    _require_browser()
    work = tmp_path_factory.mktemp("e2e")
    url = f"sqlite:///{work / 'demo.db'}"
    done = subprocess.run([sys.executable, "-m", "jobs", "demo"], cwd=work, env=_env(url), capture_output=True,
                          text=True, timeout=600, check=False)
    if done.returncode != 0:
        pytest.fail(f"`python -m jobs demo` failed ({done.returncode}): {done.stderr[-2000:]}")
    _complete_demo(url)
    return url


# Names the full demo (`jobs demo` with its default size) gives and a 136 px Customer column clipped; the
# small demo of these tests draws shorter ones, so two of its customers are renamed to them, the demo CSM's
# and another CSM's, and the cut-off checks meet them on every screen that lists customers.
LONG_NAMES = ("Contoso Manufacturing", "Yarrow Technologies, Inc.", "Wingtip Manufacturing")


def _long_names(session: Any) -> None:
    from sqlalchemy import select

    from pendo_core.admin.users import demo_logins
    from pendo_core.store import models

    session.flush()  # the demo users just ensured
    csm = next(u.email for u in demo_logins(session) if u.role == "csm")  # as `demo_users` picks it
    c = models.Customer
    mine = session.scalars(select(c).where(c.csm_email == csm).order_by(c.name)).all()
    others = session.scalars(select(c).where(c.csm_email != csm).order_by(c.name)).all()
    for customer, name in zip([*mine[:2], *others[:1]], LONG_NAMES, strict=False):
        customer.name = name


def _complete_demo(url: str) -> None:
    """Demo users, and health scores and alerts when the demo load did not compute them."""
    from datetime import date, timedelta

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from pendo_core.admin.users import ensure_demo_users
    from pendo_core.alerts.job import evaluate_alerts
    from pendo_core.health.job import compute_health
    from pendo_core.store import models
    from pendo_core.store.engine import make_engine

    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        ensure_demo_users(session)
        _long_names(session)
    with Session(engine) as session:
        first, last = session.execute(select(func.min(models.UsageMetric.metric_date),
                                             func.max(models.UsageMetric.metric_date))).one()
        scored = session.scalar(select(func.count()).select_from(models.HealthScore))
        alerts = session.scalar(select(func.count()).select_from(models.UsageAlert))
    if not scored:
        compute_health(engine, date.fromisoformat(str(first)), date.fromisoformat(str(last)))
    if not alerts:
        evaluate_alerts(engine, date.fromisoformat(str(last)) + timedelta(days=1))
    engine.dispose()


@pytest.fixture(scope="session")
def demo_users(demo_store_url: str) -> dict[str, str]:
    """The demo sign-in of each role (password `demo`)."""
    from sqlalchemy.orm import Session

    from pendo_core.admin.users import DEMO_ADMIN, DEMO_LEADER, demo_logins
    from pendo_core.store.engine import make_engine

    engine = make_engine(demo_store_url)
    with Session(engine) as session:
        csms = [u.email for u in demo_logins(session) if u.role == "csm"]
    engine.dispose()
    return {"csm": csms[0], "leader": DEMO_LEADER, "admin": DEMO_ADMIN}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def app_url(demo_store_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`streamlit run app.py` on the demo store, on a free loopback port, for the whole session."""
    port = _free_port()
    log = (tmp_path_factory.mktemp("e2e-app") / "streamlit.log").open("w")
    command = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
               "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
    proc = subprocess.Popen(command, cwd=ROOT, env=_env(demo_store_url), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(url, proc)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"streamlit exited with {proc.returncode} before serving {url}")
        try:
            if httpx.get(f"{url}/_stcore/health", timeout=2).text.strip() == "ok":
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)  # polling a child process we started; nothing to inject here
    pytest.fail(f"streamlit did not answer on {url} within {START_TIMEOUT_S} s")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium through Playwright (headless)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def signed_in_page(browser: Any, app_url: str, demo_users: dict[str, str]) -> Iterator[Callable[[str], Any]]:
    """A factory: signed_in_page("csm" | "leader" | "admin") -> a Page signed in on the first screen."""
    contexts: list[Any] = []

    def open_as(role: str) -> Any:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        contexts.append(context)
        page = context.new_page()
        sign_in(page, app_url, demo_users[role])
        return page

    yield open_as
    for context in contexts:
        context.close()
