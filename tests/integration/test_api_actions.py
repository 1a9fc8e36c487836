"""The REST API's writes on both stores: alert actions recorded with who and when, token revocation
and expiry, and a sync refused while a run started elsewhere is going."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pendo_core.admin.tokens import authenticate_token, issue_token, revoke_token
from pendo_core.store.models import AlertEvent, AppUser
from tests.integration.test_api_endpoints import Api, _alert_id, app_client
from tests.support.chat_api import ADA, ANA, BEN, LAST, LEE, NOW, add_users, build_store
from tests.support.health_alerts import table_insert


@pytest.fixture
def writable(engine: Engine) -> tuple[Engine, dict[str, str]]:
    """A freshly built store of the test's own, for tests that change it."""
    build_store(engine)
    return engine, add_users(engine)


def test_a_revoked_or_expired_token_or_a_removed_user_is_refused(writable: tuple[Engine, dict[str, str]]) -> None:
    """Revocation, expiry and deleting the user each end what a token may do."""
    engine, tokens = writable
    client = app_client(engine)
    with Session(engine) as session, session.begin():
        expired, _ = issue_token(session, LEE, "old", by="test", now=NOW - timedelta(days=10), days=1)
        anas = authenticate_token(session, tokens[ANA], now=NOW)
        assert anas is not None
        revoke_token(session, anas.token_id, by="test", now=NOW)
        session.delete(session.get(AppUser, BEN))
    for token in (expired, tokens[ANA], tokens[BEN]):
        assert client.get("/api/pendo/alerts", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert client.get("/api/pendo/alerts", headers={"Authorization": f"Bearer {tokens[LEE]}"}).status_code == 200


def test_alert_actions_are_recorded_and_checked(writable: tuple[Engine, dict[str, str]]) -> None:
    """Acknowledge, snooze, reopen and dismiss change the alert and its trail; a repeat is a 409."""
    engine, tokens = writable
    api, alert = Api(app_client(engine), tokens), _alert_id(engine)
    base = f"/api/pendo/alerts/{alert}"
    assert api.post(ANA, f"{base}/acknowledge").json()["alert"]["status"] == "acknowledged"
    assert api.post(ANA, f"{base}/acknowledge").status_code == 409
    until = (LAST + timedelta(days=9)).isoformat()
    assert api.post(ANA, f"{base}/snooze", {"until": until}).json()["alert"]["snoozed_until"] == until
    assert api.post(ANA, f"{base}/reopen").json()["alert"]["status"] == "open"
    dismissed = api.post(LEE, f"{base}/dismiss", {"reason": "seasonal"}).json()["alert"]
    with engine.connect() as conn:
        trail = conn.execute(select(AlertEvent.actor, AlertEvent.action).where(AlertEvent.alert_id == alert)
                             .order_by(AlertEvent.id)).all()
    assert (dismissed["status"], dismissed["dismiss_reason"]) == ("dismissed", "seasonal")
    assert [tuple(t) for t in trail][1:] == [(ANA, "acknowledged"), (ANA, "snoozed"), (ANA, "reopened"),
                                             (LEE, "dismissed")]


def test_sync_is_refused_while_a_run_from_elsewhere_is_running(writable: tuple[Engine, dict[str, str]]) -> None:
    """A run the scheduler or the CLI started (a recent 'running' row) also means 409."""
    engine, tokens = writable
    table_insert(engine, "pendo_sync_runs", [{"started_at": NOW - timedelta(minutes=5), "status": "running",
                                              "mode": "daily", "as_of": LAST, "requests": 0, "retries": 0,
                                              "bad_rows": 0}])
    response = Api(app_client(engine, run_sync=lambda: "never"), tokens).post(ADA, "/api/pendo/sync")
    assert response.status_code == 409
    assert "already running" in response.json()["error"]["message"]
