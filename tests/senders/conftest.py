import pytest

from sandbox import control
from senders import signals
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET

PRODUCT_CALLBACK = "http://testserver/senders/google/callback/"


@pytest.fixture
def announcements():
    """Every announcement senders makes during the test, as (signal name, kwargs)."""
    heard = []
    names = [
        "mailbox_needs_reconnect",
        "mailbox_disconnected",
        "mailbox_reconnected",
        "delegation_revoked",
        "delegation_approved",
    ]
    receivers = {}
    for name in names:

        def receiver(sender, _name=name, **kwargs):
            heard.append((_name, kwargs))

        receivers[name] = receiver
        getattr(signals, name).connect(receiver)
    yield heard
    for name, receiver in receivers.items():
        getattr(signals, name).disconnect(receiver)


@pytest.fixture
def google(sandbox):
    """The sandbox's Google, with the product registered as an OAuth client."""
    control.register_client(CLIENT_ID, CLIENT_SECRET, [PRODUCT_CALLBACK])
    return sandbox


def consent_and_return(client, google, start_response, *, account, decision="allow"):
    """The browser's trip to Google's consent page and back to the product's callback."""
    assert start_response.status_code == 302, start_response.content
    back = google.consent(start_response["Location"], email=account, decision=decision)
    assert back.startswith(PRODUCT_CALLBACK), back
    return client.get(back)


def connect_gmail(client, google, email, *, account=None, decision="allow"):
    start = client.post("/senders/connect/", {"email": email})
    return consent_and_return(client, google, start, account=account or email, decision=decision)
