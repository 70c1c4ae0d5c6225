"""Mailbox sync against the sandbox's Gmail: replies stop sequences within one cycle."""

import pytest

from outreach.models import Notification
from sandbox import control
from sandbox.models import ApiCall
from senders.models import Mailbox
from sequences import replies
from sequences.models import Enrollment, Message
from tests.factories import UserFactory
from tests.sequences.test_sending import (
    CANDIDATE,
    connect,
    enroll,
    inbox,
    lend_inbox,
    make_sequence,
    run_due,
)


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def rick_box(sandbox, recruiter):
    box = connect(sandbox, recruiter)
    # The history id a connected mailbox starts from.
    box.history_id = str(control.account(recruiter.email).history_id)
    box.save()
    return box


@pytest.fixture
def started(sandbox, recruiter, rick_box):
    """Casey got stage 1 of a two-email sequence from Rick."""
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    return enrollment


def test_a_reply_stops_the_sequence_within_one_cycle_and_tells_the_recruiter(
    started, recruiter, rick_box, mailoutbox
):
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Yes! Let's talk on Friday.")

    result = replies.sync_mailbox(rick_box.pk)

    assert result["replies"] == 1
    started.refresh_from_db()
    assert started.status == Enrollment.Status.REPLIED and started.replied_at is not None
    reply = started.messages.get(direction="inbound")
    assert reply.inbound_kind == "reply" and "Let's talk on Friday" in reply.body_text
    assert reply.gmail_message_id and reply.gmail_thread_id == started.thread_id
    note = Notification.objects.get(user=recruiter)
    assert "Casey" in note.message and "replied to" in note.message
    assert [m.to for m in mailoutbox] == [[recruiter.email]]
    assert "replied" in mailoutbox[0].subject
    # Nothing else goes out.
    assert run_due() == 0
    assert len(inbox(CANDIDATE)) == 1


def test_a_quiet_mailbox_costs_one_call_per_cycle(started, rick_box, recruiter):
    replies.sync_mailbox(rick_box.pk)
    before = ApiCall.objects.filter(account_email=recruiter.email).count()
    replies.sync_mailbox(rick_box.pk)
    calls = ApiCall.objects.filter(account_email=recruiter.email).order_by("pk")[before:]
    assert [c.endpoint for c in calls] == ["gmail.users.history.list"]


def test_a_synced_mailbox_is_queued_again_at_the_next_tick_and_not_before(started, rick_box):
    assert replies.mailboxes_to_sync() == [rick_box.pk]
    assert replies.mailboxes_to_sync() == []  # its sync is still queued
    replies.sync_mailbox(rick_box.pk)
    assert replies.mailboxes_to_sync() == [rick_box.pk]


def test_history_too_old_triggers_a_full_resync_that_finds_the_reply(started, rick_box):
    control.expire_history(rick_box.email)
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Sorry for the delay, I'm interested.")

    result = replies.sync_mailbox(rick_box.pk)

    assert result["resynced"] is True and result["replies"] == 1
    started.refresh_from_db()
    assert started.status == Enrollment.Status.REPLIED
    rick_box.refresh_from_db()
    # The next cycle walks history again from the fresh id.
    assert "resynced" not in replies.sync_mailbox(rick_box.pk)


def test_the_owners_own_follow_up_is_recorded_but_is_not_a_reply(started, recruiter, rick_box):
    sent = control.messages(recruiter.email, "SENT").first()
    control.send_as(
        recruiter.email,
        to=[CANDIDATE],
        subject="Re: " + sent.subject,
        body="Adding one thing.",
        reply_to=sent,
    )
    replies.sync_mailbox(rick_box.pk)
    started.refresh_from_db()
    assert started.status == Enrollment.Status.ACTIVE
    assert started.messages.filter(direction="outbound", stage__isnull=True).count() == 1


def test_a_new_thread_from_the_prospect_counts_as_a_reply(started, recruiter, rick_box):
    control.send_as(CANDIDATE, to=[recruiter.email], subject="Another question", body="Remote ok?")
    replies.sync_mailbox(rick_box.pk)
    started.refresh_from_db()
    assert started.status == Enrollment.Status.REPLIED


def test_a_bounce_flags_the_address(sandbox, recruiter, rick_box):
    control.mark_bouncing("gone.example")
    enrollment = enroll(
        make_sequence(recruiter, rick_box), recruiter, rick_box, email="x@gone.example"
    )
    run_due()
    replies.sync_mailbox(rick_box.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.BOUNCED
    assert (
        enrollment.prospect.__class__.objects.get(pk=enrollment.prospect_id).bounced_at is not None
    )


def test_a_reply_in_a_borrowed_inbox_tells_both_people_and_names_the_inbox(
    sandbox, org, recruiter, mailoutbox
):
    hana = UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")
    hana_box = lend_inbox(sandbox, hana, recruiter)
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, hana_box), recruiter, hana_box)
    run_due()
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Happy to chat.")
    hana.notify_replies_by_email = False
    hana.save()

    replies.sync_mailbox(hana_box.pk)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    for person in (recruiter, hana):
        note = Notification.objects.get(user=person)
        assert "in Hana Hiring's inbox, hana@acme.example" in note.message
    assert [m.to for m in mailoutbox] == [[recruiter.email]]  # Hana chose no email


def test_never_two_syncs_of_one_mailbox_at_once(started, rick_box):
    from django.core.cache import cache

    cache.add(f"sequences:sync:{rick_box.pk}", "someone else", timeout=60)
    assert replies.sync_mailbox(rick_box.pk) == {
        "skipped": "another sync of this mailbox is running"
    }
    cache.delete(f"sequences:sync:{rick_box.pk}")


def test_only_mailboxes_with_something_to_watch_are_synced(started, rick_box, org):
    idle = Mailbox.objects.create(
        organization=org,
        owner=UserFactory(organization=org),
        email="idle@acme.example",
        refresh_token="x",
    )
    assert replies.mailboxes_to_sync() == [rick_box.pk]
    assert Message.objects.filter(mailbox=idle).count() == 0


def test_reply_alerts_can_be_switched_off_and_sentiment_marked(
    started, recruiter, rick_box, mailoutbox
):
    from django.test import Client

    client = Client()
    client.force_login(recruiter)
    client.post("/notifications/", {"in_app": "on"})
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Interested, call me.")
    replies.sync_mailbox(rick_box.pk)
    assert Notification.objects.filter(user=recruiter).count() == 1
    assert mailoutbox == []

    page = client.get(f"/enrollments/{started.pk}/").content.decode()
    assert "How did they answer?" in page
    client.post(f"/enrollments/{started.pk}/interested/", {"next": "https://evil.example/"})
    started.refresh_from_db()
    assert started.sentiment == "interested"


def test_a_tracked_send_and_its_clean_sent_copy_are_not_counted_twice(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    sequence = make_sequence(recruiter, rick_box, track_opens=True, track_clicks=True)
    enrollment = enroll(sequence, recruiter, rick_box)
    run_due()
    replies.sync_mailbox(rick_box.pk)
    assert list(enrollment.messages.values_list("direction", "status")) == [("outbound", "sent")]
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_the_stats_page_counts_the_reply_the_sync_noticed(started, recruiter, rick_box):
    import csv
    import io

    from django.test import Client

    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Count me in.")
    replies.sync_mailbox(rick_box.pk)
    client = Client()
    client.force_login(recruiter)
    rows = list(csv.DictReader(io.StringIO(client.get("/stats/export.csv").content.decode())))
    sequence_row = next(r for r in rows if r["Sequence"] == started.sequence.name)
    assert (sequence_row["Sent"], sequence_row["Replied"], sequence_row["Replied rate"]) == (
        "1",
        "1",
        "1.0000",
    )
    assert "Replied" in client.get("/stats/").content.decode()


def test_a_reply_after_the_last_stage_still_counts_and_is_told(
    sandbox, recruiter, rick_box, mailoutbox
):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box, kinds=("email",)), recruiter, rick_box)
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Late, but yes!")
    replies.sync_mailbox(rick_box.pk)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED and enrollment.replied_at
    assert Notification.objects.filter(user=recruiter, message__contains="replied").exists()
    assert [m.to for m in mailoutbox] == [[recruiter.email]]
    # Later messages of the conversation are recorded without another alert.
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Also, Friday works.")
    replies.sync_mailbox(rick_box.pk)
    assert len(mailoutbox) == 1
