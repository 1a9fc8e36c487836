"""The benchmark's replay server and recording proxy, observed through a real HTTP client on loopback."""

from __future__ import annotations

import json
import os
import socket
import time
from pathlib import Path

import httpx
import pytest

from jobs.bench_replay import (
    ZSTD,
    DownloadParse,
    Entry,
    Recording,
    download_and_parse,
    phase_of,
    recording_proxy,
    replay_server,
    request_key,
)

AGG = "/api/v1/aggregation"
EVENTS = json.dumps({"request": {"pipeline": [{"source": {"events": None, "timeSeries": {}}}]}})
VISITORS = json.dumps({"request": {"pipeline": [{"source": {"visitors": None}}, {"limit": 10}]}})


def _recorded(root: Path, method: str, path: str, body: str, answer: bytes, *, status: int = 200) -> None:
    recording = Recording(root)
    key = request_key(method, path, body.encode())
    recording.body_path(key).write_bytes(answer)
    recording.add(key, Entry(method, path, body, status, "application/json", len(answer),
                             phase_of(method, body.encode())))


@pytest.fixture
def recorded(tmp_path: Path) -> Path:
    root = tmp_path / "rec"
    root.mkdir()
    _recorded(root, "POST", AGG, EVENTS, b'{"results": [{"numEvents": 1}]}' + b" " * 300_000)
    _recorded(root, "GET", "/api/v1/page?expand=*", "", b"[]")
    _recorded(root, "POST", AGG, VISITORS, b"rate limited", status=429)
    return root


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", AGG, EVENTS),
    ("GET", "/api/v1/page?expand=*", ""),
    ("POST", AGG, VISITORS),
], ids=["aggregation", "get-with-query", "recorded-error-status"])
def test_replay_answers_the_recorded_bytes(recorded: Path, method: str, path: str, body: str) -> None:
    """The same request (method, path, body) gets back the recorded status and exactly the recorded bytes."""
    entry = Recording(recorded).entries[request_key(method, path, body.encode())]
    with replay_server(recorded) as replayed:
        answer = httpx.request(method, replayed.url + path, content=body.encode() or None)
    assert (answer.status_code, answer.content) == (entry.status, Recording(recorded).body_path(
        request_key(method, path, body.encode())).read_bytes())
    assert replayed.misses == []


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", AGG, EVENTS.replace("events", "pageEvents")),
    ("GET", "/api/v1/feature?expand=*", ""),
    ("POST", "/api/v1/aggregation/", EVENTS),
], ids=["other-body", "other-path", "same-body-other-path"])
def test_replay_refuses_an_unknown_request(recorded: Path, method: str, path: str, body: str) -> None:
    """A request that was never recorded gets 404 and is listed among the misses."""
    with replay_server(recorded) as replayed:
        answer = httpx.request(method, replayed.url + path, content=body.encode() or None)
    assert answer.status_code == 404
    assert len(replayed.misses) == 1
    assert replayed.misses[0].startswith(f"{method} {path}")


def test_the_proxy_records_what_it_relays(recorded: Path, tmp_path: Path) -> None:
    """Through the recording proxy a client gets the upstream's bytes, and the recording holds the same."""
    upstream_bytes = Recording(recorded).body_path(request_key("POST", AGG, EVENTS.encode())).read_bytes()
    with replay_server(recorded) as upstream, recording_proxy(upstream.url, tmp_path / "copy") as proxy:
        relayed = httpx.post(proxy + AGG, content=EVENTS.encode()).content
    copy = Recording(tmp_path / "copy")
    key = request_key("POST", AGG, EVENTS.encode())
    assert relayed == upstream_bytes == copy.body_path(key).read_bytes()
    assert (copy.entries[key].size, copy.entries[key].phase) == (len(upstream_bytes), "windows")


@pytest.mark.parametrize(("method", "body", "phase"), [
    ("POST", EVENTS, "windows"),
    ("POST", EVENTS.replace("events", "guideEvents"), "windows"),
    ("POST", VISITORS, "entities"),
    ("GET", "", "entities"),
    ("POST", "not json", "entities"),
], ids=["events", "guide-events", "visitors", "get", "not-json"])
def test_requests_are_sorted_into_phases(method: str, body: str, phase: str) -> None:
    """Aggregations over an event source belong to the windows; every other request to the entities."""
    assert phase_of(method, body.encode()) == phase


def test_a_compressed_recording_replays_the_bytes_as_sent(recorded: Path, tmp_path: Path) -> None:
    """Recorded with compression, an answer is stored smaller, as zstd, and the replay sends back exactly
    the bytes the upstream sent, with their length."""
    upstream = Recording(recorded)
    with replay_server(recorded) as served, recording_proxy(served.url, tmp_path / "zst", compress=True) as proxy:
        for entry in upstream.entries.values():
            httpx.request(entry.method, proxy + entry.path, content=entry.body.encode() or None)
    copy = Recording(tmp_path / "zst")
    assert list(copy.entries) == list(upstream.entries)
    big = request_key("POST", AGG, EVENTS.encode())
    assert copy.entries[big].encoding == ZSTD
    assert not copy.body_path(big).exists()
    assert copy.body_path(big, ZSTD).stat().st_size < copy.entries[big].size / 50
    with replay_server(tmp_path / "zst") as replayed:
        for key, entry in upstream.entries.items():
            answer = httpx.request(entry.method, replayed.url + entry.path, content=entry.body.encode() or None)
            assert (answer.status_code, answer.content) == (entry.status, upstream.read_body(key))
            assert answer.headers["content-length"] == str(entry.size)
    assert replayed.misses == []


def test_the_yardstick_counts_the_bytes_as_sent(recorded: Path, tmp_path: Path) -> None:
    """Download + parse of a compressed recording counts the same bytes as of the recording it was made from."""
    with replay_server(recorded) as upstream, recording_proxy(upstream.url, tmp_path / "zst", compress=True) as proxy:
        for entry in Recording(recorded).entries.values():
            httpx.request(entry.method, proxy + entry.path, content=entry.body.encode() or None)
    as_sent, compressed = (_yardstick(root) for root in (recorded, tmp_path / "zst"))
    assert as_sent.bytes == compressed.bytes
    assert sum(as_sent.bytes.values()) > 300_000
    # The replay server's decompression is reported apart from the yardstick's CPU.
    assert (as_sent.decompress_cpu_s, compressed.decompress_cpu_s > 0) == (0.0, True)


def _yardstick(root: Path) -> DownloadParse:
    with replay_server(root) as replayed:
        return download_and_parse(replayed, Recording(root), "key")


def test_an_old_index_without_encodings_replays_as_sent(recorded: Path) -> None:
    """A recording made before compression (no `encoding` in its index) is read as bodies stored as sent."""
    index = json.loads((recorded / "index.json").read_text())
    for entry in index.values():
        del entry["encoding"]
    (recorded / "index.json").write_text(json.dumps(index))
    key = request_key("GET", "/api/v1/page?expand=*", b"")
    assert Recording(recorded).entries[key].encoding == ""
    with replay_server(recorded) as replayed:
        assert httpx.get(replayed.url + "/api/v1/page?expand=*").content == b"[]"


@pytest.mark.parametrize("compress", [False, True], ids=["as-sent", "compressed"])
def test_an_answer_cut_off_is_not_recorded(tmp_path: Path, compress: bool) -> None:
    """A client that hangs up part-way through a long answer leaves neither an entry nor a body file behind,
    so no replay can send a truncated answer under the full one's request."""
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    _recorded(upstream, "POST", AGG, EVENTS, os.urandom(40_000_000))
    with replay_server(upstream) as served, recording_proxy(served.url, tmp_path / "cut", compress=compress) as proxy:
        port = int(proxy.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port)) as client:
            client.sendall(f"POST {AGG} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(EVENTS)}\r\n\r\n{EVENTS}"
                           .encode())
            assert client.recv(1024).startswith(b"HTTP/1.1 200")
        deadline = time.monotonic() + 30
        while any((tmp_path / "cut").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.05)
    assert list((tmp_path / "cut").iterdir()) == []
