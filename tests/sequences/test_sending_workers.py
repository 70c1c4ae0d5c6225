"""Two real worker processes and a duplicated dispatch: every due email goes out exactly once."""

import time

import pytest

from sandbox import control
from sequences import tasks
from sequences.models import Enrollment, Message
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET
from tests.sequences.test_sending import connect, enroll, make_sequence


@pytest.mark.worker
def test_two_workers_and_two_dispatches_send_each_of_200_emails_once(
    sandbox, recruiter, celery_workers, settings
):
    settings.SEND_JITTER_SECONDS = 0
    mailbox = connect(sandbox, recruiter)
    control.set_limits(recruiter.email, units_per_minute=10**7, daily_send_limit=10**4)
    mailbox.daily_send_cap = 2000
    mailbox.save()
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    for n in range(200):
        enroll(sequence, recruiter, mailbox, email=f"p{n}@candidates.example", first_name="P")
    env = {
        "SANDBOX_URL": sandbox.url,
        "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
        "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SEND_JITTER_SECONDS": "0",
    }
    workers = [celery_workers(**env), celery_workers(**env)]

    # Two dispatchers at once (as with two beats), each claiming in batches.
    claimed = 0
    deadline = time.monotonic() + 120
    while Message.objects.filter(status="sent").count() < 200 and time.monotonic() < deadline:
        claimed += tasks.dispatch_due(batch=50) + tasks.dispatch_due(batch=50)
        time.sleep(0.5)

    assert claimed == 200, [w.log_path.read_text()[-2000:] for w in workers]
    assert control.messages(recruiter.email, "SENT").count() == 200
    assert Message.objects.filter(status="sent").count() == 200
    assert Enrollment.objects.filter(status=Enrollment.Status.FINISHED).count() == 200
    recipients = list(
        control.messages(recruiter.email, "SENT").values_list("recipients", flat=True)
    )
    assert len(set(recipients)) == 200
    logs = "".join(w.log_path.read_text() for w in workers)
    assert "sequences.tasks.send_stage" in logs
