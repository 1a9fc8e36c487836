"""The Admin screen completes the loop: per-CSM delivery, users, API tokens, the onboarding guide
list, CSV imports and the access log, each driven as an admin through the real frame, each change
in the access log; CSMs and leaders get none of it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from streamlit.testing.v1 import AppTest

from pendo_core.admin import users as auth
from pendo_core.admin.users import User
from pendo_core.store.models import ApiToken, AppUser, AuditLog, Contact, Csm, SettingsVersion
from tests.support.app import NOW, open_page, texts
from tests.support.app_data import ACME, ADMIN, CSM, LEADER, ME
from tests.support.health_alerts import table_insert

PAGE = "pages/admin.py"
HOOK = "https://hooks.example.com/services/T0/B0/maya-secret-0042"
NEW_KEYS = ["admin_dlv_csm", "admin_users_email", "admin_tokens_user", "admin_imp_kind", "admin_log_actor",
            "admin_onb_by_hand"]


@pytest.fixture
def store(store: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The hand-built store (the app pointed at it) with admin and leader users, two Pendo guides and an
    encryption key for stored webhooks."""
    with Session(store) as session, session.begin():
        auth.upsert_user(session, ADMIN.email, ADMIN.name, "admin", "admin-password")
        auth.upsert_user(session, LEADER.email, LEADER.name, "leader", "leader-password")
    table_insert(store, "pendo_guides", [{"guide_id": "g1", "name": "Onboarding tour", "state": "public"},
                                         {"guide_id": "g2", "name": "Export how-to", "state": "public"}])
    monkeypatch.setenv("CSCX_SECRET_KEY", Fernet.generate_key().decode())
    return store


def _actions(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(AuditLog.action).order_by(AuditLog.id)).scalars())


def _all_text(at: AppTest) -> str:
    return " ".join(texts(at.success) + texts(at.error) + texts(at.markdown) + texts(at.caption)
                    + texts(at.code) + texts(at.warning))


@pytest.mark.parametrize("user", [CSM, LEADER], ids=["csm", "leader"])
def test_csms_and_leaders_get_none_of_the_admin_controls(store: Engine, user: User) -> None:
    """Opened by URL, the page refuses them before any new tab is drawn."""
    at = open_page(PAGE, user)
    assert any("not open to your role" in t for t in texts(at.error))
    drawn = {w.key for kind in ("selectbox", "text_input", "radio", "toggle") for w in getattr(at, kind)}
    assert not drawn & set(NEW_KEYS)
    assert not at.file_uploader


def test_an_admin_gets_every_new_control(store: Engine) -> None:
    """Delivery, users, tokens, imports, access log and onboarding each draw their first control."""
    at = open_page(PAGE, ADMIN)
    assert not at.exception
    drawn = {w.key for kind in ("selectbox", "text_input", "radio", "toggle") for w in getattr(at, kind)}
    assert set(NEW_KEYS) <= drawn
    assert [u.key for u in at.file_uploader] == ["admin_imp_file_customers"]


# --- delivery --------------------------------------------------------------------------------


def test_delivery_saves_digest_manager_and_an_encrypted_webhook(store: Engine) -> None:
    """All three land on the CSM's row (the URL only encrypted), the input is cleared, and both are logged."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_dlv_csm").set_value(ME).run()
    at.radio(key=f"admin_dlv_mode_{ME}").set_value("digest")
    at.text_input(key=f"admin_dlv_manager_{ME}").input("lee@cscx.io")
    at.text_input(key=f"admin_dlv_webhook_{ME}").input(HOOK)
    at.button(key="admin_dlv_save").click().run()
    with Session(store) as session:
        row = session.get(Csm, ME)
        assert row is not None
        assert (row.delivery, row.manager_email, row.webhook_hint) == ("digest", "lee@cscx.io", "…0042")
        assert "maya-secret" not in (row.webhook_ciphertext or "maya-secret")
    assert at.text_input(key=f"admin_dlv_webhook_{ME}").value == ""
    assert any("alerts as a daily digest" in t and "ending …0042" in t for t in texts(at.success))
    assert "maya-secret" not in _all_text(at)
    assert _actions(store) == ["csm.delivery_change", "csm.webhook_set"]


@pytest.mark.parametrize(("manager", "webhook", "message"), [
    ("lee", "", "is not an e-mail address"),
    ("", "http://hooks.example.com/maya-secret", "must start with https://"),
], ids=["bad-manager", "plain-http-webhook"])
def test_delivery_refuses_bad_input_in_one_line_and_saves_nothing(store: Engine, manager: str, webhook: str,
                                                                  message: str) -> None:
    """The mode change typed with it is not saved either; the secret path is never echoed."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_dlv_csm").set_value(ME).run()
    at.radio(key=f"admin_dlv_mode_{ME}").set_value("digest")
    at.text_input(key=f"admin_dlv_manager_{ME}").input(manager)
    at.text_input(key=f"admin_dlv_webhook_{ME}").input(webhook)
    at.button(key="admin_dlv_save").click().run()
    assert any(message in t and t.startswith("Nothing saved") for t in texts(at.error))
    assert "maya-secret" not in _all_text(at)
    with Session(store) as session:
        row = session.get(Csm, ME)
        assert row is not None
        assert (row.delivery, row.webhook_ciphertext) == ("immediate", None)
    assert _actions(store) == []


# --- users -----------------------------------------------------------------------------------


def test_inviting_shows_a_one_time_password_that_signs_in(store: Engine) -> None:
    """The password is shown once (until hidden), works, and is not stored; the invite is logged."""
    at = open_page(PAGE, ADMIN)
    at.text_input(key="admin_users_email").input("Nia@cscx.io")
    at.text_input(key="admin_users_name").input("Nia Park")
    at.selectbox(key="admin_users_role").set_value("csm")
    at.button(key="admin_users_invite_submit").click().run()
    password = texts(at.code)[0]
    with Session(store) as session:
        assert auth.authenticate(session, "nia@cscx.io", password) is not None
        assert password not in (session.get(AppUser, "nia@cscx.io").password_hash or "")  # type: ignore[union-attr]
    at.button(key="admin_users_hide").click().run()
    assert password not in _all_text(at)
    assert _actions(store) == ["user.invite"]


def test_changing_a_role_then_deactivating_and_reactivating(store: Engine) -> None:
    """Each step lands and is logged; the deactivated leader cannot sign in, reactivated they get a new password."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_users_pick").set_value(LEADER.email).run()
    at.selectbox(key=f"admin_users_new_role_{LEADER.email}").set_value("csm").run()
    at.button(key="admin_users_change_role").click().run()
    at.button(key="admin_users_deactivate").click().run()
    assert any("is deactivated" in t for t in texts(at.success))
    with Session(store) as session:
        assert auth.authenticate(session, LEADER.email, "leader-password") is None
    at.button(key="admin_users_reactivate").click().run()
    with Session(store) as session:
        row = session.get(AppUser, LEADER.email)
        assert row is not None
        assert (row.role, row.deactivated_at) == ("csm", None)
        assert auth.authenticate(session, LEADER.email, texts(at.code)[0]) is not None
    assert _actions(store) == ["user.role_change", "user.deactivate", "user.reactivate"]


def test_an_admin_cannot_deactivate_themselves(store: Engine) -> None:
    """The refusal is one line on the tab; nothing changes."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_users_pick").set_value(ADMIN.email).run()
    at.button(key="admin_users_deactivate").click().run()
    assert "You cannot deactivate yourself: ask another admin." in texts(at.error)
    assert _actions(store) == []


# --- API tokens ------------------------------------------------------------------------------


def test_a_token_is_shown_once_listed_by_prefix_and_revoked(store: Engine) -> None:
    """Created for a user, the secret shows in the tab only; the list names its prefix; revoking ends it."""
    at = open_page(PAGE, ADMIN)
    at.selectbox(key="admin_tokens_user").set_value(LEADER.email)
    at.text_input(key="admin_tokens_name").input("CRM sync")
    at.button(key="admin_tokens_create_submit").click().run()
    token = texts(at.code)[0]
    assert token.startswith("cscx_")
    listed = next(df.value for df in at.dataframe if "prefix" in df.value.columns)
    assert list(listed["prefix"]) == [f"{token[:10]}…"]
    assert token not in listed.to_csv()
    at.button(key="admin_tokens_revoke").click().run()
    with Session(store) as session:
        assert session.execute(select(ApiToken.revoked_at)).scalar_one() is not None
    assert _actions(store) == ["api_token.issue", "api_token.revoke"]


# --- onboarding guides ----------------------------------------------------------------------


def test_the_onboarding_list_is_saved_as_a_settings_version(store: Engine) -> None:
    """By name the tour is onboarding; picked by hand, the list is saved as a new version (and logged)."""
    at = open_page(PAGE, ADMIN)
    assert any("Onboarding tour" in t for t in texts(at.caption))
    assert at.button(key="admin_onb_save").disabled
    at.toggle(key="admin_onb_by_hand").set_value(True).run()
    at.multiselect(key="admin_onb_guides").set_value(["g1", "g2"]).run()
    at.text_input(key="admin_onb_note").input("exports are part of onboarding")
    at.button(key="admin_onb_save").click().run()
    with store.connect() as conn:
        newest = conn.execute(select(SettingsVersion).order_by(SettingsVersion.version.desc())).first()
    assert newest is not None
    assert (newest.settings["health"]["onboarding_guide_ids"], newest.note) == (
        ["g1", "g2"], "exports are part of onboarding")
    assert _actions(store) == ["settings.save"]


# --- imports ---------------------------------------------------------------------------------


def test_a_contacts_upload_lists_bad_lines_and_lands_the_good_ones(store: Engine) -> None:
    """The CLI's line-numbered problems in a table, its closing line, the good contact stored, the upload logged."""
    data = ("customer_id,name,email,title,role\n"
            f"{ACME},Ann Champion,ann@acme.com,VP,champion\n"
            f"{ACME},No Mail,,,user\n"
            "not-a-uuid,Bad Id,bad@acme.com,,user\n").encode()
    at = open_page(PAGE, ADMIN)
    at.radio(key="admin_imp_kind").set_value("contacts").run()
    at.file_uploader(key="admin_imp_file_contacts").set_value(("contacts.csv", data, "text/csv")).run()
    at.button(key="admin_imp_run").click().run()
    assert "contacts.csv: 1 contact(s) imported (1 new, 0 updated); 2 line(s) rejected." in texts(at.warning)
    problems = next(df.value for df in at.dataframe if "problem" in df.value.columns)
    assert list(problems["line"]) == [3, 4]
    assert problems["problem"].str.startswith(("line 3: email", "line 4: customer_id")).all()
    with Session(store) as session:
        assert session.execute(select(Contact.email)).scalars().all() == ["ann@acme.com"]
    assert _actions(store) == ["import.contacts"]


# --- access log ------------------------------------------------------------------------------


def test_the_access_log_filters_by_person_and_action(store: Engine) -> None:
    """What the admins did shows newest first; a person and an action narrow it down."""
    table_insert(store, "app_audit_log", [
        {"actor": ME, "action": "view_all_customers", "details": {"role": "csm"}, "at": NOW - timedelta(hours=2)},
        {"actor": ADMIN.email, "action": "settings.save", "details": {"version": 3}, "at": NOW - timedelta(hours=1)}])
    at = open_page(PAGE, ADMIN)
    log = next(df.value for df in at.dataframe if "actor" in df.value.columns and "details" in df.value.columns)
    assert set(log["action"]) == {"view_all_customers", "settings.save"}
    at.selectbox(key="admin_log_actor").set_value(ME).run()
    log = next(df.value for df in at.dataframe if "actor" in df.value.columns and "details" in df.value.columns)
    assert (list(log["action"]), list(log["details"])) == (["view_all_customers"], ["role: csm"])
    at.selectbox(key="admin_log_actor").set_value("").run()
    at.multiselect(key="admin_log_actions").set_value(["settings.save"]).run()
    assert any("Entries 1–1 of 1" in t for t in texts(at.caption))
    assert any(b.label.startswith("Download CSV, all 1 matching") for b in at.get("download_button"))
