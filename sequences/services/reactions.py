"""What other apps' announcements do to enrollments: a mailbox lost or back, a teammate gone;
the admin's hand-over of their work, and a recruiter's move of enrollments to another sender."""

from dataclasses import dataclass
from typing import TypedDict

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q

from outreach import permissions
from outreach.models import User
from outreach.permissions import Access
from senders import services as senders
from senders.models import Mailbox, SendAsAlias

from .. import eligibility, lifecycle, locks
from ..models import (
    Enrollment,
    Sequence,
    Task,
)
from .checks import check_sender, require_editor_or_sender
from .enrollments import pause_enrollment, resume_where


def pause_for_mailbox(
    mailbox: Mailbox, cause: str, reason: str, *, sender: User | None = None
) -> int:
    enrollments = Enrollment.objects.filter(mailbox=mailbox, status=Enrollment.Status.ACTIVE)
    if sender is not None:
        enrollments = enrollments.filter(enrolled_by=sender)
    return sum(pause_enrollment(enrollment=e, cause=cause, reason=reason) for e in enrollments)


def resume_for_mailbox(mailbox: Mailbox) -> int:
    return resume_where(
        Enrollment.objects.filter(
            mailbox=mailbox, pause_cause=Enrollment.PauseCause.MAILBOX_RECONNECT
        )
    )


def pause_for_departure(user: User) -> int:
    """A deactivated user's enrollments (as sender, or from their mailbox) wait for an admin to
    hand them over."""
    enrollments = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE).filter(
        Q(enrolled_by=user) | Q(mailbox__owner=user)
    )
    reason = f"{user.full_name} left the team: reassign to another sender."
    return sum(
        pause_enrollment(enrollment=e, cause=Enrollment.PauseCause.OWNER_DEACTIVATED, reason=reason)
        for e in enrollments
    )


# What a hand-over or a move to another sender resolves.
HANDED_OVER_CAUSES = Enrollment.SENDER_CAUSES


class HandOver(TypedDict):
    """How many of the departed teammate's sequences and enrollments were handed over, and how
    many of those enrollments resumed."""

    sequences: int
    enrollments: int
    resumed: int


@transaction.atomic
def hand_over(*, departed: User, to: User, mailbox: Mailbox, by: User) -> HandOver:
    """Offboarding: the departed user's sequences go to `to`, and their enrollments are sent by
    `to` from `mailbox`, then resume."""
    permissions.require(by, Access.ADMIN)
    if not by.is_org_admin or departed.organization_id != by.organization_id:
        raise PermissionDenied("Only the team's admins hand over a departed teammate's work.")
    if to.organization_id != by.organization_id or not to.is_active:
        raise ValidationError("Hand over to an active teammate.")
    if not senders.can_send_as(to, mailbox):
        raise ValidationError(f"{to.full_name} may not send as {mailbox.email}.")
    sequences = Sequence.objects.filter(owner=departed).update(owner=to)
    ids = list(
        Enrollment.objects.filter(status__in=Enrollment.OPEN)
        .filter(Q(enrolled_by=departed) | Q(mailbox__owner=departed))
        .values_list("pk", flat=True)
    )
    reassigned = Enrollment.objects.filter(pk__in=ids).update(
        enrolled_by=to, mailbox=mailbox, alias=None
    )
    # Whatever paused them came from the departed sender or their mailbox: moot now.
    resumed = resume_where(
        Enrollment.objects.filter(pk__in=ids, pause_cause__in=HANDED_OVER_CAUSES)
    )
    Task.objects.filter(assignee=departed, status=Task.Status.OPEN).update(assignee=to)
    return {"sequences": sequences, "enrollments": reassigned, "resumed": resumed}


@dataclass(frozen=True)
class Reassigned:
    moved: int
    # Enrollments left as they were, each with why.
    skipped: list[tuple[Enrollment, str]]


def reassign_sender(
    *,
    enrollments: list[Enrollment],
    mailbox: Mailbox,
    by: User,
    alias: SendAsAlias | None = None,
) -> Reassigned:
    """Moves open enrollments to `by` sending as `mailbox`: the shared eligibility check says
    whether `by` may send from it (ValidationError if not); each enrollment must be one `by`
    may change. Their next emails start a new thread in that inbox."""
    permissions.require(by, Access.RECRUITER)
    problems = eligibility.sender_problems(by, mailbox, you=True) + eligibility.mailbox_problems(
        mailbox
    )
    if problems:
        raise ValidationError([problem.message for problem in problems])
    check_sender(by, mailbox, alias)
    moved, skipped = 0, []
    for enrollment in enrollments:
        with transaction.atomic():
            locked = locks.enrollment(enrollment.pk)
            try:
                require_editor_or_sender(by, locked)
            except PermissionDenied:
                skipped.append(
                    (locked, "Only its sender, the sequence's editors and admins move it.")
                )
                continue
            if locked.mailbox_id == mailbox.pk and locked.enrolled_by_id == by.pk:
                skipped.append((locked, f"Already sent by you as {mailbox.email}."))
                continue
            if lifecycle.move_to_sender(locked, sender=by, mailbox=mailbox, alias=alias):
                moved += 1
            else:
                skipped.append((locked, f"It has ended ({locked.get_status_display().lower()})."))
    return Reassigned(moved, skipped)
