"""The sandbox's Greenhouse page and demo data, through Django's test client on the sandbox's
URL configuration."""

import io

import pytest
from django.core.management import call_command
from django.urls import reverse

from sandbox import control
from sandbox.greenhouse import endpoints
from sandbox.greenhouse.models import (
    GreenhouseCandidate,
    GreenhouseUser,
    HarvestApiKey,
    HarvestOAuthClient,
)
from sandbox.models import FaultRule


@pytest.fixture
def ui(client, settings, db):
    settings.ROOT_URLCONF = "sandbox.urls"
    return client


def test_the_page_lists_candidates_with_their_feeds_users_and_credentials(ui):
    control.create_greenhouse_user("rick@acme.example", "Rick Recruiter")
    control.create_candidate("casey@candidates.example", "Casey Candidate")
    control.add_note("casey@candidates.example", "rick@acme.example", "Spoke <b>today</b>.")
    key = control.create_harvest_key(name="demo key")
    control.create_harvest_client("demo-client", "secret")
    assert reverse("sandbox:greenhouse").encode() in ui.get(reverse("sandbox:home")).content
    page = ui.get(reverse("sandbox:greenhouse"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Casey Candidate" in content and "casey@candidates.example" in content
    assert "Spoke &lt;b&gt;today&lt;/b&gt;." in content and "Rick Recruiter" in content
    assert key.key in content and "demo-client" in content
    assert "<script" not in content


def test_add_a_candidate_and_switch_on_a_dropped_answer(ui):
    ui.post(
        reverse("sandbox:greenhouse_add_candidate"),
        {"email": "sam@devmail.example", "name": "Sam Okafor", "is_prospect": "on"},
    )
    candidate = GreenhouseCandidate.objects.get()
    assert (candidate.first_name, candidate.is_prospect) == ("Sam", True)
    fault = {"kind": "drop", "count": 2, "status": 503, "latency_ms": 0}
    ui.post(reverse("sandbox:add_fault"), fault | {"endpoint": endpoints.V1_CANDIDATES_LIST})
    assert not FaultRule.objects.exists()
    ui.post(
        reverse("sandbox:add_fault"),
        fault | {"endpoint": endpoints.V1_NOTES_CREATE, "next": reverse("sandbox:greenhouse")},
    )
    rule = FaultRule.objects.get()
    assert (rule.drop_connection, rule.remaining) == (True, 2)
    page = ui.get(reverse("sandbox:greenhouse")).content.decode()
    assert "next 2 writes committed, then connection dropped" in page


def test_demo_data_includes_greenhouse_and_is_idempotent(db, settings):
    settings.GOOGLE_OAUTH_CLIENT_ID = ""
    for _ in range(2):
        output = io.StringIO()
        call_command("load_sandbox_demo", stdout=output)
    team = GreenhouseUser.objects.filter(service_account=False)
    assert sorted(team.values_list("primary_email", flat=True)) == [
        "admin@acme.example",
        "hiring.manager@acme.example",
        "recruiter@acme.example",
    ]
    assert list(team.filter(site_admin=True).values_list("primary_email", flat=True)) == [
        "admin@acme.example"
    ]
    emails = sorted(email for c in GreenhouseCandidate.objects.all() for email in c.emails)
    assert emails == [
        "alex.morgan@bounce.example",
        "jamie.rivera@candidates.example",
        "lee.chen@talentmail.example",
        "priya.shah@candidates.example",
        "sam.okafor@devmail.example",
    ]
    key, client = HarvestApiKey.objects.get(), HarvestOAuthClient.objects.get()
    text = output.getvalue()
    assert key.key in text and client.client_id in text and client.client_secret in text
