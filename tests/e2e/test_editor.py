"""The email editor in a real Chromium: a recruiter sets her signature, writes a stage with bold, a
link, a list and a token from the picker, watches the live preview follow, and the candidate's
sandbox inbox receives the email with that formatting in its HTML part, paragraphs and the link
in its text part, and the signature in both."""

import email
import re
from email import policy

import pytest
from playwright.sync_api import Page, expect

from sandbox import control
from sequences import services, tasks
from tests.e2e.test_ats_sync import log_in
from tests.factories import ProspectFactory
from tests.sequences.test_sending import connect, make_sequence

pytestmark = pytest.mark.e2e

CANDIDATE = "casey@candidates.example"
JOBS = "https://acme.example/jobs/42"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def parts(raw: bytes) -> dict[str, str]:
    message = email.message_from_bytes(raw, policy=policy.default)
    return {
        part.get_content_type(): part.get_content()
        for part in message.walk()
        if part.get_content_maintype() == "text"
    }


def test_a_stage_written_in_the_editor_arrives_with_its_formatting_token_and_signature(
    live_server, page: Page, sandbox, org, recruiter
):
    mailbox = connect(sandbox, recruiter)
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    control.create_account(CANDIDATE, "Casey Candidate")
    casey = ProspectFactory(organization=org, email=CANDIDATE, first_name="Casey")
    log_in(page, live_server.url, recruiter)

    # The signature, on the sender settings page, in the same editor.
    page.goto(f"{live_server.url}/senders/")
    signature = page.get_by_role("textbox", name="Signature")
    signature.click()
    page.get_by_role("button", name="Bold").first.click()
    page.keyboard.type("Rick Recruiter")
    page.get_by_role("button", name="Bold").first.click()
    page.keyboard.press("Enter")
    page.keyboard.type("Talent, Acme")
    page.get_by_role("button", name="Save signature").click()
    expect(page.get_by_text(f"Signature for {recruiter.email} saved.")).to_be_visible()

    page.goto(f"{live_server.url}/sequences/{sequence.pk}/stages/{sequence.stages.get().pk}/")
    page.get_by_label("Prospect").select_option(label=CANDIDATE)
    preview = page.locator("#preview")
    page.get_by_label("Subject").fill("A platform role, {{first_name}}")
    body = page.get_by_role("textbox", name="Body")
    body.press("Control+a")
    body.press("Delete")
    page.keyboard.type("Hi ")
    page.get_by_role("button", name="{{first_name}}").click()
    page.keyboard.type(",")
    # The live preview follows the typing, the token filled in for the chosen prospect.
    expect(preview).to_contain_text("Hi Casey,")
    page.keyboard.press("Enter")
    page.keyboard.type("Your ")
    bold = page.get_by_role("button", name="Bold")
    bold.click()
    expect(bold).to_have_attribute("aria-pressed", "true")
    page.keyboard.type("robotics work")
    bold.click()
    page.keyboard.type(" caught my eye: see the role")
    for _ in "role":
        page.keyboard.press("Shift+ArrowLeft")
    page.once("dialog", lambda dialog: dialog.accept(JOBS))
    page.get_by_role("button", name="Link").click()
    page.keyboard.press("End")
    page.keyboard.type(".")
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Bulleted list").click()
    page.keyboard.type("Remote")
    page.keyboard.press("Enter")
    page.keyboard.type("Four days a week")
    expect(preview.locator("strong", has_text="robotics work")).to_be_visible()
    expect(preview.locator(f'a[href="{JOBS}"]')).to_have_text("role")
    expect(preview.locator("li")).to_have_text(["Remote", "Four days a week"])
    expect(preview.locator(".signature")).to_contain_text("Rick Recruiter")
    expect(page.get_by_label("Add the sender's signature")).to_be_checked()
    page.get_by_role("button", name="Save stage").click()
    expect(page.get_by_text("Stage 1 saved.")).to_be_visible()

    services.enroll(sequence=sequence, prospects=[casey], by=recruiter, mailbox=mailbox)
    assert tasks.dispatch_due() == 1

    [received] = control.messages(CANDIDATE, "INBOX")
    assert received.subject == "A platform role, Casey"
    received_parts = parts(bytes(received.raw))
    html = received_parts["text/html"]
    assert "<p>Hi Casey,</p>" in html
    assert "<strong>robotics work</strong>" in html
    assert "<ul><li>Remote</li><li>Four days a week</li></ul>" in html
    assert "{{" not in html and "&nbsp;" not in html
    assert '<div class="signature"><p><strong>Rick Recruiter</strong></p><p>Talent, Acme</p>' in (
        html
    )
    # The wire has CRLF line ends.
    text = received_parts["text/plain"].replace("\r\n", "\n")
    assert text.startswith(
        "Hi Casey,\n\nYour robotics work caught my eye: see the role "
        "(https://acme.example/jobs/42).\n\n- Remote\n- Four days a week\n\n"
        "-- \nRick Recruiter\n\nTalent, Acme"
    )


def test_pasting_from_a_word_processor_keeps_bold_italic_links_and_lists_only(
    live_server, page: Page, sandbox, org, recruiter
):
    mailbox = connect(sandbox, recruiter)
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    log_in(page, live_server.url, recruiter)
    page.goto(f"{live_server.url}/sequences/{sequence.pk}/stages/{sequence.stages.get().pk}/")
    body = page.get_by_role("textbox", name="Body")
    body.press("Control+a")
    body.press("Delete")
    pasted = (
        '<h1 style="color:red">A role</h1><p><span style="font-family:Calibri">Plain, '
        "<b>bold</b>, <i>italic</i>, <u>underlined</u>, "
        f'<a href="{JOBS}">a link</a></span></p><img src="https://x.example/logo.png">'
        "<table><tr><td>cell</td></tr></table><ol><li>one</li><li>two</li></ol>"
    )
    body.evaluate(
        """(editor, html) => {
            const data = new DataTransfer();
            data.setData("text/html", html);
            data.setData("text/plain", "fallback");
            editor.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true,
                cancelable: true}));
        }""",
        pasted,
    )
    field = page.locator("textarea[name=body_html]")
    expect(field).to_have_value(re.compile("<ol><li>one</li><li>two</li></ol>"))
    value = field.input_value()
    assert "<strong>bold</strong>" in value and "<em>italic</em>" in value
    assert f'<a href="{JOBS}"' in value and "a link</a>" in value
    for dropped in ("<h1", "style=", "<img", "<table", "<u>", "<span"):
        assert dropped not in value
    assert "A role" in value and "cell" in value
