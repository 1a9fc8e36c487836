"""The REST API on both stores: every endpoint's answer checked against the store, auth refused
where it should be, scope by role, errors as JSON with a clear message."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from api import ApiContext, create_app
from pendo_core.admin.secrets import KeyCheck
from pendo_core.common.config import Settings
from pendo_core.store.models import HealthScore, UsageAlert, UsageMetric
from tests.support.chat_api import (
    ACME,
    ADA,
    ANA,
    BEN,
    FIRST,
    GLOBEX,
    LABS,
    LAST,
    LEE,
    NOW,
    UMBRELLA,
    SharedStore,
)

ENDPOINTS = [
    ("GET", "/api/pendo/accounts"),
    ("GET", "/api/pendo/accounts/acme-1/usage"),
    ("GET", "/api/pendo/accounts/acme-1/features"),
    ("GET", "/api/pendo/accounts/acme-1/guides"),
    ("GET", "/api/pendo/accounts/acme-1/visitors"),
    ("GET", f"/api/pendo/customer/{ACME}/metrics"),
    ("GET", f"/api/pendo/customer/{ACME}/health"),
    ("GET", "/api/pendo/health-scores"),
    ("GET", "/api/pendo/alerts"),
    ("POST", "/api/pendo/alerts/1/acknowledge"),
    ("POST", "/api/pendo/alerts/1/dismiss"),
    ("POST", "/api/pendo/alerts/1/snooze"),
    ("POST", "/api/pendo/alerts/1/reopen"),
    ("POST", "/api/integrations/pendo/connect"),
    ("GET", "/api/pendo/sync"),
    ("POST", "/api/pendo/sync"),
]


def app_client(engine: Engine, **edges: Any) -> TestClient:
    """A test client of the API over `engine`, at NOW, with the given outside actions."""
    ctx = ApiContext(engine, Settings(pendo_timezone="UTC"), clock=lambda: NOW, **edges)
    return TestClient(create_app(ctx))


class Api:
    """A client with a bearer token per person."""

    def __init__(self, client: TestClient, tokens: dict[str, str]) -> None:
        self.client, self.tokens = client, tokens

    def get(self, who: str, path: str, **params: Any) -> Any:
        return self.client.get(path, params=params, headers={"Authorization": f"Bearer {self.tokens[who]}"})

    def post(self, who: str, path: str, body: Any = None) -> Any:
        return self.client.post(path, json=body, headers={"Authorization": f"Bearer {self.tokens[who]}"})


@pytest.fixture
def api(shared_store: SharedStore) -> Api:
    """The API over the shared built store (read-only tests)."""
    store = shared_store.fresh()
    return Api(app_client(store.engine), store.tokens)


# --- auth ------------------------------------------------------------------------------------------


BAD_HEADERS = [{}, {"Authorization": "Bearer cscx_not-a-real-token"}, {"Authorization": "Basic YWxhZGRpbjpvcGVu"},
               {"Authorization": "Bearer "}, {"Authorization": "Bearer not-even-our-prefix"}]


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m}-{p}" for m, p in ENDPOINTS])
def test_every_endpoint_refuses_a_request_without_a_valid_token(api: Api, method: str, path: str) -> None:
    """No token, an unknown one, an empty one or another scheme: 401, a JSON error and a Bearer challenge."""
    responses = [api.client.request(method, path, headers=headers) for headers in BAD_HEADERS]
    assert {(r.status_code, r.json()["error"]["code"], r.headers["WWW-Authenticate"]) for r in responses} == {
        (401, "unauthorized", "Bearer")}


@pytest.mark.parametrize(("method", "path"), [e for e in ENDPOINTS if "sync" in e[1] or "connect" in e[1]],
                         ids=["connect", "sync-status", "sync-start"])
@pytest.mark.parametrize("who", [ANA, LEE], ids=["csm", "leader"])
def test_admin_actions_are_refused_to_other_roles(api: Api, method: str, path: str, who: str) -> None:
    """Connecting Pendo and syncing are for admins: 403 for a CSM or a leader."""
    response = api.client.request(method, path, json={"integration_key": "k"},
                                  headers={"Authorization": f"Bearer {api.tokens[who]}"})
    assert response.status_code == 403
    assert "only admin users" in response.json()["error"]["message"]


# --- accounts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "params", "expected"), [
    (LEE, {}, ["acme-1", "acme-2", "labs-1", "globex-1", "initech-1", "stray-1", "umbrella-1"]),
    (ANA, {}, ["acme-1", "acme-2", "labs-1", "umbrella-1"]),
    (BEN, {}, ["globex-1", "initech-1"]),
    (LEE, {"mapped": "false"}, ["stray-1"]),
    (LEE, {"q": "ACME corp"}, ["acme-1", "acme-2"]),
    (LEE, {"q": "100%_"}, []),
], ids=["leader-all", "csm-ana", "csm-ben", "unmapped", "search", "search-wildcards"])
def test_account_list_is_scoped_and_filtered(api: Api, who: str, params: dict[str, str], expected: list[str]) -> None:
    """A leader sees every account, mapped or not; a CSM only those of their customers; `q` is literal."""
    body = api.get(who, "/api/pendo/accounts", **params).json()
    assert sorted(a["account_id"] for a in body["items"]) == sorted(expected)
    assert body["total"] == len(expected)


def test_account_list_pages(api: Api) -> None:
    """limit and offset walk the list in name order; total stays the whole count."""
    pages = [api.get(LEE, "/api/pendo/accounts", limit=3, offset=o).json() for o in (0, 3, 6)]
    ids = [a["account_id"] for p in pages for a in p["items"]]
    assert (len(ids), len(set(ids)), {p["total"] for p in pages}) == (7, 7, {7})


def test_account_usage_counts_one_accounts_visitors(api: Api) -> None:
    """acme-1 on a Wednesday: 6 identified visitors (the anonymous one left out), 5 events each."""
    days = api.get(ANA, "/api/pendo/accounts/acme-1/usage", **{"from": LAST.isoformat()}).json()["days"]
    assert days == [{"date": LAST.isoformat(), "synced": True, "active_visitors": 6, "wau": 6, "mau": 6, "events": 30,
                     "minutes": 18, "page_views": 14, "feature_events": 18}]


def test_account_usage_marks_unsynced_days_null(api: Api) -> None:
    """A day before the synced range is null, not zero; windows that reach before it are null too."""
    first = FIRST - timedelta(days=1)
    body = api.get(ANA, "/api/pendo/accounts/labs-1/usage", **{"from": first.isoformat(), "to": FIRST.isoformat()})
    before, start = body.json()["days"]
    assert (before["synced"], before["active_visitors"]) == (False, None)
    assert (start["active_visitors"], start["mau"]) == (4, None)


def test_account_features_and_guides(api: Api) -> None:
    """acme-1's feature use and its guide funnel over the 30 days ending LAST."""
    features = api.get(ANA, "/api/pendo/accounts/acme-1/features").json()["features"]
    guides = api.get(ANA, "/api/pendo/accounts/acme-1/guides").json()["guides"]
    assert [(f["feature_id"], f["users"]) for f in features] == [("f-search", 6), ("f-report", 3)]
    assert [(g["guide_id"], g["seen"], g["completed"], g["dismissed"]) for g in guides] == [("g-tour", 2, 1, 1)]


def test_account_visitors_are_paged_and_sorted(api: Api) -> None:
    """acme-1's visitors: every page holds at most `limit`, together they are the total, most active first."""
    first = api.get(ANA, "/api/pendo/accounts/acme-1/visitors", limit=2).json()
    rest = api.get(ANA, "/api/pendo/accounts/acme-1/visitors", limit=50, offset=2).json()
    assert len(first["items"]) <= 2
    assert first["total"] == rest["total"] == len(first["items"]) + len(rest["items"])
    days = [v["active_days"] for v in first["items"] + rest["items"]]
    assert days == sorted(days, reverse=True)
    assert api.get(ANA, "/api/pendo/accounts/acme-1/visitors", sort="bogus").status_code == 400


@pytest.mark.parametrize("path", ["usage", "features", "guides", "visitors"])
def test_another_csms_account_is_not_found(api: Api, path: str) -> None:
    """Ana cannot read Globex's account: 404, as if it did not exist."""
    response = api.get(ANA, f"/api/pendo/accounts/globex-1/{path}")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


# --- customers -----------------------------------------------------------------------------------


def test_customer_metrics_are_the_stored_rows(api: Api, shared_store: SharedStore) -> None:
    """Daily rows equal pendo_usage_metrics; health equals pendo_health_scores of the last day."""
    body = api.get(ANA, f"/api/pendo/customer/{ACME}/metrics").json()
    u = UsageMetric
    with shared_store.engine.connect() as conn:
        stored = {r.metric_date.isoformat(): r for r in conn.execute(select(u).where(u.customer_id == ACME))}
        overall = conn.execute(select(HealthScore.overall).where(HealthScore.customer_id == ACME,
                                                                 HealthScore.score_date == LAST)).scalar()
    assert len(body["daily"]) == 30
    assert all(d["dau"] == stored[d["date"]].dau and d["mau"] == stored[d["date"]].mau for d in body["daily"])
    assert (body["customer"]["pendo_account_ids"], body["health"]["overall"]) == (["acme-1", "acme-2"], overall)
    assert {f["feature_id"] for f in body["features"] if f["users"]} == {"f-search", "f-report"}


@pytest.mark.parametrize(("who", "customer", "status"), [
    (ANA, ACME, 200), (BEN, ACME, 404), (LEE, ACME, 200), (ADA, GLOBEX, 200), (LEE, "no-such-customer", 404)],
    ids=["owner", "other-csm", "leader", "admin", "unknown"])
def test_customer_endpoints_follow_scope(api: Api, who: str, customer: str, status: int) -> None:
    """A customer outside the caller's scope answers 404 on metrics and on health."""
    for path in ("metrics", "health"):
        assert api.get(who, f"/api/pendo/customer/{customer}/{path}").status_code == status


def test_health_scores_list_lowest_first_and_filter(api: Api) -> None:
    """The newest scored day's scores, lowest first; a band filter and a CSM's scope apply."""
    everyone = api.get(LEE, "/api/pendo/health-scores").json()
    reds = api.get(LEE, "/api/pendo/health-scores", band="red").json()
    bens = api.get(BEN, "/api/pendo/health-scores").json()
    assert (everyone["total"], everyone["items"][0]["customer_id"]) == (5, UMBRELLA)
    assert [s["customer_id"] for s in reds["items"]] == [UMBRELLA]
    assert sorted(s["customer_name"] for s in bens["items"]) == ["Globex Inc", "Initech"]


def test_customer_health_history(api: Api) -> None:
    """Health history lists the scored days of the range, oldest first, and the newest explained."""
    body = api.get(ANA, f"/api/pendo/customer/{UMBRELLA}/health").json()
    assert [s["score_date"] for s in body["scores"]][-1] == LAST.isoformat()
    assert len(body["scores"]) == 30
    assert (body["latest"]["band"], {c["name"] for c in body["latest"]["components"]} >= {"Engagement"}) == (
        "red", True)


# --- alerts ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "params", "expected"), [
    # Umbrella fell from six daily users to one four weeks ago: a sustained usage_drop (issue 12).
    (ANA, {}, [UMBRELLA, LABS]), (BEN, {}, []), (LEE, {}, [UMBRELLA, LABS]), (LEE, {"kind": "usage_drop"}, [UMBRELLA]),
    (LEE, {"status": "resolved"}, [])], ids=["owner", "other-csm", "leader", "kind", "status"])
def test_alert_list_is_scoped_and_filtered(api: Api, who: str, params: dict[str, str], expected: list[str]) -> None:
    """Alerts on the caller's customers (all for leaders), filtered by kind and status."""
    body = api.get(who, "/api/pendo/alerts", **params).json()
    assert [a["customer_id"] for a in body["items"]] == expected


def test_alert_carries_the_apps_weighted_severity(api: Api, shared_store: SharedStore) -> None:
    """Each alert has the rule's severity and the severity and priority the app's inbox shows for it."""
    from pendo_core.access.rules import Viewer
    from pendo_core.book.inbox import inbox

    items = api.get(LEE, "/api/pendo/alerts").json()["items"]
    shown = inbox(shared_store.fresh().engine, Viewer(LEE, "leader"), include_closed=False,
                  today=NOW.date()).set_index("id")
    assert items
    for item in items:
        row = shown.loc[item["id"]]
        assert (item["severity"], item["weighted_severity"]) == (row["rule_severity"], row["severity"])
        assert item["priority"] == pytest.approx(row["priority"], abs=0.005)


def _alert_id(engine: Engine) -> int:
    """Acme Labs' alert (its abandoned Export feature), owned by Ana."""
    with engine.connect() as conn:
        return int(conn.execute(select(UsageAlert.id).where(UsageAlert.customer_id == LABS)).scalar_one())


@pytest.mark.parametrize(("who", "path", "body", "status"), [
    (BEN, "acknowledge", None, 404),
    (ANA, "dismiss", {"reason": "   "}, 422),
    (ANA, "dismiss", {}, 422),
    (ANA, "snooze", {"until": LAST.isoformat()}, 422),
    (ANA, "snooze", {"until": "soon"}, 422),
    (ANA, "snooze", {"until": "2027-03-20"}, 422),
    (ANA, "snooze", {"until": "9999-12-31"}, 422),
], ids=["other-csm", "blank-reason", "no-reason", "past-date", "not-a-date", "a-year-and-a-day", "year-9999"])
def test_alert_actions_refuse_bad_requests(shared_store: SharedStore, who: str, path: str, body: Any,
                                           status: int) -> None:
    """Someone else's alert is not found; a dismissal needs a reason; a snooze needs a later day, at most
    a year away (a validation error naming the limit, not a conflict); the alert stays as it was."""
    store = shared_store.fresh()
    alert = _alert_id(store.engine)
    response = Api(app_client(store.engine), store.tokens).post(who, f"/api/pendo/alerts/{alert}/{path}", body)
    assert response.status_code == status
    assert response.json()["error"]["message"]
    if body and body.get("until", "").startswith(("2027", "9999")):
        assert response.json()["error"]["message"].startswith("body.until: snooze at most a year, until 2027-03-19")
    with store.engine.connect() as conn:
        assert conn.scalar(select(UsageAlert.status).where(UsageAlert.id == alert)) == "open"


def test_an_unknown_alert_is_not_found(api: Api) -> None:
    """Acting on an alert that does not exist answers 404."""
    assert api.post(LEE, "/api/pendo/alerts/99999/acknowledge").status_code == 404


# --- admin: connect and sync --------------------------------------------------------------------


class FakeConnect:
    """Accepts one key; records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None, str]] = []

    def __call__(self, key: str, region: str, base_url: str | None, by: str) -> KeyCheck:
        self.calls.append((key, region, base_url, by))
        return KeyCheck(True, "stored") if key == "good-key" else KeyCheck(False, "Pendo refused the key")


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"integration_key": "good-key", "region": "eu"}, 200, None),
    ({"integration_key": "bad-key"}, 422, "pendo_key_rejected"),
    ({"integration_key": "SECRET-KEY-123", "region": "mars"}, 422, "invalid_request"),
    ({"region": "us"}, 422, "invalid_request"),
], ids=["accepted", "rejected", "bad-region", "no-key"])
def test_connect_validates_then_stores(shared_store: SharedStore, body: dict[str, str], status: int,
                                       code: str | None) -> None:
    """The key goes to the connector with its region and the admin's e-mail; errors never echo it."""
    store, connect = shared_store.fresh(), FakeConnect()
    api = Api(app_client(store.engine, connect=connect), store.tokens)
    response = api.post(ADA, "/api/integrations/pendo/connect", body)
    assert response.status_code == status
    assert "SECRET-KEY-123" not in response.text
    assert code is None or response.json()["error"]["code"] == code
    assert connect.calls == ([("good-key", "eu", None, ADA)] if status == 200 else
                             [("bad-key", "us", None, ADA)] if code == "pendo_key_rejected" else [])


def test_connect_without_key_storage_says_what_to_do(api: Api) -> None:
    """A server built without a connector answers 503 with the alternative."""
    response = api.post(ADA, "/api/integrations/pendo/connect", {"integration_key": "k"})
    assert response.status_code == 503
    assert "PENDO_INTEGRATION_KEY" in response.json()["error"]["message"]


def test_sync_starts_once_and_answers_409_while_running(shared_store: SharedStore) -> None:
    """A second start while the first runs is refused; the status shows the outcome afterwards."""
    store, release = shared_store.fresh(), threading.Event()

    def run() -> str:
        release.wait(5)
        return "sync 9 finished"

    ctx = ApiContext(store.engine, Settings(), clock=lambda: NOW, run_sync=run)
    api = Api(TestClient(create_app(ctx)), store.tokens)
    first, second = api.post(ADA, "/api/pendo/sync"), api.post(ADA, "/api/pendo/sync")
    release.set()
    ctx.sync_job.wait(5)
    assert (first.status_code, first.json()["status"], second.status_code) == (202, "running", 409)
    assert api.get(ADA, "/api/pendo/sync").json()["message"] == "sync 9 finished"


def test_sync_without_a_runner_says_what_to_do(api: Api) -> None:
    """A server built without a sync runner answers 503 naming the CLI."""
    response = api.post(ADA, "/api/pendo/sync")
    assert (response.status_code, "python -m jobs sync" in response.json()["error"]["message"]) == (503, True)


# --- parameters and errors -----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "params", "status", "words"), [
    ("/api/pendo/accounts", {"limit": "0"}, 422, "query.limit"),
    ("/api/pendo/accounts", {"limit": "many"}, 422, "query.limit"),
    ("/api/pendo/accounts/acme-1/usage", {"from": "2026-03-10", "to": "2026-03-01"}, 422, "after"),
    ("/api/pendo/accounts/acme-1/usage", {"from": "2020-01-01", "to": "2026-03-01"}, 422, "longer than 366"),
    ("/api/pendo/accounts/acme-1/usage", {"from": "0001-01-01"}, 422, "between"),
    ("/api/pendo/accounts/acme-1/usage", {"to": "yesterday"}, 422, "query.to"),
    ("/api/pendo/nowhere", {}, 404, "no such endpoint"),
], ids=["limit-zero", "limit-text", "reversed-range", "long-range", "ancient", "bad-date", "unknown-path"])
def test_bad_requests_get_a_json_error_naming_the_problem(api: Api, path: str, params: dict[str, str], status: int,
                                                          words: str) -> None:
    """Every error is {"error": {"code", "message"}} and the message names what to fix."""
    response = api.get(LEE, path, **params)
    assert response.status_code == status
    assert words in response.json()["error"]["message"]


def test_a_wrong_method_is_a_json_405(api: Api) -> None:
    """DELETE on a read endpoint is 405 in the same error shape."""
    response = api.client.delete("/api/pendo/accounts", headers={"Authorization": f"Bearer {api.tokens[LEE]}"})
    assert (response.status_code, response.json()["error"]["code"]) == (405, "method_not_allowed")


def test_openapi_documents_every_endpoint_and_the_bearer_scheme(api: Api) -> None:
    """The OpenAPI document lists every endpoint of issue 5 with bearer auth and the error shape."""
    document = api.client.get("/openapi.json").json()
    documented = {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}
    wanted = {(m, p.replace(ACME, "{customer_id}").replace("acme-1", "{account_id}").replace("/1/", "/{alert_id}/"))
              for m, p in ENDPOINTS}
    assert wanted <= documented
    assert document["components"]["securitySchemes"]["apiToken"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["apiToken"][
            "description"]}
    assert "ErrorBody" in document["components"]["schemas"]
