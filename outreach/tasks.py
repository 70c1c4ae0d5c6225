"""Celery entry points of the product's own emails; the only place that enqueues them."""

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction

log = logging.getLogger(__name__)


@shared_task(
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=30,
    retry_backoff_max=60 * 30,
    max_retries=8,
)
def deliver_email(message: dict) -> None:
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["text"],
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=message["to"],
    )
    email.attach_alternative(message["html"], "text/html")
    email.send()
    log.info("product email delivered", extra={"to": message["to"], "subject": message["subject"]})


def deliver_on_commit(message: dict) -> None:
    """Delivers the rendered email once the transaction that caused it has committed."""
    transaction.on_commit(lambda: deliver_email.delay(message))
