from celery import shared_task

from . import services


@shared_task
def open_due_tasks() -> int:
    return services.open_due_tasks()
