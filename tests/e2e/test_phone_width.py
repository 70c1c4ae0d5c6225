"""Every main page at a phone's width (390 px) and a laptop's (1280 px) in a real Chromium, for a
recruiter with work on every page: nothing wider than the screen (tables scroll inside their
card), and every field a person can see has a name a screen reader says (its label, aria-label
or aria-labelledby)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from sequences.models import EnrollJob, Enrollment, ImportJob, ImportRowError, Message, Stage
from tests.e2e.test_delegation import log_in
from tests.factories import (
    EmailTemplateFactory,
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    SnippetFactory,
)

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
    "/templates/",
    "/templates/new/",
    "/snippets/",
    "/tasks/",
    "/outbox/",
    "/stats/",
    "/team/",
    "/notifications/",
    "/account/",
    "/senders/",
    "/enrollments/{enrollment}/",
    "/enrollments/reassign/",
    "/sequences/{sequence}/stages/{email_stage}/",
    "/sequences/{sequence}/stages/{stage}/",
    "/prospects/imports/{import_job}/",
    "/prospects/enrolling/{enroll_job}/",
]

# The visible fields (not buttons) with no accessible name of the kinds a label gives.
UNNAMED_FIELDS = """() => [...document.querySelectorAll("input, select, textarea")]
  .filter((field) => !["hidden", "submit", "button", "reset", "image"].includes(field.type))
  .filter((field) => field.getClientRects().length > 0)
  .filter((field) => {
    const byIds = (field.getAttribute("aria-labelledby") || "").split(/\\s+/)
      .map((id) => document.getElementById(id)).filter(Boolean)
      .map((element) => element.textContent).join(" ");
    const labels = [...(field.labels || [])].map((label) => label.textContent).join(" ");
    return !(byIds + (field.getAttribute("aria-label") || "") + labels).trim();
  })
  .map((field) => field.outerHTML.slice(0, 160))"""


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
    EmailTemplateFactory(
        owner=recruiter,
        name="First note to senior platform engineers, Berlin and remote",
        subject="A platform role at A company with a rather long name GmbH, {{first_name}}",
    )
    SnippetFactory(owner=recruiter, name="Scheduling link and a paragraph about the team")
    manual = Stage.objects.create(
        sequence=sequence,
        position=sequence.stages.count(),
        kind=Stage.Kind.MANUAL,
        manual_kind=Stage.ManualKind.CALL,
        instructions="Call {{first_name}}.",
    )
    # Paused for a revoked delegation: the reassign page has one to move.
    EnrollmentFactory(
        sequence=sequence,
        mailbox=mailbox,
        status=Enrollment.Status.PAUSED,
        pause_cause=Enrollment.PauseCause.DELEGATION_REVOKED,
        status_reason="Sending as hana@acme.example was revoked.",
    )
    job = ImportJob.objects.create(
        organization=org,
        created_by=recruiter,
        token="phone",
        status=ImportJob.Status.DONE,
        header=["Email"],
        rows_total=1,
        rows_done=1,
        skipped=1,
    )
    ImportRowError.objects.create(
        job=job, row=2, values=["not-an-email"], problem="not-an-email is not an email address."
    )
    # Finished, with a refusal in its report: the progress page at its fullest.
    enroll_job = EnrollJob.objects.create(
        organization=org,
        created_by=recruiter,
        sequence=sequence,
        filter_query="all=1",
        mailbox=mailbox,
        status=EnrollJob.Status.DONE,
        total=2,
        checked=2,
        enrolled=1,
        refused=[{"why": "Already in this sequence.", "count": 1, "examples": [prospect.email]}],
    )
    return {
        "enroll_job": enroll_job.pk,
        "sequence": sequence.pk,
        "prospect": prospect.pk,
        "enrollment": enrollment.pk,
        "stage": manual.pk,
        "email_stage": sequence.stages.get(position=0).pk,
        "import_job": job.pk,
    }


@pytest.mark.e2e
@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "laptop"])
def test_no_main_page_is_wider_than_the_screen_and_every_field_has_a_label(
    live_server, browser, recruiter, work, width
):
    context = browser.new_context(viewport={"width": width, "height": 844})
    page = context.new_page()
    log_in(page, live_server.url, recruiter)
    too_wide, unnamed = {}, {}
    for path in PAGES:
        url = path.format(**work)
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None and response.ok, url
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        if overflow > 0:
            too_wide[url] = overflow
        fields = page.evaluate(UNNAMED_FIELDS)
        if fields:
            unnamed[url] = fields
    context.close()
    assert too_wide == {}
    assert unnamed == {}


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

    # On a laptop the links are there at once, with no menu button in the way.
    page.set_viewport_size({"width": 1280, "height": 844})
    expect(menu).to_be_hidden()
    expect(replies).to_be_visible()
    context.close()
