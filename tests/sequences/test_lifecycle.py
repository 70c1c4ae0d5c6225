"""An enrollment's life, as sequences.lifecycle owns it: which status may follow which, the
timeline event each change writes, and the claim each ending or pause gives up."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from sequences import eligibility, lifecycle, locks, services
from sequences.models import Enrollment, EnrollmentEvent, Message
from tests.factories import EnrollmentFactory, ProspectFactory, StageFactory

pytestmark = pytest.mark.django_db

Status = Enrollment.Status


@pytest.fixture
def claimed(sequence, recruiter_mailbox):
    """An active enrollment a worker holds the claim of, mid-send."""
    return EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        claim_token="worker-a",
        claimed_until=timezone.now() + timedelta(minutes=5),
    )


def events(enrollment):
    return list(
        EnrollmentEvent.objects.filter(enrollment=enrollment)
        .order_by("pk")
        .values_list("text", flat=True)
    )


def test_every_status_has_its_row_and_no_ended_one_comes_back():
    assert set(lifecycle.TRANSITIONS) == set(Status.values)
    for ended in lifecycle.ENDED - {Status.FINISHED}:
        assert not lifecycle.TRANSITIONS[ended], ended
    # A late reply or unsubscribe still counts.
    assert lifecycle.TRANSITIONS[Status.FINISHED] == {Status.REPLIED, Status.UNSUBSCRIBED}


def test_a_move_the_table_does_not_allow_raises_and_changes_nothing(claimed):
    with transaction.atomic():
        locked = locks.enrollment(claimed.pk)
        lifecycle.stop(locked, status=Status.STOPPED, reason="Removed by Rick Recruiter.")
    with transaction.atomic(), pytest.raises(lifecycle.IllegalTransition):
        locked = locks.enrollment(claimed.pk)
        lifecycle.fail(locked, "Gmail refused it")
    claimed.refresh_from_db()
    assert claimed.status == Status.STOPPED
    assert claimed.status_reason == "Removed by Rick Recruiter."


@pytest.mark.parametrize(
    "end",
    [
        lambda locked: lifecycle.pause(locked, cause="by_user", reason="Paused by Rick."),
        lambda locked: lifecycle.stop(locked, status=Status.STOPPED, reason="Removed."),
        lambda locked: lifecycle.unsubscribe(locked, "casey unsubscribed (link)."),
        lambda locked: lifecycle.fail(locked, "Gmail refused the message."),
    ],
    ids=["pause", "stop", "unsubscribe", "fail"],
)
def test_ending_or_pausing_a_run_gives_up_its_claim_and_says_so(claimed, end):
    with transaction.atomic():
        end(locks.enrollment(claimed.pk))
    claimed.refresh_from_db()
    assert (claimed.claim_token, claimed.claimed_until) == ("", None)
    assert claimed.last_event == events(claimed)[-1]


def test_a_service_stop_ends_the_claim_as_a_reply_does(claimed, recruiter):
    # stop_enrollment used to leave the claim in place while the reply path cleared it.
    assert services.remove_enrollment(enrollment=claimed, by=recruiter)
    claimed.refresh_from_db()
    assert claimed.status == Status.STOPPED
    assert claimed.claim_token == ""


def test_a_reply_after_the_last_stage_still_counts_once(sequence, recruiter_mailbox, org):
    enrollment = EnrollmentFactory(
        sequence=sequence, mailbox=recruiter_mailbox, status=Status.FINISHED, current_stage=None
    )
    reply = Message.objects.create(
        organization=org,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        mailbox=recruiter_mailbox,
        direction=Message.Direction.INBOUND,
        inbound_kind=Message.InboundKind.REPLY,
        gmail_message_id="r1",
        sent_at=timezone.now(),
    )
    with transaction.atomic():
        assert lifecycle.reply(locks.enrollment(enrollment.pk), reply)
    with transaction.atomic():
        assert not lifecycle.reply(locks.enrollment(enrollment.pk), reply)
    enrollment.refresh_from_db()
    assert enrollment.status == Status.REPLIED
    assert enrollment.replied_at == reply.sent_at
    assert events(enrollment) == ["Replied"]


def test_deleting_the_last_stage_finishes_its_enrollments_on_their_timelines(
    sequence, recruiter_mailbox, recruiter
):
    second = StageFactory(sequence=sequence, position=1)
    waiting = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox, current_stage=second)

    services.delete_stage(stage=second, by=recruiter)

    waiting.refresh_from_db()
    assert waiting.status == Status.FINISHED
    assert waiting.next_action_at is None and waiting.current_stage is None
    assert events(waiting) == ["Its last stage was deleted."]


def test_enrolment_and_the_send_path_name_a_problem_in_the_same_words(
    sequence, org, recruiter, recruiter_mailbox
):
    prospect = ProspectFactory(organization=org, do_not_contact=True)
    report = services.enroll(
        sequence=sequence, prospects=[prospect], by=recruiter, mailbox=recruiter_mailbox
    )
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox, prospect=prospect)

    [at_send] = eligibility.problems_to_send(enrollment, on_do_not_contact_list=False)

    assert report.refused[0].refused == at_send.message
    assert at_send.stops_as == Status.UNSUBSCRIBED
