"""The replies inbox: a reply that arrived through the sandbox's Gmail, read inline by the
recruiter who sent from a teammate's inbox and by that inbox's owner."""

import html
import re

import pytest
from django.test import Client

from outreach.models import Notification
from sandbox import control
from sequences import replies
from sequences.models import Message
from tests.factories import UserFactory
from tests.sequences.test_sending import (
    CANDIDATE,
    enroll,
    inbox,
    lend_inbox,
    make_sequence,
    run_due,
)

LONG_REPLY = (
    "Thanks for reaching out! I am interested.\n\n"
    "I could talk on Tuesday after 3 pm or Thursday morning; my notice period is six weeks. "
    "Before we speak, could you send the job description, the salary band and where the team "
    "sits? I have been burnt before by roles that turned out to be mostly operations work, so "
    "I would want to understand the on-call rotation before anything else."
)


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def replied(sandbox, org, recruiter, hana):
    """Rick wrote to Casey from Hana's inbox; Casey answered at length."""
    hana_box = lend_inbox(sandbox, hana, recruiter)
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, hana_box), recruiter, hana_box)
    run_due()
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], LONG_REPLY)
    replies.sync_mailbox(hana_box.pk)
    return Message.objects.get(enrollment=enrollment, direction="inbound")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("who", ["recruiter", "hana"])
def test_the_requester_and_the_inbox_owner_read_the_whole_reply_inline(
    replied, recruiter, hana, who
):
    client = logged_in(recruiter if who == "recruiter" else hana)

    page = client.get("/replies/").content.decode()

    assert CANDIDATE in page
    assert "Thanks for reaching out" in page  # the snippet, stored
    assert f'id="reply-{replied.pk}"' in page
    whole = client.get(f"/replies/{replied.pk}/text/").content.decode()
    assert "on-call rotation" in whole  # read through Gmail: the snippet stops short of it
    assert "on-call rotation" not in replied.body_text


def test_open_in_gmail_is_for_the_inbox_owner_and_sentiment_for_the_sender(
    replied, recruiter, hana
):
    rick_page = logged_in(recruiter).get("/replies/").content.decode()
    hana_page = logged_in(hana).get("/replies/").content.decode()

    assert "Open in Gmail" not in rick_page and "Open in Gmail" in hana_page
    # The timeline too: Gmail opens only the inbox's owner's mailbox.
    timeline = logged_in(recruiter).get(f"/enrollments/{replied.enrollment_id}/").content.decode()
    assert "Replied" in timeline
    assert "Open in Gmail" not in timeline
    assert f"/enrollments/{replied.enrollment_id}/interested/" in rick_page
    assert f"/enrollments/{replied.enrollment_id}/interested/" not in hana_page


def test_the_reply_alert_leads_to_the_reply_in_the_inbox(replied, recruiter, hana):
    for person in (recruiter, hana):
        alert = Notification.objects.get(user=person)
        assert alert.url == f"/replies/#reply-{replied.pk}"


def test_another_teams_reply_is_a_404(replied, other_org):
    stranger = UserFactory(organization=other_org)
    client = logged_in(stranger)
    assert CANDIDATE not in client.get("/replies/").content.decode()
    assert client.get(f"/replies/{replied.pk}/text/").status_code == 404


def test_the_replies_page_costs_the_same_queries_for_many_replies(
    replied, recruiter, django_assert_max_num_queries
):
    client = logged_in(recruiter)
    with django_assert_max_num_queries(25) as one:
        client.get("/replies/")
    for n in range(30):
        Message.objects.create(
            organization_id=replied.organization_id,
            prospect=replied.prospect,
            enrollment=replied.enrollment,
            mailbox=replied.mailbox,
            direction=Message.Direction.INBOUND,
            inbound_kind=Message.InboundKind.REPLY,
            gmail_message_id=f"more-{n}",
            body_text=f"Reply number {n}",
            sent_at=replied.sent_at,
        )
    with django_assert_max_num_queries(len(one.captured_queries)):
        page = client.get("/replies/").content.decode()
    assert page.count('class="card" id="reply-') == 25 and "Newer" not in page
    # Older: the rest, all sent in the same second, none shown twice nor skipped.
    older = html.unescape(re.search(r'href="([^"]+)" rel="next"', page).group(1))
    with django_assert_max_num_queries(len(one.captured_queries)):
        rest = client.get("/replies/" + older).content.decode()
    assert rest.count('class="card" id="reply-') == 6 and f'id="reply-{replied.pk}"' in rest
    assert 'rel="next"' not in rest
    newer = html.unescape(re.search(r'href="([^"]+)" rel="prev"', rest).group(1))
    assert client.get("/replies/" + newer).content.decode().count('class="card" id="reply-') == 25
