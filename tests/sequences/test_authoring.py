"""The sequence editor and the lists, as a recruiter uses them."""

import re

import pytest

from sequences.models import Enrollment, Sequence, Stage
from tests.factories import EnrollmentFactory, ProspectFactory, SequenceFactory

pytestmark = pytest.mark.django_db


def test_creating_a_sequence_starts_with_one_email_stage_and_the_users_inbox(
    recruiter_client, recruiter, recruiter_mailbox
):
    response = recruiter_client.post("/sequences/new/", {"name": "Data engineers"})
    sequence = Sequence.objects.get(name="Data engineers")
    assert response["Location"] == f"/sequences/{sequence.pk}/"
    assert sequence.owner == recruiter and sequence.sender_mailbox == recruiter_mailbox
    assert list(sequence.stages.values_list("kind", flat=True)) == ["email"]


def stage_data(**changes):
    return {
        "kind": "email",
        "delay_days": 0,
        "subject": "Hello {{first_name}}",
        "body_html": "<p>Hi {{first_name}}</p>",
        "threading": "same_thread",
        "manual_kind": "",
        "instructions": "",
        **changes,
    }


def test_an_unknown_token_is_refused_at_save_naming_it(recruiter_client, sequence):
    stage = sequence.stages.get(position=0)
    response = recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stage.pk}/",
        stage_data(body_html="<p>Hi {{frist_name}}</p>"),
    )
    assert response.status_code == 200
    assert "Unknown token {{frist_name}}" in response.content.decode()
    stage.refresh_from_db()
    assert "frist_name" not in stage.body_html


def test_the_body_is_sanitized_and_gets_a_plain_text_part(recruiter_client, sequence):
    stage = sequence.stages.get(position=0)
    recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stage.pk}/",
        stage_data(
            body_html='<p onclick="x()">Hi {{first_name}}</p><script>alert(1)</script>'
            '<a href="javascript:x">y</a>'
        ),
    )
    stage.refresh_from_db()
    assert "onclick" not in stage.body_html and "<script" not in stage.body_html
    assert "javascript:" not in stage.body_html
    assert stage.body_text.startswith("Hi {{first_name}}")


def test_a_stage_that_starts_a_thread_needs_a_subject(recruiter_client, sequence):
    stage = sequence.stages.get(position=1)
    response = recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stage.pk}/",
        stage_data(subject="", threading="new_thread"),
    )
    assert "A stage that starts a thread needs a subject." in response.content.decode()


def test_stages_are_added_reordered_and_deleted_but_one_always_stays(recruiter_client, sequence):
    recruiter_client.post(f"/sequences/{sequence.pk}/stages/new/", {"kind": "manual"})
    stages = list(sequence.stages.order_by("position"))
    assert [s.kind for s in stages] == ["email", "email", "manual"]

    recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stages[2].pk}/move/", {"direction": "up"}
    )
    assert list(sequence.stages.order_by("position").values_list("kind", flat=True)) == [
        "email",
        "manual",
        "email",
    ]
    for stage in stages[1:]:
        recruiter_client.post(f"/sequences/{sequence.pk}/stages/{stage.pk}/delete/")
    response = recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stages[0].pk}/delete/", follow=True
    )
    assert "A sequence keeps at least one stage." in response.content.decode()
    assert sequence.stages.count() == 1


def test_preview_renders_a_stage_for_a_prospect_and_names_a_missing_token(
    recruiter_client, sequence, org
):
    stage = sequence.stages.get(position=0)
    alice = ProspectFactory(organization=org, first_name="Alice", company="Initech & Sons")
    nameless = ProspectFactory(organization=org, first_name="", company="Initech")
    url = f"/sequences/{sequence.pk}/stages/{stage.pk}/preview/"
    page = recruiter_client.get(url, {"prospect": alice.pk}).content.decode()
    assert "Quick question, Alice" in page
    assert "Initech &amp; Sons" in page
    page = recruiter_client.get(url, {"prospect": nameless.pk}).content.decode()
    assert "No value for {{first_name}}" in page


def test_preview_of_a_manual_stage_shows_its_instructions_with_the_prospects_values(
    recruiter_client, sequence, org, recruiter_mailbox
):
    stage = Stage.objects.create(
        sequence=sequence,
        position=sequence.stages.count(),
        kind=Stage.Kind.MANUAL,
        manual_kind=Stage.ManualKind.LINKEDIN_INMAIL,
        instructions="InMail {{first_name}} at {{company}} about {{title|the role}}, as "
        "{{sender_email}}.\nMention {{github}}.",
    )
    lin = ProspectFactory(organization=org, first_name="Lin", company="Hooli", title="")
    url = f"/sequences/{sequence.pk}/stages/{stage.pk}/preview/"

    page = recruiter_client.get(url, {"prospect": lin.pk}).content.decode()

    assert (
        f"InMail Lin at Hooli about the role, as {recruiter_mailbox.email}.<br>"
        "Mention {{github}}." in page
    )
    assert f"for {lin.email}" in page
    # Before a prospect is chosen: the instructions as typed, and what choosing one does.
    blank = recruiter_client.get(url).content.decode()
    assert "InMail {{first_name}} at {{company}}" in blank
    assert "Choose a prospect to see the instructions with their values" in blank


def test_the_preview_follows_the_stage_as_written_and_says_what_cleaning_removes(
    recruiter_client, sequence, org, recruiter_mailbox
):
    stage = sequence.stages.get(position=0)
    recruiter_mailbox.signature_html = "<p>Rick, Acme talent</p>"
    recruiter_mailbox.save()
    alice = ProspectFactory(organization=org, first_name="Alice")
    written = {
        "prospect": alice.pk,
        "mailbox": recruiter_mailbox.pk,
        "delay_days": 0,
        "subject": "Hello {{first_name}}",
        "body_html": '<p style="color:red">Hi <b>{{first_name}}</b></p><img src="x.gif">',
        "include_signature": "on",
    }
    url = f"/sequences/{sequence.pk}/stages/{stage.pk}/preview/"
    page = recruiter_client.post(url, written).content.decode()
    assert "<strong>Hello Alice</strong>" in page
    assert "<p>Hi <b>Alice</b></p>" in page
    assert '<div class="signature"><p>Rick, Acme talent</p></div>' in page
    assert "We removed what an email can&#x27;t carry: an image and the style on an element." in (
        page
    )
    # Nothing was saved, and without the box ticked the signature is left out.
    stage.refresh_from_db()
    assert "Alice" not in stage.subject
    page = recruiter_client.post(url, {**written, "include_signature": ""}).content.decode()
    assert "signature" not in page

    # Saved, the writer is told too.
    response = recruiter_client.post(
        f"/sequences/{sequence.pk}/stages/{stage.pk}/", written, follow=True
    )
    assert "We removed what an email can&#x27;t carry: an image" in response.content.decode()
    stage.refresh_from_db()
    assert stage.body_html == "<p>Hi <b>{{first_name}}</b></p>" and stage.include_signature


def test_a_plain_text_body_opens_in_the_editor_as_paragraphs(recruiter_client, sequence):
    stage = sequence.stages.get(position=0)
    sequence.stages.filter(pk=stage.pk).update(body_html="Hi {{first_name}},\n\nA role.\nRemote.")
    page = recruiter_client.get(f"/sequences/{sequence.pk}/stages/{stage.pk}/").content.decode()
    assert "data-rich-editor" in page and "quill-2.0.3.min" in page
    assert (
        "&lt;p&gt;Hi {{first_name}},&lt;/p&gt;&lt;p&gt;A role.&lt;br&gt;Remote.&lt;/p&gt;" in page
    )


def test_clone_copies_stages_and_archive_hides_from_the_list(recruiter_client, sequence):
    recruiter_client.post(f"/sequences/{sequence.pk}/clone/")
    copy = Sequence.objects.get(name="Copy of Backend engineers")
    assert copy.stages.count() == sequence.stages.count()
    recruiter_client.post(f"/sequences/{sequence.pk}/archive/", {"archived": "1"})
    listing = recruiter_client.get("/sequences/").content.decode()
    assert "Copy of Backend engineers" in listing and ">Backend engineers<" not in listing
    assert ">Backend engineers<" in recruiter_client.get("/sequences/?archived=1").content.decode()


def test_settings_refuse_a_sender_the_user_may_not_use(recruiter_client, sequence, org):
    from tests.factories import MailboxFactory, UserFactory

    other_box = MailboxFactory(owner=UserFactory(organization=org))
    data = {
        "name": "Backend engineers",
        "visibility": "shared",
        "sender": str(other_box.pk),
        "bcc": "",
        "timezone": "Europe/Berlin",
        "send_days": ["0", "1"],
        "send_start": "08:00",
        "send_end": "18:00",
    }
    response = recruiter_client.post(f"/sequences/{sequence.pk}/settings/", data, follow=True)
    assert "Select a valid choice" in response.content.decode()
    sequence.refresh_from_db()
    assert sequence.sender_mailbox != other_box and sequence.timezone == "UTC"


def test_sequence_list_runs_a_constant_number_of_queries(
    recruiter_client, recruiter, recruiter_mailbox, org, django_assert_max_num_queries
):
    def load():
        with django_assert_max_num_queries(12):
            assert recruiter_client.get("/sequences/").status_code == 200

    SequenceFactory(owner=recruiter)
    load()
    for _ in range(20):
        sequence = SequenceFactory(owner=recruiter, sender_mailbox=recruiter_mailbox)
        EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    load()


def test_enrollment_table_runs_a_constant_number_of_queries_and_filters(
    recruiter_client, sequence, recruiter_mailbox, org, django_assert_max_num_queries
):
    EnrollmentFactory.create_batch(30, sequence=sequence, mailbox=recruiter_mailbox)
    EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        status=Enrollment.Status.REPLIED,
        prospect=ProspectFactory(organization=org, email="answered@candidates.example"),
    )
    with django_assert_max_num_queries(20):
        page = recruiter_client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert page.count("Mark responded") == 30
    page = recruiter_client.get(
        f"/sequences/{sequence.pk}/", {"status": "replied"}
    ).content.decode()
    assert "answered@candidates.example" in page and page.count("Mark responded") == 0


def test_enrollment_actions_from_the_table(recruiter_client, sequence, recruiter_mailbox):
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    recruiter_client.post(f"/enrollments/{enrollment.pk}/pause/")
    enrollment.refresh_from_db()
    assert enrollment.status == "paused" and enrollment.status_reason == "Paused by Rick Recruiter."
    recruiter_client.post(f"/enrollments/{enrollment.pk}/resume/")
    recruiter_client.post(f"/enrollments/{enrollment.pk}/remove/")
    enrollment.refresh_from_db()
    assert enrollment.status == "stopped"
    assert Stage.objects.filter(sequence=sequence).count() == 2


def test_enroll_from_a_selection_on_the_prospect_list(
    recruiter_client, sequence, recruiter_mailbox, org
):
    chosen = ProspectFactory.create_batch(2, organization=org)
    page = recruiter_client.post(
        "/prospects/enroll/", {"selected": [str(p.pk) for p in chosen], "sequence": sequence.pk}
    ).content.decode()
    assert "Enroll 2 prospects in Backend engineers" in page
    report = recruiter_client.post(
        f"/sequences/{sequence.pk}/enroll/",
        {"prospects": [p.pk for p in chosen], "sender": str(recruiter_mailbox.pk)},
    ).content.decode()
    assert "2 enrolled in Backend engineers" in report
    assert set(sequence.enrollments.values_list("prospect_id", flat=True)) == {p.pk for p in chosen}


def test_a_start_time_that_has_passed_is_refused_not_taken_as_now(
    recruiter_client, sequence, recruiter_mailbox, org
):
    chosen = ProspectFactory(organization=org)
    response = recruiter_client.post(
        f"/sequences/{sequence.pk}/enroll/",
        {
            "prospects": [chosen.pk],
            "sender": str(recruiter_mailbox.pk),
            "start": "2020-01-06T09:00",
        },
        follow=True,
    )
    assert "This time has already passed" in response.content.decode()
    assert not sequence.enrollments.exists()


def test_marking_do_not_contact_stops_the_prospects_sequences_at_once(
    recruiter_client, sequence, recruiter_mailbox
):
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    page = recruiter_client.post(
        f"/prospects/{enrollment.prospect_id}/do-not-contact/", {"do_not_contact": "1"}, follow=True
    ).content.decode()
    assert "1 sequence stopped." in page and "Do not contact" in page
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.STOPPED
    assert enrollment.status_reason == "Marked do not contact by Rick Recruiter."


def _fields(page) -> set[str]:
    """The names of the form fields on a stage's page (less the preview's)."""
    return set(re.findall(r'<(?:input|select|textarea) [^>]*name="([a-z_]+)"', page)) - {
        "csrfmiddlewaretoken",
        "prospect",
        "mailbox",
    }


def test_each_stage_form_shows_only_the_fields_of_its_kind_and_threading_as_the_list_says(
    recruiter_client, sequence
):
    first, second = sequence.stages.order_by("position")
    recruiter_client.post(f"/sequences/{sequence.pk}/stages/new/", {"kind": "manual"})
    manual = sequence.stages.get(kind="manual")
    edit = f"/sequences/{sequence.pk}/stages/"

    page = recruiter_client.get(f"{edit}{first.pk}/").content.decode()
    # The list says the first email starts the thread; its form offers no other choice.
    # "template": the library template loaded into it (hidden; the picker fills it in).
    assert _fields(page) == {"delay_days", "subject", "body_html", "include_signature", "template"}
    assert "the first email starts the thread." in page
    stages = recruiter_client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert "<strong>Stage 1</strong> ·\n        Email, new thread" in stages
    assert "<strong>Stage 2</strong> ·\n        Email, in thread" in stages

    page = recruiter_client.get(f"{edit}{second.pk}/").content.decode()
    assert _fields(page) == {
        "delay_days",
        "subject",
        "body_html",
        "include_signature",
        "threading",
        "template",
    }
    assert '<option value="same_thread" selected>Reply in the same thread</option>' in page

    page = recruiter_client.get(f"{edit}{manual.pk}/").content.decode()
    assert _fields(page) == {"delay_days", "manual_kind", "instructions"}
    assert '<label for="id_manual_kind">Task:</label>' in page

    # A manual stage saves from its own fields alone, and keeps its kind.
    response = recruiter_client.post(
        f"{edit}{manual.pk}/",
        {
            "delay_days": 2,
            "manual_kind": "call",
            "instructions": "Call {{first_name}}",
            "kind": "email",
        },
    )
    assert response.status_code == 302
    manual.refresh_from_db()
    assert (manual.kind, manual.manual_kind, manual.instructions) == (
        "manual",
        "call",
        "Call {{first_name}}",
    )
    # Started anew by its form, the second email is listed as one.
    recruiter_client.post(f"{edit}{second.pk}/", stage_data(delay_days=3, threading="new_thread"))
    stages = recruiter_client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert "<strong>Stage 2</strong> ·\n        Email, new thread" in stages
