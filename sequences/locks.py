"""Every row lock this app takes, in one place (as Saleor's order/lock_objects.py): what is
locked with what, and in which order, can be read here. Each must run inside a transaction.

Order, where several are taken: the enrollment first, then its mailbox. Claims are taken with
skip_locked, so that two dispatchers never wait on each other and never claim the same row.
"""

from datetime import datetime

from django.db.models import Q

from outreach.compiled import CompiledQuery

from .models import EnrollJob, Enrollment, ImportJob, Stage, Task


def enrollment(pk: int) -> Enrollment:
    """The enrollment, locked, with what its transitions and permission checks read."""
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("sequence", "prospect", "mailbox__owner", "enrolled_by")
        .get(pk=pk)
    )


def claimed_enrollment(pk: int, claim_token: str) -> Enrollment | None:
    """The enrollment, locked, if it is still active and this claim is still its claim."""
    locked = (
        Enrollment.objects.select_related("sequence", "current_stage", "prospect")
        .select_for_update(of=("self",))
        .get(pk=pk)
    )
    if locked.claim_token != claim_token or locked.status != Enrollment.Status.ACTIVE:
        return None
    return locked


# Locking the mailbox too serializes its sends across workers for the cap check.
_WITH_MAILBOX = CompiledQuery(
    lambda pk: (
        Enrollment.objects.select_related("mailbox")
        .select_for_update(of=("self", "mailbox"))
        .only("claim_token", "status", "mailbox__daily_send_cap", "mailbox__send_spacing_seconds")
        .filter(pk=pk)
    ),
    int,
)


def enrollment_and_mailbox(pk: int) -> Enrollment:
    """The enrollment and its mailbox, locked: one send per mailbox at a time is checked
    against its cap and spacing."""
    locked: Enrollment = _WITH_MAILBOX.first(pk)
    return locked


def due_enrollments(now: datetime, batch: int) -> list[int]:
    """Up to `batch` due, unclaimed email stages, locked, oldest due first; rows another
    dispatcher holds are skipped."""
    return list(
        Enrollment.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(
            status=Enrollment.Status.ACTIVE,
            next_action_at__lte=now,
            current_stage__kind=Stage.Kind.EMAIL,
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lte=now))
        .order_by("next_action_at")
        .values_list("pk", flat=True)[:batch]
    )


def task(pk: int) -> Task:
    return Task.objects.select_for_update(of=("self",)).select_related("enrollment").get(pk=pk)


def import_job(pk: int) -> ImportJob:
    """The import, locked for one batch: a second run of its task (a redelivery, a retry) waits
    for the batch and then goes on from the rows it saved, never over the same rows. Without
    its file, which a batch does not read (and must not write back)."""
    return ImportJob.objects.select_for_update().defer("content").get(pk=pk)


def enroll_job(pk: int) -> EnrollJob:
    """The enrolment, locked for one batch, as `import_job` is for an import."""
    return (
        EnrollJob.objects.select_for_update(of=("self",))
        .select_related("sequence__organization", "created_by", "mailbox", "alias")
        .get(pk=pk)
    )


def stale_jobs(model: type[ImportJob] | type[EnrollJob], before: datetime) -> list[int]:
    """The jobs under way with no progress since `before`, locked; one a run holds (in a
    batch now) is skipped: it is not lost."""
    return list(
        model.objects.select_for_update(skip_locked=True)
        .filter(status__in=[model.Status.QUEUED, model.Status.RUNNING], updated_at__lt=before)
        .values_list("pk", flat=True)
    )
