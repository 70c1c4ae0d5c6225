"""The fault proxy itself: it must forward faithfully, or the chaos tests prove nothing."""

import hashlib
import http.client
import json
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from tests.chaos.proxy import FaultProxy

CHUNKS = [b"first chunk, ", b"second, ", b"x" * 70000, b" and the end"]


class Upstream(ThreadingHTTPServer):
    """Stands in for the sandbox: counts the writes it carries out, and when."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), UpstreamHandler)
        self.lock = threading.Lock()
        self.writes: list[float] = []

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def write_count(self) -> int:
        with self.lock:
            return len(self.writes)


class UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: Upstream

    def log_message(self, format, *args):
        pass  # Keeps the test output to what fails.

    def _json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\nX-Trailer: dropped\r\n\r\n")
        elif self.path == "/empty":
            self.send_response(204)
            self.end_headers()
        else:
            self._json(200, {"path": self.path, "host": self.headers["Host"]})

    def do_POST(self):
        arrived = time.time()
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.writes.append(arrived)
            count = len(self.server.writes)
        self._json(
            201,
            {
                "count": count,
                "length": len(body),
                "sha256": hashlib.sha256(body).hexdigest(),
                "chunked": "Transfer-Encoding" in self.headers,
            },
        )


@pytest.fixture
def upstream():
    server = Upstream()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    with FaultProxy(upstream.url) as proxy:
        yield proxy


@pytest.fixture
def session():
    with requests.Session() as session:
        yield session


def wait_for(condition, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "gave up waiting"
        time.sleep(0.01)


def causes(exc: BaseException) -> list[BaseException]:
    """The exception and everything that led to it: urllib3 wraps the socket error in its args."""
    found, pending = [], [exc]
    while pending:
        current = pending.pop()
        if current in found:
            continue
        found.append(current)
        pending += [arg for arg in current.args if isinstance(arg, BaseException)]
        pending += [cause for cause in (current.__cause__, current.__context__) if cause]
    return found


def test_forwards_requests_on_one_keep_alive_connection(proxy, upstream, session):
    threads = []
    proxy.on_request(lambda exchange: threads.append(threading.current_thread()))

    first = session.get(f"{proxy.url}/hello?x=1", timeout=5)
    assert first.status_code == 200
    assert first.json() == {"path": "/hello?x=1", "host": proxy.url.removeprefix("http://")}

    chunked = session.get(f"{proxy.url}/chunked", timeout=5)
    assert chunked.content == b"".join(CHUNKS)
    assert "transfer-encoding" not in chunked.headers
    assert session.get(f"{proxy.url}/empty", timeout=5).status_code == 204

    big = bytes(range(256)) * 4096  # 1 MiB
    posted = session.post(f"{proxy.url}/write", data=big, timeout=5)
    assert posted.status_code == 201
    assert posted.json()["length"] == len(big)
    assert posted.json()["sha256"] == hashlib.sha256(big).hexdigest()

    # A generator body goes out chunked; the server gets it with a Content-Length.
    streamed = session.post(f"{proxy.url}/write", data=iter([b"ab", b"cd"]), timeout=5)
    assert streamed.json()["length"] == 4
    assert streamed.json()["chunked"] is False

    exchanges = proxy.exchanges()
    assert [(e.method, e.path, e.status) for e in exchanges] == [
        ("GET", "/hello?x=1", 200),
        ("GET", "/chunked", 200),
        ("GET", "/empty", 204),
        ("POST", "/write", 201),
        ("POST", "/write", 201),
    ]
    assert all(e.delivered and e.action == "forward" for e in exchanges)
    assert exchanges[3].body == big
    assert exchanges[4].headers["transfer-encoding"] == "chunked"
    assert all(e.received_at <= e.forwarded_at <= e.answered_at for e in exchanges)
    # The proxy serves each client connection in its own thread: it kept the one open throughout.
    assert len(set(threads)) == 1
    assert upstream.write_count() == 2
    assert proxy.errors == []


@pytest.mark.parametrize("how", ["close", "reset"])
def test_lose_answer_after_the_write_happened(proxy, upstream, session, how):
    rule = proxy.lose_answer("POST", r"^/write$", how=how)

    with pytest.raises(requests.ConnectionError) as raised:
        session.post(f"{proxy.url}/write", json={"n": 1}, timeout=5)

    chain = causes(raised.value)
    if how == "close":
        # A FIN before any byte of the answer: http.client's "stale keep-alive connection" error.
        assert any(isinstance(exc, http.client.RemoteDisconnected) for exc in chain)
    elif sys.platform.startswith("linux"):
        assert any(
            isinstance(exc, ConnectionResetError)
            and not isinstance(exc, http.client.RemoteDisconnected)
            for exc in chain
        )
    assert upstream.write_count() == 1
    [lost] = proxy.exchanges("POST", "/write")
    assert (lost.action, lost.status, lost.delivered) == (how, 201, False)
    assert (rule.used, rule.remaining) == (1, 0)

    again = session.post(f"{proxy.url}/write", json={"n": 2}, timeout=5)
    assert again.json()["count"] == 2
    assert proxy.exchanges()[-1].delivered
    assert proxy.errors == []


def test_hold_delivers_the_request_after_the_client_gave_up(proxy, upstream, session):
    proxy.hold("POST", "/write", seconds=1.5)

    sent_at = time.time()
    with pytest.raises(requests.ReadTimeout):
        session.post(f"{proxy.url}/write", json={}, timeout=0.5)
    assert upstream.write_count() == 0

    wait_for(lambda: upstream.write_count() == 1)
    assert upstream.writes[0] - sent_at >= 1.4
    [held] = proxy.exchanges("POST")
    wait_for(lambda: held.answered_at is not None)
    time.sleep(0.1)  # The proxy looks for the client right after the answer.
    assert (held.action, held.status, held.delivered) == ("hold", 201, False)
    assert upstream.write_count() == 1
    assert proxy.errors == []


def test_delay_answer(proxy, session):
    proxy.delay_answer("GET", "/slow", seconds=0.5)

    started = time.monotonic()
    response = session.get(f"{proxy.url}/slow", timeout=5)
    assert time.monotonic() - started >= 0.5
    assert response.json()["path"] == "/slow"
    [delayed] = proxy.exchanges(path_pattern="slow")
    assert delayed.action == "delay"
    assert delayed.delivered
    assert delayed.answered_at - delayed.forwarded_at < 0.5


def test_on_request_runs_before_forwarding(proxy, upstream, session):
    seen = []
    proxy.on_request(lambda exchange: seen.append((exchange.path, upstream.write_count())))
    proxy.on_request(lambda exchange: 1 / 0)

    assert session.post(f"{proxy.url}/write", data=b"x", timeout=5).json()["count"] == 1
    assert seen == [("/write", 0)]
    [error] = proxy.errors
    assert "ZeroDivisionError" in error


def test_concurrent_requests_never_spend_the_same_count(proxy, upstream):
    rule = proxy.lose_answer("POST", "/write", count=3)

    def post(_):
        try:
            requests.post(f"{proxy.url}/write", data=b"x", timeout=5)
        except requests.ConnectionError:
            return "lost"
        return "answered"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(post, range(8)))
    assert sorted(outcomes) == ["answered"] * 5 + ["lost"] * 3
    assert (rule.used, rule.remaining) == (3, 0)
    assert upstream.write_count() == 8


def test_unreachable_upstream_is_a_502():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        free_port = placeholder.getsockname()[1]
    with FaultProxy(f"http://127.0.0.1:{free_port}") as proxy:
        response = requests.get(f"{proxy.url}/anything", timeout=5)
    assert response.status_code == 502
    [exchange] = proxy.exchanges()
    assert (exchange.status, exchange.action, exchange.delivered) == (502, "forward", True)
    assert len(proxy.errors) == 1
