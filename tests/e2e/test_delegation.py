import re

import pytest
from playwright.sync_api import expect

from sandbox import control
from tests.factories import PASSWORD, UserFactory
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET


def log_in(page, base, user, next_path=""):
    page.goto(f"{base}/login/{'?next=' + next_path if next_path else ''}")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.e2e
def test_recruiter_gets_and_loses_a_hiring_managers_inbox(
    live_server, sandbox, settings, browser, org, recruiter, mailoutbox
):
    settings.SITE_URL = live_server.url
    control.register_client(
        CLIENT_ID, CLIENT_SECRET, [f"{live_server.url}/senders/google/callback/"]
    )
    hana = UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")
    control.create_account(hana.email, "Hana Hiring")

    rick = browser.new_context().new_page()
    log_in(rick, live_server.url, recruiter)
    rick.get_by_role("link", name="Sender settings").click()
    rick.get_by_label("Teammate's email").fill(hana.email)
    rick.get_by_role("button", name="Request access").click()
    expect(rick.get_by_role("status")).to_contain_text("Request sent to hana@acme.example")
    expect(rick.get_by_role("row", name="hana@acme.example")).to_contain_text("Pending")

    # Hana opens the link from the email she received.
    [email] = mailoutbox
    link = re.search(rf"{re.escape(live_server.url)}/senders/review/\S+/", email.body).group(0)
    hm = browser.new_context().new_page()
    hm.goto(link)
    hm.get_by_role("link", name="Log in as hana@acme.example to review").click()
    hm.get_by_label("Email").fill(hana.email)
    hm.get_by_label("Password").fill(PASSWORD)
    hm.get_by_role("button", name="Log in").click()
    expect(
        hm.get_by_role("heading", name="Rick Recruiter asks to send from your inbox")
    ).to_be_visible()
    hm.get_by_role("button", name="Authorize").click()

    # Her inbox is not connected yet: Google's consent page comes first.
    expect(hm).to_have_url(re.compile(re.escape(sandbox.url) + r"/o/oauth2/auth"))
    hm.get_by_role("button", name="Allow").click()
    expect(hm.get_by_role("status")).to_contain_text(
        "Rick Recruiter can now send from hana@acme.example"
    )

    rick.reload()
    expect(rick.get_by_role("row", name="hana@acme.example")).to_contain_text("Authorized")

    # Hana changes her mind.
    hm.get_by_role("row", name="Rick Recruiter").get_by_role("button", name="Revoke").click()
    expect(
        hm.get_by_role("heading", name="Stop Rick Recruiter sending from hana@acme.example?")
    ).to_be_visible()
    hm.get_by_role("button", name="Revoke").click()
    expect(hm.get_by_role("status")).to_contain_text("Sending on behalf has ended")

    rick.reload()
    expect(rick.get_by_role("row", name="hana@acme.example")).to_have_count(0)
    expect(rick.get_by_text("Revoked by Hana Hiring")).to_be_visible()
