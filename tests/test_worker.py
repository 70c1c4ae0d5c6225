"""A real Celery worker process takes the product's emails through Redis."""

import time

import pytest
from django.db import transaction

from outreach import services
from outreach.models import Invitation


@pytest.mark.worker
def test_invitation_email_is_delivered_by_a_real_worker(celery_worker_process, org, admin_user):
    with transaction.atomic():
        services.invite_teammate(by=admin_user, email="nina@acme.example")
    # Committed: the task is now on the broker, and only the worker process can deliver it.
    assert Invitation.objects.filter(email="nina@acme.example").exists()

    deadline = time.monotonic() + 20
    delivered = []
    while time.monotonic() < deadline and not delivered:
        delivered = list(celery_worker_process.mail_dir.iterdir())
        time.sleep(0.2)
    assert delivered, celery_worker_process.log_path.read_text()
    message = delivered[0].read_text()
    assert "To: nina@acme.example" in message
    assert "Ada Admin invited you to Acme on outreach" in message
    assert "outreach.tasks.deliver_email" in celery_worker_process.log_path.read_text()
