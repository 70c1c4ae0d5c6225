"""Manual stages: a task in the enroller's queue when one comes due, and its completion."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F

from outreach import clock, permissions
from outreach.models import User
from outreach.permissions import Access

from .. import lifecycle, locks, selectors
from ..models import (
    Enrollment,
    Stage,
    Task,
)


def open_due_tasks() -> int:
    """Each active enrollment whose current stage is a manual one that came due gets its Task,
    in the queue of the person who enrolled the prospect."""
    due = Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE,
        current_stage__kind=Stage.Kind.MANUAL,
        next_action_at__lte=clock.now(),
    ).exclude(tasks__stage=F("current_stage"))
    created = 0
    for enrollment in due.select_related("current_stage"):
        _, made = Task.objects.get_or_create(
            enrollment=enrollment,
            stage=enrollment.current_stage,
            defaults={
                "organization_id": enrollment.organization_id,
                "assignee_id": enrollment.enrolled_by_id,
                "due_at": enrollment.next_action_at,
            },
        )
        created += made
    return created


@transaction.atomic
def complete_task(*, task: Task, by: User, skipped: bool = False) -> Task:
    permissions.require(by, Access.RECRUITER)
    task = locks.task(task.pk)
    if task.assignee_id != by.pk and not selectors.can_edit(by, task.enrollment.sequence):
        raise PermissionDenied
    if task.status != Task.Status.OPEN:
        return task
    task.status = Task.Status.SKIPPED if skipped else Task.Status.DONE
    task.completed_at, task.completed_by = clock.now(), by
    task.save()
    enrollment = locks.enrollment(task.enrollment_id)
    if enrollment.status in Enrollment.OPEN and enrollment.current_stage_id == task.stage_id:
        lifecycle.complete_manual_stage(
            enrollment, f"{task.stage.label} {'skipped' if skipped else 'done'}"
        )
    return task
