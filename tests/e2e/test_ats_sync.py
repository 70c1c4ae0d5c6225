"""A team admin connects Greenhouse in a real Chromium: enters the sandbox's v3 credential, tests
it, switches automatic sync on and finds the teammates' Greenhouse users by email; the next email
a sequence sends shows up in the candidate's activity feed on the sandbox's Greenhouse page."""

import re

import pytest
from playwright.sync_api import Page, expect

from ats_sync import services
from ats_sync.models import ActivitySync, AtsConnection
from sandbox import control
from sequences import tasks
from tests.factories import PASSWORD
from tests.sequences.test_sending import connect, enroll, make_sequence

pytestmark = pytest.mark.e2e

CANDIDATE = "casey@candidates.example"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def log_in(page: Page, base: str, user) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_admin_connects_greenhouse_and_a_sequence_email_lands_in_the_candidates_feed(
    live_server, page: Page, sandbox, harvest, admin_user, recruiter
):
    log_in(page, live_server.url, admin_user)
    page.get_by_role("link", name="ATS sync").click()
    expect(page.get_by_role("heading", name="ATS settings: Greenhouse")).to_be_visible()

    # The v3 credential (the default choice), tested: the answer replaces the card in place.
    expect(page.get_by_role("radio", name=re.compile("Harvest v3"))).to_be_checked()
    page.get_by_label("Client ID").fill(harvest.client.client_id)
    page.get_by_label("Client secret").fill(harvest.client.client_secret)
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#ats-test-result")).to_contain_text(
        "Connection works: Greenhouse accepted the credentials."
    )
    # Write-only: the secret is not sent back, only the fact that one is stored.
    expect(page.get_by_label("Client secret")).to_have_value("")
    expect(page.locator('[data-stored="client_secret"]')).to_be_visible()
    expect(page.get_by_label("Client ID")).to_have_value(harvest.client.client_id)

    # Automatic sync on, for the whole team.
    page.get_by_label("Write every sequence email and reply to Greenhouse automatically").check()
    page.get_by_role("button", name="Save sync settings").click()
    expect(page.get_by_text("Sync settings saved")).to_be_visible()
    expect(page.get_by_text("Automatic sync is on")).to_be_visible()

    # Both teammates have a Greenhouse user with their email.
    page.get_by_role("button", name="Find by email").click()
    expect(page.get_by_text("2 teammates found in Greenhouse by email.")).to_be_visible()
    rick = page.locator(f'tr[data-user="{recruiter.email}"]')
    expect(rick).to_contain_text(f"#{harvest.recruiter.pk}")
    expect(rick).to_contain_text("Found by email")
    expect(page.get_by_label(f"Greenhouse user id of {recruiter.email}")).to_have_value(
        str(harvest.recruiter.pk)
    )

    connection = AtsConnection.objects.get(organization=admin_user.organization)
    assert connection.auto_sync and connection.client_secret == harvest.client.client_secret

    # Rick's sequence sends its email; the pusher writes it to Greenhouse (both run inline).
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    assert tasks.dispatch_due() == 1
    while services.push_due():
        pass
    row = ActivitySync.objects.get()
    assert row.status == ActivitySync.Status.SYNCED, row.last_error

    # Greenhouse's page for the candidate shows the email, written as Rick.
    page.goto(f"{sandbox.url}/sandbox/greenhouse/")
    candidate = page.locator(f"#candidate-{harvest.candidate.pk}")
    feed = candidate.get_by_role("row").filter(has_text="A platform role, Casey")
    expect(feed).to_have_count(1)
    expect(feed).to_contain_text("Rick Recruiter")
    expect(feed).to_contain_text("Hi Casey, note 1.")
    expect(feed).to_contain_text(recruiter.email)
