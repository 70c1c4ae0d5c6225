"""The sandbox (local Google) for tests: served on a free port in a thread, with the product's
settings pointed at it, and helpers that go through it the way the product and a user do: the
real consent page and token exchange over HTTP, the real Gmail client.

    def test_something(sandbox):
        control.create_account("candidate@example.com", "Casey Candidate")
        credentials = sandbox.connect("recruiter@acme.example", [scopes.SEND, scopes.READONLY])
        gmail = sandbox.gmail(credentials)

State and fault switches are set with `sandbox.control` (by email address).

The `greenhouse` fixture does the same for the sandbox's Greenhouse Harvest, and `harvest` sets
up a typical account (users, a candidate, a v1 key, a v3 client) on it:

    def test_something(harvest):
        found = harvest.v1().get(f"{harvest.greenhouse.v1_url}/candidates", params={...})
        notes = harvest.v3(sub=harvest.admin).get(f"{harvest.greenhouse.v3_url}/notes")"""

import html
import re
import threading
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import QuietWSGIRequestHandler
from google_auth_oauthlib.flow import Flow
from googleapiclient.discovery import build

from sandbox import control, scopes
from sandbox.greenhouse.models import (
    GreenhouseCandidate,
    GreenhouseUser,
    HarvestApiKey,
    HarvestOAuthClient,
)
from sandbox.server import SandboxRequestHandler
from sandbox.wsgi import get_application

CLIENT_ID = "sandbox-tests.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-tests-secret"
REDIRECT_URI = "http://127.0.0.1:9/oauth/callback"
DEFAULT_SCOPES = (scopes.SEND, scopes.READONLY)


class QuietSandboxRequestHandler(SandboxRequestHandler, QuietWSGIRequestHandler):
    """The sandbox's request handler (it lets a fault drop a connection), without access log."""


class SandboxServer:
    """The sandbox's WSGI application on 127.0.0.1, one thread per request, as `runsandbox`
    serves it. Each request thread opens (and closes) its own database connection."""

    def __init__(self):
        self.httpd = ThreadedWSGIServer(
            ("127.0.0.1", 0), QuietSandboxRequestHandler, allow_reuse_address=False
        )
        self.httpd.set_app(get_application())
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)


class Sandbox:
    """A test's handle on the running sandbox."""

    control = control

    def __init__(self, url: str):
        self.url = url
        self.client_id, self.client_secret, self.redirect_uri = (
            CLIENT_ID,
            CLIENT_SECRET,
            REDIRECT_URI,
        )

    def flow(self, scope_list=DEFAULT_SCOPES, **kwargs) -> Flow:
        """The product's side of the web flow, configured as the product configures it."""
        config = {
            "web": {
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "auth_uri": f"{self.url}/o/oauth2/auth",
                "token_uri": f"{self.url}/token",
            }
        }
        return Flow.from_client_config(
            config, scopes=list(scope_list), redirect_uri=self.redirect_uri, **kwargs
        )

    def consent(
        self, auth_url: str, *, email: str = "", name: str = "", decision: str = "allow"
    ) -> str:
        """Plays the user's browser on the consent page: picks (or types) the account, answers,
        and returns where Google sends the browser back."""
        browser = requests.Session()
        page = browser.get(auth_url, timeout=10)
        if page.status_code != 200:
            raise AssertionError(f"consent page answered {page.status_code}: {page.text[:500]}")
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        answer = browser.post(
            auth_url,
            data={
                **{key: html.unescape(value) for key, value in fields.items()},
                "new_email": email,
                "new_name": name,
                "decision": decision,
            },
            allow_redirects=False,
            timeout=10,
        )
        if answer.status_code != 302:
            raise AssertionError(f"consent answered {answer.status_code}: {answer.text[:500]}")
        return answer.headers["Location"]

    def connect(self, email: str, scope_list=DEFAULT_SCOPES):
        """A connected Gmail credential for that account (created if needed): the real consent
        and code exchange (with PKCE) over HTTP, as the product's "Connect Gmail" does."""
        flow = self.flow(scope_list)
        auth_url, _ = flow.authorization_url(prompt="consent")
        flow.fetch_token(authorization_response=self.consent(auth_url, email=email))
        return flow.credentials

    def gmail(self, credentials):
        return build(
            "gmail",
            "v1",
            credentials=credentials,
            client_options={"api_endpoint": f"{self.url}/"},
            cache_discovery=False,
        )

    @staticmethod
    def query_of(redirect: str) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(redirect).query).items()}


@pytest.fixture(scope="session")
def sandbox_server(django_db_setup):
    server = SandboxServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def sandbox(sandbox_server, transactional_db, settings, monkeypatch) -> Sandbox:
    """The running sandbox with the test OAuth client registered and the product's settings
    pointing at it (SANDBOX_URL, GOOGLE_* URIs, GMAIL_API_ENDPOINT, client id and secret)."""
    # oauthlib refuses http:// token URLs otherwise; the sandbox is plain HTTP on loopback.
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    url = sandbox_server.url
    settings.SANDBOX_URL = url
    settings.GOOGLE_AUTH_URI = f"{url}/o/oauth2/auth"
    settings.GOOGLE_TOKEN_URI = f"{url}/token"
    settings.GOOGLE_REVOKE_URI = f"{url}/revoke"
    settings.GMAIL_API_ENDPOINT = f"{url}/"
    settings.GOOGLE_OAUTH_CLIENT_ID = CLIENT_ID
    settings.GOOGLE_OAUTH_CLIENT_SECRET = CLIENT_SECRET
    control.register_client(CLIENT_ID, CLIENT_SECRET, [REDIRECT_URI])
    return Sandbox(url)


class Greenhouse:
    """A test's handle on the sandbox's Greenhouse: its URLs, and HTTP clients authenticated as
    the product authenticates (v1: Basic with the key and an empty password, On-Behalf-Of on
    writes; v3: a Bearer token from the client credentials grant)."""

    control = control

    def __init__(self, url: str):
        self.v1_url = f"{url}/harvest/v1"
        self.v3_url = f"{url}/harvest/v3"
        self.token_url = f"{url}/greenhouse-auth/token"

    @staticmethod
    def v1(key: str, on_behalf_of: int | None = None) -> requests.Session:
        session = requests.Session()
        session.auth = (key, "")
        if on_behalf_of is not None:
            session.headers["On-Behalf-Of"] = str(on_behalf_of)
        return session

    def token(self, client_id: str, client_secret: str, sub: int | None = None):
        form = {"grant_type": "client_credentials"}
        if sub is not None:
            form["sub"] = str(sub)
        return requests.post(self.token_url, auth=(client_id, client_secret), data=form, timeout=10)

    def v3(self, client_id: str, client_secret: str, sub: int | None = None) -> requests.Session:
        answer = self.token(client_id, client_secret, sub)
        answer.raise_for_status()
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
        return session


@pytest.fixture
def greenhouse(sandbox, settings) -> Greenhouse:
    """The running sandbox's Greenhouse, with the product's Greenhouse settings pointing at it."""
    found = Greenhouse(sandbox.url)
    settings.GREENHOUSE_API_URL = found.v1_url
    settings.GREENHOUSE_API_V3_URL = found.v3_url
    settings.GREENHOUSE_TOKEN_URL = found.token_url
    return found


@dataclass
class HarvestSetup:
    """A Greenhouse account as most Harvest tests need it: a site admin and a recruiter, one
    candidate, a v1 key with every permission and a v3 client with every scope."""

    greenhouse: Greenhouse
    admin: GreenhouseUser
    recruiter: GreenhouseUser
    candidate: GreenhouseCandidate
    key: HarvestApiKey
    client: HarvestOAuthClient

    def v1(self, on_behalf_of: GreenhouseUser | None = None) -> requests.Session:
        return self.greenhouse.v1(self.key.key, on_behalf_of.pk if on_behalf_of else None)

    def v3(self, sub: GreenhouseUser | None = None) -> requests.Session:
        return self.greenhouse.v3(
            self.client.client_id, self.client.client_secret, sub.pk if sub else None
        )


@pytest.fixture
def harvest(greenhouse) -> HarvestSetup:
    return HarvestSetup(
        greenhouse=greenhouse,
        admin=control.create_greenhouse_user("ada@acme.example", "Ada Admin", site_admin=True),
        recruiter=control.create_greenhouse_user(
            "rick@acme.example", "Rick Recruiter", other_emails=["jobs@acme.example"]
        ),
        candidate=control.create_candidate("casey@candidates.example", "Casey Candidate"),
        key=control.create_harvest_key(name="tests"),
        client=control.create_harvest_client("harvest-tests", "harvest-tests-secret"),
    )
