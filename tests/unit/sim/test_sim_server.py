"""The simulator's HTTP server, observed through a real HTTP client on loopback."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from pendo_core.common.timeutil import local_midnight_ms
from pendo_sim.__main__ import build_parser, faults_from
from pendo_sim.data import Subscription, generate
from pendo_sim.entities import WEIRD_ACCOUNT_ID
from pendo_sim.faults import Faults
from pendo_sim.server import SimServer, start_server

KEY = "demo-key"
AGG = "/api/v1/aggregation"
DAY_MS = 86_400_000
EXPAND = 'expandAppIds("*")'


class FakeClock:
    """A server clock that only moves when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def sub() -> Subscription:
    return generate(seed=7, accounts=30, days=30, as_of=date(2024, 3, 15), tz="America/New_York")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def server(sub: Subscription, clock: FakeClock, sleeps: list[float]) -> Iterator[SimServer]:
    srv = start_server(sub, clock=clock, sleep=sleeps.append)
    yield srv
    srv.stop()


@pytest.fixture
def client(server: SimServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers={"x-pendo-integration-key": KEY}, timeout=10) as c:
        yield c


def envelope(*pipeline: dict[str, Any], **request: Any) -> dict[str, Any]:
    return {"response": {"mimeType": "application/json"}, "request": {**request, "pipeline": list(pipeline)}}


def results(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    rows: list[dict[str, Any]] = response.json()["results"]
    return rows


VISITORS = envelope({"source": {"visitors": None}}, {"limit": 3})


@pytest.mark.parametrize("headers", [{}, {"x-pendo-integration-key": "wrong"}], ids=["missing", "wrong"])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", AGG),
        ("GET", "/api/v1/feature"),
        ("GET", "/api/v1/metadata/schema/account"),
        ("GET", "/api/v1/token/verify"),
        ("GET", "/api/v1/nothing/here"),
    ],
    ids=["aggregation", "list", "schema", "verify", "unknown"],
)
def test_every_route_needs_the_key(server: SimServer, method: str, path: str, headers: dict[str, str]) -> None:
    """Without the right key every route answers 403 with an empty body."""
    response = httpx.request(method, server.url + path, headers=headers, json=VISITORS if method == "POST" else None)
    assert response.status_code == 403
    assert response.content == b""


@pytest.mark.parametrize("name", ["x-pendo-integration-key", "X-Pendo-Integration-Key", "X-PENDO-INTEGRATION-KEY"])
def test_key_header_name_is_case_insensitive(server: SimServer, name: str) -> None:
    """Header names are case-insensitive."""
    assert httpx.get(server.url + "/api/v1/token/verify", headers={name: KEY}).json() == {
        "valid": True,
        "writeAccess": True,
    }


def test_aggregation_streams_the_envelope_uncompressed(client: httpx.Client, sub: Subscription) -> None:
    """200 over HTTP/1.1, chunked, never gzipped; startTime is the simulated now; results is the row list."""
    response = client.post(AGG, json=VISITORS, headers={"Accept-Encoding": "gzip, deflate"})
    assert (response.http_version, response.reason_phrase) == ("HTTP/1.1", "OK")
    assert response.headers["transfer-encoding"] == "chunked"
    assert "content-encoding" not in response.headers
    body = response.json()
    assert body["startTime"] == sub.now_ms
    assert len(body["results"]) == 3


def test_no_rows_is_an_empty_list(client: httpx.Client) -> None:
    """A query matching nothing still answers 200 with results: []."""
    assert results(client.post(AGG, json=envelope({"source": {"accounts": None}}, {"filter": "accountId==`x`"}))) == []


@pytest.mark.parametrize(
    "body",
    [
        envelope({"source": {"visitors": None}}, {"filter": 'visitorId in ["a"]'}),
        envelope({"source": {"visitors": None}}, {"filter": 'visitorId == "unterminated'}),
        envelope({"source": {"accounts": None}}, {"filter": 'accountId == "weird"id\\01"'}),
        envelope({"source": {"nosuch": None}}),
        {"response": {}, "request": {}},
        "not json at all {",
    ],
    ids=["in-operator", "unterminated-string", "unescaped-quote", "unknown-source", "no-pipeline", "bad-json"],
)
def test_bad_requests_answer_400_with_a_message(client: httpx.Client, body: Any) -> None:
    """A query the server cannot run is a 400 with a short text message."""
    raw = body if isinstance(body, str) else json.dumps(body)
    response = client.post(AGG, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text


def test_escaped_quote_finds_the_weird_account(client: httpx.Client) -> None:
    """Escaping `"` and `\\` in a filter literal reaches the account whose id holds both."""
    literal = WEIRD_ACCOUNT_ID.replace("\\", "\\\\").replace('"', '\\"')
    body = envelope({"source": {"accounts": None}}, {"filter": f'accountId == "{literal}"'})
    assert [r["accountId"] for r in results(client.post(AGG, json=body))] == [WEIRD_ACCOUNT_ID]


@pytest.mark.parametrize(("kind", "default", "everything"), [("feature", 38, 42), ("page", 13, 16), ("guide", 7, 8)])
def test_lists_are_bare_arrays_of_the_default_app_unless_expanded(
    client: httpx.Client, kind: str, default: int, everything: int
) -> None:
    """GET /feature|page|guide: the default app only; ?expand=* for all apps; ?id= and /{id} pick one."""
    plain, expanded = client.get(f"/api/v1/{kind}").json(), client.get(f"/api/v1/{kind}?expand=*").json()
    assert (len(plain), len(expanded)) == (default, everything)
    one = expanded[-1]
    assert client.get(f"/api/v1/{kind}", params={"id": one["id"], "expand": "*"}).json() == [one]
    assert client.get(f"/api/v1/{kind}/{one['id']}").json() == one
    assert client.get(f"/api/v1/{kind}/nope").status_code == 404


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/v1/nothing", 404),
        ("GET", "/api/v2/feature", 404),
        ("GET", "/", 404),
        ("GET", "/api/v1/visitor/x/elsewhere", 404),
        ("GET", "/API/V1/FEATURE", 404),
        ("POST", "/api/v1/feature", 404),
        ("GET", AGG, 405),
    ],
    ids=["unknown", "other-version", "root", "visitor-subpath", "wrong-case", "post-to-list", "get-aggregation"],
)
def test_unknown_routes(client: httpx.Client, method: str, path: str, status: int) -> None:
    """Paths are case-sensitive; anything not in the API is 404 (405 for GET on the aggregation)."""
    assert client.request(method, path).status_code == status


@pytest.mark.parametrize("kind", ["visitor", "account", "AccountMetadata"])
def test_metadata_schema_has_capitalised_descriptors(client: httpx.Client, kind: str) -> None:
    """Group -> field -> descriptor with Type, DisplayName, ElementType, ElementFormat, Dirty."""
    schema = client.get(f"/api/v1/metadata/schema/{kind}").json()
    assert {"auto", "agent", "custom"} <= schema.keys()
    for fields in schema.values():
        for descriptor in fields.values():
            assert {"Type", "DisplayName", "ElementType", "ElementFormat", "Dirty", "isHidden"} <= descriptor.keys()
            assert descriptor["Type"] in {"string", "time", "boolean", "integer", "float", ""}


def test_visitor_and_account_by_url_encoded_id(client: httpx.Client, sub: Subscription) -> None:
    """/visitor/{id} and /account/{id} take URL-encoded ids (or base64 with the header); unknown ids are 404."""
    vid = sub.visitors.ids[0]
    visitor = client.get(f"/api/v1/visitor/{quote(vid, safe='')}").json()
    assert visitor["id"] == vid == visitor["metadata"]["auto"]["id"]
    account = client.get(f"/api/v1/account/{quote(WEIRD_ACCOUNT_ID, safe='')}").json()
    assert account["metadata"]["auto"]["id"] == WEIRD_ACCOUNT_ID
    encoded = "d2VpcmQiaWRcMDE"  # base64url of weird"id\01, unpadded
    headers = {"x-pendo-base64-encoded-params": "true"}
    assert client.get(f"/api/v1/account/{encoded}", headers=headers).json() == account
    assert client.get("/api/v1/visitor/nobody%40nowhere.com").status_code == 404
    assert client.get("/api/v1/account/nope").status_code == 404


def test_visitor_history_covers_one_day(client: httpx.Client, sub: Subscription, server: SimServer) -> None:
    """History from starttime: about a day of page, feature and guide items, in time order."""
    start = local_midnight_ms(date(2024, 3, 12), sub.tz)
    active = next(
        r["visitorId"]
        for r in results(
            client.post(
                AGG,
                json=envelope(
                    {"source": {"events": None, "timeSeries": {"period": "dayRange", "first": start, "count": 1}}},
                    {"limit": 1},
                ),
            )
        )
    )
    items = client.get(f"/api/v1/visitor/{quote(active, safe='')}/history", params={"starttime": start}).json()
    assert items
    assert {i["type"] for i in items} <= {"page", "feature", "guide"}
    assert all(start <= i["ts"] < start + DAY_MS for i in items)
    assert [i["ts"] for i in items] == sorted(i["ts"] for i in items)


def test_concurrent_requests_get_identical_answers() -> None:
    """Threads asking for the same days at once (cold caches) all get the same rows."""
    fresh = generate(seed=9, accounts=30, days=10, as_of=date(2024, 3, 15))
    series = {"period": "hourRange", "first": fresh.now_ms - 3 * DAY_MS, "last": "now()"}
    body = envelope({"source": {"events": {"appId": EXPAND}, "timeSeries": series}})
    srv = start_server(fresh)
    try:
        with ThreadPoolExecutor(4) as pool:
            answers = list(
                pool.map(
                    lambda _: results(
                        httpx.post(srv.url + AGG, json=body, headers={"x-pendo-integration-key": KEY}, timeout=30)
                    ),
                    range(4),
                )
            )
    finally:
        srv.stop()
    assert answers[0]
    assert all(answer == answers[0] for answer in answers)


def _logged(server: SimServer, count: int) -> list[Any]:
    """The server's request log once it holds `count` entries: the server logs a request after it has
    answered, so the client can read the answer a moment before the entry is there."""
    deadline = time.monotonic() + 5
    while len(server.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    return list(server.requests)


def test_requests_are_logged(client: httpx.Client, server: SimServer) -> None:
    """Tests can see each request's method, path, JSON body and status."""
    before = len(server.requests)
    client.post(AGG, json=VISITORS)
    client.get("/api/v1/page?expand=*")
    assert _logged(server, before + 2)[-2:] == [
        ("POST", AGG, VISITORS, 200), ("GET", "/api/v1/page?expand=*", None, 200)]


def test_rate_limit_answers_429_until_the_second_is_over(
    client: httpx.Client, server: SimServer, clock: FakeClock
) -> None:
    """More than N requests within one second get 429 Too Many Requests (with Retry-After when set)."""
    server.faults.rate_limit_per_second, server.faults.retry_after = 2, 7
    answers = [client.get("/api/v1/token/verify") for _ in range(4)]
    assert [r.status_code for r in answers] == [200, 200, 429, 429]
    assert answers[2].reason_phrase == "Too Many Requests"
    assert answers[2].headers["retry-after"] == "7"
    clock.now += 1.5
    assert client.get("/api/v1/token/verify").status_code == 200


def test_every_kth_request_fails_with_a_5xx(client: httpx.Client, server: SimServer) -> None:
    """error_every=3: requests 3, 6 and 9 answer 500, 502 and 503."""
    server.faults.error_every = 3
    statuses = [client.post(AGG, json=VISITORS).status_code for _ in range(9)]
    assert statuses == [200, 200, 500, 200, 200, 502, 200, 200, 503]


def test_delay_waits_before_the_headers(client: httpx.Client, server: SimServer, sleeps: list[float]) -> None:
    """delay_seconds is slept (on the injected sleep) before each answer."""
    server.faults.delay_seconds = 2.5
    assert client.get("/api/v1/feature").status_code == 200
    assert sleeps == [2.5]


def test_a_real_delay_times_a_client_out(sub: Subscription) -> None:
    """With the real sleep, a client whose read timeout is shorter than the delay times out."""
    srv = start_server(sub, faults=Faults(delay_seconds=0.3))
    try:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(srv.url + "/api/v1/token/verify", headers={"x-pendo-integration-key": KEY}, timeout=0.05)
    finally:
        srv.stop()


def _partial_body(client: httpx.Client, body: dict[str, Any]) -> tuple[bytes, Exception | None]:
    received = b""
    with client.stream("POST", AGG, json=body) as response:
        assert response.status_code == 200
        try:
            for chunk in response.iter_raw():
                received += chunk
        except httpx.HTTPError as exc:
            return received, exc
    return received, None


def test_cut_after_rows_breaks_the_chunked_body(client: httpx.Client, server: SimServer) -> None:
    """The body stops after R rows and the connection closes before the final chunk."""
    server.faults.cut_after_rows = 5
    received, error = _partial_body(client, envelope({"source": {"visitors": None}}))
    assert isinstance(error, httpx.RemoteProtocolError)
    assert received.startswith(b'{"startTime": ')
    assert received.count(b'"visitorId"') == 5
    with pytest.raises(json.JSONDecodeError):
        json.loads(received)


def test_cut_every_other_aggregation(client: httpx.Client, server: SimServer) -> None:
    """cut_every=2 cuts only the 2nd, 4th... aggregation; retries then succeed."""
    server.faults.cut_after_rows, server.faults.cut_every = 0, 2
    errors = [_partial_body(client, VISITORS)[1] is not None for _ in range(4)]
    assert errors == [False, True, False, True]


def test_reset_closes_the_connection_without_an_answer(client: httpx.Client, server: SimServer) -> None:
    """reset_every=2: the 2nd request's connection drops with no response; the next one works."""
    server.faults.reset_every = 2
    assert client.get("/api/v1/token/verify").status_code == 200
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get("/api/v1/token/verify")
    assert client.get("/api/v1/token/verify").status_code == 200
    assert [entry[3] for entry in _logged(server, 3)] == [200, 0, 200]


def _tap(client: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    """POST as tap-pendo does: lower-case content-type, Accept-Encoding identity."""
    headers = {"content-type": "application/json", "Accept-Encoding": "identity"}
    return results(client.post(AGG, content=json.dumps(body), headers=headers))


def _since(first: int, source: dict[str, Any], key: str) -> dict[str, Any]:
    series = {"period": "dayRange", "first": first, "last": "now()"}
    return envelope(
        {"source": {**source, "timeSeries": series}}, {"sort": [key]}, {"filter": f"{key}>={first}"}, {"limit": 100000}
    )


def test_tap_pendo_request_bodies_get_sensible_answers(client: httpx.Client, sub: Subscription) -> None:
    """The exact bodies tap-pendo 1.2.0 sends (pendo-api.md 10.1) all get non-empty, well-shaped answers."""
    first = sub.now_ms - 7 * DAY_MS
    accounts = _tap(
        client,
        envelope(
            {"source": {"accounts": {"appId": EXPAND}}},
            {"sort": ["metadata.auto.lastupdated"]},
            {"filter": "metadata.auto.lastupdated>=1704067200000"},
            {"limit": 100000},
            name="all-accounts",
            requestId="all-accounts",
            sort=["accountId"],
        ),
    )
    stamps = [a["metadata"]["auto"]["lastupdated"] for a in accounts]
    assert accounts
    assert stamps == sorted(stamps)
    assert min(stamps) >= 1704067200000
    visitor_steps = [
        {"source": {"visitors": {"identified": True}}},
        {"sort": ["visitorId"]},
        {"filter": 'visitorId>""'},
        {"limit": 100000},
    ]
    visitors = _tap(client, envelope(*visitor_steps, name="all-visitors", requestId="all-visitors"))
    assert [v["visitorId"] for v in visitors] == sorted(v["visitorId"] for v in visitors)
    assert _tap(client, envelope(*visitor_steps, {"count": None})) == [{"count": len(visitors)}]
    events = _tap(client, _since(first, {"events": {"appId": EXPAND}}, "day"))
    assert events
    assert all(e["day"] >= first for e in events)
    for kind in ("features", "pages", "guides"):
        objects = _tap(
            client, envelope({"source": {kind: {"appId": EXPAND}}}, {"sort": ["lastUpdatedAt"]}, {"limit": 100000})
        )
        assert objects
        assert [o["lastUpdatedAt"] for o in objects] == sorted(o["lastUpdatedAt"] for o in objects)
    feature = next(f for f in _tap(client, envelope({"source": {"features": None}})) if f["isCoreEvent"])
    clicks = _tap(client, _since(first, {"featureEvents": {"featureId": feature["id"]}}, "day"))
    assert clicks
    assert {c["featureId"] for c in clicks} == {feature["id"]}
    guide = _tap(client, envelope({"source": {"guides": None}}))[0]
    seen = _tap(client, _since(first, {"guideEvents": {"guideId": guide["id"]}}, "browserTime"))
    assert seen
    assert {g["guideId"] for g in seen} == {guide["id"]}


def test_tap_pendo_next_page_from_a_raw_browser_time(client: httpx.Client, sub: Subscription) -> None:
    """`first` moved to a raw browserTime snaps down to its day; the filter then applies after snapping."""
    start = sub.now_ms - 7 * DAY_MS
    everything = _tap(client, _since(start, {"guideEvents": {"appId": EXPAND}}, "browserTime"))
    middle = everything[len(everything) // 2]["browserTime"]
    rest = _tap(client, _since(middle, {"guideEvents": {"appId": EXPAND}}, "browserTime"))
    assert rest == [g for g in everything if g["browserTime"] >= middle]


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ([], Faults()),
        (["--fault-429-after", "3", "--retry-after", "2"], Faults(rate_limit_per_second=3, retry_after=2)),
        (["--fault-error-every", "4", "--fault-delay", "0.5"], Faults(error_every=4, delay_seconds=0.5)),
        (["--fault-cut-after-rows", "10", "--fault-reset-every", "5"], Faults(cut_after_rows=10, reset_every=5)),
    ],
    ids=["none", "rate-limit", "errors-and-delay", "cut-and-reset"],
)
def test_cli_fault_flags(flags: list[str], expected: Faults) -> None:
    """Each fault flag sets its field of Faults."""
    assert faults_from(build_parser().parse_args(["--port", "0", *flags])) == expected


def test_cli_serves_until_sigterm() -> None:
    """`python -m pendo_sim` prints its URL and key, serves, and exits 0 on SIGTERM."""
    cmd = [
        sys.executable,
        "-m",
        "pendo_sim",
        "--port",
        "0",
        "--accounts",
        "5",
        "--days",
        "5",
        "--as-of",
        "2024-03-15",
        "--timezone",
        "Europe/Berlin",
        "--fault-error-every",
        "2",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        assert match
        assert "demo-key" in line
        statuses = [
            httpx.get(match[1] + "/api/v1/token/verify", headers={"x-pendo-integration-key": KEY}).status_code
            for _ in range(2)
        ]
        assert statuses == [200, 500]
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
