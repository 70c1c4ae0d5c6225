"""What a recruiter and an operator see of the engine: timelines, the outbox, /healthz."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from sequences import services
from sequences.models import EnrollmentEvent, Message
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


def test_the_timeline_shows_events_and_emails_with_gmail_links(
    recruiter_client, sequence, recruiter_mailbox
):
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    EnrollmentEvent.objects.create(
        enrollment=enrollment, text="Gmail: unavailable (503). Retrying (attempt 2)."
    )
    Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        stage=enrollment.current_stage,
        mailbox=recruiter_mailbox,
        direction="outbound",
        status="sent",
        gmail_message_id="18c2f",
        from_address=recruiter_mailbox.email,
        to_address=enrollment.prospect.email,
        subject="Quick question",
        sent_at=timezone.now(),
    )
    page = recruiter_client.get(f"/enrollments/{enrollment.pk}/").content.decode()
    assert "Retrying (attempt 2)" in page
    assert "Stage 1 sent: Quick question" in page
    assert "#all/18c2f" in page


def test_outbox_shows_what_each_inbox_sends_in_the_next_day_and_the_cap_used(
    recruiter_client, sequence, recruiter_mailbox, django_assert_max_num_queries
):
    soon = EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        next_action_at=timezone.now() + timedelta(hours=3),
    )
    EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        next_action_at=timezone.now() + timedelta(days=3),
    )
    with django_assert_max_num_queries(10):
        page = recruiter_client.get("/outbox/").content.decode()
    assert soon.prospect.email in page
    assert page.count("<tr>") == 2  # header + the one due within 24 hours
    assert "0 of 150 emails sent in the last 24 hours" in page


def test_healthz_reports_overdue_sends_and_messages_stuck_in_sending(
    client, sequence, recruiter_mailbox, django_user_model
):
    # The details are the operator's (the public answer is up or down).
    client.force_login(
        django_user_model.objects.create_superuser(email="ops@outreach.example", password="x")
    )
    enrollment = EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        next_action_at=timezone.now() - timedelta(hours=1),
    )
    Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        stage=enrollment.current_stage,
        mailbox=recruiter_mailbox,
        direction="outbound",
        status="sending",
        from_address="a@acme.example",
        to_address="b@c.example",
        created_at=timezone.now() - timedelta(minutes=30),
    )
    body = json.loads(client.get("/healthz").content)
    assert body["sending"]["messages_stuck_sending"] == 1
    assert body["sending"]["oldest_overdue_send"] == enrollment.next_action_at.isoformat()
    services.pause_enrollment(enrollment=enrollment, cause="by_user", reason="x")
    assert json.loads(client.get("/healthz").content)["sending"]["oldest_overdue_send"] is None
