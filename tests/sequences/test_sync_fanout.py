"""Beat's sync tick at scale: a constant number of queries whatever the number of mailboxes, one
sync queued per mailbox due on the sync queue (through the real broker), and none queued again
while one is still waiting or running."""

import base64
import json
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from outreach.celery import app
from senders.models import Mailbox
from sequences import replies, tasks
from tests.factories import EnrollmentFactory, MailboxFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def broker():
    """Tasks published here go to Redis, as from beat, instead of running inline."""
    app.conf.task_always_eager = False
    app.control.purge()
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        yield client
    finally:
        app.control.purge()
        app.conf.task_always_eager = True


def drain(broker, queue: str) -> list[tuple[str, list]]:
    """The (task name, args) of every message waiting on `queue`, oldest first; the queue is
    emptied."""
    raw = broker.lrange(queue, 0, -1)
    broker.delete(queue)
    found = []
    for item in reversed(raw):  # kombu pushes on the left and pops on the right
        message = json.loads(item)
        args, _kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        found.append((message["headers"]["task"], args))
    return found


def mailboxes_with_open_enrollments(count: int) -> list[int]:
    org = OrganizationFactory(seats=count + 5)
    return [
        EnrollmentFactory(sequence__owner=UserFactory(organization=org)).mailbox_id
        for _ in range(count)
    ]


def tick(broker) -> list[int]:
    """Beat's tick, then the sync workers' fan-out of each group it queued; the mailbox of each
    `sync_mailbox` waiting on the sync queue."""
    tasks.sync_mailboxes()
    for name, args in drain(broker, "sync"):
        assert name == "sequences.tasks.queue_syncs"
        tasks.queue_syncs(*args)
    queued = drain(broker, "sync")
    assert {name for name, _ in queued} <= {"sequences.tasks.sync_mailbox"}
    return [args[0] for _, args in queued]


def test_the_sync_tick_costs_the_same_queries_at_any_size_and_queues_each_due_mailbox_once(
    broker, django_assert_max_num_queries, monkeypatch
):
    monkeypatch.setattr(tasks, "SYNC_GROUP", 10)  # several groups at the larger size
    small = mailboxes_with_open_enrollments(3)
    with CaptureQueriesContext(connection) as at_small:
        tasks.sync_mailboxes()
    drain(broker, "sync")

    larger = mailboxes_with_open_enrollments(40)
    MailboxFactory(owner=UserFactory())  # nothing to watch: never synced
    with django_assert_max_num_queries(len(at_small.captured_queries)):
        tasks.sync_mailboxes()
    groups = drain(broker, "sync")
    assert [name for name, _ in groups] == ["sequences.tasks.queue_syncs"] * 4
    # The small size's mailboxes are still queued: only the new ones go out.
    assert sorted(pk for _, args in groups for pk in args[0]) == sorted(larger)
    for _, args in groups:
        tasks.queue_syncs(*args)
    queued = drain(broker, "sync")
    assert sorted(args[0] for _, args in queued) == sorted(larger)
    assert small  # queued at the first tick, above


def test_a_mailbox_whose_sync_is_still_waiting_is_not_queued_again(broker):
    [pk] = mailboxes_with_open_enrollments(1)
    assert tick(broker) == [pk]
    # A backlog: the sync has not run by the next ticks.
    assert tick(broker) == []
    assert tick(broker) == []
    # Lost without a trace (its worker gone, say): queued again once the mark runs out.
    Mailbox.objects.filter(pk=pk).update(sync_queued_until=timezone.now() - timedelta(seconds=1))
    assert tick(broker) == [pk]


def test_once_its_sync_ran_the_mailbox_is_queued_at_the_next_tick(broker):
    [pk] = mailboxes_with_open_enrollments(1)
    assert tick(broker) == [pk]
    # Whatever way a sync ends (here: the inbox was disconnected meanwhile), it ends the mark.
    Mailbox.objects.filter(pk=pk).update(status=Mailbox.Status.NEEDS_RECONNECT)
    assert replies.sync_mailbox(pk) == {"skipped": "not connected"}
    Mailbox.objects.filter(pk=pk).update(status=Mailbox.Status.CONNECTED)
    assert tick(broker) == [pk]
