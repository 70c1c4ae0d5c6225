"""Celery entry points: each loads ids and calls one service function. The only module that
enqueues (through transaction.on_commit), and nothing in the app imports it back."""

from collections.abc import Iterable

from celery import Task, shared_task
from django.db import DatabaseError, transaction

from . import bulk_enroll, engine, importing, jobs, replies, rollups, services


@shared_task
def dispatch_due(batch: int = engine.claims.BATCH) -> int:
    """Claims what is due and hands each claimed enrollment to a `send_stage` task."""
    claim = engine.claim_due(batch)
    transaction.on_commit(
        lambda: _enqueue(send_stage, ((pk, claim.token) for pk in claim.enrollment_ids))
    )
    return len(claim.enrollment_ids)


def _enqueue(task: Task, calls: Iterable[tuple]) -> None:
    """Publishes one `task` per argument tuple over one broker connection (`delay` would take
    a connection from the pool for each)."""
    with task.app.producer_or_acquire() as producer:
        for args in calls:
            task.apply_async(args, producer=producer)


def dispatch_soon() -> None:
    """A dispatch as soon as the current transaction commits (a one-off email to send now
    goes out within seconds rather than at the next tick)."""
    transaction.on_commit(dispatch_due.delay)


@shared_task
def send_stage(enrollment_id: int, claim_token: str) -> str:
    return engine.send_stage(enrollment_id, claim_token)


@shared_task
def open_due_tasks() -> int:
    return services.open_due_tasks()


# Mailboxes per `queue_syncs`: beat publishes one task per group, not one per mailbox (a
# publish costs ~0.3 ms of CPU: 5,000 of them would take beat over a second each tick).
SYNC_GROUP = 500


@shared_task
def sync_mailboxes() -> int:
    """Beat's tick: marks the mailboxes due a sync as queued (one query) and hands them to sync
    workers in groups, which queue one `sync_mailbox` each."""
    ids = replies.mailboxes_to_sync()
    _enqueue(queue_syncs, ((ids[i : i + SYNC_GROUP],) for i in range(0, len(ids), SYNC_GROUP)))
    return len(ids)


@shared_task
def queue_syncs(mailbox_ids: list[int]) -> int:
    _enqueue(sync_mailbox, ((pk,) for pk in mailbox_ids))
    return len(mailbox_ids)


@shared_task
def sync_mailbox(mailbox_id: int) -> replies.SyncResult:
    return replies.sync_mailbox(mailbox_id)


def import_soon(job_id: int) -> None:
    """The import's task once the transaction that queued it commits."""
    transaction.on_commit(lambda: import_prospects.delay(job_id))


# A database error (a prospect of the same email added by another import at that moment, a
# lost connection) rolls its batch back; the retry goes on from the batches saved.
@shared_task(autoretry_for=(DatabaseError,), retry_backoff=5, max_retries=5)
def import_prospects(job_id: int) -> int:
    run = importing.run_import(job_id)
    if run.more:
        import_soon(job_id)
    return run.rows_done


def enroll_soon(job_id: int) -> None:
    """The enrolment's task once the transaction that queued it commits."""
    transaction.on_commit(lambda: enroll_matching.delay(job_id))


# As an import's: a batch rolled back by a database error is done again by the retry.
@shared_task(autoretry_for=(DatabaseError,), retry_backoff=5, max_retries=5)
def enroll_matching(job_id: int) -> int:
    run = bulk_enroll.run_enrollment(job_id)
    if run.more:
        enroll_soon(job_id)
    return run.job.checked


@shared_task
def sweep_jobs() -> jobs.Swept:
    """Imports and enrolments whose task was lost are queued again (through their signals)."""
    return jobs.sweep()


@shared_task
def refresh_stats() -> int:
    """Every organization's dirty stats days recomputed, so that its stats page finds few."""
    return rollups.refresh_dirty()
