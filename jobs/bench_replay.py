"""Record the simulator's answers once, replay the same bytes from a server that does no work.

`RecordingProxy` sits between the sync and the simulator: it forwards every request, streams the
answer back and writes its bytes to a recording directory. `ReplayServer` answers from that
directory: the request's method, path and body hash pick a stored body, sent with `sendfile`, so
the replay costs the sync nothing but the download. An unknown request gets 404 (a sync that asks
something else than it did while recording shows up as a failed run, never as a silent mismatch).

Layout of a recording directory: `index.json` (key -> Entry, in the order first asked) and one
`<key>.body` file per answer, or `<key>.body.zst` when the proxy compressed it (zstd, through Arrow:
about 17x on these answers). A compressed answer is decompressed as it is sent, a chunk at a time, in the
replay server's thread: about 1 s of CPU per 750 MB sent, which is how the 90-day, 20,000-account recording
(about 34 GB as sent) fits beside its store.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pyarrow as pa

INDEX = "index.json"
ZSTD = "zstd"
_CHUNK = 256 * 1024
_FORWARDED = ("x-pendo-integration-key", "content-type", "accept", "user-agent",
              "x-pendo-base64-encoded-params")
EVENT_SOURCES = frozenset({"events", "pageEvents", "featureEvents", "guideEvents", "trackEvents", "pollEvents"})


@dataclass(frozen=True)
class Entry:
    """One recorded answer: the request it answers, its status, type and size, and its phase."""

    method: str
    path: str
    body: str  # the request body as text (JSON), "" for GETs
    status: int
    content_type: str
    size: int
    phase: str  # "windows" for event aggregations, "entities" for everything else
    encoding: str = ""  # "zstd" when the body file is compressed, "" when it holds the bytes as sent


def request_key(method: str, path: str, body: bytes) -> str:
    """The replay key: SHA-256 of the method, the path with its query, and the body bytes."""
    digest = hashlib.sha256(f"{method.upper()} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def phase_of(method: str, body: bytes) -> str:
    """"windows" for aggregations over an event source, "entities" for any other request."""
    if method.upper() != "POST" or not body:
        return "entities"
    try:
        pipeline = json.loads(body)["request"]["pipeline"]
        source = pipeline[0]["source"]
    except (ValueError, KeyError, IndexError, TypeError):
        return "entities"
    names = set(source) - {"timeSeries"} if isinstance(source, dict) else set()
    return "windows" if names & EVENT_SOURCES else "entities"


class Recording:
    """A recording directory: its entries in order and their bodies."""

    def __init__(self, root: Path, *, compress: bool = False) -> None:
        self.root = root
        self.encoding = ZSTD if compress else ""  # how the proxy stores the answers it records
        self.entries: dict[str, Entry] = {}
        self._lock = threading.Lock()
        if (root / INDEX).is_file():
            raw = json.loads((root / INDEX).read_text())
            self.entries = {key: Entry(**value) for key, value in raw.items()}

    def body_path(self, key: str, encoding: str = "") -> Path:
        """Where the body answering `key` is stored, as sent or compressed with `encoding`."""
        return self.root / (f"{key}.body.zst" if encoding == ZSTD else f"{key}.body")

    def read_body(self, key: str) -> bytes:
        """The recorded answer to `key`, as it was sent."""
        with self.open_body(key) as body:
            return bytes(body.read())

    @contextmanager
    def writing_body(self, key: str) -> Iterator[pa.NativeFile]:
        """A new body file for the answer to `key`, stored as `self.encoding` says. It is written beside its
        place (`.part`) and put in place when the block ends; an error in the block (the client hung up, the
        disk filled) removes it, so no cut-off answer is ever stored as the whole one."""
        path = self.body_path(key, self.encoding)
        partial = path.with_name(path.name + ".part")
        try:
            with (pa.CompressedOutputStream(str(partial), ZSTD) if self.encoding == ZSTD
                  else pa.OSFile(str(partial), "wb")) as out:
                yield out
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        partial.replace(path)

    def open_body(self, key: str) -> pa.NativeFile:
        """The recorded answer to `key`, as a stream of the bytes as sent (decompressed as it is read)."""
        encoding = self.entries[key].encoding
        path = str(self.body_path(key, encoding))
        return pa.CompressedInputStream(path, ZSTD) if encoding == ZSTD else pa.OSFile(path)

    def add(self, key: str, entry: Entry) -> None:
        """Record an entry (the body file is already written) and save the index."""
        with self._lock:
            self.entries[key] = entry
            (self.root / INDEX).write_text(json.dumps({k: asdict(e) for k, e in self.entries.items()}, indent=1))

    @property
    def total_bytes(self) -> int:
        """Body bytes over all entries."""
        return sum(e.size for e in self.entries.values())


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    recording: Recording
    upstream: str  # host:port of the simulator (recording proxy only)
    misses: list[str]
    decompress_cpu_s: float  # CPU its threads spent decompressing answers (replay server only)
    lock: threading.Lock


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the bench reports misses itself."""

    def do_GET(self) -> None:
        """Every GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Every POST."""
        self._handle("POST")

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self, method: str) -> None:
        raise NotImplementedError


class _ReplayHandler(_Handler):
    def _handle(self, method: str) -> None:
        body = self._read_body()
        key = request_key(method, self.path, body)
        entry = self.server.recording.entries.get(key)
        if entry is None:
            self.server.misses.append(f"{method} {self.path} {body[:200]!r}")
            self._send_small(404, b"not in the recording")
            return
        self.send_response(entry.status)
        self.send_header("Content-Type", entry.content_type)
        self.send_header("Content-Length", str(entry.size))
        self.end_headers()
        recording = self.server.recording
        if entry.encoding != ZSTD:
            with recording.body_path(key).open("rb") as handle:
                self.connection.sendfile(handle)
            return
        decompressing = 0.0
        with recording.open_body(key) as body:
            while True:
                started = time.thread_time()
                chunk = body.read(_CHUNK)
                decompressing += time.thread_time() - started
                if not chunk:
                    break
                self.wfile.write(chunk)
        with self.server.lock:
            self.server.decompress_cpu_s += decompressing

    def _send_small(self, status: int, text: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)


class _ProxyHandler(_Handler):
    def _handle(self, method: str) -> None:
        body = self._read_body()
        key = request_key(method, self.path, body)
        recording = self.server.recording
        conn = http.client.HTTPConnection(self.server.upstream, timeout=3600)
        try:
            headers = {name: value for name in _FORWARDED if (value := self.headers.get(name)) is not None}
            conn.request(method, self.path, body=body or None, headers=headers)
            answer = conn.getresponse()
            content_type = answer.getheader("Content-Type") or "application/octet-stream"
            self.send_response(answer.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            with recording.writing_body(key) as out:
                size = self._relay(answer, out)
            self.wfile.write(b"0\r\n\r\n")
        except OSError:  # the client hung up (a sync stopped at the bench's deadline), or the disk is full
            self.close_connection = True
            return
        finally:
            conn.close()
        recording.add(key, Entry(method, self.path, body.decode(), answer.status, content_type, size,
                                 phase_of(method, body), recording.encoding))

    def _relay(self, answer: http.client.HTTPResponse, out: pa.NativeFile) -> int:
        size = 0
        while chunk := answer.read1(_CHUNK):
            out.write(chunk)
            self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            size += len(chunk)
        return size


@contextmanager
def _serving(handler: type[_Handler], recording: Recording, upstream: str = "") -> Iterator[_Server]:
    httpd = _Server(("127.0.0.1", 0), handler)
    httpd.recording, httpd.upstream, httpd.misses = recording, upstream, []
    httpd.decompress_cpu_s, httpd.lock = 0.0, threading.Lock()
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True, name="bench-replay")
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


def url_of(httpd: ThreadingHTTPServer) -> str:
    """http://127.0.0.1:PORT of a running server."""
    return f"http://127.0.0.1:{httpd.server_address[1]}"


@contextmanager
def recording_proxy(upstream_url: str, root: Path, *, compress: bool = False) -> Iterator[str]:
    """A proxy to `upstream_url` that records every answer under `root` (compressed with zstd if
    `compress`); yields its URL."""
    root.mkdir(parents=True, exist_ok=True)
    with _serving(_ProxyHandler, Recording(root, compress=compress), urlsplit(upstream_url).netloc) as httpd:
        yield url_of(httpd)


@dataclass(frozen=True)
class Replay:
    """A running replay server: its URL, the requests it could not answer, and its decompression's CPU."""

    url: str
    misses: list[str]
    _server: _Server

    @property
    def decompress_cpu_s(self) -> float:
        """CPU seconds its threads have spent decompressing answers so far (0 for a recording as sent)."""
        with self._server.lock:
            return self._server.decompress_cpu_s


@contextmanager
def replay_server(root: Path) -> Iterator[Replay]:
    """Serve the recording under `root`."""
    with _serving(_ReplayHandler, Recording(root)) as httpd:
        yield Replay(url_of(httpd), httpd.misses, httpd)


@dataclass(frozen=True)
class DownloadParse:
    """What fetching and `json.loads`-ing every recorded answer costs, per phase (seconds)."""

    download_s: dict[str, float]
    parse_s: dict[str, float]
    bytes: dict[str, int]
    requests: int
    cpu_s: float = 0.0  # CPU of the measurement (client, replay thread, json.loads; not the decompression)
    decompress_cpu_s: float = 0.0  # CPU the replay server spent decompressing a compressed recording

    @property
    def total_s(self) -> float:
        """Download plus parse over every phase."""
        return sum(self.download_s.values()) + sum(self.parse_s.values())

    def phase_s(self, phase: str) -> float:
        """Download plus parse of one phase's answers."""
        return self.download_s.get(phase, 0.0) + self.parse_s.get(phase, 0.0)


def download_and_parse(replay: Replay, recording: Recording, key: str) -> DownloadParse:
    """Ask the replay server for every recorded answer in order, then `json.loads` each body. The CPU of
    decompressing a compressed recording is the replay server's, left out of `cpu_s` and reported apart
    (its wall is in the download's seconds, where it overlaps the transfer)."""
    download: dict[str, float] = {}
    parse: dict[str, float] = {}
    sizes: dict[str, int] = {}
    cpu, decompress = time.process_time(), replay.decompress_cpu_s
    with httpx.Client(base_url=replay.url, timeout=3600, headers={"x-pendo-integration-key": key,
                                                           "content-type": "application/json"}) as client:
        for entry in recording.entries.values():
            started = time.perf_counter()
            content = client.request(entry.method, entry.path, content=entry.body.encode() or None).content
            download[entry.phase] = download.get(entry.phase, 0.0) + time.perf_counter() - started
            started = time.perf_counter()
            if entry.status == 200:
                json.loads(content)
            parse[entry.phase] = parse.get(entry.phase, 0.0) + time.perf_counter() - started
            sizes[entry.phase] = sizes.get(entry.phase, 0) + len(content)
    decompress = replay.decompress_cpu_s - decompress
    return DownloadParse(download, parse, sizes, len(recording.entries), time.process_time() - cpu - decompress,
                         decompress)
