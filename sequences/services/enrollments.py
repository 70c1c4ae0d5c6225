"""What people do to an enrollment (pause, resume, stop, remove, mark responded) and to all of a
sequence's at once. The permission checks are here; each transition itself is
sequences.lifecycle's."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from outreach.models import User

from .. import eligibility, lifecycle, locks
from ..models import Enrollment, Message, Sentiment, Sequence
from .checks import require_editor, require_editor_or_sender


@transaction.atomic
def pause_enrollment(
    *, enrollment: Enrollment, cause: str, reason: str, by: User | None = None
) -> bool:
    locked = locks.enrollment(enrollment.pk)
    if by is not None:
        require_editor_or_sender(by, locked)
    return lifecycle.pause(locked, cause=cause, reason=reason)


@transaction.atomic
def resume_enrollment(*, enrollment: Enrollment, by: User | None = None) -> bool:
    """Back to active, unless its sender may no longer send as its mailbox (ValidationError)."""
    locked = locks.enrollment(enrollment.pk)
    if by is not None:
        require_editor_or_sender(by, locked)
    if locked.status != Enrollment.Status.PAUSED:
        return False
    for problem in eligibility.sender_problems(locked.enrolled_by, locked.mailbox):
        raise ValidationError(
            f"{problem.message[:-1]}: reassign the enrollment to another sender first."
        )
    return lifecycle.resume(locked)


@transaction.atomic
def stop_enrollment(
    *,
    enrollment: Enrollment,
    status: str,
    reason: str,
    by: User | None = None,
    unless_on_its_way: bool = False,
) -> bool:
    """Ends an open enrollment. `unless_on_its_way`: not if its email is being handed to Gmail
    right now (a cancel must not claim to have stopped what goes out anyway); the send path
    writes that email under the same row lock, so this answer holds."""
    locked = locks.enrollment(enrollment.pk)
    if by is not None:
        require_editor_or_sender(by, locked)
    # Its current stage's email; a stage since deleted left both the enrollment's and the
    # email's stage empty.
    of_the_stage = (
        Q(stage_id=locked.current_stage_id)
        if locked.current_stage_id is not None
        else Q(stage__isnull=True)
    )
    if (
        unless_on_its_way
        and locked.messages.filter(
            of_the_stage,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
        ).exists()
    ):
        return False
    return lifecycle.stop(locked, status=status, reason=reason)


def mark_responded(*, enrollment: Enrollment, by: User) -> bool:
    return stop_enrollment(
        enrollment=enrollment,
        status=Enrollment.Status.REPLIED,
        reason=f"Marked as responded by {by.full_name}.",
        by=by,
    )


def mark_sentiment(*, enrollment: Enrollment, by: User, sentiment: str) -> None:
    """How a replied prospect answered, for the stats."""
    require_editor_or_sender(by, enrollment)
    if enrollment.status != Enrollment.Status.REPLIED:
        raise ValidationError("Only a replied enrollment has a sentiment.")
    Enrollment.objects.filter(pk=enrollment.pk).update(sentiment=Sentiment(sentiment))


def remove_enrollment(*, enrollment: Enrollment, by: User) -> bool:
    return stop_enrollment(
        enrollment=enrollment,
        status=Enrollment.Status.STOPPED,
        reason=f"Removed by {by.full_name}.",
        by=by,
    )


def pause_sequence(*, sequence: Sequence, by: User) -> int:
    require_editor(by, sequence)
    count = 0
    for enrollment in sequence.enrollments.filter(status=Enrollment.Status.ACTIVE):
        count += pause_enrollment(
            enrollment=enrollment,
            cause=Enrollment.PauseCause.SEQUENCE_PAUSED,
            reason=f"Sequence paused by {by.full_name}.",
        )
    return count


def resume_sequence(*, sequence: Sequence, by: User) -> int:
    require_editor(by, sequence)
    return resume_where(
        sequence.enrollments.filter(pause_cause=Enrollment.PauseCause.SEQUENCE_PAUSED)
    )


def resume_where(enrollments: QuerySet[Enrollment]) -> int:
    """Resumes each paused one of `enrollments`; one that may not be resumed says why."""
    count = 0
    for enrollment in enrollments.filter(status=Enrollment.Status.PAUSED):
        try:
            count += resume_enrollment(enrollment=enrollment)
        except ValidationError as exc:
            Enrollment.objects.filter(pk=enrollment.pk).update(
                status_reason=" ".join(exc.messages)[:500]
            )
    return count
