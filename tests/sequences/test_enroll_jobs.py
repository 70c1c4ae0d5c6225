"""Enrolling all the prospects a filter matches, when they are more than a request has time for,
runs in the background: its page shows a progress bar until it is over, then what the
in-request enrolment reports (how many enrolled, how many refused and why). A run stops after
its time and the next goes on; a crash loses a batch whole and enrolls nobody twice; the
sweeper takes up a job whose task was lost."""

import time
from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from outreach import clock
from outreach.models import Role
from sequences import bulk_enroll, jobs, services, tasks
from sequences.models import EnrollJob, Enrollment, ImportJob, Prospect
from tests.factories import ProspectFactory, SequenceFactory

pytestmark = pytest.mark.django_db

HOOLI = {"all_matching": "1", "filter": "company=hooli"}


@pytest.fixture
def small_batches(monkeypatch):
    """A threshold and batches of a few prospects, so that a dozen take several batches."""
    monkeypatch.setattr(bulk_enroll, "ENROLL_NOW_AT_MOST", 5)
    monkeypatch.setattr(bulk_enroll, "BATCH", 4)


def make(org, n, company="Hooli"):
    return [
        ProspectFactory(organization=org, email=f"{company.lower()}{i}@x.example", company=company)
        for i in range(n)
    ]


def enroll_all(client, sequence, mailbox, *, run: bool):
    """Posts the enrol form for all matching; `run`: its task runs as the commit starts it."""
    with TestCase.captureOnCommitCallbacks(execute=run):
        return client.post(f"/sequences/{sequence.pk}/enroll/", {**HOOLI, "sender": mailbox.pk})


def test_above_the_threshold_a_job_is_queued_and_its_page_shows_the_progress(
    recruiter_client, org, sequence, recruiter_mailbox, small_batches
):
    make(org, 10)
    make(org, 3, company="Initech")

    response = enroll_all(recruiter_client, sequence, recruiter_mailbox, run=False)

    job = EnrollJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/prospects/enrolling/{job.pk}/"
    assert not Enrollment.objects.exists()  # nothing enrolled in the request
    waiting = recruiter_client.get(response["Location"]).content.decode()
    assert "Enrolling 10 prospects in Backend engineers" in waiting
    assert "Waiting for a worker" in waiting
    assert '<progress id="enroll-bar" max="10" value="0">' in waiting

    bulk_enroll.run_enrollment(job.pk, seconds=0)  # one batch, and the run's time is up

    polled = recruiter_client.get(response["Location"], HTTP_HX_REQUEST="true").content.decode()
    assert '<progress id="enroll-bar" max="10" value="4">' in polled
    assert "4 of 10 prospects checked" in polled and "4 enrolled" in polled
    assert 'hx-trigger="every 1s"' in polled
    listed = recruiter_client.get("/prospects/").content.decode()
    assert "Enrolling under way" in listed and f'href="/prospects/enrolling/{job.pk}/"' in listed
    assert "4 of 10 prospects checked" in listed


def test_at_the_threshold_the_report_is_shown_at_once(
    recruiter_client, org, sequence, recruiter_mailbox, small_batches
):
    make(org, 5)

    response = enroll_all(recruiter_client, sequence, recruiter_mailbox, run=False)

    assert "5 enrolled in Backend engineers" in response.content.decode()
    assert not EnrollJob.objects.exists()


def test_the_task_enrolls_all_of_them_over_several_runs_and_says_why_not(
    recruiter_client, org, sequence, recruiter_mailbox, small_batches, monkeypatch
):
    hooli = make(org, 10)
    make(org, 3, company="Initech")
    Prospect.objects.filter(pk__in=[hooli[0].pk, hooli[7].pk]).update(do_not_contact=True)
    monkeypatch.setattr(jobs, "RUN_SECONDS", 0)  # each run stops after a batch
    runs = []
    run_enrollment = bulk_enroll.run_enrollment
    monkeypatch.setattr(
        bulk_enroll, "run_enrollment", lambda pk: runs.append(pk) or run_enrollment(pk)
    )

    response = enroll_all(recruiter_client, sequence, recruiter_mailbox, run=True)

    assert len(runs) == 3  # 4 + 4 + 2
    page = recruiter_client.get(response["Location"]).content.decode()
    assert "8 enrolled in Backend engineers" in page
    assert "Not enrolled (2)" in page
    assert hooli[0].email in page and hooli[7].email in page
    assert "<progress" not in page and "hx-trigger" not in page
    enrolled = sequence.enrollments.filter(status=Enrollment.Status.ACTIVE)
    assert enrolled.count() == 8
    assert set(enrolled.values_list("prospect__company", flat=True)) == {"Hooli"}
    job = EnrollJob.objects.get()
    assert (job.status, job.checked, job.total, job.enrolled) == ("done", 10, 10, 8)


def test_a_crash_in_a_batch_loses_it_whole_and_the_retry_enrolls_nobody_twice(
    recruiter, org, sequence, recruiter_mailbox, small_batches, monkeypatch
):
    make(org, 10)
    job = bulk_enroll.queue_enrollment(
        sequence=sequence, filter_query="company=hooli", by=recruiter, mailbox=recruiter_mailbox
    )
    enroll = services.enroll
    calls = []

    def crashing_in_the_second_batch(**kwargs):
        report = enroll(**kwargs)  # its enrollments are written, then the worker dies
        calls.append(1)
        if len(calls) == 2:
            raise DatabaseError("the connection was lost")
        return report

    monkeypatch.setattr(services, "enroll", crashing_in_the_second_batch)
    with pytest.raises(DatabaseError):
        bulk_enroll.run_enrollment(job.pk)

    job.refresh_from_db()
    assert (job.status, job.checked, job.enrolled) == ("running", 4, 4)
    assert sequence.enrollments.count() == 4  # the second batch rolled back whole

    monkeypatch.setattr(services, "enroll", enroll)
    bulk_enroll.run_enrollment(job.pk)  # the task's retry
    bulk_enroll.run_enrollment(job.pk)  # and a redelivery of it: nothing left

    job.refresh_from_db()
    assert (job.status, job.checked, job.enrolled, job.refused) == ("done", 10, 10, [])
    assert sequence.enrollments.count() == 10
    assert sequence.enrollments.values("prospect").distinct().count() == 10


def test_a_batch_done_again_refuses_those_already_enrolled(
    recruiter, org, sequence, recruiter_mailbox, small_batches
):
    """Were the progress ever lost, the enrol service's checks still enroll nobody twice."""
    make(org, 6)
    job = bulk_enroll.queue_enrollment(
        sequence=sequence, filter_query="company=hooli", by=recruiter, mailbox=recruiter_mailbox
    )
    bulk_enroll.run_enrollment(job.pk)
    EnrollJob.objects.filter(pk=job.pk).update(status="running", checked_up_to=0, checked=0)

    bulk_enroll.run_enrollment(job.pk)

    assert sequence.enrollments.count() == 6
    summary = bulk_enroll.summary_of(EnrollJob.objects.get())
    assert [(r.why, r.count) for r in summary.refused] == [("Already in this sequence.", 6)]
    assert summary.enrolled == 6


def test_a_recruiter_no_longer_allowed_to_enroll_stops_the_job_with_why(
    recruiter_client, recruiter, org, sequence, recruiter_mailbox, small_batches
):
    make(org, 6)
    job = bulk_enroll.queue_enrollment(
        sequence=sequence, filter_query="company=hooli", by=recruiter, mailbox=recruiter_mailbox
    )
    bulk_enroll.run_enrollment(job.pk, seconds=0)
    recruiter.role = Role.SENDER  # an admin made them sender-only meanwhile
    recruiter.save()

    bulk_enroll.run_enrollment(job.pk)

    job.refresh_from_db()
    assert (job.status, job.failure, job.checked) == ("failed", bulk_enroll.STOPPED, 4)
    assert sequence.enrollments.count() == 4


def test_another_teams_job_is_a_404_and_so_is_a_confidential_sequences(
    client, recruiter, org, recruiter_mailbox, other_admin, teammate
):
    def job_in(visibility: str) -> EnrollJob:
        return EnrollJob.objects.create(
            organization=org,
            created_by=recruiter,
            sequence=SequenceFactory(owner=recruiter, visibility=visibility),
            filter_query="all=1",
            mailbox=recruiter_mailbox,
        )

    job = job_in("shared")
    hidden = job_in("private")
    client.force_login(other_admin)
    assert client.get(f"/prospects/enrolling/{job.pk}/").status_code == 404
    client.force_login(teammate)
    assert client.get(f"/prospects/enrolling/{job.pk}/").status_code == 200
    assert client.get(f"/prospects/enrolling/{hidden.pk}/").status_code == 404


def test_the_sweeper_queues_a_stuck_job_again_and_leaves_a_fresh_one(
    recruiter, org, sequence, recruiter_mailbox, small_batches
):
    make(org, 6)
    how = {
        "sequence": sequence,
        "filter_query": "company=hooli",
        "by": recruiter,
        "mailbox": recruiter_mailbox,
    }
    with TestCase.captureOnCommitCallbacks(execute=False):  # their tasks are lost
        stuck = bulk_enroll.queue_enrollment(**how)
        fresh = bulk_enroll.queue_enrollment(**how)
    long_ago = clock.now() - timedelta(minutes=10)
    EnrollJob.objects.filter(pk=stuck.pk).update(updated_at=long_ago)
    stuck_import = ImportJob.objects.create(
        organization=org, created_by=recruiter, token="stuck", status="running", rows_total=1
    )
    ImportJob.objects.filter(pk=stuck_import.pk).update(updated_at=long_ago)
    abandoned = ImportJob.objects.create(
        organization=org,
        created_by=recruiter,
        token="abandoned",
        created_at=clock.now() - timedelta(days=2),
    )
    just_uploaded = ImportJob.objects.create(organization=org, created_by=recruiter, token="new")

    with TestCase.captureOnCommitCallbacks(execute=True) as queued:
        swept = tasks.sweep_jobs()

    assert (swept.enrollments, swept.imports, swept.uploads_deleted) == (1, 1, 1)
    assert len(queued) == 2
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == "done" and stuck.enrolled == 6
    assert fresh.status == "queued"
    assert set(ImportJob.objects.values_list("pk", flat=True)) == {
        stuck_import.pk,
        just_uploaded.pk,
    }
    assert not ImportJob.objects.filter(pk=abandoned.pk).exists()
    # Swept again at once: what was just queued is left to its task.
    with TestCase.captureOnCommitCallbacks(execute=False) as again:
        swept = tasks.sweep_jobs()
    assert (swept.enrollments, swept.imports, len(again)) == (0, 0, 0)


@pytest.mark.parametrize("htmx", [False, True])
def test_the_progress_page_runs_the_same_queries_whatever_the_size(
    recruiter_client, recruiter, org, sequence, recruiter_mailbox, small_batches, htmx
):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}

    def queries_for(n: int, company: str) -> int:
        make(org, n, company=company)
        first = Prospect.objects.filter(company=company).order_by("pk")[0]
        Prospect.objects.filter(pk=first.pk).update(do_not_contact=True)
        job = bulk_enroll.queue_enrollment(
            sequence=sequence,
            filter_query=f"company={company}",
            by=recruiter,
            mailbox=recruiter_mailbox,
        )
        bulk_enroll.run_enrollment(job.pk, seconds=0)
        with CaptureQueriesContext(connection) as running:
            assert (
                recruiter_client.get(f"/prospects/enrolling/{job.pk}/", **headers).status_code
                == 200
            )
        bulk_enroll.run_enrollment(job.pk)
        with CaptureQueriesContext(connection) as done:
            assert (
                recruiter_client.get(f"/prospects/enrolling/{job.pk}/", **headers).status_code
                == 200
            )
        return max(len(running), len(done))

    small = queries_for(6, "Small")
    large = queries_for(60, "Large")
    assert small == large
    assert large <= 12


def test_ten_thousand_are_enrolled_in_the_background_in_seconds(
    recruiter, org, sequence, recruiter_mailbox
):
    """At the real batch size, a constant number of queries a batch: 10,000 took 2.7 s on the
    developers' machine (the in-request path took ~4 s a 10,000 before)."""
    Prospect.objects.bulk_create(
        Prospect(organization=org, email=f"p{i}@x.example", first_name="Ada", company="Hooli")
        for i in range(10_000)
    )
    job = bulk_enroll.queue_enrollment(
        sequence=sequence, filter_query="company=hooli", by=recruiter, mailbox=recruiter_mailbox
    )
    started = time.perf_counter()

    while bulk_enroll.run_enrollment(job.pk).more:
        pass

    elapsed = time.perf_counter() - started
    assert sequence.enrollments.count() == 10_000
    assert elapsed < 60
