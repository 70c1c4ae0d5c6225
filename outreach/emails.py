"""The product's own emails (confirmations, invitations, alerts). Rendered here, handed to a
Celery task once the transaction that caused them has committed, delivered by Django's backend."""

from django.conf import settings
from django.template.loader import render_to_string

from . import tasks
from .mail_headers import header_text


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def send_product_email(*, to: str, template: str, context: dict) -> None:
    """Renders templates/emails/<template>.subject.txt, .txt and .html for one recipient."""
    # Subjects hold names people typed (an inviter, a team, a reply's subject): Django refuses
    # to send a subject with a line break in it, so one such name would lose the email.
    subject = header_text(render_to_string(f"emails/{template}.subject.txt", context))
    text = render_to_string(f"emails/{template}.txt", context)
    html = render_to_string(f"emails/{template}.html", context)
    tasks.deliver_on_commit({"to": [to], "subject": subject, "text": text, "html": html})
