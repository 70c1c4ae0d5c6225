"""Celery entry points: each loads ids and calls one service function. The only module of the
app that enqueues (once the transaction commits), and nothing in the app imports it back but
its receivers."""

from datetime import datetime

from celery import shared_task
from django.db import transaction

from . import services


@shared_task
def push_due() -> int:
    return services.push_due()


@shared_task
def queue_missed(organization_id: int, since: str) -> int:
    return services.queue_missed(organization_id, datetime.fromisoformat(since))


@shared_task
def place_notice(notice_id: int) -> bool:
    return services.place_notice(notice_id)


def queue_missed_later(organization_id: int, since: datetime) -> None:
    """After other processes' memo of "sync off" has run out (what they store until then
    would be left out), queue what was stored since `since`."""
    transaction.on_commit(
        lambda: queue_missed.apply_async(
            (organization_id, since.isoformat()), countdown=services.AUTO_SYNC_MEMO_SECONDS + 5
        )
    )


def place_notice_on_commit(notice_id: int) -> None:
    transaction.on_commit(lambda: place_notice.delay(notice_id))
