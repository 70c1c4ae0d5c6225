"""From a message stored to a note on the Greenhouse candidate: the outbox, the pusher, its
retries and rate budget, the notice in the sender's thread, against the sandbox over HTTP."""

import email
import email.policy
import re
import time
from datetime import timedelta

import pytest
import time_machine
from django.db import transaction

from ats_sync import services, tasks
from ats_sync.models import ActivitySync, AtsConnection, ThreadNotice
from outreach import clock
from sandbox import control
from sandbox.greenhouse import control as greenhouse_control
from sandbox.greenhouse import endpoints
from sandbox.models import ApiCall
from sequences import replies, signals
from sequences.models import Message, Prospect, Visibility
from tests.factories import ProspectFactory, UserFactory
from tests.sequences.test_sending import connect, enroll, inbox, make_sequence, run_due

CANDIDATE = "casey@candidates.example"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def connect_greenhouse(org, harvest, api="v3", **fields) -> AtsConnection:
    credentials = (
        {"client_id": harvest.client.client_id, "client_secret": harvest.client.client_secret}
        if api == "v3"
        else {"api_key": harvest.key.key}
    )
    return AtsConnection.objects.create(
        organization=org, api=api, **{"auto_sync": True, **credentials, **fields}
    )


def push_all() -> None:
    while services.push_due():
        pass


def feed(email=CANDIDATE):
    return greenhouse_control.candidate_activity(email)


@pytest.mark.parametrize("api", ["v3", "v1"])
def test_two_stages_and_a_reply_make_three_entries_written_as_the_inbox_owner(
    sandbox, api, harvest, recruiter
):
    connect_greenhouse(recruiter.organization, harvest, api)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enrollment = enroll(make_sequence(recruiter, mailbox), recruiter, mailbox)
    run_due()
    run_due()
    assert len(inbox(CANDIDATE)) == 2
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Happy to talk on Friday.")
    replies.sync_mailbox(mailbox.pk)

    push_all()
    push_all()  # a second pass finds nothing more to write

    entries = feed()
    assert len(entries) == 3
    assert {entry.user_id for entry in entries} == {harvest.recruiter.pk}
    bodies = " ".join(entry.body for entry in entries)
    assert "note 1" in bodies and "note 2" in bodies and "Happy to talk on Friday" in bodies
    assert set(ActivitySync.objects.values_list("status", flat=True)) == {"synced"}
    enrollment.prospect.refresh_from_db()
    assert enrollment.prospect.ats_candidate_id == str(harvest.candidate.pk)


def test_the_notice_sits_in_the_senders_thread_and_never_reaches_the_candidate(
    sandbox, harvest, recruiter
):
    connect_greenhouse(recruiter.organization, harvest)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    run_due()

    notice = ThreadNotice.objects.get()
    assert notice.placed_at is not None
    sent = Message.objects.get(direction="outbound")
    thread = control.thread(recruiter.email, sent.gmail_thread_id)
    in_thread = list(thread.messages.all())
    notices = [m for m in in_thread if "X-Outreach-Notice" in bytes(m.raw).decode()]
    assert len(notices) == 1
    text = email.message_from_bytes(bytes(notices[0].raw), policy=email.policy.default)
    # Its link pauses this very candidate (the link is timestamped: compare what it opens).
    [token] = re.findall(r"/ats/pause/([^/\s]+)/", text.get_content())
    assert services.notice_for_link(token) == notice
    # The candidate has our email and nothing else.
    assert [m.subject for m in inbox(CANDIDATE)] == [sent.subject]
    # The next poll does not take the notice for the candidate's answer.
    replies.sync_mailbox(mailbox.pk)
    assert not Message.objects.filter(direction="inbound").exists()


def test_an_outage_delays_notes_and_loses_none(sandbox, harvest, recruiter, settings):
    # Room for all the calls in one window: the budget is another test's subject.
    greenhouse_control.set_harvest_rate_limit(harvest.client.client_id, 1000)
    connect_greenhouse(recruiter.organization, harvest)
    mailbox = connect(sandbox, recruiter)
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    prospects = []
    for n in range(25):
        email = f"cand{n}@candidates.example"
        control.create_account(email, f"Cand {n}")
        greenhouse_control.create_candidate(email, f"Cand {n}")
        prospects.append(enroll(sequence, recruiter, mailbox, email=email, first_name=f"C{n}"))
    start = clock.now()
    with time_machine.travel(start, tick=False) as traveller:
        # Greenhouse answers 503 to everything for ten minutes of our clock.
        for endpoint in endpoints.ALL:
            control.fail_next(endpoint, count=100_000, status=503)
        while run_due():
            pass
        for n in range(25):
            email = f"cand{n}@candidates.example"
            control.reply(email, inbox(email)[0], f"Yes from {n}")
        replies.sync_mailbox(mailbox.pk)
        assert ActivitySync.objects.count() == 50
        for _ in range(20):
            traveller.shift(timedelta(seconds=30))
            push_all()
        assert not ActivitySync.objects.filter(status="synced").exists()
        assert set(ActivitySync.objects.values_list("status", flat=True)) == {"pending"}

        control.clear_faults()
        traveller.shift(services.MAX_BACKOFF * 2)
        for _ in range(20):
            push_all()
            if not ActivitySync.objects.filter(status="pending").exists():
                break
            traveller.shift(timedelta(seconds=11))  # the next window of the rate budget

    assert ActivitySync.objects.filter(status="synced").count() == 50
    for n in range(25):
        bodies = sorted(entry.body.split("\n")[0] for entry in feed(f"cand{n}@candidates.example"))
        assert len(bodies) == 2, bodies  # the email and the reply, once each


def test_a_note_written_whose_answer_was_lost_is_not_written_again(sandbox, harvest, recruiter):
    connect_greenhouse(recruiter.organization, harvest)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    run_due()
    control.drop_next(endpoints.V3_NOTES_CREATE)

    push_all()
    row = ActivitySync.objects.get()
    assert row.status == "pending" and row.write_started_at is not None
    assert len(feed()) == 1  # Greenhouse wrote it; we never heard back

    with time_machine.travel(clock.now() + services.MAX_BACKOFF * 2, tick=False):
        push_all()

    row.refresh_from_db()
    assert row.status == "synced" and row.remote_id
    assert len(feed()) == 1


def test_a_lost_write_not_in_the_feed_yet_is_not_written_again_until_it_could_no_longer_land(
    sandbox, harvest, recruiter, settings
):
    """Greenhouse may still be carrying out a write whose answer we lost: "not in the feed" is
    trusted only once the write is older than the timeout plus the landing margin."""
    connect_greenhouse(recruiter.organization, harvest)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    run_due()
    started = clock.now()
    # A worker marked the row, wrote, and died before the answer came; nothing landed yet.
    ActivitySync.objects.update(write_started_at=started)
    window = settings.GREENHOUSE_TIMEOUT_SECONDS + settings.WRITE_LANDING_MARGIN_SECONDS

    with time_machine.travel(started + timedelta(seconds=window - 1), tick=False):
        services.push_due()
    row = ActivitySync.objects.get()
    assert row.status == "pending" and feed() == []
    assert row.next_attempt_at > started + timedelta(seconds=window)
    assert "looking again once it could no longer arrive" in row.last_error

    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        services.push_due()
    row.refresh_from_db()
    assert row.status == "synced" and row.write_started_at is None
    assert len(feed()) == 1


def test_two_hundred_rows_stay_within_the_rate_budget_and_a_429_waits_its_retry_after(
    sandbox, harvest, recruiter
):
    greenhouse_control.set_harvest_rate_limit(harvest.client.client_id, 60)
    connect_greenhouse(recruiter.organization, harvest)
    mailbox = connect(sandbox, recruiter)
    prospect = ProspectFactory(organization=recruiter.organization, email=CANDIDATE)

    def sent(subject, text):
        """An email as the engine stores and announces it."""
        with transaction.atomic():
            message = Message.objects.create(
                organization=recruiter.organization,
                prospect=prospect,
                mailbox=mailbox,
                sent_by=recruiter,
                direction=Message.Direction.OUTBOUND,
                status=Message.Status.SENT,
                subject=subject,
                body_text=text,
                sent_at=clock.now(),
            )
            signals.message_recorded.send(sender=Message, message=message)
        return message

    for n in range(200):
        sent(f"Note {n}", f"Email number {n}")
    ApiCall.objects.all().delete()
    deadline = time.monotonic() + 60
    while ActivitySync.objects.filter(status="pending").exists():
        assert time.monotonic() < deadline
        services.push_due(batch=200)
        time.sleep(0.2)

    assert ActivitySync.objects.filter(status="synced").count() == 200
    assert len(feed()) == 200
    statuses = set(
        ApiCall.objects.filter(endpoint__startswith="greenhouse.").values_list("status", flat=True)
    )
    assert 429 not in statuses

    # Greenhouse's own 429 (another client of the same key spent it): the row waits as told.
    later = sent("One more", "Late email")
    control.fail_next(endpoints.V3_NOTES_CREATE, status=429)
    before = clock.now()
    services.push_due()
    row = ActivitySync.objects.get(message=later)
    assert row.status == "pending" and row.write_started_at is None
    assert row.next_attempt_at >= before + timedelta(seconds=1)
    with time_machine.travel(row.next_attempt_at + timedelta(seconds=1), tick=False):
        services.push_due()
    row.refresh_from_db()
    assert row.status == "synced"


def test_confidential_sequences_write_admins_only_and_sobo_names_the_requester(
    sandbox, harvest, recruiter, org
):
    manager = UserFactory(organization=org, email="hana@acme.example", full_name="Hana Manager")
    hana = greenhouse_control.create_greenhouse_user("hana@acme.example", "Hana Manager")
    connect_greenhouse(org, harvest, visibility="public")
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, manager)
    from senders.models import Delegation
    from tests.factories import DelegationFactory

    DelegationFactory(
        grantor=manager, delegate=recruiter, mailbox=mailbox, status=Delegation.Status.APPROVED
    )
    sequence = make_sequence(
        recruiter, mailbox, kinds=("email",), visibility=Visibility.CONFIDENTIAL
    )
    enroll(sequence, recruiter, mailbox)
    run_due()
    push_all()

    [entry] = feed()
    assert entry.user_id == hana.pk  # the inbox owner, not the requester
    assert entry.visibility == "admin_only"
    assert "Sent by Rick Recruiter on behalf of Hana Manager." in entry.body


def test_a_prospect_unknown_to_greenhouse_is_skipped_or_created_as_the_admin_chose(
    sandbox, harvest, recruiter
):
    # Creating a prospect is a v1 write (v3's is not confirmed, so the provider refuses it).
    connection = connect_greenhouse(recruiter.organization, harvest, api="v1")
    control.create_account("new@candidates.example", "New Person")
    mailbox = connect(sandbox, recruiter)
    sequence = make_sequence(recruiter, mailbox, kinds=("email",))
    enroll(sequence, recruiter, mailbox, email="new@candidates.example", first_name="New")
    run_due()
    push_all()
    row = ActivitySync.objects.get()
    assert row.status == "skipped"
    assert "new@candidates.example" in row.last_error

    connection.when_candidate_missing = AtsConnection.WhenCandidateMissing.CREATE_PROSPECT
    connection.save()
    services.retry(organization_id=recruiter.organization_id, ids=[row.pk])
    push_all()
    row.refresh_from_db()
    assert row.status == "synced"
    assert len(feed("new@candidates.example")) == 1
    prospect = Prospect.objects.get(email="new@candidates.example")
    assert prospect.ats_candidate_id


def test_nothing_is_queued_without_auto_sync_and_paused_candidates_never_push(
    sandbox, harvest, recruiter
):
    connection = connect_greenhouse(recruiter.organization, harvest, auto_sync=False)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enrollment = enroll(make_sequence(recruiter, mailbox), recruiter, mailbox)
    run_due()
    assert not ActivitySync.objects.exists()

    connection.auto_sync = True
    connection.save()
    services.pause_candidate(
        prospect_id=enrollment.prospect_id, organization_id=recruiter.organization_id
    )
    run_due()
    push_all()
    assert list(ActivitySync.objects.values_list("status", flat=True)) == ["paused"]
    assert feed() == []

    services.resume_candidate(
        prospect_id=enrollment.prospect_id, organization_id=recruiter.organization_id
    )
    push_all()
    assert len(feed()) == 1


def test_what_a_process_stored_before_it_saw_the_switch_is_queued_afterwards(
    sandbox, harvest, recruiter
):
    org = recruiter.organization
    connect_greenhouse(org, harvest)
    since = clock.now()
    # Another worker still holds the answer it read before the admin switched sync on.
    services._auto_sync_memo[org.pk] = (time.monotonic() + 60, False)
    control.create_account(CANDIDATE, "Casey Candidate")
    mailbox = connect(sandbox, recruiter)
    enroll(make_sequence(recruiter, mailbox, kinds=("email",)), recruiter, mailbox)
    run_due()
    assert not ActivitySync.objects.exists()

    assert tasks.queue_missed(org.pk, since.isoformat()) == 1
    assert tasks.queue_missed(org.pk, since.isoformat()) == 0  # once
    push_all()
    assert len(feed()) == 1
