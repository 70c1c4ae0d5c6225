"""Statuses in words: a bounce's reason reads as what happened, the raw reason one look away."""

import pytest
from django.utils import timezone

from sequences import lifecycle
from sequences.classifier import bounce_in_words
from sequences.models import Enrollment, Message
from tests.factories import EnrollmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("reason", "words"),
    [
        ("DSN Action: failed (5.1.1)", "address does not exist"),
        ("DSN Action: failed (5.1.10)", "the address's domain accepts no email"),
        ("DSN Action: failed (5.2.2)", "mailbox full"),
        ("DSN Action: failed (5.7.1)", "refused by the recipient's server"),
        ("DSN Action: failed (5.1.1, 5.2.2)", "address does not exist"),
        ("DSN Action: failed (4.4.7)", "temporary delivery problem, not retried"),
        ("DSN Action: failed (5.3.0)", "could not be delivered"),
        ("DSN Action: failed (552)", "mailbox full"),
        ("DSN Action: failed (no status)", "could not be delivered"),
        (
            "delivery failure (X-Failed-Recipients; 550 5.1.1 user unknown)",
            "address does not exist",
        ),
    ],
)
def test_a_bounce_reason_in_words(reason, words):
    assert bounce_in_words(f"Bounced: {reason}") == f"Bounced: {words}"


def test_what_is_not_a_bounce_is_left_as_it_is():
    assert bounce_in_words("Replied") is None


def test_the_pages_show_a_bounce_in_words_with_the_raw_reason_at_hand(
    recruiter_client, sequence, recruiter_mailbox
):
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    bounce = Message.objects.create(
        organization=enrollment.organization,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        mailbox=recruiter_mailbox,
        direction="inbound",
        inbound_kind="bounce",
        from_address="mailer-daemon@googlemail.com",
        to_address=recruiter_mailbox.email,
        subject="Delivery Status Notification (Failure)",
        sent_at=timezone.now(),
    )
    lifecycle.bounce(enrollment, bounce, "DSN Action: failed (5.1.1)")
    assert enrollment.status == Enrollment.Status.BOUNCED
    # After the status, the reason does not repeat it.
    words = '<span title="Bounced: DSN Action: failed (5.1.1)">address does not exist</span>'

    timeline = recruiter_client.get(f"/enrollments/{enrollment.pk}/").content.decode()
    assert f"Bounced: {words}" in timeline  # the status line
    # The timeline's entry: the words, and the raw reason as its detail.
    assert (
        'Bounced: address does not exist <span class="muted">(DSN Action: failed (5.1.1))</span>'
        in timeline
    )
    detail = recruiter_client.get(f"/sequences/{sequence.pk}/").content.decode()
    assert f'<div class="muted small">{words}</div>' in detail
    prospect = recruiter_client.get(f"/prospects/{enrollment.prospect_id}/").content.decode()
    assert f"Bounced · {words}" in prospect
    for page in (timeline, detail, prospect):
        assert ">Bounced: DSN Action" not in page and "Bounced: Bounced" not in page
