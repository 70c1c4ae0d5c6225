"""The sending engine against the sandbox's Gmail, through the real client library."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from sandbox import control
from senders import gmail
from senders.models import Delegation, Mailbox
from sequences import engine, services, tasks
from sequences.models import Enrollment, Message, Stage
from tests.factories import DelegationFactory, ProspectFactory, SequenceFactory, UserFactory

CANDIDATE = "casey@candidates.example"
# Open all day, to the last microsecond (the end is excluded): no minute of the day fails a test.
ALL_WEEK = {
    "send_days": [0, 1, 2, 3, 4, 5, 6],
    "send_start": "00:00",
    "send_end": "23:59:59.999999",
}


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


def connect(sandbox, user) -> Mailbox:
    """A mailbox connected the way the product connects one (real consent and code exchange)."""
    control.create_account(user.email, user.full_name)
    creds = sandbox.connect(user.email, [gmail.MODIFY])
    return Mailbox.objects.create(
        organization=user.organization,
        owner=user,
        email=user.email,
        display_name=user.full_name,
        refresh_token=creds.refresh_token,
        scopes=[gmail.MODIFY],
        send_spacing_seconds=0,
    )


@pytest.fixture
def rick_box(sandbox, recruiter):
    return connect(sandbox, recruiter)


def lend_inbox(sandbox, owner, delegate) -> Mailbox:
    """`owner` connects her inbox, watched from its history as it is now, and lets `delegate`
    send from it."""
    box = connect(sandbox, owner)
    box.history_id = str(control.account(owner.email).history_id)
    box.save()
    DelegationFactory(
        grantor=owner, delegate=delegate, mailbox=box, status=Delegation.Status.APPROVED
    )
    return box


def make_sequence(owner, mailbox, kinds=("email", "email"), **settings):
    sequence = SequenceFactory(
        owner=owner, sender_mailbox=mailbox, stages=0, **{**ALL_WEEK, **settings}
    )
    for position, kind in enumerate(kinds):
        if kind == "email":
            Stage.objects.create(
                sequence=sequence,
                position=position,
                delay_days=0,
                subject="A platform role, {{first_name}}" if position == 0 else "",
                body_html=f"<p>Hi {{{{first_name}}}}, note {position + 1}.</p>",
            )
        else:
            Stage.objects.create(
                sequence=sequence,
                position=position,
                kind="manual",
                manual_kind="linkedin_inmail",
                instructions="Say hi",
            )
    return sequence


def enroll(sequence, by, mailbox, email=CANDIDATE, first_name="Casey"):
    prospect = ProspectFactory(organization=by.organization, email=email, first_name=first_name)
    services.enroll(sequence=sequence, prospects=[prospect], by=by, mailbox=mailbox)
    return Enrollment.objects.get(prospect=prospect, sequence=sequence)


def run_due():
    """What beat and the worker do, inline: claim what is due and send it."""
    return tasks.dispatch_due()


def inbox(email):
    return list(control.messages(email, "INBOX"))


def test_email_then_task_then_follow_up_in_the_same_thread(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    sequence = make_sequence(recruiter, rick_box, kinds=("email", "manual", "email"))
    enrollment = enroll(sequence, recruiter, rick_box)

    assert run_due() == 1
    [first] = inbox(CANDIDATE)
    assert first.subject == "A platform role, Casey"
    enrollment.refresh_from_db()
    assert enrollment.current_stage.kind == "manual"

    # The manual stage waits for a person.
    assert run_due() == 0
    assert services.open_due_tasks() == 1
    task = enrollment.tasks.get()
    services.complete_task(task=task, by=recruiter)

    assert run_due() == 1
    messages = inbox(CANDIDATE)
    assert len(messages) == 2
    follow_up = messages[0]
    assert follow_up.thread_id == first.thread_id
    assert follow_up.subject == "Re: A platform role, Casey"
    parsed = control.rfc822.parse(bytes(follow_up.raw)) if hasattr(control, "rfc822") else None
    raw = bytes(follow_up.raw).decode()
    first_id = Message.objects.get(enrollment=enrollment, stage__position=0).rfc822_message_id
    assert f"In-Reply-To: {first_id}" in raw
    assert parsed is None or parsed["In-Reply-To"] == first_id
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED
    from sequences.selectors import timeline

    texts = [entry.text for entry in timeline(enrollment)]
    assert texts[-2:] == ["Stage 3 sent: Re: A platform role, Casey", "Finished the sequence"]
    assert "Stage 1 sent: A platform role, Casey" in texts
    sent = Message.objects.filter(enrollment=enrollment, status="sent")
    assert sent.count() == 2 and all(m.gmail_message_id for m in sent)


def test_a_reply_in_the_thread_stops_the_follow_up_without_any_poll(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Thanks, happy to talk on Friday.")

    run_due()

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    assert len(inbox(CANDIDATE)) == 1
    assert enrollment.messages.filter(direction="inbound", inbound_kind="reply").exists()


def test_a_new_email_from_the_prospect_also_stops_it(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    control.send_as(CANDIDATE, to=[recruiter.email], subject="About your note", body="Call me?")

    run_due()

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED
    assert len(inbox(CANDIDATE)) == 1


def test_an_out_of_office_does_not_stop_the_sequence(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    control.set_out_of_office(
        CANDIDATE, True, "I am out of the office with limited access to email."
    )
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED
    assert len(inbox(CANDIDATE)) == 2
    assert enrollment.messages.filter(inbound_kind="auto_reply").exists()


def test_an_out_of_office_with_a_return_date_postpones_the_next_stage(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    control.set_out_of_office(CANDIDATE, True, "I am on leave until 30 December 2026.")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    run_due()
    assert run_due() == 1  # stage 2 comes due, finds the auto-reply, waits
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.next_action_at.date().isoformat() == "2026-12-31"
    assert "away until Dec 30" in enrollment.last_event
    assert len(inbox(CANDIDATE)) == 1


def test_a_bounce_marks_the_enrollment_bounced(sandbox, recruiter, rick_box):
    control.mark_bouncing("gone.example")
    enrollment = enroll(
        make_sequence(recruiter, rick_box), recruiter, rick_box, email="nobody@gone.example"
    )
    run_due()
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.BOUNCED
    assert Message.objects.filter(enrollment=enrollment, direction="outbound").count() == 1


def test_a_delegation_revoked_between_claim_and_send_sends_nothing(sandbox, org, recruiter):
    hana = UserFactory(organization=org, email="hana@acme.example", full_name="Hana Hiring")
    hana_box = connect(sandbox, hana)
    delegation = DelegationFactory(
        grantor=hana, delegate=recruiter, mailbox=hana_box, status=Delegation.Status.APPROVED
    )
    enrollment = enroll(make_sequence(recruiter, hana_box), recruiter, hana_box)
    Enrollment.objects.filter(pk=enrollment.pk).update(
        claim_token="mine", claimed_until=timezone.now() + timedelta(minutes=5)
    )
    # Revoked behind the engine's back (no announcement reaches it): the send-time check holds.
    Delegation.objects.filter(pk=delegation.pk).update(status=Delegation.Status.REVOKED)

    assert engine.send_stage(enrollment.pk, "mine") == "not allowed to send as the mailbox"

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED
    assert "may no longer send as hana@acme.example" in enrollment.status_reason
    assert not control.messages(hana.email, "SENT").exists()


def test_a_crash_after_gmail_sent_and_before_our_commit_sends_once(
    sandbox, recruiter, rick_box, monkeypatch
):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    real_finish = engine.send._finish

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(engine.send, "_finish", killed)
    with pytest.raises(SystemExit):
        run_due()
    monkeypatch.setattr(engine.send, "_finish", real_finish)
    assert Message.objects.get(enrollment=enrollment).status == "sending"
    assert len(inbox(CANDIDATE)) == 1

    # The lease runs out; the next dispatch reconciles against Gmail's history first.
    with time_machine.travel(timezone.now() + timedelta(minutes=6)):
        assert run_due() == 1
    message = Message.objects.get(enrollment=enrollment, stage__position=0)
    assert message.status == "sent" and message.gmail_message_id
    assert len(inbox(CANDIDATE)) == 1
    enrollment.refresh_from_db()
    assert enrollment.current_stage.position == 1


def test_gmail_outage_retries_with_backoff_and_sends_once(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    control.fail_next("gmail.users.messages.send", 2, status=503)

    run_due()
    enrollment.refresh_from_db()
    assert enrollment.attempts == 1 and enrollment.next_action_at > timezone.now()
    assert "Retrying" in enrollment.last_event
    for minutes in (5, 30):
        with time_machine.travel(timezone.now() + timedelta(minutes=minutes)):
            run_due()
    assert len(inbox(CANDIDATE)) == 1
    enrollment.refresh_from_db()
    assert enrollment.current_stage.position == 1 and enrollment.attempts == 0


def test_rate_limit_is_retried_after_retry_after(sandbox, recruiter, rick_box):
    control.create_account(CANDIDATE, "Casey Candidate")
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    control.fail_next("gmail.users.messages.send", 1, status=429)
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.attempts == 1
    with time_machine.travel(timezone.now() + timedelta(minutes=10)):
        run_due()
    assert len(inbox(CANDIDATE)) == 1


def test_a_revoked_grant_pauses_sends_and_marks_the_mailbox(sandbox, recruiter, rick_box):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    control.revoke_grant(recruiter.email)
    gmail.Gmail.forget(rick_box.pk)
    run_due()
    rick_box.refresh_from_db()
    enrollment.refresh_from_db()
    assert rick_box.status == Mailbox.Status.NEEDS_RECONNECT
    assert enrollment.status == Enrollment.Status.PAUSED
    assert not Message.objects.filter(enrollment=enrollment).exists()


def test_a_missing_value_found_at_send_time_pauses_naming_the_token(sandbox, recruiter, rick_box):
    enrollment = enroll(make_sequence(recruiter, rick_box), recruiter, rick_box)
    enrollment.prospect.first_name = ""
    enrollment.prospect.save()
    run_due()
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED
    assert "No value for {{first_name}}" in enrollment.status_reason


def test_the_daily_cap_rolls_work_to_the_next_window_and_never_drops_it(
    sandbox, recruiter, rick_box
):
    rick_box.daily_send_cap = 2
    rick_box.save()
    sequence = make_sequence(
        recruiter,
        rick_box,
        kinds=("email",),
        timezone="America/New_York",
        send_days=[0, 1, 2, 3, 4],
        send_start="09:00",
        send_end="17:00",
    )
    # Friday 6 March 2026, 10:00 in New York; the US clocks go forward on Sunday 8 March.
    with time_machine.travel("2026-03-06 15:00:00+00:00", tick=False):
        for n in range(3):
            enroll(sequence, recruiter, rick_box, email=f"p{n}@candidates.example", first_name="P")
        run_due()
    assert Message.objects.filter(status="sent").count() == 2
    waiting = Enrollment.objects.get(current_stage__isnull=False, status="active")
    # 24 hours after the first send is Saturday: the next window is Monday 9:00, now EDT (-4).
    assert waiting.next_action_at.isoformat() == "2026-03-09T13:00:00+00:00"
    with time_machine.travel("2026-03-09 13:00:01+00:00", tick=False):
        assert run_due() == 1
    assert Message.objects.filter(status="sent").count() == 3


def test_two_dispatchers_never_claim_the_same_enrollment(sandbox, recruiter, rick_box, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    from outreach.celery import app

    app.conf.task_always_eager = False
    try:
        sequence = make_sequence(recruiter, rick_box, kinds=("email",))
        for n in range(30):
            enroll(sequence, recruiter, rick_box, email=f"p{n}@candidates.example", first_name="P")
        app.control.purge()
        first, second = tasks.dispatch_due(batch=20), tasks.dispatch_due(batch=20)
        assert (first, second) == (20, 10)
        assert tasks.dispatch_due() == 0
        from collections import Counter

        tokens = Counter(Enrollment.objects.values_list("claim_token", flat=True))
        assert sorted(tokens.values()) == [10, 20]
    finally:
        app.control.purge()
        app.conf.task_always_eager = True
