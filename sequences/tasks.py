"""Celery entry points: each loads ids and calls one service function."""

from celery import shared_task

from . import sending, services, sync


@shared_task
def dispatch_due() -> int:
    return sending.dispatch_due()


@shared_task
def send_stage(enrollment_id: int, claim_token: str) -> str:
    return sending.send_stage(enrollment_id, claim_token)


@shared_task
def open_due_tasks() -> int:
    return services.open_due_tasks()


@shared_task
def sync_mailboxes() -> int:
    return sync.enqueue_syncs()


@shared_task
def sync_mailbox(mailbox_id: int) -> dict:
    return sync.sync_mailbox(mailbox_id)
