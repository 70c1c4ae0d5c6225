"""Worker heartbeats: the claims of a worker whose heartbeat is gone are taken over at the next
dispatch instead of when their lease runs out; a live worker's never are."""

from datetime import timedelta

import pytest

from ats_sync import services as ats
from outreach import clock, workers
from sandbox import control
from sequences import engine, tasks
from sequences.models import Enrollment
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence


@pytest.fixture
def worker():
    """Plays a worker's main process: names it, beats once, and forgets the name after."""

    def start(name: str) -> str:
        workers.set_node(name)
        workers.beat()
        return name

    yield start
    workers.set_node("")


def die(name: str) -> None:
    """What a SIGKILL leaves: the heartbeat stops, and its key runs out."""
    workers._redis().delete(workers._alive_key(name))


def held_by(name: str, enrollment: Enrollment, token: str) -> None:
    workers.set_node(name)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        claim_token=token, claimed_until=clock.now() + timedelta(minutes=5)
    )
    workers.hold(engine.CLAIM_KIND, {enrollment.pk: token}, 300)


@pytest.fixture
def due(sandbox, recruiter, settings):
    settings.SEND_JITTER_SECONDS = 0
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    return enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)


def test_a_dead_workers_claim_is_taken_over_at_the_next_dispatch(due, worker):
    held_by(worker("celery@a/101"), due, "token-of-a")
    workers.set_node("")  # the dispatch runs elsewhere

    assert tasks.dispatch_due() == 0  # alive: its claim is its own
    die("celery@a/101")
    assert tasks.dispatch_due() == 1

    due.refresh_from_db()
    assert due.status == Enrollment.Status.FINISHED
    assert len(inbox(CANDIDATE)) == 1
    assert workers.orphaned(engine.CLAIM_KIND) == []


def test_a_claim_another_worker_picked_up_is_not_taken_from_it(due, worker):
    held_by(worker("celery@a/101"), due, "shared-token")
    # The broker handed a's task to b (a's process was killed): b holds it now, same token.
    held_by(worker("celery@b/202"), due, "shared-token")
    workers.set_node("")
    die("celery@a/101")

    assert tasks.dispatch_due() == 0
    due.refresh_from_db()
    assert due.claim_token == "shared-token"
    assert inbox(CANDIDATE) == []


def test_a_claim_that_moved_on_is_left_alone(due, worker):
    held_by(worker("celery@a/101"), due, "old-token")
    Enrollment.objects.filter(pk=due.pk).update(claim_token="newer-token")
    workers.set_node("")
    die("celery@a/101")

    assert tasks.dispatch_due() == 0
    due.refresh_from_db()
    assert due.claim_token == "newer-token"


def test_a_warm_shutdown_leaves_nothing_to_take_over(worker):
    name = worker("celery@c/303")
    workers.hold(ats.CLAIM_KIND, {1: "t"}, 300)
    workers.stop_heartbeat()

    assert name not in workers.dead_workers()
    assert workers.orphaned(ats.CLAIM_KIND) == []


def test_holding_is_a_no_op_outside_a_worker():
    workers.set_node("")
    workers.hold(engine.CLAIM_KIND, {1: "t"}, 300)
    assert workers._redis().keys("outreach:holder:*") == []
