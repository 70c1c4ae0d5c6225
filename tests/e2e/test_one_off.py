"""A recruiter emails a candidate from the hiring manager's inbox, in a real Chromium: the
candidate's sandbox inbox shows the hiring manager as the sender, her Sent folder holds the email
and the recruiter's does not; the candidate replies in the sandbox, and the recruiter is notified
and reads it in the replies inbox, then on the prospect's timeline."""

import re

import pytest
from playwright.sync_api import Page, expect

from sandbox import control
from senders.models import Delegation
from sequences import replies
from sequences.models import Message
from tests.e2e.test_ats_sync import log_in
from tests.factories import DelegationFactory, ProspectFactory, UserFactory
from tests.sequences.test_sending import connect

pytestmark = pytest.mark.e2e

CANDIDATE = "casey@candidates.example"
NAMES = ("ana", "ben", "cleo")


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def test_recruiter_emails_a_candidate_as_the_hiring_manager_and_sees_the_reply(
    live_server, page: Page, sandbox, org, recruiter
):
    hana = UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")
    hana_box = connect(sandbox, hana)
    DelegationFactory(
        grantor=hana, delegate=recruiter, mailbox=hana_box, status=Delegation.Status.APPROVED
    )
    connect(sandbox, recruiter)
    control.create_account(CANDIDATE, "Casey Candidate")
    casey = ProspectFactory(
        organization=org, email=CANDIDATE, first_name="Casey", last_name="Candidate"
    )

    # From the prospect's page, an email as Hana, previewed live as Casey will read it.
    log_in(page, live_server.url, recruiter)
    page.get_by_role("link", name="Prospects").click()
    page.get_by_role("link", name=CANDIDATE).click()
    page.get_by_role("link", name="Email", exact=True).click()
    expect(page.get_by_role("heading", name="Email Casey Candidate")).to_be_visible()
    page.get_by_label("From").select_option(label="hana@acme.example (Hana Hiring)")
    page.get_by_label("Subject").fill("Staff engineer role, {{first_name}}")
    page.get_by_role("textbox", name="Body").fill(
        "Hi {{first_name}}, Hana here: could we talk this week?"
    )
    preview = page.locator("#preview")
    expect(preview).to_contain_text("Hi Casey, Hana here: could we talk this week?")
    expect(preview).to_contain_text("Staff engineer role, Casey")
    expect(preview).to_contain_text("Sent from Hana Hiring\u2019s inbox")
    page.get_by_role("button", name="Send", exact=True).click()

    progress = page.locator("#progress")
    expect(progress).to_contain_text("1 sent")
    expect(progress.locator("tr[data-state=sent]")).to_contain_text(CANDIDATE)

    # The sandbox's Gmail: Casey's inbox shows Hana as the sender; Hana's Sent has the email,
    # Rick's Sent has nothing.
    page.goto(f"{sandbox.url}/sandbox/accounts/{CANDIDATE}/?folder=inbox")
    inbox = page.get_by_role("table", name="Inbox")
    expect(inbox).to_contain_text("Hana Hiring")
    expect(inbox).to_contain_text("hana@acme.example")
    page.goto(f"{sandbox.url}/sandbox/accounts/{hana.email}/?folder=sent")
    expect(page.get_by_role("table", name="Sent")).to_contain_text("Staff engineer role, Casey")
    page.goto(f"{sandbox.url}/sandbox/accounts/{recruiter.email}/?folder=sent")
    expect(page.get_by_role("table", name="Sent")).to_contain_text("No messages.")

    # Casey replies from the sandbox's inbox.
    page.goto(f"{sandbox.url}/sandbox/accounts/{CANDIDATE}/?folder=inbox")
    page.get_by_role("table", name="Inbox").get_by_role(
        "link", name="Staff engineer role, Casey"
    ).click()
    page.get_by_label("Body").fill("Yes, Thursday afternoon works for me.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Reply sent.")

    # The next sync of Hana's inbox (beat runs it every 30 seconds) finds the reply.
    replies.sync_mailbox(hana_box.pk)
    assert Message.objects.filter(direction="inbound", prospect=casey).count() == 1

    page.goto(f"{live_server.url}/notifications/")
    notification = page.get_by_text("Casey Candidate replied to your email")
    expect(notification).to_contain_text("in Hana Hiring's inbox, hana@acme.example")
    page.get_by_role("link", name="Casey Candidate replied to your email").click()
    # The alert leads to the reply in the replies inbox, and from there to the prospect.
    expect(page).to_have_url(re.compile(r"/replies/#reply-\d+$"))
    card = page.locator("li.card", has_text="Yes, Thursday afternoon works for me.")
    expect(card).to_be_visible()
    card.get_by_role("link", name="Casey Candidate").click()
    timeline = page.locator("section", has=page.get_by_role("heading", name="Timeline"))
    reply = timeline.locator("li[data-direction=inbound]")
    expect(reply).to_contain_text("Reply")
    expect(reply).to_contain_text("Yes, Thursday afternoon works for me.")
    sent = timeline.locator("li[data-direction=outbound]")
    expect(sent).to_contain_text("Staff engineer role, Casey")
    expect(sent).to_contain_text("sent by Rick Recruiter from Hana Hiring\u2019s inbox")


def test_a_bulk_email_to_a_selection_shows_each_prospects_progress_and_cancels_the_rest(
    live_server, page: Page, sandbox, org, recruiter
):
    mailbox = connect(sandbox, recruiter)
    mailbox.daily_send_cap = 2
    mailbox.save()
    for name in ("Ana", "Ben", "Cleo"):
        email = f"{name.lower()}@candidates.example"
        control.create_account(email, name)
        ProspectFactory(organization=org, email=email, first_name=name)

    log_in(page, live_server.url, recruiter)
    page.get_by_role("link", name="Prospects").click()
    email_button = page.get_by_role("button", name="Email the selected")
    expect(email_button).to_be_disabled()
    for name in NAMES:
        page.get_by_label(f"Select {name}@candidates.example").check()
    page.get_by_role("button", name="Email 3 prospects").click()

    expect(page.get_by_role("heading", name="Email 3 prospects")).to_be_visible()
    page.get_by_label("Subject").fill("A role for you, {{first_name}}")
    page.get_by_role("textbox", name="Body").fill("Hi {{first_name}}, are you open to a chat?")
    page.get_by_label("Preview for").select_option(label="cleo@candidates.example")
    expect(page.locator("#preview")).to_contain_text("Hi Cleo, are you open to a chat?")
    page.get_by_role("button", name="Send 3 emails").click()

    # A cap of two a day: two go now, the third waits for room in the rolling day.
    progress = page.locator("#progress")
    expect(progress).to_contain_text("2 sent · 1 queued · 0 failed")
    queued = progress.locator("tr[data-state=queued]")
    expect(queued).to_contain_text("Daily cap or spacing of the mailbox reached")
    queued.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("1 email cancelled.")).to_be_visible()
    expect(progress).to_contain_text("2 sent · 0 queued · 0 failed · 1 cancelled")
    expect(progress.locator("tr[data-state=cancelled]")).to_contain_text("Cancelled by Rick")
    inboxes = {n: list(control.messages(f"{n}@candidates.example", "INBOX")) for n in NAMES}
    assert sorted(len(received) for received in inboxes.values()) == [0, 1, 1]
    for name, received in inboxes.items():
        assert [m.subject for m in received] in ([], [f"A role for you, {name.capitalize()}"])
    assert control.messages(recruiter.email, "SENT").count() == 2
