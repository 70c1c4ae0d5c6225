"""Celery entry points: each loads ids and calls one service function."""

from datetime import datetime

from celery import shared_task

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
