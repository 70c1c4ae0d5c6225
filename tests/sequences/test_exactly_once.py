"""Exactly once and never after a reply, in process, with a fault proxy between the product's
Gmail client and the sandbox: answers lost after Gmail stored the email, sends that land after
we gave up waiting, sends that never land, and replies or stops that come between the `sending`
commit and the send. (tests/chaos does the same against real worker processes.)"""

import time
from datetime import timedelta

import pytest
import time_machine
from django.db import connections

from outreach import clock
from sandbox import control
from senders import gmail
from sequences import engine, replies, services
from sequences.engine.send import FRESH_CURSOR
from sequences.models import Enrollment, Message
from tests.chaos.proxy import FaultProxy
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence, run_due

SEND = r"/messages/send"
THREAD = r"/threads/"
PROFILE = r"/profile"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def proxy(sandbox, settings):
    """The product's Gmail calls go through the proxy; the sandbox's own control does not."""
    with FaultProxy(sandbox.url) as running:
        settings.GMAIL_API_ENDPOINT = f"{running.url}/"
        yield running
        assert running.errors == []


@pytest.fixture
def rick_box(sandbox, recruiter, proxy):
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    yield mailbox
    gmail.Gmail.forget(mailbox.pk)  # its client knows the proxy's address


def when_asked(proxy: FaultProxy, act) -> None:
    """Runs `act(exchange)` in the proxy's thread as each request arrives, before Gmail sees it;
    the database connection it opens there is closed after it."""

    def run(exchange):
        try:
            act(exchange)
        finally:
            connections.close_all()

    proxy.on_request(run)


def later(seconds: float):
    return time_machine.travel(clock.now() + timedelta(seconds=seconds), tick=False)


def stage_of(enrollment) -> int:
    enrollment.refresh_from_db()
    return enrollment.current_stage.position


@pytest.mark.parametrize("how", ["close", "reset"])
def test_a_send_whose_answer_was_lost_is_found_in_sent_and_never_sent_again(
    recruiter, rick_box, proxy, how
):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    proxy.lose_answer("POST", SEND, how=how)

    run_due()
    assert len(inbox(CANDIDATE)) == 1  # Gmail has it; we never heard
    pending = Message.objects.get(enrollment=enrollment)
    assert pending.status == "sending" and "asked whether it went" in pending.error

    with later(120):  # past the backoff
        run_due()
    assert len(inbox(CANDIDATE)) == 1
    pending.refresh_from_db()
    assert pending.status == "sent" and pending.gmail_message_id
    assert stage_of(enrollment) == 1
    assert len(proxy.exchanges("POST", SEND)) == 1


def test_a_lost_answer_is_found_from_the_cursor_of_the_mailboxs_last_sync(
    recruiter, rick_box, proxy
):
    """A mailbox synced a moment ago sends without asking Gmail where its history stands: the
    reconciliation reads Sent from the sync's cursor, past what the recruiter sent by hand."""
    replies.sync_mailbox(rick_box.pk)
    rick_box.refresh_from_db()
    # The sync records that the mailbox worked (sends leave that to it).
    assert rick_box.history_id and rick_box.last_success_at == rick_box.last_synced_at
    for n in range(3):
        control.send_as(
            recruiter.email, to=["someone@else.example"], subject=f"Lunch {n}", body="?"
        )
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    proxy.lose_answer("POST", SEND, how="close")
    asked = len(proxy.exchanges("GET", PROFILE))  # by the sync

    run_due()
    assert len(proxy.exchanges("GET", PROFILE)) == asked
    pending = Message.objects.get(enrollment=enrollment)
    assert pending.status == "sending" and pending.history_id_before == rick_box.history_id

    with later(120):
        run_due()
    pending.refresh_from_db()
    assert pending.status == "sent" and len(inbox(CANDIDATE)) == 1
    assert len(proxy.exchanges("POST", SEND)) == 1
    assert stage_of(enrollment) == 1


def test_a_mailbox_not_synced_lately_marks_the_send_with_gmails_cursor(recruiter, rick_box, proxy):
    """A cursor older than a few sync cycles (a stalled sync) would make a reconciliation read
    hours of Sent: the send asks Gmail where its history stands instead."""
    replies.sync_mailbox(rick_box.pk)
    rick_box.refresh_from_db()
    enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    control.send_as(recruiter.email, to=["someone@else.example"], subject="Lunch", body="?")
    asked = len(proxy.exchanges("GET", PROFILE))
    with later(FRESH_CURSOR.total_seconds() + 60):
        run_due()
    assert len(proxy.exchanges("GET", PROFILE)) == asked + 1
    [sent] = Message.objects.filter(status="sent")
    assert int(sent.history_id_before) > int(rick_box.history_id)


def test_a_send_that_lands_after_we_gave_up_waiting_is_waited_for_not_sent_twice(
    recruiter, rick_box, proxy, settings
):
    settings.GMAIL_TIMEOUT_SECONDS = 0.5
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    held = proxy.hold("POST", SEND, seconds=2)

    run_due()
    assert held.used == 1 and inbox(CANDIDATE) == []  # still on its way
    # The stage comes round again at once (a redelivered task would): Gmail has nothing yet.
    Enrollment.objects.filter(pk=enrollment.pk).update(next_action_at=clock.now())
    run_due()
    enrollment.refresh_from_db()
    pending = Message.objects.get(enrollment=enrollment)
    settles = gmail.send_window().settled_at(pending.created_at)
    assert enrollment.next_action_at == settles
    assert "has not confirmed an earlier attempt" in enrollment.last_event
    assert len(proxy.exchanges("POST", SEND)) == 1

    deadline = time.monotonic() + 10
    while not inbox(CANDIDATE) and time.monotonic() < deadline:
        time.sleep(0.1)
    with time_machine.travel(settles + timedelta(seconds=1), tick=False):
        run_due()
    assert len(inbox(CANDIDATE)) == 1
    assert Message.objects.get(enrollment=enrollment).status == "sent"
    assert stage_of(enrollment) == 1


def test_a_send_that_never_landed_is_sent_once_it_no_longer_could(
    sandbox, recruiter, rick_box, proxy, settings
):
    settings.GMAIL_TIMEOUT_SECONDS = 0.5
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    proxy.hold("POST", SEND, seconds=30)
    run_due()
    proxy.stop()  # the held request dies with it: it never reaches Gmail
    settings.GMAIL_API_ENDPOINT = f"{sandbox.url}/"
    gmail.Gmail.forget(rick_box.pk)
    pending = Message.objects.get(enrollment=enrollment)
    settles = gmail.send_window().settled_at(pending.created_at)

    with time_machine.travel(settles - timedelta(seconds=1), tick=False):
        run_due()
    assert inbox(CANDIDATE) == []
    with time_machine.travel(settles + timedelta(seconds=1), tick=False):
        run_due()
    assert len(inbox(CANDIDATE)) == 1
    [sent] = Message.objects.filter(enrollment=enrollment)
    assert sent.status == "sent" and sent.pk != pending.pk


def test_a_reply_stored_after_the_sending_commit_and_before_the_last_look_stops_the_send(
    recruiter, rick_box, proxy
):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    replied = []

    def reply_as_the_look_begins(exchange):
        # The follow-up is already committed as `sending`: the look is what must see this.
        if THREAD in exchange.path and not replied:
            replied.append(control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Yes, let's talk."))
            assert Message.objects.filter(enrollment=enrollment, status="sending").exists()

    when_asked(proxy, reply_as_the_look_begins)
    run_due()

    assert replied
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    assert len(inbox(CANDIDATE)) == 1
    assert not Message.objects.filter(enrollment=enrollment, status="sending").exists()
    assert len(proxy.exchanges("POST", SEND)) == 1  # the first stage only


def test_a_reply_the_sync_records_during_the_last_look_stops_the_send(recruiter, rick_box, proxy):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    synced = []

    def reply_and_sync(exchange):
        # Once: the sync's own reads come through here too.
        if THREAD in exchange.path and not synced:
            synced.append(control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Interested!"))
            replies.sync_mailbox(rick_box.pk)

    when_asked(proxy, reply_and_sync)
    assert engine.send_stage(*claim(enrollment)) == "reply"
    assert synced
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    assert len(inbox(CANDIDATE)) == 1
    assert Message.objects.filter(enrollment=enrollment, direction="inbound").count() == 1


def test_a_sequence_stopped_during_the_last_look_sends_nothing(recruiter, rick_box, proxy):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()

    def stop(exchange):
        if THREAD in exchange.path:
            services.stop_enrollment(
                enrollment=enrollment, status=Enrollment.Status.STOPPED, reason="Hired elsewhere"
            )

    when_asked(proxy, stop)
    assert engine.send_stage(*claim(enrollment)) == "enrollment is stopped"
    assert len(inbox(CANDIDATE)) == 1
    assert not Message.objects.filter(enrollment=enrollment, status="sending").exists()


def test_a_last_look_slower_than_its_deadline_gives_the_attempt_up(
    recruiter, rick_box, proxy, settings
):
    settings.SEND_START_WITHIN_SECONDS = 0.3
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    proxy.delay_answer("GET", THREAD, seconds=0.6)

    assert engine.send_stage(*claim(enrollment)) == "the last look at the mailbox was slow"
    assert len(inbox(CANDIDATE)) == 1
    assert not Message.objects.filter(enrollment=enrollment, status="sending").exists()
    enrollment.refresh_from_db()
    assert enrollment.claim_token == "" and enrollment.attempts == 1
    assert "The last look at the mailbox was slow; trying again" in enrollment.last_event

    proxy.clear_rules()
    with later(120):  # past the backoff
        run_due()
    assert len(inbox(CANDIDATE)) == 2
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED


def claim(enrollment) -> tuple[int, str]:
    """Claims the enrollment's due stage as the dispatcher does, without running it."""
    Enrollment.objects.filter(pk=enrollment.pk).update(
        next_action_at=clock.now(),
        claim_token="test-claim",
        claimed_until=clock.now() + timedelta(minutes=5),
    )
    return enrollment.pk, "test-claim"
