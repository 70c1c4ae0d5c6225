"""The dashboard, as a recruiter sees it: what needs them, what went out, their running
sequences; for someone new, the steps to a first sequence. A bounded number of queries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from senders.models import Mailbox
from sequences.models import Enrollment, Message, Sequence, Stage, Task, Visibility
from tests.factories import (
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    StageFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def page(client) -> str:
    response = client.get("/dashboard/")
    assert response.status_code == 200
    return response.content.decode()


def reply_to(enrollment, text="Sounds good, call me Tuesday", hours_ago=2):
    return Message.objects.create(
        organization_id=enrollment.organization_id,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        mailbox=enrollment.mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=Message.InboundKind.REPLY,
        gmail_message_id=f"reply-{enrollment.pk}",
        body_text=text,
        sent_at=timezone.now() - timedelta(hours=hours_ago),
    )


def busy_day(org, recruiter, running=4):
    """A recruiter with running sequences, a reply, a due task, a paused and a failed
    enrollment, and an inbox that needs reconnecting."""
    mailbox = MailboxFactory(owner=recruiter)
    sequences = [
        SequenceFactory(organization=org, owner=recruiter, name=f"Backend engineers {n}")
        for n in range(running)
    ]
    for sequence in sequences:
        EnrollmentFactory(sequence=sequence, mailbox=mailbox, enrolled_by=recruiter)
    casey = ProspectFactory(organization=org, first_name="Casey", last_name="Candidate")
    replied = EnrollmentFactory(
        sequence=sequences[0],
        mailbox=mailbox,
        prospect=casey,
        status=Enrollment.Status.REPLIED,
    )
    reply_to(replied)
    call = StageFactory(sequence=sequences[1], position=2, kind=Stage.Kind.MANUAL, subject="")
    task_enrollment = EnrollmentFactory(sequence=sequences[1], mailbox=mailbox, current_stage=call)
    Task.objects.create(
        organization=org,
        enrollment=task_enrollment,
        stage=call,
        assignee=recruiter,
        due_at=timezone.now() - timedelta(hours=1),
    )
    EnrollmentFactory(
        sequence=sequences[2],
        mailbox=mailbox,
        status=Enrollment.Status.PAUSED,
        pause_cause=Enrollment.PauseCause.DELEGATION_REVOKED,
        status_reason="Rick Recruiter may no longer send as hana@acme.example.",
    )
    EnrollmentFactory(
        sequence=sequences[3],
        mailbox=mailbox,
        status=Enrollment.Status.FAILED,
        status_reason="Gmail refused the message.",
        last_event_at=timezone.now(),
    )
    MailboxFactory(
        owner=recruiter, email="rick.old@acme.example", status=Mailbox.Status.NEEDS_RECONNECT
    )
    return sequences


def test_a_recruiter_with_running_sequences_sees_them_and_what_needs_them(
    org, recruiter, recruiter_client
):
    busy_day(org, recruiter)

    html = page(recruiter_client)

    assert "No sequences yet" not in html
    assert "Your first sequence, in four steps" not in html
    for n in range(4):
        assert f"Backend engineers {n}" in html
    assert "Casey Candidate" in html and "Sounds good, call me Tuesday" in html
    assert "Tasks due" in html
    assert "Sending on behalf was revoked" in html
    assert "may no longer send as hana@acme.example" in html
    assert "rick.old@acme.example" in html and "Needs reconnect" in html
    assert "Gmail refused the message." in html


def test_a_reply_into_my_inbox_from_a_confidential_sequence_names_no_sequence(
    org, recruiter, recruiter_client
):
    owner = UserFactory(organization=org, full_name="Connie Confidential")
    secret = SequenceFactory(
        organization=org, owner=owner, name="Exec search: CFO", visibility=Visibility.CONFIDENTIAL
    )
    mailbox = MailboxFactory(owner=recruiter)
    enrollment = EnrollmentFactory(
        sequence=secret, mailbox=mailbox, enrolled_by=owner, status=Enrollment.Status.REPLIED
    )
    reply_to(enrollment, text="Happy to talk")

    html = page(recruiter_client)

    assert "Happy to talk" in html
    assert "in a sequence you cannot see" in html
    assert "Exec search" not in html


def test_someone_new_is_led_through_connect_import_create_enrol(recruiter_client):
    html = page(recruiter_client)

    assert "Your first sequence, in four steps" in html
    for step in ("Connect your Gmail inbox", "import a CSV", "Create a sequence", "Enrol"):
        assert step in html
    assert "Nothing right now" in html


def test_the_dashboard_costs_the_same_queries_for_a_busy_team(
    org, recruiter, recruiter_client, django_assert_max_num_queries
):
    busy_day(org, recruiter)
    with django_assert_max_num_queries(30) as small:
        page(recruiter_client)
    busy_day(org, UserFactory(organization=org), running=8)
    for sequence in busy_day(org, recruiter, running=12):
        EnrollmentFactory.create_batch(
            3, sequence=sequence, mailbox=sequence.owner.mailboxes.first()
        )
    with django_assert_max_num_queries(len(small.captured_queries)):
        html = page(recruiter_client)
    assert html.count("Backend engineers") >= 5
    assert Sequence.objects.filter(owner=recruiter).count() == 16
