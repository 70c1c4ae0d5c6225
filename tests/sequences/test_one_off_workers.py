"""A bulk email through real worker processes: one is killed mid-run and another takes over;
every prospect gets one email at most, the cap holds, and redelivered tasks change nothing."""

from datetime import timedelta

import pytest

from sandbox import control
from sequences import services, tasks
from sequences.models import Enrollment, Message
from sequences.tasks import send_stage
from tests.conftest import wait_until
from tests.factories import ProspectFactory
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET
from tests.sequences.test_sending import connect


@pytest.mark.worker
def test_a_bulk_email_survives_a_killed_worker_and_redelivered_tasks_without_a_duplicate(
    sandbox, recruiter, celery_workers, settings
):
    settings.SEND_JITTER_SECONDS = 0
    mailbox = connect(sandbox, recruiter)
    mailbox.daily_send_cap = 10
    mailbox.save()
    prospects = []
    for n in range(20):
        email = f"p{n:02}@candidates.example"
        control.create_account(email, f"Person{n:02}")
        prospects.append(
            ProspectFactory(organization=recruiter.organization, email=email, first_name=f"P{n}")
        )
    env = {
        "SANDBOX_URL": sandbox.url,
        "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
        "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SEND_JITTER_SECONDS": "0",
    }
    first = celery_workers(**env)
    sent = Message.objects.filter(direction="outbound", status="sent")

    # Queued on commit; the worker's dispatch claims all twenty and sends them one by one.
    bulk = services.send_one_off(
        by=recruiter,
        draft=services.EmailDraft(
            mailbox=mailbox, alias=None, subject="Hello {{first_name}}", body_html="<p>Hi</p>"
        ),
        prospects=prospects,
    )
    assert wait_until(lambda: sent.count() >= 3), first.log_path.read_text()[-3000:]
    first.kill()  # SIGKILL: no goodbye, its task in flight is neither finished nor acknowledged
    first.wait()
    assert sent.count() < 10, "the worker finished before it could be killed"
    claims = dict(
        Enrollment.objects.filter(sequence=bulk)
        .exclude(claim_token="")
        .values_list("pk", "claim_token")
    )

    second = celery_workers(**env)
    # What the dead worker held waits for its lease to run out; here it runs out now.
    Enrollment.objects.filter(sequence=bulk).exclude(claim_token="").update(
        claimed_until=bulk.created_at
    )

    def settled():
        tasks.dispatch_due()
        return not Enrollment.objects.filter(sequence=bulk).exclude(claim_token="").exists()

    assert wait_until(settled, every=0.5), second.log_path.read_text()[-3000:]
    # The broker hands the dead worker's tasks out again: stale claims, nothing to do.
    for pk, token in claims.items():
        send_stage.delay(pk, token)
    assert wait_until(lambda: second.log_path.read_text().count("not our claim") >= len(claims))

    assert sent.count() == 10
    assert control.messages(recruiter.email, "SENT").count() == 10
    for person in prospects:
        assert control.messages(person.email, "INBOX").count() <= 1
    assert not Message.objects.filter(status="sending").exists()
    waiting = Enrollment.objects.filter(sequence=bulk, status=Enrollment.Status.ACTIVE)
    assert waiting.count() == 10
    # Held back by the cap: due when the first send leaves the rolling 24 hours.
    first_send = sent.order_by("created_at").first().created_at
    assert all(e.next_action_at >= first_send + timedelta(hours=24) for e in waiting)
