"""A recruiter filters a prospect list of three pages, selects all the prospects matching
across the pages, and enrolls them in a sequence, in a real Chromium: at once, or, when they are
more than a request has time for, in the background on a real worker, the page following it."""

import re

import pytest
from playwright.sync_api import Page, expect

from sequences import bulk_enroll
from sequences.models import Enrollment
from tests.e2e.test_ats_sync import log_in
from tests.factories import MailboxFactory, ProspectFactory, SequenceFactory

pytestmark = pytest.mark.e2e


def test_select_all_matching_across_pages_and_enroll_them(live_server, page: Page, org, recruiter):
    mailbox = MailboxFactory(owner=recruiter)
    sequence = SequenceFactory(owner=recruiter, name="Platform engineers", sender_mailbox=mailbox)
    for n in range(110):
        ProspectFactory(organization=org, email=f"hooli{n:03}@candidates.example", company="Hooli")
    for n in range(10):
        ProspectFactory(organization=org, email=f"initech{n}@candidates.example", company="Initech")
    log_in(page, live_server.url, recruiter)

    page.get_by_role("link", name="Prospects").click()
    expect(page.locator("#match-count")).to_contain_text("120 prospects")
    page.get_by_text("Filter and search").click()
    page.get_by_label("Company contains").fill("hooli")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#match-count")).to_contain_text("110 prospects match")
    expect(page.get_by_text("Page 1 of 3")).to_be_visible()

    # The filter holds across pages.
    page.get_by_role("link", name="Next →").click()
    expect(page.get_by_text("Page 2 of 3")).to_be_visible()
    expect(page.locator("table.prospects tbody tr")).to_have_count(50)
    expect(page.locator("table.prospects")).not_to_contain_text("initech")

    # Nothing chosen: the actions wait for a selection.
    expect(page.get_by_role("button", name="Continue")).to_be_disabled()
    page.get_by_label("Select all 50 on this page").check()
    expect(page.get_by_role("button", name="Email 50 prospects")).to_be_enabled()
    page.get_by_label("Select all 110 matching").check()
    expect(page.get_by_text("All 110 matching prospects are selected.")).to_be_visible()
    expect(page.get_by_role("button", name="Email 110 prospects")).to_be_visible()

    page.get_by_label("Enroll the selected in").select_option(label="Platform engineers")
    page.get_by_role("button", name="Continue").click()
    expect(
        page.get_by_role("heading", name="Enroll 110 prospects in Platform engineers")
    ).to_be_visible()
    page.get_by_role("button", name="Enroll 110").click()
    expect(page.get_by_role("heading", name="110 enrolled in Platform engineers")).to_be_visible()

    page.get_by_role("link", name="Back to the sequence").click()
    expect(page.locator("#enrollment-counts")).to_contain_text("110 enrolled")
    table = page.locator("table.enrollments")
    # The sequence page shows the enrollments a page at a time (50), the rest one link away.
    expect(table.get_by_role("row")).to_have_count(51)  # header + 50
    expect(table).not_to_contain_text("initech")
    page.locator("#enrollments").get_by_role("link", name="Older →").click()
    expect(table.get_by_role("row")).to_have_count(51)
    page.locator("#enrollments").get_by_role("link", name="Older →").click()
    expect(table.get_by_role("row")).to_have_count(11)  # header + the last 10
    expect(table).not_to_contain_text("initech")
    enrolled = sequence.enrollments.filter(status=Enrollment.Status.ACTIVE)
    assert set(enrolled.values_list("prospect__company", flat=True)) == {"Hooli"}
    assert enrolled.count() == 110


def test_more_than_a_request_has_time_for_are_enrolled_in_the_background(
    live_server, page: Page, org, recruiter, celery_worker_process, monkeypatch
):
    monkeypatch.setattr(bulk_enroll, "ENROLL_NOW_AT_MOST", 50)  # as if 110 were 100,000
    mailbox = MailboxFactory(owner=recruiter)
    sequence = SequenceFactory(owner=recruiter, name="Platform engineers", sender_mailbox=mailbox)
    for n in range(110):
        ProspectFactory(organization=org, email=f"hooli{n:03}@candidates.example", company="Hooli")
    ProspectFactory(organization=org, email="initech@candidates.example", company="Initech")
    log_in(page, live_server.url, recruiter)

    page.goto(f"{live_server.url}/prospects/?company=hooli")
    page.get_by_label("Select all 110 matching").check()
    page.get_by_label("Enroll the selected in").select_option(label="Platform engineers")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Enroll 110").click()

    expect(page).to_have_url(re.compile(r"/prospects/enrolling/\d+/$"))
    # The worker's report replaces the progress bar, without a reload.
    expect(page.get_by_role("heading", name="110 enrolled in Platform engineers")).to_be_visible(
        timeout=30_000
    )
    expect(page.locator("progress")).to_have_count(0)
    assert sequence.enrollments.filter(status=Enrollment.Status.ACTIVE).count() == 110
