"""The customer header on every per-customer screen (Account usage with its People section, Feature
adoption, Guides, Health), for each role: name, owner, segment, ARR with its currency, renewal and days
to it, health score, band and 28-day change, open alerts by severity linked to the inbox. And the
Account usage deltas: like with like, and never green for a declining customer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, update
from streamlit.proto.Metric_pb2 import Metric
from streamlit.testing.v1 import AppTest

from pages.ui import customer_header
from pendo_core.admin.users import User
from pendo_core.store.models import Customer
from tests.support.app import TODAY, open_page, texts
from tests.support.app_data import ACME, ADMIN, CSM, GLOBEX, INITECH, LAST, LEADER
from tests.support.health_alerts import table_insert

CUSTOMER_PAGES = ["pages/account_usage.py", "pages/features.py", "pages/guides.py", "pages/health.py"]
USERS = {"csm": CSM, "leader": LEADER, "admin": ADMIN}


@pytest.fixture
def acme_store(store: Engine) -> Engine:
    """The hand-built store; Acme (score 70.0, yellow, +14.0 in 28 days, one high alert) gets an ARR,
    a segment and a renewal in 45 days."""
    with store.begin() as conn:
        conn.execute(update(Customer).where(Customer.customer_id == ACME).values(
            arr=168_000.0, segment="Enterprise", renewal_date=TODAY + timedelta(days=45)))
    return store


def _header(at: AppTest) -> str:
    return " ".join(texts(at.markdown))


@pytest.mark.parametrize("page", CUSTOMER_PAGES, ids=lambda p: p.split("/")[-1][:-3])
@pytest.mark.parametrize("role", list(USERS))
def test_every_customer_page_has_the_header(acme_store: Engine, page: str, role: str) -> None:
    """Each per-customer screen opens with the same header, for every role."""
    at = open_page(page, USERS[role], frame_customer=ACME)
    assert not at.exception
    header = _header(at)
    renewal = TODAY + timedelta(days=45)
    for piece in ("**Acme Corp**", ":gray[Enterprise · Owner: Maya Chen]", "**Health**  \n70.0 :orange-badge[Yellow]",
                  ":green[▲ +14.0 pts in 28 days]", "**ARR**  \n$168,000",
                  f"**Renewal**  \n{renewal:%d %b %Y}  \n:orange[in 45 days]",
                  "**Open alerts**  \n:red-badge[1 high]"):
        assert piece in header, piece
    links = [(e.proto.label, e.proto.query_string) for e in at.get("page_link")]
    assert links == [("1 open alert(s): see Alerts", f"customer={ACME}")]


@pytest.mark.parametrize(("customer", "pieces", "links"), [
    (GLOBEX, ["**Globex**", ":gray[No segment · Owner: Jordan Ellis]", "40.0 :red-badge[Red]",
              ":gray[unchanged in 28 days]", "**ARR**  \n–", ":gray[No renewal date]", ":orange-badge[1 medium]"], 1),
    (INITECH, ["**Initech**", ":gray[Not scored yet]", "**Open alerts**  \n:gray[None]"], 0),
], ids=["red-without-arr-or-renewal", "never-scored-no-alerts"])
def test_the_header_says_what_is_missing(acme_store: Engine, customer: str, pieces: list[str], links: int) -> None:
    """No ARR, renewal, score or alert reads as such, never as a zero; no alert, no link."""
    at = open_page("pages/health.py", LEADER, frame_customer=customer)
    assert all(p in _header(at) for p in pieces), _header(at)
    assert len(at.get("page_link")) == links


def test_the_people_section_sits_under_the_header(acme_store: Engine) -> None:
    """Account usage (which holds the People section) draws the header first, once."""
    _declining_usage(acme_store)
    at = open_page("pages/account_usage.py", CSM, frame_customer=ACME)
    header = _header(at)
    assert header.count("**Acme Corp**") == 1
    assert any("People" in t for t in texts(at.markdown))


def _declining_usage(engine: Engine, silent_days: int = 0) -> None:
    """Acme: 20 daily users of 40 monthly for weeks, then 8 of 9 in the last 7 days (stickiness rises as
    MAU falls faster); nobody at all in the last `silent_days`."""
    rows: list[dict[str, Any]] = []
    for back in range(42):
        recent = back < 7
        dau, mau = (8, 9) if recent else (20, 40)
        dau = 0 if back < silent_days else dau
        rows.append({"customer_id": ACME, "metric_date": LAST - timedelta(days=back), "pendo_account_id": "acct-acme",
                     "dau": dau, "wau": dau + 1, "mau": mau, "active_visitors": 45, "session_count": dau,
                     "avg_session_minutes": 10.0, "page_views": 5 * dau, "feature_events": dau,
                     "time_in_app_minutes": 10.0 * dau})
    table_insert(engine, "pendo_usage_metrics", rows)


@pytest.mark.parametrize("user", [CSM, LEADER, ADMIN], ids=["csm", "leader", "admin"])
def test_a_declining_customer_never_shows_green(acme_store: Engine, user: User) -> None:
    """DAU's 7-day mean against the 4 weeks before is down and red; stickiness, up only because MAU fell,
    is grey; nothing is green."""
    _declining_usage(acme_store)
    at = open_page("pages/account_usage.py", user, frame_customer=ACME)
    cards = {m.label: m.proto for m in at.metric}
    assert (cards["DAU, 7-day mean"].body, cards["DAU, 7-day mean"].delta) == ("8.0", "-60%")
    assert cards["DAU, 7-day mean"].color == Metric.MetricColor.RED
    assert cards["Stickiness"].delta.startswith("+")
    assert cards["Stickiness"].color == Metric.MetricColor.GRAY
    assert cards["Session length"].color == Metric.MetricColor.GRAY
    login = cards["Days since login"]
    assert (login.body, login.delta, login.color) == ("0", "no change", Metric.MetricColor.GRAY)  # active daily
    assert not [label for label, card in cards.items() if card.color == Metric.MetricColor.GREEN]


def test_a_silent_customer_shows_its_silence_growing_in_red(acme_store: Engine) -> None:
    """Nobody active for the last 10 days: days since login 10, up 7 on a week before, in red."""
    _declining_usage(acme_store, silent_days=10)
    at = open_page("pages/account_usage.py", CSM, frame_customer=ACME)
    card = next(m.proto for m in at.metric if m.label == "Days since login")
    assert (card.body, card.delta, card.color) == ("10", "+7 days", Metric.MetricColor.RED)
    said = [w for w in texts(at.warning) if w.startswith("No one at Acme")]
    assert len(said) == 1
    assert "(10 days)" in said[0]


@pytest.mark.parametrize("silent_days", [0, 6, 10])
@pytest.mark.parametrize("page", ["pages/features.py", "pages/guides.py", "pages/health.py"])
def test_every_customer_page_says_a_silence_above_its_numbers(acme_store: Engine, page: str, silent_days: int) -> None:
    """Nobody active for a week or more (10 days): each customer page says so under the header; 6 quiet days or
    an active customer: nothing said."""
    _declining_usage(acme_store, silent_days=silent_days)
    customer_header.load_last_active.clear()
    at = open_page(page, CSM, frame_customer=ACME)
    said = [w for w in texts(at.warning) if w.startswith("No one at")]
    assert said == ([f"No one at Acme Corp has been active since {LAST - timedelta(days=10):%d %b %Y} (10 days): "
                     "figures over 30 or 90 days below still count the days before."] if silent_days >= 7 else [])
