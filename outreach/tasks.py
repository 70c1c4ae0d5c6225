import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives

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
