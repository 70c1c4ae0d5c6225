"""How the sandbox is served and seeded: its own host and URLs, `runsandbox`, the demo data."""

import io

import pytest
import requests
from django.core.management import CommandError, call_command

from sandbox import control
from sandbox.models import BouncingDomain, GoogleAccount, OAuthClient


def test_the_sandbox_and_the_product_do_not_serve_each_others_urls(sandbox, client):
    assert requests.get(f"{sandbox.url}/login/", timeout=10).status_code == 404
    assert requests.get(f"{sandbox.url}/sandbox/", timeout=10).status_code == 200
    assert client.get("/sandbox/").status_code == 404
    assert client.get("/o/oauth2/auth").status_code == 404


def test_static_files_are_served_by_the_sandbox(sandbox):
    css = requests.get(f"{sandbox.url}/static/sandbox/sandbox.css", timeout=10)
    assert css.status_code == 200 and "sandbox" in css.text


def test_runsandbox_refuses_a_bad_address(db):
    with pytest.raises(CommandError):
        call_command("runsandbox", "localhost:http")


def test_demo_data_is_idempotent(db, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID, settings.GOOGLE_OAUTH_CLIENT_SECRET = "demo-id", "demo-secret"
    control.create_account("alex.morgan@bounce.example")
    for _ in range(2):
        call_command(
            "load_sandbox_demo", "--redirect-uri", "http://127.0.0.1:8000/cb", stdout=io.StringIO()
        )
    emails = set(GoogleAccount.objects.values_list("email", flat=True))
    assert {"admin@acme.example", "recruiter@acme.example", "hiring.manager@acme.example"} <= emails
    assert len(emails) == 7 and "alex.morgan@bounce.example" not in emails
    assert list(
        GoogleAccount.objects.filter(out_of_office=True).values_list("email", flat=True)
    ) == ["priya.shah@candidates.example"]
    assert BouncingDomain.objects.get().domain == "bounce.example"
    call_command("load_sandbox_demo", stdout=io.StringIO())
    client = OAuthClient.objects.get()
    assert (client.client_id, client.client_secret, client.redirect_uris[0]) == (
        "demo-id",
        "demo-secret",
        "http://127.0.0.1:8000/cb",
    )
    assert client.redirect_uris[1:] == ["http://testserver/senders/google/callback/"]
    assert control.account("recruiter@acme.example").aliases.get().email == "jobs@acme.example"
