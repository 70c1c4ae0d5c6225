"""A recruiter's day in a real Chromium against the sandbox's Gmail: a candidate's reply read
inline on the replies page by the recruiter who sent as the hiring manager and by the hiring
manager herself; the dashboard of a recruiter with work to do, each item a link that works; and
three enrollments paused by a revoke moved to the recruiter's own inbox, where they go on."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from sandbox import control
from senders import gmail
from senders import services as senders
from senders.models import Delegation, Mailbox
from sequences import replies, tasks
from sequences.models import Enrollment
from tests.e2e.test_delegation import log_in
from tests.factories import UserFactory
from tests.sequences.test_replies_inbox import LONG_REPLY
from tests.sequences.test_sending import (
    CANDIDATE,
    connect,
    enroll,
    inbox,
    lend_inbox,
    make_sequence,
    run_due,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def hana(org):
    return UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")


def watched(mailbox: Mailbox) -> Mailbox:
    """The mailbox's sync starts from its history as it is now, as after its connection."""
    mailbox.history_id = str(control.account(mailbox.email).history_id)
    mailbox.save()
    return mailbox


def test_a_reply_is_read_inline_by_the_requester_and_by_the_inbox_owner(
    live_server, browser, sandbox, recruiter, hana
):
    hana_box = lend_inbox(sandbox, hana, recruiter)
    control.create_account(CANDIDATE, "Casey Candidate")
    enroll(make_sequence(recruiter, hana_box), recruiter, hana_box)
    assert run_due() == 1

    # Casey answers from the sandbox's Gmail, and the next sync of Hana's inbox finds it.
    casey = browser.new_context().new_page()
    casey.goto(f"{sandbox.url}/sandbox/accounts/{CANDIDATE}/?folder=inbox")
    casey.get_by_role("table", name="Inbox").get_by_role(
        "link", name="A platform role, Casey"
    ).click()
    casey.get_by_label("Body").fill(LONG_REPLY)
    casey.get_by_role("button", name="Send reply").click()
    expect(casey.get_by_role("status")).to_have_text("Reply sent.")
    replies.sync_mailbox(hana_box.pk)

    for person, owns_the_inbox in ((recruiter, False), (hana, True)):
        page = browser.new_context().new_page()
        log_in(page, live_server.url, person)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Replies").click()
        card = page.locator("li.card", has_text="Thanks for reaching out! I am interested.")
        expect(card).to_contain_text(CANDIDATE)
        expect(card).to_contain_text("to hana@acme.example")
        # The stored snippet stops short; the whole reply is read through Gmail, inline.
        expect(card).not_to_contain_text("on-call rotation")
        card.get_by_role("button", name="Read the whole reply").click()
        expect(card).to_contain_text("before anything else")
        expect(card.get_by_role("link", name="Open in Gmail")).to_have_count(
            1 if owns_the_inbox else 0
        )
        page.context.close()


def test_the_dashboard_of_a_busy_recruiter_links_to_each_thing_to_do(
    live_server, page: Page, sandbox, recruiter, hana
):
    rick_box = watched(connect(sandbox, recruiter))
    for name in ("ana", "ben", "cleo"):
        control.create_account(f"{name}@candidates.example", name.capitalize())
    # Ana: an email, then a call to make, due now.
    enroll(
        make_sequence(recruiter, rick_box, kinds=("email", "manual"), name="Platform"),
        recruiter,
        rick_box,
        email="ana@candidates.example",
        first_name="Ana",
    )
    # Ben: an email he answered.
    enroll(
        make_sequence(recruiter, rick_box, name="Backend"),
        recruiter,
        rick_box,
        email="ben@candidates.example",
        first_name="Ben",
    )
    # Cleo: an email from Hana's inbox, until Hana took her inbox back.
    hana_box = lend_inbox(sandbox, hana, recruiter)
    enroll(
        make_sequence(recruiter, hana_box, name="Data"),
        recruiter,
        hana_box,
        email="cleo@candidates.example",
        first_name="Cleo",
    )
    assert run_due() == 3
    tasks.open_due_tasks()
    control.reply("ben@candidates.example", inbox("ben@candidates.example")[0], "Friday works.")
    replies.sync_mailbox(rick_box.pk)
    senders.revoke_delegation(
        delegation=Delegation.objects.get(mailbox=hana_box), by=hana, reason="Role filled."
    )
    # A second inbox of Rick's whose grant Google no longer honours.
    second = "rick.sourcing@acme.example"
    control.create_account(second, "Rick Recruiter")
    credentials = sandbox.connect(second, [gmail.MODIFY])
    old_box = Mailbox.objects.create(
        organization=recruiter.organization,
        owner=recruiter,
        email=second,
        refresh_token=credentials.refresh_token,
        scopes=[gmail.MODIFY],
    )
    control.revoke_grant(second)
    replies.sync_mailbox(old_box.pk)
    old_box.refresh_from_db()
    assert old_box.status == Mailbox.Status.NEEDS_RECONNECT

    log_in(page, live_server.url, recruiter)
    dashboard = f"{live_server.url}/dashboard/"
    page.goto(dashboard)
    needs = page.locator("section", has=page.get_by_role("heading", name="Needs you"))

    expect(needs).to_contain_text("Friday works.")
    needs.get_by_role("link", name=re.compile(r"^Ben ")).click()
    expect(page.locator("main")).to_contain_text("ben@candidates.example")
    page.goto(dashboard)
    needs.get_by_role("link", name=re.compile(r"^Read the reply from Ben")).click()
    expect(page).to_have_url(re.compile(r"/replies/#reply-\d+$"))
    expect(page.locator(":target")).to_contain_text("Friday works.")

    page.goto(dashboard)
    expect(needs).to_contain_text("Tasks due")
    needs.get_by_role("link", name=re.compile(r"^Ana ")).click()
    expect(page.locator("main")).to_contain_text("ana@candidates.example")
    page.goto(dashboard)
    needs.get_by_role("link", name="All tasks").click()
    expect(page.locator("main")).to_contain_text("LinkedIn InMail")
    expect(page.locator("main")).to_contain_text("ana@candidates.example")

    page.goto(dashboard)
    expect(needs).to_contain_text("Sending as hana@acme.example was revoked. Role filled.")
    needs.get_by_role("link", name="Move to another sender").click()
    expect(page.get_by_role("heading", name="Move to another sender")).to_be_visible()
    expect(page.get_by_label("cleo@candidates.example")).to_be_visible()

    page.goto(dashboard)
    expect(needs).to_contain_text(f"{second} · Needs reconnect")
    needs.get_by_role("link", name="Reconnect").click()
    expect(page).to_have_url(f"{live_server.url}/senders/")
    expect(page.locator("main")).to_contain_text(second)


def test_three_enrollments_paused_by_a_revoke_move_to_my_inbox_and_go_on(
    live_server, browser, sandbox, recruiter, hana
):
    hana_box = lend_inbox(sandbox, hana, recruiter)
    sequence = make_sequence(recruiter, hana_box, name="Platform")
    people = [f"candidate{n}@candidates.example" for n in range(3)]
    for email in people:
        control.create_account(email, "Candidate")
        enroll(sequence, recruiter, hana_box, email=email)
    assert run_due() == 3
    rick_box = connect(sandbox, recruiter)

    # Hana takes her inbox back, from her sender settings.
    hm = browser.new_context().new_page()
    log_in(hm, live_server.url, hana)
    hm.goto(f"{live_server.url}/senders/")
    hm.get_by_role("row", name="Rick Recruiter").get_by_role("button", name="Revoke").click()
    hm.get_by_role("button", name="Revoke").click()
    expect(hm.get_by_role("status")).to_contain_text("Sending on behalf has ended")

    rick = browser.new_context().new_page()
    log_in(rick, live_server.url, recruiter)
    rick.goto(f"{live_server.url}/enrollments/reassign/")
    for email in people:
        row = rick.get_by_role("row", name=email)
        expect(row).to_contain_text("Sending as hana@acme.example was revoked.")
        rick.get_by_label(email).uncheck()
    for email in people:
        rick.get_by_label(email).check()
    rick.get_by_label("Send from").select_option(label="rick@acme.example")
    rick.get_by_role("button", name="Move to this sender").click()

    expect(rick.get_by_role("status")).to_contain_text("Moved 3 enrollments to rick@acme.example")
    enrollments = Enrollment.objects.filter(sequence=sequence)
    assert {(e.status, e.mailbox_id) for e in enrollments} == {
        (Enrollment.Status.ACTIVE, rick_box.pk)
    }
    rick.goto(f"{live_server.url}/enrollments/reassign/")
    expect(rick.get_by_role("heading", name="Nothing waits for a sender")).to_be_visible()
    rick.goto(f"{live_server.url}/enrollments/{enrollments.first().pk}/")
    expect(rick.locator("main")).to_contain_text("Moved to Rick Recruiter")

    # Their next email goes out from Rick's own inbox.
    enrollments.update(next_action_at=timezone.now() - timedelta(minutes=1))
    assert run_due() == 3
    assert control.messages(recruiter.email, "SENT").count() == 3
    for email in people:
        assert len(inbox(email)) == 2
