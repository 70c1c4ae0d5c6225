"""A Gmail stand-in for the throughput and sync benchmarks: Google's token endpoint and the Gmail
calls a send and a quiet sync make, each answered after a fixed latency with the shapes Google
returns, and nothing else (no mailbox is kept: the sandbox is for behaviour, this is for
timing). Run in its own process, so that its CPU is not counted as ours:

    python bench/gmail_standin.py --port 8765 --latency-ms 100

GET /_calls answers the calls counted per endpoint so far. The refresh tokens it accepts are
`bench:<email>` (what the benches store), so that getProfile can name the account.
"""

import argparse
import base64
import itertools
import json
import re
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

GMAIL = re.compile(r"^/gmail/v1/users/[^/]+/(?P<rest>.*)$")
MESSAGE_ID = re.compile(rb"^message-id:\s*(\S+)\s*$", re.IGNORECASE | re.MULTILINE)


class StandIn:
    def __init__(self, latency: float):
        self.latency = latency
        self.calls: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.ids = itertools.count(0x18C0000000000000)
        self.history = itertools.count(100_000)
        # The Message-ID header of each message sent or inserted, as Gmail keeps it.
        self.message_ids: dict[str, str] = {}

    def next_id(self) -> str:
        with self.lock:
            return format(next(self.ids), "x")

    def stored(self, body: dict) -> dict:
        raw = base64.urlsafe_b64decode(body["raw"] + "=" * (-len(body["raw"]) % 4))
        head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
        found = MESSAGE_ID.search(head)
        message_id = self.next_id()
        with self.lock:
            self.message_ids[message_id] = found.group(1).decode() if found else ""
        return {
            "id": message_id,
            "threadId": body.get("threadId") or message_id,
            "labelIds": body.get("labelIds") or ["SENT"],
        }

    def answer(self, method: str, path: str, query: dict, body: dict, token: str):
        """(endpoint, status, JSON body)."""
        if path == "/token":
            email = query.get("refresh_token", [""])[0].removeprefix("bench:")
            access = "ya29." + base64.urlsafe_b64encode(email.encode()).decode()
            return (
                "token",
                200,
                {
                    "access_token": access,
                    "expires_in": 3599,
                    "scope": "https://www.googleapis.com/auth/gmail.modify",
                    "token_type": "Bearer",
                },
            )
        match = GMAIL.match(path)
        if match is None or not token.startswith("ya29."):
            return "other", 401, {"error": {"code": 401, "message": "Unauthorized"}}
        rest = match["rest"]
        if method == "GET" and rest == "profile":
            email = base64.urlsafe_b64decode(token.removeprefix("ya29.")).decode()
            return (
                "getProfile",
                200,
                {
                    "emailAddress": email,
                    "messagesTotal": 10,
                    "threadsTotal": 10,
                    "historyId": str(next(self.history)),
                },
            )
        if method == "GET" and rest == "history":
            # Quiet: nothing since the id asked for, and the latest id.
            return "history.list", 200, {"historyId": query["startHistoryId"][0]}
        if method == "POST" and rest == "messages/send":
            return "messages.send", 200, self.stored(body)
        if method == "POST" and rest == "messages":
            return "messages.insert", 200, self.stored(body)
        if method == "POST" and rest.endswith("/trash"):
            message_id = rest.split("/")[1]
            return (
                "messages.trash",
                200,
                {
                    "id": message_id,
                    "threadId": message_id,
                    "labelIds": ["TRASH"],
                },
            )
        if method == "GET" and rest.startswith("messages/"):
            message_id = rest.split("/")[1]
            headers = [
                {"name": "Message-ID", "value": self.message_ids.get(message_id, "")},
                {"name": "Date", "value": "Fri, 04 Dec 2026 15:00:00 +0000"},
            ]
            wanted = {name.lower() for name in query.get("metadataHeaders", [])}
            return (
                "messages.get",
                200,
                {
                    "id": message_id,
                    "threadId": message_id,
                    "labelIds": ["SENT"],
                    "snippet": "",
                    "historyId": str(next(self.history)),
                    "internalDate": str(int(time.time() * 1000)),
                    "payload": {"headers": [h for h in headers if h["name"].lower() in wanted]},
                    "sizeEstimate": 1000,
                },
            )
        return "other", 404, {"error": {"code": 404, "message": "Not Found"}}


def handler_for(standin: StandIn):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as Google's servers
        # Headers and body in one segment, sent at once: otherwise Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every answer.
        wbufsize = 64 * 1024
        disable_nagle_algorithm = True

        def log_message(self, *args):
            pass

        def _reply(self, status: int, data: dict) -> None:
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _handle(self, method: str) -> None:
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path == "/_calls":
                with standin.lock:
                    return self._reply(200, dict(standin.calls))
            query = parse_qs(url.query)
            body: dict = {}
            if raw and "json" in (self.headers.get("Content-Type") or ""):
                body = json.loads(raw)
            elif raw:
                query.update(parse_qs(raw.decode()))  # the token endpoint's form
            token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
            time.sleep(standin.latency)
            endpoint, status, data = standin.answer(method, url.path, query, body, token)
            with standin.lock:
                standin.calls[endpoint] += 1
            self._reply(status, data)

        def do_GET(self):
            self._handle("GET")

        def do_POST(self):
            self._handle("POST")

    return Handler


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=100)
    args = parser.parse_args()
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), handler_for(StandIn(args.latency_ms / 1000))
    )
    server.daemon_threads = True
    server.serve_forever()


if __name__ == "__main__":
    main()
