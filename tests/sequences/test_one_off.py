"""One-off and bulk emails: written once, sent by the sequences' own engine (claim, cap, exactly
once, reply watch, ATS), as yourself or from a teammate's inbox."""

from datetime import timedelta
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
import time_machine
from django.utils import timezone

from ats_sync.models import ActivitySync
from outreach.models import Notification
from sandbox import control
from senders.models import Delegation
from sequences import engine, replies, selectors, services, stats
from sequences.models import DoNotContact, Enrollment, Message, Sequence
from tests.ats_sync.test_pipeline import connect_greenhouse, feed, push_all
from tests.factories import DelegationFactory, ProspectFactory
from tests.sequences.test_sending import CANDIDATE, connect, enroll, inbox, make_sequence, run_due

BODY = "<p>Hi {{first_name}}, would you have 20 minutes this week?</p>"


@pytest.fixture(autouse=True)
def _no_jitter(settings):
    settings.SEND_JITTER_SECONDS = 0


@pytest.fixture
def hana_box(sandbox, hana, recruiter):
    mailbox = connect(sandbox, hana)
    DelegationFactory(
        grantor=hana, delegate=recruiter, mailbox=mailbox, status=Delegation.Status.APPROVED
    )
    return mailbox


def draft(mailbox, subject="Platform role, {{first_name}}", body=BODY, bcc=""):
    return services.EmailDraft(
        mailbox=mailbox, alias=None, subject=subject, body_html=body, bcc=bcc
    )


def prospect(org, email=CANDIDATE, first_name="Casey", **fields):
    control.create_account(email, first_name)
    return ProspectFactory(organization=org, email=email, first_name=first_name, **fields)


def headers_of(sandbox_message):
    return message_from_bytes(bytes(sandbox_message.raw), policy=default_policy)


def test_an_email_as_the_hiring_manager_lands_in_her_sent_and_her_reply_notifies_both(
    sandbox, org, recruiter, hana, hana_box
):
    connect(sandbox, recruiter)  # the recruiter's own inbox exists, and must stay untouched
    casey = prospect(org)

    email = services.send_one_off(by=recruiter, draft=draft(hana_box), prospects=[casey])

    # Queued and sent at once (the engine is kicked on commit; tests run tasks inline).
    [received] = inbox(CANDIDATE)
    assert headers_of(received)["From"] == "Hana Hiring <hana@acme.example>"
    assert received.subject == "Platform role, Casey"
    assert control.messages(hana.email, "SENT").count() == 1
    assert control.messages(recruiter.email, "SENT").count() == 0
    message = Message.objects.get(direction="outbound")
    assert (message.status, message.mailbox, message.sent_by) == ("sent", hana_box, recruiter)
    assert message.enrollment.sequence == email and email.kind == Sequence.Kind.ONE_OFF
    [recipient] = selectors.one_off_recipients(email)
    assert (recipient.state, recipient.label) == ("sent", "Sent")

    # The candidate answers in Hana's inbox; the next sync of it notices.
    control.reply(CANDIDATE, received, "Yes, Thursday works for me.")
    replies.sync_mailbox(hana_box.pk)

    reply = Message.objects.get(direction="inbound")
    assert reply.inbound_kind == "reply" and reply.prospect == casey
    notified = Notification.objects.filter(message__contains="replied to your email")
    assert set(notified.values_list("user__email", flat=True)) == {recruiter.email, hana.email}
    assert "in Hana Hiring's inbox" in notified.get(user=recruiter).message
    history = selectors.prospect_history(recruiter, casey)
    assert [m.direction for m in history["emails"]] == ["inbound", "outbound"]
    [recipient] = selectors.one_off_recipients(email)
    assert recipient.label == "Replied"
    # A one-off email is not a sequence: not listed, not counted in the sequence stats.
    assert not selectors.visible_sequences(recruiter).exists()
    today = timezone.localdate()
    assert stats.report(recruiter, start=today, end=today, group="sequence").rows == []


def test_a_bulk_email_to_20_sends_10_under_a_cap_of_10_and_the_rest_in_the_next_window_once(
    sandbox, org, recruiter, monkeypatch
):
    mailbox = connect(sandbox, recruiter)
    mailbox.daily_send_cap = 10
    mailbox.save()
    prospects = [
        prospect(org, email=f"p{n:02}@candidates.example", first_name=f"Person{n:02}")
        for n in range(20)
    ]

    with time_machine.travel("2026-11-24 09:30:00+00:00", tick=False):
        email = services.send_one_off(by=recruiter, draft=draft(mailbox), prospects=prospects)
        progress = selectors.one_off_progress(selectors.one_off_recipients(email))

    assert progress == {"queued": 10, "sending": 0, "sent": 10, "failed": 0, "cancelled": 0}
    assert control.messages(recruiter.email, "SENT").count() == 10
    waiting = Enrollment.objects.filter(sequence=email, status=Enrollment.Status.ACTIVE)
    # The cap is a rolling 24 hours: the rest are due when the first sends leave it.
    assert {e.next_action_at.isoformat() for e in waiting} == {"2026-11-25T09:30:00+00:00"}

    # Next window: the worker dies after handing the third email to Gmail, before recording it.
    calls = {"n": 0}
    real_finish = engine.send._finish

    def dies_on_the_third(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise SystemExit("worker killed")
        return real_finish(*args, **kwargs)

    monkeypatch.setattr(engine.send, "_finish", dies_on_the_third)
    with time_machine.travel("2026-11-25 09:30:01+00:00", tick=False), pytest.raises(SystemExit):
        run_due()
    monkeypatch.setattr(engine.send, "_finish", real_finish)
    # Restarted once the lease ran out: the one in doubt is reconciled, none goes twice.
    with time_machine.travel("2026-11-25 09:36:00+00:00", tick=False):
        run_due()
        run_due()

    for n, person in enumerate(prospects):
        [received] = inbox(person.email)
        assert received.subject == f"Platform role, Person{n:02}"
        assert f"Hi Person{n:02}," in headers_of(received).get_body(("plain",)).get_content()
    assert control.messages(recruiter.email, "SENT").count() == 20
    assert Message.objects.filter(direction="outbound", status="sent").count() == 20
    final = selectors.one_off_progress(selectors.one_off_recipients(email))
    assert final == {"queued": 0, "sending": 0, "sent": 20, "failed": 0, "cancelled": 0}


def test_a_prospect_without_a_value_for_a_token_is_kept_out_with_the_reason(
    sandbox, org, recruiter
):
    mailbox = connect(sandbox, recruiter)
    casey = prospect(org)
    nameless = prospect(org, email="nameless@candidates.example", first_name="")

    email = services.send_one_off(by=recruiter, draft=draft(mailbox), prospects=[casey, nameless])

    states = {r.enrollment.prospect.email: r for r in selectors.one_off_recipients(email)}
    assert states[CANDIDATE].state == "sent"
    assert states[nameless.email].state == "failed"
    assert states[nameless.email].reason == "No value for {{first_name}}."
    events = states[nameless.email].enrollment.events.values_list("text", flat=True)
    assert list(events) == ["Not sent: No value for {{first_name}}."]
    assert inbox(nameless.email) == []


def test_nothing_is_queued_when_no_prospect_may_get_it(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    listed = prospect(org, do_not_contact=True)

    with pytest.raises(services.ValidationError, match="is marked do not contact"):
        services.send_one_off(by=recruiter, draft=draft(mailbox), prospects=[listed])
    assert not Sequence.objects.exists()


def test_do_not_contact_and_a_revoked_delegation_are_checked_when_it_is_sent(
    sandbox, org, recruiter, hana, hana_box
):
    casey, dana = prospect(org), prospect(org, email="dana@candidates.example", first_name="Dana")
    later, even_later = timezone.now() + timedelta(hours=2), timezone.now() + timedelta(hours=3)
    to_casey = services.send_one_off(
        by=recruiter, draft=draft(hana_box), prospects=[casey], send_at=later
    )
    to_dana = services.send_one_off(
        by=recruiter, draft=draft(hana_box), prospects=[dana], send_at=even_later
    )
    # Both were fine when written; then Casey is listed and Hana withdraws her permission.
    DoNotContact.objects.create(organization=org, value=CANDIDATE)
    with time_machine.travel(later + timedelta(seconds=1)):
        assert run_due() == 1
    Delegation.objects.update(status=Delegation.Status.REVOKED)
    with time_machine.travel(even_later + timedelta(seconds=1)):
        assert run_due() == 1

    [casey_email] = selectors.one_off_recipients(to_casey)
    assert (casey_email.label, casey_email.reason) == (
        "Not sent",
        "casey@candidates.example is on the team's do-not-contact list.",
    )
    [dana_email] = selectors.one_off_recipients(to_dana)
    assert dana_email.label == "On hold"
    assert "may no longer send as hana@acme.example" in dana_email.reason
    assert control.messages(hana.email, "SENT").count() == 0


def test_a_scheduled_email_can_be_cancelled_until_it_is_sent(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    casey, dana = prospect(org), prospect(org, email="dana@candidates.example", first_name="Dana")
    later = timezone.now() + timedelta(days=1)
    email = services.send_one_off(
        by=recruiter, draft=draft(mailbox), prospects=[casey, dana], send_at=later
    )
    assert run_due() == 0
    to_casey = email.enrollments.get(prospect=casey)

    assert services.cancel_one_off(enrollment=to_casey, by=recruiter) is True

    with time_machine.travel(later + timedelta(seconds=1)):
        assert run_due() == 1
    assert inbox(CANDIDATE) == [] and len(inbox(dana.email)) == 1
    to_dana = email.enrollments.get(prospect=dana)
    assert services.cancel_one_off(enrollment=to_dana, by=recruiter) is False
    labels = {r.enrollment.prospect.email: r.label for r in selectors.one_off_recipients(email)}
    assert labels == {CANDIDATE: "Not sent", dana.email: "Sent"}
    assert selectors.one_off_recipients(email)[0].reason == "Cancelled by Rick Recruiter."


def test_an_email_being_handed_to_gmail_cannot_be_cancelled(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    casey = prospect(org)
    email = services.send_one_off(
        by=recruiter,
        draft=draft(mailbox),
        prospects=[casey],
        send_at=timezone.now() + timedelta(hours=1),
    )
    enrollment = email.enrollments.get()
    Message.objects.create(
        organization=org,
        prospect=casey,
        enrollment=enrollment,
        stage=enrollment.current_stage,
        mailbox=mailbox,
        direction="outbound",
        status="sending",
        from_address=mailbox.email,
        to_address=CANDIDATE,
    )

    assert services.cancel_one_off(enrollment=enrollment, by=recruiter) is False
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE


def test_a_one_off_email_and_its_reply_go_to_the_ats_like_sequence_email(
    sandbox, harvest, org, recruiter
):
    connect_greenhouse(org, harvest)
    mailbox = connect(sandbox, recruiter)
    casey = prospect(org)
    services.send_one_off(by=recruiter, draft=draft(mailbox), prospects=[casey])
    control.reply(CANDIDATE, inbox(CANDIDATE)[0], "Sounds good, call me Friday.")
    replies.sync_mailbox(mailbox.pk)

    push_all()

    bodies = " ".join(entry.body for entry in feed())
    assert "would you have 20 minutes" in bodies and "call me Friday" in bodies
    assert set(ActivitySync.objects.values_list("status", flat=True)) == {"synced"}


def test_the_warnings_name_a_recent_email_by_a_teammate_and_an_active_sequence(
    sandbox, org, recruiter, hana, hana_box
):
    mailbox = connect(sandbox, recruiter)
    control.create_account(CANDIDATE, "Casey")
    enrollment = enroll(make_sequence(hana, hana_box), hana, hana_box)
    run_due()  # Hana's sequence wrote to Casey just now, and goes on
    casey = enrollment.prospect

    check = services.check_one_off(by=recruiter, draft=draft(mailbox), prospects=[casey])

    [outcome] = check.report.outcomes
    assert not outcome.refused and not check.problems
    assert any("Also active in" in w and "(Hana Hiring)" in w for w in outcome.warnings)
    assert "Emailed in the last 30 days by Hana Hiring." in outcome.warnings


def test_an_email_from_a_verified_alias_carries_the_alias_and_bcc(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    control.add_send_as(recruiter.email, "talent@acme.example", "Acme Talent")
    alias = mailbox.aliases.create(
        email="talent@acme.example", display_name="Acme Talent", verified=True
    )
    casey = prospect(org)

    services.send_one_off(
        by=recruiter,
        draft=services.EmailDraft(
            mailbox=mailbox,
            alias=alias,
            subject="Hello {{first_name}}",
            body_html=BODY,
            bcc="Maildrop@ATS.example",
        ),
        prospects=[casey],
    )

    [received] = inbox(CANDIDATE)
    assert headers_of(received)["From"] == "Acme Talent <talent@acme.example>"
    [sent] = control.messages(recruiter.email, "SENT")
    assert "Bcc: maildrop@ats.example" in bytes(sent.raw).decode()
    assert Message.objects.get(direction="outbound").from_address == "talent@acme.example"


def test_a_draft_without_a_subject_or_a_body_says_so_in_the_writers_words(sandbox, org, recruiter):
    mailbox = connect(sandbox, recruiter)
    empty = draft(mailbox, subject=" ", body="<p> </p>")

    check = services.check_one_off(by=recruiter, draft=empty, prospects=[prospect(org)])

    assert check.problems == ["Write a subject.", "Write the body of the email."]
    with pytest.raises(services.ValidationError):
        services.send_one_off(
            by=recruiter, draft=empty, prospects=[prospect(org, email="d@x.example")]
        )


def test_a_bcc_list_that_outgrows_its_column_once_written_out_is_a_problem_not_a_crash(
    sandbox, org, recruiter
):
    mailbox = connect(sandbox, recruiter)
    # 29 addresses typed with bare commas fit in 500 characters; written "a, b" they do not.
    typed = ",".join(f"d{n:03d}@ats.example" for n in range(29))
    assert len(typed) <= 500

    check = services.check_one_off(
        by=recruiter, draft=draft(mailbox, bcc=typed), prospects=[prospect(org)]
    )

    assert check.problems == ["The BCC addresses come to more than 500 characters."]
    with pytest.raises(services.ValidationError):
        services.send_one_off(
            by=recruiter,
            draft=draft(mailbox, bcc=typed),
            prospects=[prospect(org, email="d@x.example")],
        )
