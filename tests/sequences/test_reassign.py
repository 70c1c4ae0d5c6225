"""Moving enrollments to another sender after a revoke: the recruiter picks an inbox they may
send as; each enrollment resumes there, and its next email starts a new thread in that inbox
whose first line says whose email it follows."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from sandbox import control
from senders import services as senders
from senders.models import Delegation
from sequences.models import Enrollment, EnrollmentEvent
from tests.sequences.test_sending import connect, enroll, lend_inbox, make_sequence, run_due


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def revoked(sandbox, org, recruiter, hana):
    """Rick sent stage 1 to three candidates from Hana's inbox; then Hana revoked his access."""
    hana_box = lend_inbox(sandbox, hana, recruiter)
    delegation = Delegation.objects.get(mailbox=hana_box)
    sequence = make_sequence(recruiter, hana_box)
    people = [f"candidate{n}@candidates.example" for n in range(3)]
    for email in people:
        control.create_account(email, "Candidate")
        enroll(sequence, recruiter, hana_box, email=email)
    assert run_due() == 3
    senders.revoke_delegation(delegation=delegation, by=hana, reason="Role filled.")
    return Enrollment.objects.filter(sequence=sequence).order_by("pk"), people


def test_three_enrollments_paused_by_a_revoke_go_on_from_my_inbox_in_new_threads(
    sandbox, recruiter, revoked
):
    enrollments, people = revoked
    assert {e.status for e in enrollments} == {Enrollment.Status.PAUSED}
    rick_box = connect(sandbox, recruiter)
    client = Client()
    client.force_login(recruiter)

    page = client.get("/enrollments/reassign/").content.decode()
    for email in people:
        assert email in page
    response = client.post(
        "/enrollments/reassign/",
        {"enrollments": [e.pk for e in enrollments], "mailbox": rick_box.pk, "do": "move"},
        follow=True,
    )

    assert "Moved 3 enrollments to rick@acme.example" in response.content.decode()
    for enrollment in enrollments:
        enrollment.refresh_from_db()
        assert enrollment.status == Enrollment.Status.ACTIVE
        assert enrollment.mailbox_id == rick_box.pk and enrollment.thread_id == ""
        assert EnrollmentEvent.objects.filter(
            enrollment=enrollment, text__startswith="Moved to Rick Recruiter"
        ).exists()
    # Stage 2 comes due: it goes from Rick's inbox, in a thread of its own.
    enrollments.update(next_action_at=timezone.now() - timedelta(minutes=1))
    assert run_due() == 3
    assert {e.status_reason for e in enrollments.all()} == {""}
    for email in people:
        first, second = sorted(control.messages(email, "INBOX"), key=lambda m: m.pk)
        assert first.thread_id != second.thread_id
        raw = bytes(second.raw).decode(errors="replace")
        assert "From: Rick Recruiter <rick@acme.example>" in raw
        assert "Following up on the email Rick Recruiter sent you on" in raw
        # Under the conversation's subject, though the follow-up stage has none of its own.
        assert "Subject: A platform role, Casey" in raw
    assert control.messages(recruiter.email, "SENT").count() == 3


def test_an_inbox_i_may_not_send_as_is_refused_and_nothing_moves(
    sandbox, org, recruiter, hana, revoked
):
    enrollments, _ = revoked
    client = Client()
    client.force_login(recruiter)

    # Hana's inbox is no longer Rick's to use: it is not offered, and a forged choice changes
    # nothing.
    page = client.get("/enrollments/reassign/").content.decode()
    assert "hana@acme.example (Hana" not in page
    hana_box = enrollments[0].mailbox
    client.post(
        "/enrollments/reassign/",
        {"enrollments": [e.pk for e in enrollments], "mailbox": hana_box.pk, "do": "move"},
    )
    assert {e.status for e in enrollments.all()} == {Enrollment.Status.PAUSED}


def test_stopping_them_instead(sandbox, recruiter, revoked):
    enrollments, _ = revoked
    client = Client()
    client.force_login(recruiter)
    client.post("/enrollments/reassign/", {"enrollments": [enrollments[0].pk], "do": "stop"})
    assert [e.status for e in enrollments.all()] == [
        Enrollment.Status.STOPPED,
        Enrollment.Status.PAUSED,
        Enrollment.Status.PAUSED,
    ]


def test_a_reply_into_the_old_thread_still_stops_a_moved_enrollment(sandbox, recruiter, revoked):
    from sequences import replies

    enrollments, people = revoked
    hana_box = enrollments[0].mailbox
    rick_box = connect(sandbox, recruiter)
    client = Client()
    client.force_login(recruiter)
    client.post(
        "/enrollments/reassign/",
        {"enrollments": [enrollments[0].pk], "mailbox": rick_box.pk, "do": "move"},
    )
    [first] = control.messages(people[0], "INBOX")
    control.reply(people[0], first, "Thanks, I'm interested!")

    assert hana_box.pk in replies.mailboxes_to_sync()
    replies.sync_mailbox(hana_box.pk)

    moved = enrollments[0]
    moved.refresh_from_db()
    assert moved.mailbox_id == rick_box.pk
    assert moved.status == Enrollment.Status.REPLIED
