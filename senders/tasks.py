from celery import shared_task

from . import services


@shared_task
def expire_delegation_requests() -> int:
    return services.expire_stale_requests()
