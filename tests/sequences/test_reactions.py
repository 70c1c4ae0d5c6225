"""Enrollments follow what senders and outreach announce: revocations, disconnections,
reconnections and departures."""

import pytest

from outreach import services as org_services
from senders import services as senders
from senders.models import Delegation
from sequences import services
from sequences.models import Enrollment
from tests.factories import (
    DelegationFactory,
    EnrollmentFactory,
    MailboxFactory,
    SequenceFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def hana_box(hana):
    return MailboxFactory(owner=hana)


@pytest.fixture
def on_behalf(hana, hana_box, recruiter):
    """Rick sends from Hana's inbox."""
    delegation = DelegationFactory(
        grantor=hana, delegate=recruiter, mailbox=hana_box, status=Delegation.Status.APPROVED
    )
    sequence = SequenceFactory(owner=recruiter)
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=hana_box, enrolled_by=recruiter)
    return delegation, enrollment


def test_revoked_delegation_pauses_the_delegates_enrollments_with_the_reason(
    on_behalf, hana, hana_box
):
    delegation, enrollment = on_behalf
    own = EnrollmentFactory(
        sequence=SequenceFactory(owner=hana), mailbox=hana_box, enrolled_by=hana
    )

    senders.revoke_delegation(delegation=delegation, by=hana)

    enrollment.refresh_from_db()
    own.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED
    assert enrollment.pause_cause == Enrollment.PauseCause.DELEGATION_REVOKED
    assert "Sending as hana@acme.example was revoked" in enrollment.status_reason
    assert own.status == Enrollment.Status.ACTIVE  # Hana's own sends go on


def test_reconnect_needed_pauses_and_reconnecting_resumes_only_those(
    on_behalf, hana_box, recruiter
):
    _, enrollment = on_behalf
    by_hand = EnrollmentFactory(
        sequence=enrollment.sequence, mailbox=hana_box, enrolled_by=recruiter
    )
    services.pause_enrollment(enrollment=by_hand, cause="by_user", reason="Wait", by=recruiter)

    senders.mark_needs_reconnect(hana_box, "Google no longer accepts this connection.")
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED
    assert "needs reconnecting" in enrollment.status_reason

    hana_box.refresh_from_db()
    hana_box.status = "connected"
    hana_box.save()
    from senders import signals

    signals.mailbox_reconnected.send(sender=type(hana_box), mailbox=hana_box)
    enrollment.refresh_from_db()
    by_hand.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert by_hand.status == Enrollment.Status.PAUSED  # paused by a person: stays paused


def test_disconnect_pauses_with_who_did_it(on_behalf, hana, hana_box):
    _, enrollment = on_behalf
    senders.disconnect_mailbox(mailbox=hana_box, by=hana)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED
    assert enrollment.status_reason == "hana@acme.example was disconnected by Hana Hiring."


def test_offboarding_pauses_then_hands_everything_over(org, admin_user, recruiter, teammate):
    rick_box = MailboxFactory(owner=recruiter)
    tess_box = MailboxFactory(owner=teammate)
    sequence = SequenceFactory(owner=recruiter, name="Rick's pipeline")
    enrollments = [
        EnrollmentFactory(sequence=sequence, mailbox=rick_box, enrolled_by=recruiter)
        for _ in range(3)
    ]

    org_services.update_member(user=recruiter, by=admin_user, is_active=False)
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.status == Enrollment.Status.PAUSED
        assert "left the team" in enrollment.status_reason

    from django.test import Client

    client = Client()
    client.force_login(admin_user)
    page = client.get(f"/team/members/{recruiter.pk}/hand-over/").content.decode()
    assert "3 enrollments wait" in page
    response = client.post(
        f"/team/members/{recruiter.pk}/hand-over/", {"to": teammate.pk, "sender": str(tess_box.pk)}
    )
    assert response.status_code == 302
    sequence.refresh_from_db()
    assert sequence.owner == teammate
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.status == Enrollment.Status.ACTIVE
        assert (enrollment.enrolled_by, enrollment.mailbox) == (teammate, tess_box)


def test_only_admins_hand_over(recruiter_client, teammate):
    assert recruiter_client.get(f"/team/members/{teammate.pk}/hand-over/").status_code == 403
