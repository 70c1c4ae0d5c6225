"""Enrolling prospects: every check reported per prospect, before anything is created."""

from datetime import timedelta

import pytest
from django.utils import timezone

from senders.models import Delegation
from sequences import services
from sequences.models import Enrollment, Message, Stage
from tests.factories import (
    DelegationFactory,
    EnrollmentFactory,
    MailboxFactory,
    ProspectFactory,
    SequenceFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def enroll(sequence, prospects, by, mailbox, **kwargs):
    return services.enroll(sequence=sequence, prospects=prospects, by=by, mailbox=mailbox, **kwargs)


def test_enrolling_schedules_the_first_stage_and_snapshots_the_bcc(
    sequence, prospects, recruiter, recruiter_mailbox
):
    sequence.bcc = "maildrop@greenhouse.example"
    sequence.save()
    report = enroll(sequence, prospects, recruiter, recruiter_mailbox)
    assert len(report.enrolled) == 3 and not report.refused
    enrollment = Enrollment.objects.get(prospect=prospects[0])
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert enrollment.current_stage.position == 0
    assert enrollment.next_action_at is not None
    assert enrollment.bcc == "maildrop@greenhouse.example"

    # A later BCC edit touches only later enrollments.
    services.update_sequence(sequence=sequence, by=recruiter, bcc="other@greenhouse.example")
    enrollment.refresh_from_db()
    assert enrollment.bcc == "maildrop@greenhouse.example"


def test_each_refusal_names_its_reason(sequence, org, recruiter, recruiter_mailbox):
    blocked = ProspectFactory(organization=org, do_not_contact=True)
    nameless = ProspectFactory(organization=org, company="")
    already = ProspectFactory(organization=org)
    fine = ProspectFactory(organization=org)
    EnrollmentFactory(sequence=sequence, prospect=already, mailbox=recruiter_mailbox)

    report = enroll(sequence, [blocked, nameless, already, fine], recruiter, recruiter_mailbox)

    reasons = {o.prospect.pk: o.refused for o in report.outcomes}
    assert reasons[blocked.pk] == f"{blocked.email} is marked do not contact."
    assert reasons[nameless.pk] == "No value for {{company}}."
    assert reasons[already.pk] == "Already in this sequence."
    assert reasons[fine.pk] == ""
    assert set(
        Enrollment.objects.filter(sequence=sequence).values_list("prospect_id", flat=True)
    ) == {already.pk, fine.pk}


def test_a_fallback_makes_a_missing_value_fine(sequence, org, recruiter, recruiter_mailbox):
    nameless = ProspectFactory(organization=org, first_name="")
    # The subject has no fallback for the first name...
    assert enroll(sequence, [nameless], recruiter, recruiter_mailbox).outcomes[0].refused == (
        "No value for {{first_name}}."
    )
    sequence.stages.filter(position=0).update(subject="Quick question, {{first_name|friend}}")
    assert enroll(sequence, [nameless], recruiter, recruiter_mailbox).outcomes[0].refused == ""


def test_sending_as_someone_else_needs_their_approval(sequence, org, recruiter, prospects):
    hana = UserFactory(organization=org, full_name="Hana Hiring")
    hana_box = MailboxFactory(owner=hana)
    with pytest.raises(Exception, match="may not send as"):
        enroll(sequence, prospects, recruiter, hana_box)
    DelegationFactory(
        grantor=hana, delegate=recruiter, mailbox=hana_box, status=Delegation.Status.APPROVED
    )
    assert len(enroll(sequence, prospects, recruiter, hana_box).enrolled) == 3


def test_warnings_name_the_other_sequence_and_the_teammate_who_wrote(
    sequence, org, recruiter, recruiter_mailbox, teammate
):
    prospect = ProspectFactory(organization=org)
    elsewhere = SequenceFactory(owner=teammate, name="Frontend push")
    tess_box = MailboxFactory(owner=teammate)
    EnrollmentFactory(sequence=elsewhere, prospect=prospect, mailbox=tess_box)
    Message.objects.create(
        organization=org,
        prospect=prospect,
        mailbox=tess_box,
        sent_by=teammate,
        direction="outbound",
        status="sent",
        sent_at=timezone.now() - timedelta(days=3),
        from_address=tess_box.email,
        to_address=prospect.email,
        subject="Hello",
    )
    [outcome] = enroll(sequence, [prospect], recruiter, recruiter_mailbox).outcomes
    assert outcome.refused == ""
    assert outcome.warnings == [
        "Also active in Frontend push (Tess Teammate).",
        "Emailed in the last 30 days by Tess Teammate.",
    ]


def test_bulk_enroll_of_a_thousand_takes_a_bounded_number_of_queries(
    sequence, org, recruiter, recruiter_mailbox, django_assert_max_num_queries
):
    many = ProspectFactory.create_batch(1000, organization=org)
    with django_assert_max_num_queries(15):
        report = enroll(sequence, many, recruiter, recruiter_mailbox)
    assert len(report.enrolled) == 1000


def test_manual_stage_becomes_a_task_and_done_moves_on(sequence, org, recruiter, recruiter_mailbox):
    stages = list(sequence.stages.order_by("position"))
    manual = Stage.objects.create(
        sequence=sequence,
        position=2,
        kind=Stage.Kind.MANUAL,
        manual_kind=Stage.ManualKind.LINKEDIN_INMAIL,
        instructions="Say hi on LinkedIn",
    )
    enrollment = EnrollmentFactory(
        sequence=sequence,
        mailbox=recruiter_mailbox,
        current_stage=manual,
        next_action_at=timezone.now() - timedelta(minutes=1),
    )
    assert services.open_due_tasks() == 1
    assert services.open_due_tasks() == 0  # once only
    task = enrollment.tasks.get()
    assert task.assignee == recruiter and task.stage == manual

    services.complete_task(task=task, by=recruiter)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED
    assert len(stages) == 2


def test_pause_resume_and_mark_responded(sequence, recruiter, recruiter_mailbox):
    enrollment = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    assert services.pause_enrollment(
        enrollment=enrollment, cause="by_user", reason="Hold on", by=recruiter
    )
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.PAUSED and enrollment.status_reason == "Hold on"
    assert services.resume_enrollment(enrollment=enrollment, by=recruiter)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.ACTIVE
    assert services.mark_responded(enrollment=enrollment, by=recruiter)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.REPLIED and enrollment.next_action_at is None


def test_pausing_a_sequence_pauses_its_active_enrollments_only(
    sequence, recruiter, recruiter_mailbox
):
    active = EnrollmentFactory(sequence=sequence, mailbox=recruiter_mailbox)
    done = EnrollmentFactory(
        sequence=sequence, mailbox=recruiter_mailbox, status=Enrollment.Status.FINISHED
    )
    assert services.pause_sequence(sequence=sequence, by=recruiter) == 1
    assert services.resume_sequence(sequence=sequence, by=recruiter) == 1
    active.refresh_from_db()
    done.refresh_from_db()
    assert active.status == Enrollment.Status.ACTIVE and done.status == Enrollment.Status.FINISHED


def test_the_teams_default_bcc_is_copied_into_new_sequences_only(org, recruiter, recruiter_mailbox):
    org.default_bcc = "maildrop@us.greenhouse.example"
    org.save()
    recruiter.refresh_from_db()
    first = services.create_sequence(by=recruiter, name="First")
    assert first.bcc == "maildrop@us.greenhouse.example"

    org.default_bcc = "other@us.greenhouse.example"
    org.save()
    recruiter.refresh_from_db()
    first.refresh_from_db()
    assert first.bcc == "maildrop@us.greenhouse.example"
    assert (
        services.create_sequence(by=recruiter, name="Second").bcc == "other@us.greenhouse.example"
    )


def test_team_admins_set_the_default_bcc_in_admin_and_bad_addresses_are_refused(admin_client, org):
    data = {
        "name": "Acme",
        "default_bcc": "not an address",
        "recent_contact_days": 30,
        "domains-TOTAL_FORMS": 0,
        "domains-INITIAL_FORMS": 1,
        "domains-MIN_NUM_FORMS": 0,
        "domains-MAX_NUM_FORMS": 1000,
    }
    page = admin_client.post(
        f"/admin/outreach/organization/{org.pk}/change/", data
    ).content.decode()
    assert "not an address is not an email address." in page
    data["default_bcc"] = "Maildrop@us.greenhouse.example"
    assert (
        admin_client.post(f"/admin/outreach/organization/{org.pk}/change/", data).status_code == 302
    )
    org.refresh_from_db()
    assert org.default_bcc == "maildrop@us.greenhouse.example"
