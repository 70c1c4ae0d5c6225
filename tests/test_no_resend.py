"""A write goes out once per attempt of ours: when the connection closes, resets or times out
after the request was written, neither the HTTP layer nor the client library sends it again
(the server may have carried it out). Reads may be retried. Against a socket server that reads
a request and then answers nothing."""

import socket
import struct
import threading
from collections import Counter

import httplib2
import pytest
from google.oauth2.credentials import Credentials

from ats_sync import greenhouse
from senders import gmail


class Mute:
    """Reads each request whole, counts it by method, then closes the connection without an
    answer: with a FIN ("close"), a RST ("reset"), or after a long silence ("silent")."""

    def __init__(self, how: str = "close"):
        self.how, self.received = how, Counter()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._release = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._answer_nothing, args=(connection,), daemon=True).start()

    def _answer_nothing(self, connection: socket.socket) -> None:
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = connection.recv(65536)
            if not chunk:
                return connection.close()
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            ),
            0,
        )
        while len(body) < length:
            body += connection.recv(65536)
        self.received[head.split(b" ")[0].decode()] += 1
        if self.how == "silent":
            self._release.wait(10)
        elif self.how == "reset":
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        connection.close()

    def stop(self) -> None:
        self._release.set()
        self._listener.close()


@pytest.fixture(params=["close", "reset"])
def mute(request):
    server = Mute(request.param)
    yield server
    server.stop()


@pytest.fixture
def silent():
    server = Mute("silent")
    yield server
    server.stop()


def test_httplib2_itself_resends_a_post_whose_connection_closed_without_an_answer():
    """Why the Gmail client does not ride on httplib2 (google-api-python-client's default): on
    this very server, one `request()` call delivers the POST twice."""
    server = Mute("close")
    try:
        with pytest.raises((OSError, httplib2.HttpLib2Error)):
            httplib2.Http(timeout=5).request(f"{server.url}/send", "POST", body=b"{}")
        assert server.received["POST"] == 2
    finally:
        server.stop()


def gmail_at(url: str, settings) -> gmail.Gmail:
    settings.GMAIL_API_ENDPOINT = f"{url}/"
    return gmail.Gmail(Credentials(token="an-access-token"))


def test_a_gmail_send_whose_answer_was_lost_goes_out_once(mute, settings):
    client = gmail_at(mute.url, settings)
    with pytest.raises(gmail.GmailUnavailable) as lost:
        client.send(b"From: a@acme.example\r\nTo: b@example.com\r\n\r\nHi", thread_id="t1")
    assert mute.received == {"POST": 1}
    assert lost.value.may_have_landed


def test_every_gmail_write_goes_out_once(mute, settings):
    client = gmail_at(mute.url, settings)
    for write in (
        lambda: client.insert(b"Subject: notice\r\n\r\nHi", thread_id="t1"),
        lambda: client.trash("m1"),
    ):
        with pytest.raises(gmail.GmailUnavailable):
            write()
    assert mute.received == {"POST": 2}


def test_a_gmail_send_that_outlives_the_timeout_goes_out_once(silent, settings):
    settings.GMAIL_TIMEOUT_SECONDS = 0.5
    client = gmail_at(silent.url, settings)
    with pytest.raises(gmail.GmailUnavailable, match="did not answer in time") as lost:
        client.send(b"To: b@example.com\r\n\r\nHi")
    assert silent.received == {"POST": 1}
    assert lost.value.may_have_landed


def test_a_gmail_read_whose_answer_was_lost_is_tried_again(mute, settings):
    client = gmail_at(mute.url, settings)
    with pytest.raises(gmail.GmailUnavailable):
        client.profile()
    assert mute.received == {"GET": 3}  # once, and twice more: a read changes nothing


def test_a_send_that_never_reached_gmail_is_known_not_to_have_landed(settings):
    with socket.create_server(("127.0.0.1", 0)) as taken:
        closed_port = taken.getsockname()[1]
    client = gmail_at(f"http://127.0.0.1:{closed_port}", settings)
    with pytest.raises(gmail.NotReached) as refused:
        client.send(b"To: b@example.com\r\n\r\nHi")
    assert not refused.value.may_have_landed


def test_a_greenhouse_note_whose_answer_was_lost_goes_out_once(mute, settings):
    settings.GREENHOUSE_API_URL = mute.url
    harvest = greenhouse.Harvest(
        greenhouse.Credentials(api="v1", budget_key=f"mute-{mute.how}", api_key="a-key")
    )
    with pytest.raises(greenhouse.Unavailable) as lost:
        harvest.write_email(
            42,
            acting_user_id=7,
            sender="rick@acme.example",
            to="casey@candidates.example",
            subject="Hello",
            body="Hi",
            visibility="private",
        )
    assert mute.received == {"POST": 1}
    assert lost.value.may_have_landed
