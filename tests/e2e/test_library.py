"""The library in a real Chromium: a template loaded into a stage fills its subject and body and
counts as used once the stage is saved; a snippet goes in at the caret, by keyboard; a template
loaded into a one-off email updates the live preview."""

import pytest
from playwright.sync_api import Page, expect

from sequences.models import Stage
from tests.e2e.test_ats_sync import log_in
from tests.factories import (
    EmailTemplateFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    SnippetFactory,
)

pytestmark = pytest.mark.e2e

SUBJECT = "A platform role at Acme, {{first_name}}"
BODY = "<p>Hi {{first_name|there}},</p><p>Your work at {{company}} caught my eye.</p>"


def test_a_template_picked_in_the_stage_editor_fills_the_stage_and_counts_as_used(
    live_server, page: Page, recruiter
):
    template = EmailTemplateFactory(
        owner=recruiter, name="Platform intro", subject=SUBJECT, body_html=BODY
    )
    EmailTemplateFactory(owner=recruiter, name="Another one")
    sequence = SequenceFactory(owner=recruiter, name="Platform engineers", stages=1)
    stage = sequence.stages.get()
    log_in(page, live_server.url, recruiter)

    page.goto(f"{live_server.url}/sequences/{sequence.pk}/stages/{stage.pk}/")
    page.get_by_label("Use a template").select_option(label="Platform intro")
    page.get_by_role("button", name="Use template").click()
    expect(page.get_by_label("Subject")).to_have_value(SUBJECT)
    editor = page.get_by_role("textbox", name="Body")
    expect(editor).to_contain_text("Your work at {{company}} caught my eye.")
    expect(page.locator("textarea[name=body_html]")).to_have_value(BODY)  # what the form posts
    expect(page.get_by_role("status")).to_contain_text("“Platform intro” loaded.")
    page.get_by_role("button", name="Save stage").click()

    expect(page.get_by_text("Stage 1 saved.")).to_be_visible()
    expect(page.locator(f"#stage-{stage.pk}")).to_contain_text(SUBJECT)
    expect(page.locator(f"#stage-{stage.pk}")).to_contain_text(
        "Your work at {{company}} caught my eye."
    )
    assert Stage.objects.get(pk=stage.pk).template == template

    page.get_by_role("link", name="Templates").click()
    row = page.locator(f'tr[data-template="{template.pk}"]')
    expect(row.locator(".used")).to_have_text("1 time")
    expect(page.locator('tr:has-text("Another one") .used')).to_have_text("0 times")


def test_a_snippet_goes_in_at_the_caret_by_keyboard(live_server, page: Page, recruiter):
    SnippetFactory(
        owner=recruiter,
        name="Scheduling link",
        body_html="<p>Book a time: https://cal.example/rick</p>",
    )
    sequence = SequenceFactory(owner=recruiter, stages=1)
    stage = sequence.stages.get()
    log_in(page, live_server.url, recruiter)

    page.goto(f"{live_server.url}/sequences/{sequence.pk}/stages/{stage.pk}/")
    editor = page.get_by_role("textbox", name="Body")
    editor.click()
    page.keyboard.press("ControlOrMeta+a")
    page.keyboard.type("Hi Ana,")
    page.keyboard.press("Enter")
    page.keyboard.type("Rick")
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")  # the caret after the first paragraph
    menu = page.locator("summary", has_text="Snippets")
    menu.focus()
    page.keyboard.press("Enter")
    snippet = page.get_by_role("button", name="Scheduling link")
    expect(snippet).to_be_visible()
    snippet.focus()
    page.keyboard.press("Enter")
    expect(editor).to_contain_text("Book a time: https://cal.example/rick")
    body = page.locator("textarea[name=body_html]")  # what the form posts
    expect(body).to_have_value(
        "<p>Hi Ana,</p><p>Book a time: https://cal.example/rick</p><p>Rick</p>"
    )
    expect(editor).to_be_focused()
    expect(snippet).to_be_hidden()  # the menu closed behind it
    page.get_by_role("button", name="Save stage").click()
    expect(page.get_by_text("Stage 1 saved.")).to_be_visible()
    assert "Book a time: https://cal.example/rick" in Stage.objects.get(pk=stage.pk).body_html


def test_a_template_loaded_into_a_one_off_email_updates_the_preview(
    live_server, page: Page, org, recruiter
):
    MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, first_name="Casey", company="Initech")
    EmailTemplateFactory(owner=recruiter, name="Platform intro", subject=SUBJECT, body_html=BODY)
    log_in(page, live_server.url, recruiter)

    page.goto(f"{live_server.url}/emails/new/?prospect={casey.pk}")
    page.get_by_label("Use a template").select_option(label="Platform intro")
    page.get_by_role("button", name="Use template").click()
    preview = page.locator("#preview")
    expect(preview).to_contain_text("A platform role at Acme, Casey")
    expect(preview).to_contain_text("Your work at Initech caught my eye.")
