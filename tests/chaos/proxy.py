"""An HTTP/1.1 fault-injection proxy for chaos tests.

A test puts it between a real worker process and a local sandbox server, so that it can lose
the answer to a request *after* the server has carried the request out. That is the one failure
a client cannot tell apart from "the request never arrived", and the one where resending a write
(an email, an ATS note) does it twice. The proxy records every exchange so that the test can
count what the server was really asked to do.

Standard library only: it runs in the test process, next to code whose HTTP stack is under test,
and must not share (or be fixed by) that stack.
"""

from __future__ import annotations

import contextlib
import re
import select
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

# Generous enough for a slow sandbox under a loaded CI machine, short enough that a wedged
# upstream cannot keep a proxy thread alive for the rest of the test session.
UPSTREAM_TIMEOUT = 120.0
# How often the accept loop looks at the stop flag: closing a listening socket does not wake a
# blocked accept() on Linux.
ACCEPT_POLL = 0.1
# stop() must not hang a test session on a thread it failed to wake.
JOIN_TIMEOUT = 2.0
MAX_LINE = 64 * 1024
MAX_HEADERS = 200

# Headers that describe one connection, not the message (RFC 9110 section 7.6.1). Each leg of the
# proxy has its own connection, so they are never passed on.
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "transfer-encoding",
        "te",
        "trailer",
        "upgrade",
    }
)
ACTIONS = ("forward", "close", "reset", "hold", "delay")


class _Truncated(Exception):
    """The peer closed its connection in the middle of a message."""


class _Malformed(Exception):
    """The peer sent something that is not HTTP/1.1 as this proxy understands it."""


@dataclass
class Exchange:
    """One request seen by the proxy, recorded for the test to analyse.

    The proxy updates the object while the exchange goes on, so a test can poll it.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    received_at: float
    forwarded_at: float | None
    answered_at: float | None
    status: int | None
    action: str
    delivered: bool
    # The client's local port: with /proc, which process made the request.
    client_port: int = 0


@dataclass
class _Message:
    start_line: str
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name]
        return ", ".join(values) if values else None

    def connection_tokens(self) -> set[str]:
        value = self.header("connection") or ""
        return {token.strip().lower() for token in value.split(",") if token.strip()}

    def forwardable_headers(self, also_drop: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
        # Headers named in Connection are hop-by-hop too, whatever they are called.
        drop = HOP_BY_HOP | also_drop | self.connection_tokens()
        return [(key, value) for key, value in self.headers if key.lower() not in drop]


class Rule:
    """A fault to apply to the next `count` requests matching a method and a path pattern."""

    def __init__(
        self, method: str, path_pattern: str, count: int, action: str, seconds: float = 0.0
    ) -> None:
        if count < 1:
            raise ValueError("count must be at least 1")
        if seconds < 0:
            raise ValueError("seconds must not be negative")
        if action not in ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        self.method = method.upper()
        self.pattern = re.compile(path_pattern)
        self.action = action
        self.seconds = seconds
        self._lock = threading.Lock()
        self._remaining = count
        self._used = 0

    @property
    def remaining(self) -> int:
        with self._lock:
            return self._remaining

    @property
    def used(self) -> int:
        with self._lock:
            return self._used

    def spend(self, method: str, path: str) -> bool:
        """Take one count if the request matches; two concurrent requests never get the same one."""
        if method.upper() != self.method or not self.pattern.search(path):
            return False
        with self._lock:
            if self._remaining == 0:
                return False
            self._remaining -= 1
            self._used += 1
            return True

    def __repr__(self) -> str:
        return (
            f"Rule({self.action} {self.method} {self.pattern.pattern!r}, "
            f"used={self.used}, remaining={self.remaining})"
        )


class _Reader:
    """Buffered reads from a socket: HTTP framing needs lines, exact lengths and read-to-EOF."""

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._buffer = bytearray()

    def _fill(self) -> bool:
        data = self._sock.recv(65536)
        self._buffer += data
        return bool(data)

    def readline(self) -> bytes | None:
        """A line without its CRLF, or None if the peer closed before sending any of it."""
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line.removesuffix(b"\r")
            if len(self._buffer) > MAX_LINE:
                raise _Malformed("line too long")
            if not self._fill():
                if self._buffer:
                    raise _Truncated("connection closed in the middle of a line")
                return None

    def read_line_in_message(self) -> bytes:
        line = self.readline()
        if line is None:
            raise _Truncated("connection closed in the middle of a message")
        return line

    def read_exact(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not self._fill():
                raise _Truncated(f"connection closed {size - len(self._buffer)} bytes short")
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_to_eof(self) -> bytes:
        while self._fill():
            pass
        data = bytes(self._buffer)
        self._buffer.clear()
        return data


def _read_head(reader: _Reader) -> tuple[str, list[tuple[str, str]]] | None:
    """Start line and headers, or None if the peer closed cleanly between messages."""
    line = reader.readline()
    # RFC 9112 section 2.2: a server should ignore empty lines before a request line.
    while line == b"":
        line = reader.readline()
    if line is None:
        return None
    start_line = line.decode("latin-1")
    headers: list[tuple[str, str]] = []
    while (line := reader.read_line_in_message()) != b"":
        if len(headers) == MAX_HEADERS:
            raise _Malformed("too many headers")
        name, sep, value = line.decode("latin-1").partition(":")
        if not sep or not name or name != name.strip():
            raise _Malformed(f"bad header line {line[:100]!r}")
        headers.append((name, value.strip()))
    return start_line, headers


def _read_chunked(reader: _Reader) -> bytes:
    body = bytearray()
    while True:
        size_field = reader.read_line_in_message().split(b";", 1)[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise _Malformed(f"bad chunk size {size_field[:20]!r}") from None
        if size == 0:
            break
        body += reader.read_exact(size)
        if reader.read_line_in_message() != b"":
            raise _Malformed("chunk not followed by CRLF")
    # Trailers belong to the chunked framing that the proxy removes; they are dropped with it.
    while reader.read_line_in_message() != b"":
        pass
    return bytes(body)


def _read_body(reader: _Reader, message: _Message, *, until_eof: bool) -> bytes:
    transfer_encoding = (message.header("transfer-encoding") or "").lower()
    if "chunked" in transfer_encoding:
        return _read_chunked(reader)
    length = message.header("content-length")
    if length is not None:
        try:
            # Repeated identical values ("5, 5") are allowed by RFC 9110 section 8.6.
            sizes = {int(value) for value in length.split(",")}
        except ValueError:
            raise _Malformed(f"bad Content-Length {length!r}") from None
        if len(sizes) != 1 or (size := sizes.pop()) < 0:
            raise _Malformed(f"bad Content-Length {length!r}")
        return reader.read_exact(size)
    # Only a response may be delimited by the end of the connection.
    return reader.read_to_eof() if until_eof else b""


def _read_request(reader: _Reader) -> _Message | None:
    head = _read_head(reader)
    if head is None:
        return None
    request = _Message(*head, body=b"")
    if len(request.start_line.split(" ")) != 3:
        raise _Malformed(f"bad request line {request.start_line[:100]!r}")
    request.body = _read_body(reader, request, until_eof=False)
    return request


def _status_of(status_line: str) -> int:
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise _Malformed(f"bad status line {status_line[:100]!r}")
    return int(parts[1])


def _has_no_body(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304)


def _read_response(reader: _Reader, method: str) -> _Message:
    while True:
        head = _read_head(reader)
        if head is None:
            raise _Truncated("upstream closed the connection without answering")
        response = _Message(*head, body=b"")
        status = _status_of(response.start_line)
        # Interim answers (100 Continue, 103 Early Hints) are for the leg that asked for them.
        if 100 <= status < 200:
            continue
        if not _has_no_body(method, status):
            response.body = _read_body(reader, response, until_eof=True)
        return response


def _encode_head(start_line: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [start_line, *(f"{name}: {value}" for name, value in headers), "", ""]
    return "\r\n".join(lines).encode("latin-1")


def _still_connected(sock: socket.socket) -> bool:
    """Whether the client is still there, without consuming anything it sent.

    Writing to a socket whose peer has closed it usually succeeds once, so a write alone would
    report a timed-out client as served. A client that only half-closed counts as gone; the HTTP
    clients under test never do that.
    """
    try:
        readable, _, _ = select.select([sock], [], [], 0)
        return not readable or sock.recv(1, socket.MSG_PEEK) != b""
    except (OSError, ValueError):
        return False


class FaultProxy:
    """Forwards HTTP/1.1 requests to `upstream` and, per rule, loses or delays their answers."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"upstream must be an http:// URL, not {upstream!r}")
        self._upstream = (parts.hostname, parts.port or 80)
        self.errors: list[str] = []
        self._lock = threading.Lock()
        self._rules: list[Rule] = []
        self._callbacks: list[Callable[[Exchange], object]] = []
        self._exchanges: list[Exchange] = []
        self._sockets: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._url: str | None = None
        self._accept_thread: threading.Thread | None = None

    # Life cycle ---------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self._url is None:
            raise RuntimeError("the proxy has no address before start()")
        return self._url

    def start(self) -> None:
        if self._listener is not None:
            raise RuntimeError("the proxy is already started")
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listener.settimeout(ACCEPT_POLL)
        self._listener = listener
        host, port = listener.getsockname()[:2]
        self._url = f"http://{host}:{port}"
        self._accept_thread = threading.Thread(
            target=self._accept_loop, args=(listener,), name="fault-proxy-accept", daemon=True
        )
        self._accept_thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._accept_thread is not None:
            self._accept_thread.join(JOIN_TIMEOUT)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            sockets, threads = list(self._sockets), list(self._threads)
        # shutdown() rather than close(): it wakes a thread blocked in recv() on the socket, and
        # leaves closing (and so the file descriptor) to the thread that owns it.
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + JOIN_TIMEOUT
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> FaultProxy:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # What the test asks for ---------------------------------------------------------------------

    def lose_answer(
        self, method: str, path_pattern: str, count: int = 1, how: str = "close"
    ) -> Rule:
        """The server answers the request in full, and the client gets nothing at all.

        how="close" ends the connection with a FIN, how="reset" with an RST: client stacks react
        differently (some resend after a FIN, taking it for a stale keep-alive connection).
        """
        if how not in ("close", "reset"):
            raise ValueError('how must be "close" or "reset"')
        return self._add(Rule(method, path_pattern, count, how))

    def hold(self, method: str, path_pattern: str, seconds: float, count: int = 1) -> Rule:
        """The server gets the request `seconds` late: after a client with a shorter timeout has
        given up, so it carries out a request the client believes failed."""
        return self._add(Rule(method, path_pattern, count, "hold", seconds))

    def delay_answer(self, method: str, path_pattern: str, seconds: float, count: int = 1) -> Rule:
        """The server answers at once; the client gets the answer `seconds` later."""
        return self._add(Rule(method, path_pattern, count, "delay", seconds))

    def on_request(self, callback: Callable[[Exchange], object]) -> None:
        """Call `callback(exchange)` in the proxy thread just before a request is forwarded.

        For a held request that is after the hold, when the server is about to see it: that is the
        moment a test needs to change what the server will find.
        """
        with self._lock:
            self._callbacks.append(callback)

    def clear_rules(self) -> None:
        with self._lock:
            self._rules.clear()

    def exchanges(
        self, method: str | None = None, path_pattern: str | None = None
    ) -> list[Exchange]:
        """Exchanges in arrival order, optionally only those with `method` and a path matching."""
        with self._lock:
            found = list(self._exchanges)
        if method is not None:
            found = [exchange for exchange in found if exchange.method == method.upper()]
        if path_pattern is not None:
            pattern = re.compile(path_pattern)
            found = [exchange for exchange in found if pattern.search(exchange.path)]
        return found

    # Proxy threads ------------------------------------------------------------------------------

    def _add(self, rule: Rule) -> Rule:
        with self._lock:
            self._rules.append(rule)
        return rule

    def _error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def _track(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.add(sock)

    def _untrack(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        sock.close()

    def _accept_loop(self, listener: socket.socket) -> None:
        while not self._stopping.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError as exc:
                if not self._stopping.is_set():
                    self._error(f"accept failed: {exc!r}")
                return
            # An accepted socket may inherit the listener's polling timeout; client reads wait for
            # as long as the client keeps its connection open.
            client.settimeout(None)
            thread = threading.Thread(
                target=self._serve_client, args=(client,), name="fault-proxy-client", daemon=True
            )
            with self._lock:
                self._sockets.add(client)
                self._threads = [t for t in self._threads if t.is_alive()]
                self._threads.append(thread)
            thread.start()

    def _serve_client(self, client: socket.socket) -> None:
        reader = _Reader(client)
        try:
            while not self._stopping.is_set():
                request = _read_request(reader)
                if request is None or not self._handle(client, request):
                    return
        except (_Truncated, ConnectionError):
            pass  # The client went away; that is its right.
        except (_Malformed, OSError) as exc:
            if not self._stopping.is_set():
                self._error(f"client connection: {exc!r}")
        except Exception:
            self._error(f"client connection: {traceback.format_exc()}")
        finally:
            self._untrack(client)

    def _pick_rule(self, method: str, path: str) -> Rule | None:
        with self._lock:
            rules = list(self._rules)
        return next((rule for rule in rules if rule.spend(method, path)), None)

    def _handle(self, client: socket.socket, request: _Message) -> bool:
        """Serve one request; whether the client connection may carry another."""
        received_at = time.time()
        method, path, version = request.start_line.split(" ")
        headers: dict[str, str] = {}
        for name, value in request.headers:
            key = name.lower()
            headers[key] = f"{headers[key]}, {value}" if key in headers else value
        rule = self._pick_rule(method, path)
        exchange = Exchange(
            method=method,
            path=path,
            headers=headers,
            body=request.body,
            received_at=received_at,
            forwarded_at=None,
            answered_at=None,
            status=None,
            action=rule.action if rule else "forward",
            delivered=False,
            client_port=client.getpeername()[1],
        )
        with self._lock:
            self._exchanges.append(exchange)

        # Event.wait() so that stop() does not wait for a hold or delay to run out.
        if rule and rule.action == "hold" and self._stopping.wait(rule.seconds):
            return False
        self._run_callbacks(exchange)
        response = self._forward(method, request, exchange)
        if rule and rule.action in ("close", "reset"):
            self._drop(client, rule.action)
            return False
        if rule and rule.action == "delay" and self._stopping.wait(rule.seconds):
            return False

        tokens = request.connection_tokens()
        keep_alive = "close" not in tokens if version == "HTTP/1.1" else "keep-alive" in tokens
        if not _still_connected(client):
            return False
        # Marked before the write: a test that has just read the answer must not see it undelivered.
        exchange.delivered = True
        try:
            client.sendall(self._encode_response(method, response, keep_alive))
        except OSError:
            exchange.delivered = False
            return False
        return keep_alive

    def _run_callbacks(self, exchange: Exchange) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            try:
                callback(exchange)
            except Exception:
                self._error(f"on_request callback {callback!r}: {traceback.format_exc()}")

    def _forward(self, method: str, request: _Message, exchange: Exchange) -> _Message:
        """Send the request on a new upstream connection and read the whole answer.

        A new connection each time: a reused one could be closed by the server under us, and the
        proxy would then have to choose between resending and inventing a failure.
        """
        forwarded = request.forwardable_headers(also_drop=frozenset({"content-length"}))
        if request.body or request.header("content-length") or request.header("transfer-encoding"):
            forwarded.append(("Content-Length", str(len(request.body))))
        forwarded.append(("Connection", "close"))
        target = request.start_line.split(" ")[1]
        data = _encode_head(f"{method} {target} HTTP/1.1", forwarded) + request.body
        try:
            upstream = socket.create_connection(self._upstream, timeout=UPSTREAM_TIMEOUT)
        except OSError as exc:
            return self._bad_gateway(exchange, f"cannot reach {self._upstream}: {exc!r}")
        self._track(upstream)
        try:
            upstream.sendall(data)
            exchange.forwarded_at = time.time()
            response = _read_response(_Reader(upstream), method)
        except (OSError, _Truncated, _Malformed) as exc:
            return self._bad_gateway(exchange, f"{method} {target} upstream failed: {exc!r}")
        finally:
            self._untrack(upstream)
        exchange.answered_at = time.time()
        exchange.status = _status_of(response.start_line)
        return response

    def _bad_gateway(self, exchange: Exchange, reason: str) -> _Message:
        if not self._stopping.is_set():
            self._error(reason)
        exchange.status = 502
        headers = [("Content-Type", "text/plain; charset=utf-8")]
        return _Message("HTTP/1.1 502 Bad Gateway", headers, f"fault proxy: {reason}".encode())

    @staticmethod
    def _encode_response(method: str, response: _Message, keep_alive: bool) -> bytes:
        status = _status_of(response.start_line)
        headers = response.forwardable_headers(also_drop=frozenset({"content-length"}))
        if not _has_no_body(method, status):
            headers.append(("Content-Length", str(len(response.body))))
        elif status != 204 and (length := response.header("content-length")) is not None:
            # HEAD and 304 answers tell the length of a body they do not carry.
            headers.append(("Content-Length", length))
        headers.append(("Connection", "keep-alive" if keep_alive else "close"))
        # The client asked in HTTP/1.1, whatever version the upstream answered in.
        status_and_reason = response.start_line.partition(" ")[2]
        return _encode_head(f"HTTP/1.1 {status_and_reason}", headers) + response.body

    @staticmethod
    def _drop(client: socket.socket, how: str) -> None:
        # A client already gone has lost the answer either way.
        with contextlib.suppress(OSError):
            if how == "reset":
                # Linger on, with a zero timeout: close() discards the connection with an RST.
                client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                client.shutdown(socket.SHUT_RDWR)
        client.close()
