"""The frame (app.py, pages/ui/frame.py, pages/login.py): sign-in, the customer scope of a CSM, pages
refusing closed roles, and the data freshness note (the menu per role: test_registry.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pages.ui.shared import describe_freshness, mapped_since_sync
from pendo_core.access.rules import Viewer
from pendo_core.admin import users as auth
from pendo_core.book import book, view
from pendo_core.store.models import AuditLog
from pendo_core.usage.queries import Freshness
from tests.support.app import app, run, texts
from tests.support.app_data import LAST, USERS, Store, customer_ids

NOW = datetime(2026, 3, 19, 12, tzinfo=UTC)


def test_nobody_signed_in_sees_the_sign_in_form_with_demo_logins(writable_env: Store) -> None:
    """Signed out, the app shows only the sign-in form; in demo mode it lists the demo users."""
    with Session(writable_env.engine) as session, session.begin():
        auth.ensure_demo_users(session)
    at = run(app())
    assert texts(at.title) == ["CSCX · Pendo Usage"]
    assert [t.label for t in at.text_input] == ["E-mail", "Password"]
    demo = " ".join(texts(at.info))
    for expected in ("password `demo`", auth.DEMO_LEADER, "csm00@bench.cscx"):
        assert expected in demo
    assert not at.sidebar.children or not at.sidebar.selectbox


@pytest.mark.parametrize(("password", "signed_in"), [("right-password", True), ("wrong-password", False)],
                         ids=["right", "wrong"])
def test_local_sign_in(writable_env: Store, password: str, signed_in: bool) -> None:
    """The form signs a user in with the right password and says so when it is wrong (the page on its
    own: AppTest does not follow st.rerun through st.navigation; the browser suite signs in through
    the whole app)."""
    with Session(writable_env.engine) as session, session.begin():
        auth.upsert_user(session, "ann@cscx.io", "Ann", "leader", "right-password")
    at = run(app("pages/login.py"))
    at.text_input(key="login_email").input("ANN@cscx.io")
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    run(at)
    user = at.session_state["frame_user"] if "frame_user" in at.session_state else None  # noqa: SIM401 - no .get()
    assert user == (auth.User("ann@cscx.io", "Ann", "leader") if signed_in else None)
    assert any("Wrong e-mail or password" in e for e in texts(at.error)) is not signed_in


@pytest.fixture
def landing_on_account_usage(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every role lands on Account usage, so the frame draws the customer picker at once (AppTest drops
    the frame's sidebar after `switch_page`, so these tests cannot switch there)."""
    from pages.ui import registry

    monkeypatch.setattr(registry, "LANDING", dict.fromkeys(registry.LANDING, "account_usage"))


@pytest.mark.parametrize("role", ["csm", "leader", "admin"])
@pytest.mark.usefixtures("landing_on_account_usage")
def test_signed_in_frame_renders_the_sidebar(app_env: Store, role: str) -> None:
    """Signed in, on Account usage, the sidebar names the user, offers sign-out, the customer picker,
    the date range and the freshness (each role's own landing screen: test_registry.py)."""
    at = run(app(user=USERS[role]))
    sidebar = at.sidebar
    assert USERS[role].name in " ".join(texts(sidebar.markdown))
    assert [b.label for b in sidebar.button] == ["Sign out"]
    assert sidebar.selectbox[0].label.startswith("Customer (")
    assert [d.label for d in sidebar.date_input] == ["Date range"]
    assert any("Data through" in c for c in texts(sidebar.caption))
    assert texts(at.title)[0].startswith("Account usage · ")
    assert bool(sidebar.toggle) is (role == "csm")


@pytest.mark.usefixtures("landing_on_account_usage")
def test_csm_picks_only_among_their_own_customers(app_env: Store) -> None:
    """The customer picker of a CSM lists exactly the customers they own."""
    at = run(app(user=USERS["csm"]))
    assert at.sidebar.selectbox[0].options == [_label(app_env, c) for c in customer_ids(app_env, "csm00@bench.cscx")]


@pytest.mark.usefixtures("landing_on_account_usage")
def test_the_picker_opens_on_the_top_of_the_risk_order(app_env: Store) -> None:
    """A first visit picks the CSM's most-at-risk customer (My customers' first row), not the first A to Z,
    and the label shows its band."""
    at = run(app(user=USERS["csm"]))
    mine = view.visible(book(app_env.engine, None, LAST), Viewer(USERS["csm"].email, "csm"))
    first_by_name = min(mine["name"], key=str.casefold)
    assert mine["name"].iloc[0] != first_by_name  # the store tells the two orders apart
    picker = at.sidebar.selectbox[0]
    assert picker.value == mine["customer_id"].iloc[0]
    assert picker.options[picker.index] == f"{mine['name'].iloc[0]} · {mine['band'].iloc[0]}"


@pytest.mark.usefixtures("landing_on_account_usage")
def test_show_all_customers_widens_the_picker_and_is_audited(writable_env: Store) -> None:
    """A CSM who asks for every customer gets them, and the audit log records who asked."""
    at = run(app(user=USERS["csm"]))
    at.sidebar.toggle[0].set_value(True)
    run(at)
    with Session(writable_env.engine) as session:
        rows = session.scalars(select(AuditLog)).all()
    assert [(r.actor, r.action) for r in rows] == [("csm00@bench.cscx", "view_all_customers")]
    assert len(run(app(user=USERS["csm"], frame_show_all=True)).sidebar.selectbox[0].options) == 12


def test_a_csm_cannot_open_another_csms_customer_by_session_state(app_env: Store) -> None:
    """Forcing another CSM's customer into the session shows one of the CSM's own instead."""
    theirs = customer_ids(app_env, "csm01@bench.cscx")[0]
    at = run(app("pages/account_usage.py", USERS["csm"], frame_customer=theirs))
    own_names = {_label(app_env, c).split(" · ")[0] for c in customer_ids(app_env, "csm00@bench.cscx")}
    assert texts(at.title)[0].split(" · ")[1] in own_names


@pytest.mark.parametrize(("page", "role"), [("pages/portfolio.py", "csm"), ("pages/admin.py", "csm"),
                                            ("pages/admin.py", "leader")],
                         ids=["csm-portfolio", "csm-admin", "leader-admin"])
def test_pages_refuse_roles_that_may_not_open_them(app_env: Store, page: str, role: str) -> None:
    """Opening a page's URL directly does not get around the menu: the page itself refuses."""
    at = run(app(page, USERS[role]))
    assert not at.title
    assert not at.dataframe
    assert any(USERS[role].email in e for e in texts(at.error))


@pytest.mark.parametrize(("role", "page"), [("csm", "pages/portfolio.py"), ("csm", "pages/admin.py"),
                                            ("leader", "pages/admin.py")],
                         ids=["csm-portfolio", "csm-admin", "leader-admin"])
def test_switching_to_a_closed_screen_through_the_frame_is_refused(app_env: Store, role: str, page: str) -> None:
    """Through the frame too (what a typed URL does), a closed screen shows only the refusal."""
    at = run(app(user=USERS[role]))
    at.switch_page(page)
    run(at)
    assert not at.title
    assert not at.dataframe
    assert any("not open to your role" in e for e in texts(at.error))


@pytest.mark.parametrize("page", ["pages/account_usage.py", "pages/features.py", "pages/guides.py",
                                  "pages/portfolio.py"])
def test_pages_ask_to_sign_in_without_a_user(app_env: Store, page: str) -> None:
    """A page run on its own without a signed-in user shows nothing but a request to sign in."""
    at = run(app(page))
    assert texts(at.warning) == ["Sign in to see this page."]
    assert not at.title


@pytest.mark.parametrize(("fresh", "caption", "warning"), [
    (Freshness(None, None, None, None), "No data yet", "No successful Pendo sync yet"),
    (Freshness(None, None, "failed", "wrong key"), "No data yet", "The first sync failed: wrong key"),
    (Freshness(NOW - timedelta(hours=3), NOW.date() - timedelta(days=1), "success", None, 4),
     "Data through 18 Mar 2026 · synced 3 h ago", None),
    (Freshness(NOW - timedelta(hours=30), NOW.date() - timedelta(days=2), "success", None, 4),
     "Data through 17 Mar 2026 · synced 30 h ago", "Data is 30 h old"),
    (Freshness(NOW - timedelta(hours=2), NOW.date() - timedelta(days=1), "failed", "timeout", 4),
     "synced 2 h ago", "The last sync failed: timeout")],
    ids=["never-synced", "first-run-failed", "fresh", "stale", "last-run-failed"])
def test_freshness_note(fresh: Freshness, caption: str, warning: str | None) -> None:
    """The freshness names the last good sync and warns when data is over 24 h old or the last run failed."""
    got_caption, got_warning = describe_freshness(fresh, NOW)
    assert caption in got_caption
    assert (got_warning is None) if warning is None else (got_warning is not None and warning in got_warning)


def _label(store: Store, customer_id: str) -> str:
    """The picker's label: the name and the health band (as the book has it)."""
    row = book(store.engine, None, LAST).set_index("customer_id").loc[customer_id]
    return f"{row['name']} · {row['band']}"


OIDC_SECRETS = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32,
                         "client_id": "cscx", "client_secret": "s", "server_metadata_url": "https://idp/.well-known"}}


@pytest.mark.parametrize(("identity", "expected"), [
    ({"is_logged_in": False}, "single sign-on button"),
    ({"is_logged_in": True, "email": "CSM00@bench.cscx", "name": "Cee"}, "signed in as a csm"),
    ({"is_logged_in": True, "email": "stranger@elsewhere.io", "name": "S"}, "no access")],
    ids=["signed-out", "known-csm", "unknown-person"])
def test_single_sign_on_when_oidc_is_configured(app_env: Store, identity: dict[str, object], expected: str) -> None:
    """With an [auth] section in secrets, identity comes from st.user; a CSM's e-mail gets the csm
    role, and someone unknown is told to ask an admin instead of getting in."""
    at = app()
    at.secrets.update(OIDC_SECRETS)
    at.user = identity
    run(at)
    if expected == "single sign-on button":
        assert [b.label for b in at.button] == ["Sign in with single sign-on"]
        assert not at.text_input  # no local password form next to SSO
    elif expected == "signed in as a csm":
        assert at.session_state["frame_user"] == auth.User("csm00@bench.cscx", "Cee", "csm")
        assert texts(at.title)[0] == "My customers"
    else:
        assert any("has no access to this app yet" in e for e in texts(at.error))
        assert "frame_user" not in at.session_state


@pytest.mark.parametrize(("mapped_at", "expected"), [
    (None, False), (NOW - timedelta(hours=5), False), (NOW - timedelta(hours=1), True),
    ((NOW - timedelta(hours=1)).replace(tzinfo=None), True)],
    ids=["never-mapped", "before-the-sync", "after-the-sync", "naive-utc-from-sqlite"])
def test_remapped_since_the_last_sync(mapped_at: datetime | None, expected: bool) -> None:
    """A mapping newer than the last good sync is flagged: the metrics still count the old accounts."""
    fresh = Freshness(NOW - timedelta(hours=2), NOW.date(), "success", None, 3)
    assert mapped_since_sync(mapped_at, fresh) is expected


class _FakeGc:
    """Records what the frame asks of the garbage collector."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def collect(self) -> int:
        self.calls.append("collect")
        return 0

    def freeze(self) -> None:
        self.calls.append("freeze")


def test_the_frame_settles_the_heap_once_per_process(app_env: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run collects and then freezes what the imports built; later runs and sessions leave the
    collector alone (a full collection over the frozen objects cost each cold page 80-140 ms)."""
    from pages.ui import frame

    fake = _FakeGc()
    monkeypatch.setattr(frame, "gc", fake)
    monkeypatch.setitem(frame._heap, "settled", False)
    customer = customer_ids(app_env, "csm00@bench.cscx")[0]
    run(run(app("app.py", USERS["csm"], frame_customer=customer)))
    run(app("app.py", USERS["leader"]))
    assert fake.calls == ["collect", "freeze"]
