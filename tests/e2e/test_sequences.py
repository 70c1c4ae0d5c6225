import re

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD, MailboxFactory

CSV = """email,first name,last name,company
ana@candidates.example,Ana,Silva,Initech
ben@candidates.example,Ben,Okoro,Hooli
not-an-email,Bad,Row,Nowhere
cleo@candidates.example,Cleo,Park,Globex
dev@candidates.example,Dev,Rao,Umbrella
"""


@pytest.mark.e2e
def test_recruiter_builds_a_sequence_imports_prospects_and_enrolls_them(
    live_server, page, recruiter, tmp_path
):
    MailboxFactory(owner=recruiter)
    base = live_server.url
    page.goto(f"{base}/login/")
    page.get_by_label("Email").fill(recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    # Prospects first, from a CSV with one bad row.
    page.get_by_role("link", name="Prospects").click()
    csv_file = tmp_path / "prospects.csv"
    csv_file.write_text(CSV)
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Upload").click()
    expect(page.get_by_text("5 rows read")).to_be_visible()
    page.get_by_role("button", name="Import prospects").click()
    expect(page.get_by_role("heading", name="4 added, 0 updated")).to_be_visible()
    expect(page.locator(".import-errors")).to_contain_text("not-an-email is not an email address.")

    # A sequence with two emails and a manual stage.
    page.get_by_role("link", name="Sequences").click()
    page.get_by_label("New sequence name").fill("Platform engineers")
    page.get_by_role("button", name="Create sequence").click()
    expect(page.get_by_role("heading", name="Platform engineers")).to_be_visible()

    page.get_by_role("link", name="Edit stage 1").click()
    page.get_by_label("Subject").fill("{{first_name}}, a platform role at Acme")
    body = page.get_by_role("textbox", name="Body")
    body.fill("Hi {{first_name}},")
    body.press("Enter")
    body.press_sequentially("Your work at {{company}} caught my eye.")
    page.get_by_role("button", name="Save stage").click()

    page.get_by_role("button", name="Add email stage").click()
    page.get_by_role("button", name="Add manual stage").click()
    expect(page.locator(".stage")).to_have_count(3)

    # Preview stage 1 for one prospect.
    page.get_by_role("link", name="Edit stage 1").click()
    page.get_by_label("Prospect").select_option(label="ana@candidates.example")
    expect(page.locator("#preview")).to_contain_text("Ana, a platform role at Acme")
    expect(page.locator("#preview")).to_contain_text("Your work at Initech caught my eye.")
    page.get_by_role("link", name=re.compile("Platform engineers")).click()

    # Enroll the four imported prospects.
    for email in ("ana", "ben", "cleo", "dev"):
        page.get_by_label(re.compile(f"{email}@candidates.example")).check()
    page.get_by_role("button", name="Enroll selected").click()
    expect(page.get_by_role("heading", name="4 enrolled in Platform engineers")).to_be_visible()
    page.get_by_role("link", name="Back to the sequence").click()

    table = page.locator("table.enrollments")
    for email in ("ana", "ben", "cleo", "dev"):
        expect(table).to_contain_text(f"{email}@candidates.example")
    expect(table.get_by_role("row")).to_have_count(5)  # header + 4


@pytest.mark.e2e
def test_token_picker_inserts_at_the_cursor(live_server, page, recruiter):
    from tests.factories import SequenceFactory

    sequence = SequenceFactory(owner=recruiter, stages=1)
    stage = sequence.stages.get()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill(recruiter.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{live_server.url}/sequences/{sequence.pk}/stages/{stage.pk}/")
    subject = page.get_by_label("Subject")
    subject.fill("Hello , welcome")
    subject.evaluate("element => element.setSelectionRange(6, 6)")
    page.get_by_role("button", name="{{first_name}}").click()
    expect(subject).to_have_value("Hello {{first_name}}, welcome")

    # In the body's editor too, at the caret, and the textarea posted with the form follows.
    body = page.get_by_role("textbox", name="Body")
    body.fill("Dear , thanks")
    body.press("Home")
    for _ in "Dear ":
        body.press("ArrowRight")
    page.get_by_role("button", name="{{first_name}}").click()
    expect(body).to_have_text("Dear {{first_name}}, thanks")
    field = page.locator("textarea[name=body_html]")
    expect(field).to_have_value("<p>Dear {{first_name}}, thanks</p>")
    # Tab leaves the editor, as it leaves any field, to the signature box after it.
    body.press("Tab")
    expect(page.get_by_label("Add the sender's signature")).to_be_focused()

    # Other scripts put HTML in the editor with events on its textarea, which it says it handled.
    handled = field.evaluate(
        """textarea => [
            !textarea.dispatchEvent(new CustomEvent("outreach:replace",
                {cancelable: true, detail: {html: "<p>Best,</p>"}})),
            !textarea.dispatchEvent(new CustomEvent("outreach:insert",
                {cancelable: true, detail: {html: "<strong>Rick</strong>"}})),
        ]"""
    )
    assert handled == [True, True]
    expect(field).to_have_value(re.compile(r"<strong>Rick</strong>"))
    expect(body).to_contain_text("Best,")
