"""Background jobs of many rows (an import of prospects, enrolling all a filter matches): the
loop of batches they share, and the sweeper that takes up a job whose task was lost.

A job's row is locked for each batch, and the batch and the progress it makes are saved in one
transaction: a run stopped anywhere (a crash, a killed worker) leaves every batch whole or
absent, and a second run of the same job (a redelivery, a retry, the sweeper) waits for the
batch and goes on from the progress saved, never over the same rows."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Generic, Protocol, TypeVar

from django.db import transaction

from outreach import clock

from . import locks, signals
from .models import EnrollJob, ImportJob

# A run stops after its batch past this and the next run goes on, well within a task's time
# limit (CELERY_TASK_SOFT_TIME_LIMIT).
RUN_SECONDS = 30.0
# A job under way whose progress has not moved for this long lost its task (a worker killed,
# its retries spent): longer than a run, so a job still running is never taken up twice.
STALE_SECONDS = 5 * 60
# An upload whose columns were never mapped is the recruiter's abandoned try.
ABANDONED_UPLOAD_SECONDS = 24 * 60 * 60


class Job(Protocol):
    @property
    def under_way(self) -> bool: ...


J = TypeVar("J", bound=Job)


@dataclass
class Run(Generic[J]):
    job: J  # as the run's last batch left it
    # The run's time is up with rows left: the job goes on in another run.
    more: bool


def run_batches(
    lock: Callable[[], J], batch: Callable[[J], None], *, seconds: float | None = None
) -> Run[J]:
    """Runs `batch` on the job `lock` returns (locked), a transaction each, until the job is
    over or the run's `seconds` (RUN_SECONDS) are up. `batch` saves the job's progress and its
    status."""
    deadline = time.monotonic() + (RUN_SECONDS if seconds is None else seconds)
    while True:
        with transaction.atomic():
            job = lock()
            if job.under_way:
                batch(job)
        if not job.under_way:
            return Run(job, more=False)
        if time.monotonic() >= deadline:
            return Run(job, more=True)


@dataclass
class Swept:
    imports: int
    enrollments: int
    uploads_deleted: int


@transaction.atomic
def sweep() -> Swept:
    """Queues again each job under way with no progress for STALE_SECONDS, and deletes the
    uploads never mapped. A job taken up is marked as touched, so the next sweep leaves it to
    the task queued now; a job some run holds (locked) is left to it."""
    now = clock.now()
    stale = now - timedelta(seconds=STALE_SECONDS)
    imports = locks.stale_jobs(ImportJob, stale)
    enrollments = locks.stale_jobs(EnrollJob, stale)
    ImportJob.objects.filter(pk__in=imports).update(updated_at=now)
    EnrollJob.objects.filter(pk__in=enrollments).update(updated_at=now)
    for job in ImportJob.objects.filter(pk__in=imports).only("pk"):
        signals.import_queued.send(sender=ImportJob, job=job)
    for enroll_job in EnrollJob.objects.filter(pk__in=enrollments).only("pk"):
        signals.enrollment_queued.send(sender=EnrollJob, job=enroll_job)
    deleted, _ = ImportJob.objects.filter(
        status=ImportJob.Status.MAPPING,
        created_at__lt=now - timedelta(seconds=ABANDONED_UPLOAD_SECONDS),
    ).delete()
    return Swept(imports=len(imports), enrollments=len(enrollments), uploads_deleted=deleted)
