"""A tester plays the candidate in the sandbox's UI, in a real Chromium: opens the candidate's
inbox, reads the recruiter's message and replies; the recruiter's Gmail sees the reply in its
thread."""

import pytest
from playwright.sync_api import Page, expect

from sandbox import control
from tests.sandbox.mails import outgoing

pytestmark = pytest.mark.e2e

RECRUITER, CANDIDATE = "recruiter@acme.example", "casey@candidates.example"


def test_reply_as_the_candidate_from_the_sandbox_inbox(sandbox, page: Page):
    control.create_account(RECRUITER, "Rick Recruiter")
    control.create_account(CANDIDATE, "Casey Candidate")
    gmail = sandbox.gmail(sandbox.connect(RECRUITER))
    sent = (
        gmail.users()
        .messages()
        .send(
            userId="me",
            body=outgoing(
                sender=f"Rick Recruiter <{RECRUITER}>",
                to=CANDIDATE,
                subject="Staff engineer role",
                body="Hi Casey, are you open to a chat?",
            ),
        )
        .execute()
    )

    page.goto(f"{sandbox.url}/sandbox/")
    page.get_by_role("link", name=CANDIDATE).click()
    inbox = page.get_by_role("table", name="Inbox")
    expect(inbox).to_contain_text("Rick Recruiter")
    inbox.get_by_role("link", name="Staff engineer role").click()

    expect(page.get_by_role("article")).to_contain_text("Hi Casey, are you open to a chat?")
    page.get_by_label("Body").fill("Yes, happy to talk on Thursday.")
    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("status")).to_have_text("Reply sent.")
    expect(page.get_by_role("article")).to_have_count(2)

    thread = gmail.users().threads().get(userId="me", id=sent["threadId"]).execute()
    assert len(thread["messages"]) == 2
    assert thread["messages"][1]["labelIds"] == ["INBOX", "UNREAD"]
    assert "Yes, happy to talk on Thursday." in thread["messages"][1]["snippet"]
