"""Every main page at a phone's width (390 px) in a real Chromium: nothing wider than the screen
(tables scroll inside their card), for a recruiter with work on every page."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sequences.models import Enrollment, Message
from tests.e2e.test_delegation import log_in
from tests.factories import EnrollmentFactory, MailboxFactory, ProspectFactory, SequenceFactory

PAGES = [
    "/dashboard/",
    "/sequences/",
    "/sequences/{sequence}/",
    "/sequences/{sequence}/stages/{stage}/",
    "/prospects/",
    "/prospects/{prospect}/",
    "/replies/",
    "/emails/",
    "/emails/new/",
    "/tasks/",
    "/outbox/",
    "/stats/",
    "/team/",
    "/notifications/",
    "/account/",
    "/senders/",
    "/enrollments/{enrollment}/",
]


@pytest.fixture
def work(org, recruiter):
    mailbox = MailboxFactory(owner=recruiter)
    sequence = SequenceFactory(
        organization=org, owner=recruiter, name="Senior platform engineers, Berlin and remote"
    )
    prospect = ProspectFactory(
        organization=org,
        email="casey.candidate.with.a.long.address@candidates.example",
        first_name="Casey",
        last_name="Candidate",
        company="A company with a rather long name GmbH",
    )
    enrollment = EnrollmentFactory(
        sequence=sequence, mailbox=mailbox, prospect=prospect, status=Enrollment.Status.REPLIED
    )
    Message.objects.create(
        organization=org,
        prospect=prospect,
        enrollment=enrollment,
        mailbox=mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=Message.InboundKind.REPLY,
        gmail_message_id="reply-1",
        subject="Re: A platform role at Acme",
        body_text="Thanks! Tuesday works. " * 8,
        sent_at=timezone.now(),
    )
    return {
        "sequence": sequence.pk,
        "stage": sequence.stages.first().pk,
        "prospect": prospect.pk,
        "enrollment": enrollment.pk,
    }


@pytest.mark.e2e
def test_no_main_page_is_wider_than_a_phone(live_server, browser, recruiter, work):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, recruiter)
    too_wide = {}
    for path in PAGES:
        url = path.format(**work)
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.ok, url
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            too_wide[url] = overflow
    context.close()
    assert too_wide == {}


@pytest.mark.e2e
def test_on_a_phone_the_menu_folds_behind_a_button_and_the_keyboard_can_skip_it(
    live_server, browser, recruiter
):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, recruiter)
    menu = page.get_by_role("button", name="Menu")
    replies = page.get_by_role("navigation", name="Main").get_by_role("link", name="Replies")

    expect(menu).to_be_visible()
    expect(replies).to_be_hidden()
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    replies.click()
    expect(page).to_have_url(f"{live_server.url}/replies/")

    # The first Tab reaches "Skip to content", which lands past the menu.
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
    context.close()
