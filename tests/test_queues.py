"""Each kind of work on its own queue, with a real worker per queue: a backlog of ten thousand
mailbox syncs (as after an outage) waits behind itself, not in front of a due send."""

import time

import pytest
import redis
from django.conf import settings as django_settings

from outreach.celery import app
from sequences import tasks
from sequences.models import Message
from tests.sandbox_fixtures import CLIENT_ID, CLIENT_SECRET
from tests.sequences.test_sending import connect, enroll, make_sequence

BACKLOG = 10_000


@pytest.mark.worker
def test_a_backlog_of_ten_thousand_syncs_never_delays_a_due_send(
    sandbox, recruiter, celery_workers, settings
):
    settings.SEND_JITTER_SECONDS = 0
    mailbox = connect(sandbox, recruiter)
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    env = {
        "SANDBOX_URL": sandbox.url,
        "GOOGLE_OAUTH_CLIENT_ID": CLIENT_ID,
        "GOOGLE_OAUTH_CLIENT_SECRET": CLIENT_SECRET,
        "SEND_JITTER_SECONDS": "0",
    }
    syncing = celery_workers(queues="sync", **env)
    sending = celery_workers(queues="sends", **env)
    with app.producer_or_acquire() as producer:
        for _ in range(BACKLOG):
            tasks.sync_mailbox.apply_async((mailbox.pk,), producer=producer)
    broker = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    assert broker.llen("sync") > BACKLOG * 0.9  # the sync worker has barely begun

    started = time.monotonic()
    enroll(sequence, recruiter, mailbox, email="casey@candidates.example", first_name="Casey")
    tasks.dispatch_due.delay()  # as beat does, through the broker
    while not Message.objects.filter(status="sent").exists():
        assert time.monotonic() - started < 30, sending.log_path.read_text()[-3000:]
        time.sleep(0.2)

    # The email went out in seconds while thousands of syncs still wait their turn.
    assert time.monotonic() - started < 30
    assert broker.llen("sync") > BACKLOG / 2, syncing.log_path.read_text()[-2000:]
    assert "Task sequences.tasks.sync_mailbox[" in syncing.log_path.read_text()
    assert "Task sequences.tasks.sync_mailbox[" not in sending.log_path.read_text()
    assert "Task sequences.tasks.send_stage[" in sending.log_path.read_text()
