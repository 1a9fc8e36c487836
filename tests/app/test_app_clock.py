"""The app tests do not depend on the day they run: the harness freezes every clock the screens read."""

from __future__ import annotations

import re

import pytest

from tests.support import REPO
from tests.support.app import app, run, texts
from tests.support.app_data import USERS, Store

# Where the screens may read the clock: the two modules whose reads tests/support/app.py freezes.
FROZEN = {"pages/ui/shared.py", "pages/ui/panel_ui.py"}
CLOCK_READ = re.compile(r"\b(?:date\.today|datetime\.now|datetime\.utcnow|time\.time|today_in)\(")


def test_screens_read_the_clock_only_where_the_harness_freezes_it() -> None:
    """A clock read in another page module would make the AppTests depend on the day: route it through
    pages/ui/shared.py or pages/ui/panel_ui.py (or freeze it in tests/support/app.py)."""
    sources = [REPO / "app.py", *sorted((REPO / "pages").rglob("*.py"))]
    reading = {str(p.relative_to(REPO)) for p in sources if CLOCK_READ.search(p.read_text())}
    assert reading <= FROZEN


@pytest.mark.parametrize("role", ["csm", "leader"])
def test_the_frame_reads_the_frozen_clock(app_env: Store, role: str) -> None:
    """Synced at 06:00 and opened at the harness's 09:00: the note says 3 h, whatever today is."""
    at = run(app(user=USERS[role]))
    assert any(c.endswith("Data through 18 Mar 2026 · synced 3 h ago") for c in texts(at.sidebar.caption))
    assert not any("old" in w for w in texts(at.warning))
