"""The team's library: email templates and snippets, who sees and changes them, how they are
checked, the picker that loads them into a stage or a one-off email, and each template's usage
count and reply rate."""

import re

import pytest
from django.test import Client

from outreach.models import Role
from sequences.models import EmailTemplate, Enrollment, Message, Sequence, Snippet, Visibility
from tests.factories import (
    EmailTemplateFactory,
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    SnippetFactory,
    StageFactory,
    UserFactory,
)
from tests.sequences.test_stats import email, inbound

pytestmark = pytest.mark.django_db

KINDS = [("templates", EmailTemplateFactory), ("snippets", SnippetFactory)]


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def text(response) -> str:
    return response.content.decode()


def row_of(page: str, template: EmailTemplate) -> str:
    [found] = re.findall(rf'<tr data-template="{template.pk}">.*?</tr>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", found).split())


# Writing ----------------------------------------------------------------------------------------


def test_a_recruiter_writes_a_template_changes_it_and_deletes_it(recruiter, recruiter_client):
    response = recruiter_client.post(
        "/templates/new/",
        {
            "name": "  Platform intro ",
            "subject": "A platform role, {{first_name}}",
            "body_html": '<p onclick="steal()">Hi {{first_name|there}},</p><script>x()</script>',
            "visibility": "private",
        },
        follow=True,
    )
    template = EmailTemplate.objects.get()
    assert (template.owner, template.organization_id) == (recruiter, recruiter.organization_id)
    assert template.name == "Platform intro"
    # Cleaned by the stages' sanitizer: no handler, no script.
    assert template.body_html == "<p>Hi {{first_name|there}},</p>"
    row = row_of(text(response), template)
    assert row == "Platform intro A platform role, {{first_name}} You Private 0 times —"
    assert "Platform intro created." in text(response)

    recruiter_client.post(
        f"/templates/{template.pk}/",
        {"name": "Platform intro", "subject": "", "body_html": "<p>Hi</p>", "visibility": "shared"},
    )
    template.refresh_from_db()
    assert (template.subject, template.body_html, template.visibility) == (
        "",
        "<p>Hi</p>",
        "shared",
    )

    response = recruiter_client.post(f"/templates/{template.pk}/delete/", follow=True)
    assert "Platform intro deleted." in text(response)
    assert not EmailTemplate.objects.exists()


def test_a_template_with_an_unknown_token_is_refused_naming_it_and_keeps_what_was_written(
    recruiter_client,
):
    written = {
        "name": "Follow-up",
        "subject": "About {{compnay}}",
        "body_html": "<p>Hi {{frist_name}}, any thoughts?</p>",
        "visibility": "private",
    }
    response = recruiter_client.post("/templates/new/", written)
    page = text(response)
    assert response.status_code == 200
    assert "Unknown token {{compnay}} (did you mean {{company}}?)" in page
    assert "Unknown token {{frist_name}} (did you mean {{first_name}}?)" in page
    assert 'value="About {{compnay}}"' in page
    assert "Hi {{frist_name}}, any thoughts?" in page
    assert not EmailTemplate.objects.exists()


def test_a_template_needs_a_name_and_a_body(recruiter_client):
    written = {"name": "   ", "subject": "Hi", "body_html": "<p>Hello</p>", "visibility": "private"}
    page = text(recruiter_client.post("/templates/new/", written))
    assert re.search(
        r'<li>This field is required.</li></ul>\s*<input type="text" name="name"',
        page,
    )
    page = text(
        recruiter_client.post(
            "/templates/new/", {**written, "name": "Intro", "body_html": "<p> </p>"}
        )
    )
    assert "Write the text of the template." in page
    assert not EmailTemplate.objects.exists()


def test_a_snippet_is_written_checked_and_deleted_as_a_template_is(recruiter, recruiter_client):
    response = recruiter_client.post(
        "/snippets/new/",
        {"name": "Signature", "body_html": "<p>{{sender_name}}</p>", "visibility": "shared"},
    )
    assert "Unknown token {{sender_name}}" in text(response)
    assert not Snippet.objects.exists()

    response = recruiter_client.post(
        "/snippets/new/",
        {
            "name": "Signature",
            "body_html": "<p>{{sender_full_name}}<img src=x onerror=alert(1)></p>",
            "visibility": "shared",
        },
        follow=True,
    )
    snippet = Snippet.objects.get()
    assert snippet.body_html == "<p>{{sender_full_name}}</p>"
    page = text(response)
    assert "Signature" in page and "Shared with the team" in page

    recruiter_client.post(f"/snippets/{snippet.pk}/delete/")
    assert not Snippet.objects.exists()


# Who sees and changes what ----------------------------------------------------------------------


@pytest.mark.parametrize(("path", "factory"), KINDS)
def test_another_teams_entry_and_a_teammates_private_one_are_404(
    path, factory, recruiter, teammate, other_admin
):
    theirs = factory(owner=other_admin, visibility="shared")
    private = factory(owner=teammate, visibility="private")
    rick = client_for(recruiter)
    for item in (theirs, private):
        for url in (f"/{path}/{item.pk}/", f"/{path}/{item.pk}/content/"):
            assert rick.get(url).status_code == 404, url
        assert rick.post(f"/{path}/{item.pk}/", {"name": "Mine now"}).status_code == 404
        assert rick.post(f"/{path}/{item.pk}/delete/").status_code == 404
    assert type(theirs).objects.count() == 2
    listed = text(rick.get(f"/{path}/"))
    assert theirs.name not in listed and private.name not in listed


@pytest.mark.parametrize(("path", "factory"), KINDS)
def test_a_teammates_shared_entry_is_read_not_changed_and_an_admin_changes_any(
    path, factory, recruiter, teammate, admin_user
):
    shared = factory(owner=teammate, visibility="shared", name="Tess's intro")
    private = factory(owner=teammate, visibility="private", name="Tess's draft")
    rick = client_for(recruiter)
    page = text(rick.get(f"/{path}/{shared.pk}/"))
    assert "Only its owner and the team\u2019s admins change it." in page
    assert '<form method="post" id="library-item">' not in page
    assert rick.get(f"/{path}/{shared.pk}/content/").json()["body_html"] == shared.body_html
    assert rick.post(f"/{path}/{shared.pk}/", {"name": "Rick's now"}).status_code == 403
    assert rick.post(f"/{path}/{shared.pk}/delete/").status_code == 403
    shared.refresh_from_db()
    assert shared.name == "Tess's intro"

    # As for sequences, the team's admins see and change every one of the team's.
    ada = client_for(admin_user)
    assert "Tess&#x27;s draft" in text(ada.get(f"/{path}/"))
    data = {"name": "Renamed", "body_html": "<p>Hello</p>", "visibility": "shared"}
    assert ada.post(f"/{path}/{private.pk}/", data).status_code == 302
    private.refresh_from_db()
    assert (private.name, private.owner) == ("Renamed", teammate)
    assert ada.post(f"/{path}/{shared.pk}/delete/").status_code == 302
    assert type(shared).objects.filter(pk=shared.pk).exists() is False


def test_the_content_a_picker_loads_is_the_templates_subject_and_body(recruiter, recruiter_client):
    template = EmailTemplateFactory(owner=recruiter)
    snippet = SnippetFactory(owner=recruiter)
    assert recruiter_client.get(f"/templates/{template.pk}/content/").json() == {
        "id": template.pk,
        "name": template.name,
        "subject": template.subject,
        "body_html": template.body_html,
    }
    assert recruiter_client.get(f"/snippets/{snippet.pk}/content/").json() == {
        "id": snippet.pk,
        "name": snippet.name,
        "body_html": snippet.body_html,
    }
    # Reading only: nothing is changed by a GET, and a POST is not an answer there.
    assert recruiter_client.post(f"/templates/{template.pk}/content/").status_code == 405


# The picker in the stage editor and the compose page -------------------------------------------


def _picker_options(page: str) -> list[str]:
    [menu] = re.findall(r'<select id="library-template".*?</select>', page, re.S)
    return re.findall(r"<option [^>]*>([^<]*)</option>", menu)


def test_the_stage_editor_offers_the_templates_and_snippets_the_writer_may_use(
    recruiter, recruiter_client, sequence, teammate, other_admin
):
    EmailTemplateFactory(owner=recruiter, name="Mine")
    EmailTemplateFactory(owner=teammate, name="Team intro", visibility="shared")
    EmailTemplateFactory(owner=teammate, name="Tess's draft", visibility="private")
    EmailTemplateFactory(owner=other_admin, name="Globex intro", visibility="shared")
    SnippetFactory(owner=recruiter, name="My signature")
    SnippetFactory(owner=other_admin, name="Globex signature", visibility="shared")
    stage = sequence.stages.get(position=0)

    page = text(recruiter_client.get(f"/sequences/{sequence.pk}/stages/{stage.pk}/"))
    assert _picker_options(page) == ["Mine", "Team intro (Tess Teammate)"]
    assert "My signature" in page and "Globex signature" not in page
    assert '<label for="library-template">Use a template</label>' in page

    # A manual stage has no email to fill in.
    manual = StageFactory(sequence=sequence, position=2, kind="manual", manual_kind="call")
    page = text(recruiter_client.get(f"/sequences/{sequence.pk}/stages/{manual.pk}/"))
    assert "Use a template" not in page

    compose = text(recruiter_client.get("/emails/new/"))
    assert _picker_options(compose) == ["Mine", "Team intro (Tess Teammate)"]


def test_saving_a_stage_records_the_template_loaded_into_it_and_only_one_the_writer_may_use(
    recruiter, recruiter_client, sequence, teammate, other_admin
):
    stage = sequence.stages.get(position=0)
    url = f"/sequences/{sequence.pk}/stages/{stage.pk}/"
    mine = EmailTemplateFactory(owner=recruiter)
    fields = {"delay_days": 0, "subject": "Hi {{first_name}}", "body_html": "<p>Hi</p>"}

    for forged in (
        EmailTemplateFactory(owner=other_admin, visibility="shared"),
        EmailTemplateFactory(owner=teammate, visibility="private"),
    ):
        response = recruiter_client.post(url, {**fields, "template": forged.pk})
        assert response.status_code == 200 and "Select a valid choice" in text(response)
        stage.refresh_from_db()
        assert stage.template is None and stage.body_html != "<p>Hi</p>"

    assert recruiter_client.post(url, {**fields, "template": mine.pk}).status_code == 302
    stage.refresh_from_db()
    assert stage.template == mine

    # Its owner made it private since: the stage still saves, and keeps it.
    shared = EmailTemplateFactory(owner=teammate, visibility="shared")
    recruiter_client.post(url, {**fields, "template": shared.pk})
    EmailTemplate.objects.filter(pk=shared.pk).update(visibility="private")
    response = recruiter_client.post(url, {**fields, "template": shared.pk, "subject": "Hello"})
    assert response.status_code == 302
    stage.refresh_from_db()
    assert (stage.template, stage.subject) == (shared, "Hello")

    # A template deleted leaves the stage's text as it was.
    shared.delete()
    stage.refresh_from_db()
    assert (stage.template, stage.subject) == (None, "Hello")


def test_a_one_off_email_records_the_template_it_was_written_from(org, recruiter, recruiter_client):
    mailbox = MailboxFactory(owner=recruiter)
    casey = ProspectFactory(organization=org, first_name="Casey")
    template = EmailTemplateFactory(owner=recruiter)
    response = recruiter_client.post(
        "/emails/new/",
        {
            "prospects": [casey.pk],
            "sender": str(mailbox.pk),
            "subject": template.subject,
            "body_html": template.body_html,
            "bcc": "",
            "send_at": "2031-01-15T10:00",
            "timezone": "Europe/Paris",
            "template": template.pk,
        },
    )
    email = Sequence.objects.get(kind=Sequence.Kind.ONE_OFF)
    assert response["Location"] == f"/emails/{email.pk}/"
    assert email.stages.get().template == template


# Usage and reply rate ---------------------------------------------------------------------------


def test_usage_count_and_reply_rate_count_the_stages_and_one_off_emails_that_used_it(
    org, recruiter, teammate, admin_user
):
    template = EmailTemplateFactory(owner=recruiter, name="Intro", visibility="shared")
    unused = EmailTemplateFactory(owner=recruiter, name="Spare")
    box = MailboxFactory(owner=recruiter)
    backend = SequenceFactory(owner=recruiter, sender_mailbox=box)
    backend.stages.update(template=template)  # both of its stages
    # Ana answered the second email: her reply counts once, on it.
    ana = EnrollmentFactory(sequence=backend, mailbox=box, status=Enrollment.Status.REPLIED)
    email(ana, 0, "2026-03-02T10:00Z")
    email(ana, 1, "2026-03-05T10:00Z")
    inbound(ana, Message.InboundKind.REPLY, "2026-03-06T10:00Z")
    Enrollment.objects.filter(pk=ana.pk).update(replied_at="2026-03-06T10:00Z")
    # Ben did not answer; his second email failed (not sent, not counted).
    ben = EnrollmentFactory(sequence=backend, mailbox=box, status=Enrollment.Status.FAILED)
    email(ben, 0, "2026-03-02T10:00Z")
    email(ben, 1, None, status="failed")
    # A one-off email from it, marked responded by hand.
    one_off = SequenceFactory(owner=recruiter, kind=Sequence.Kind.ONE_OFF, stages=1)
    one_off.stages.update(template=template)
    cleo = EnrollmentFactory(sequence=one_off, mailbox=box, status=Enrollment.Status.REPLIED)
    email(cleo, 0, "2026-03-03T10:00Z")
    # Tess's confidential sequence used it too: Rick is told nothing of it.
    tess_box = MailboxFactory(owner=teammate)
    secret = SequenceFactory(
        owner=teammate, visibility=Visibility.CONFIDENTIAL, sender_mailbox=tess_box, stages=1
    )
    secret.stages.update(template=template)
    dev = EnrollmentFactory(sequence=secret, mailbox=tess_box, status=Enrollment.Status.FINISHED)
    email(dev, 0, "2026-03-04T10:00Z")
    Enrollment.objects.filter(pk=dev.pk).update(replied_at="2026-03-08T10:00Z")

    rick = text(client_for(recruiter).get("/templates/"))
    assert row_of(rick, template).endswith("You Shared with the team 3 times 50.0% (2 of 4 sent)")
    assert row_of(rick, unused).endswith("You Private 0 times —")
    ada = text(client_for(admin_user).get("/templates/"))
    assert row_of(ada, template).endswith("Shared with the team 4 times 60.0% (3 of 5 sent)")


def test_the_template_list_runs_the_same_queries_for_5_or_50_templates_and_pages_them(
    org, recruiter, recruiter_client, django_assert_max_num_queries
):
    box = MailboxFactory(owner=recruiter)

    def used_template(n):
        template = EmailTemplateFactory(owner=recruiter, name=f"Template {n:02}")
        sequence = SequenceFactory(owner=recruiter, sender_mailbox=box, stages=1)
        sequence.stages.update(template=template)
        enrollment = EnrollmentFactory(
            sequence=sequence, mailbox=box, prospect=ProspectFactory(organization=org)
        )
        email(enrollment, 0, "2026-03-02T10:00Z")

    def load() -> str:
        with django_assert_max_num_queries(8):
            response = recruiter_client.get("/templates/")
        assert response.status_code == 200
        return text(response)

    for n in range(5):
        used_template(n)
    assert load().count(">1 time<") == 5
    for n in range(5, 50):
        used_template(n)
    page = load()
    assert page.count('<tr data-template="') == 25
    assert "Page 1 of 2" in page
    assert "Template 24" in page and "Template 25" not in page
    second = text(recruiter_client.get("/templates/", {"page": 2}))
    assert "Template 49" in second and "Template 24" not in second


def test_the_library_is_not_a_sender_only_teammates(org):
    hana = UserFactory(organization=org, role=Role.SENDER, email="hana@acme.example")
    template = EmailTemplateFactory(owner=UserFactory(organization=org), visibility="shared")
    client = client_for(hana)
    assert client.get("/templates/").status_code == 403
    assert client.get(f"/templates/{template.pk}/content/").status_code == 403
