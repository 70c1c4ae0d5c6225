"""Enrolling all the prospects a list's filter matches: at most ENROLL_NOW_AT_MOST in the
request (its report shows at once), more in the background, a batch of BATCH per
transaction (jobs.run_batches), the recruiter following its progress on the job's page.

The job keeps the list's filter as its query string and each batch reads it again the way the
list does (`matching`), so "all N matching" is the list's query; the batches take the matches
in the order of their ids from where the last one stopped, up to the last id matching when it
was queued. A batch run twice enrolls nobody twice: its prospects are checked by the enrol
service (one already in the sequence is refused), and one open enrollment per prospect and
sequence is a constraint of the database."""

from dataclasses import asdict
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, QuerySet
from django.http import QueryDict

from outreach import clock
from outreach.models import User
from senders.models import Mailbox, SendAsAlias

from . import jobs, locks, selectors, services, signals
from .forms import ProspectFilterForm
from .models import EnrollJob, Prospect, Sequence

# How many prospects a batch checks and enrolls, in one transaction.
BATCH = services.ENROLL_BATCH
# A batch's worth (a second or so) is enrolled while the recruiter waits, its report shown at
# once; more would keep the request past a web server's timeout.
ENROLL_NOW_AT_MOST = services.ENROLL_BATCH
STOPPED = "You may no longer enroll prospects in this sequence."
FILTER_GONE = "The list's filter is not valid any more."


def filter_form(user: User, data: QueryDict | None) -> ProspectFilterForm:
    """The prospect list's filter form, with the team's members and tags to choose from."""
    return ProspectFilterForm(
        data, members=selectors.team_members(user), tags=selectors.team_tags(user)
    )


def matching(user: User, filter_query: str) -> QuerySet[Prospect] | None:
    """The prospects the list's filter (its query string) matches; None if it no longer reads
    (a tag deleted since): never a wider selection."""
    form = filter_form(user, QueryDict(filter_query))
    if not form.is_valid():
        return None
    return selectors.matching_prospects(user, form.prospect_filter())


def queue_enrollment(
    *,
    sequence: Sequence,
    filter_query: str,
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None = None,
    start_at: datetime | None = None,
) -> EnrollJob:
    """Queues enrolling every prospect the filter matches now."""
    services.check_may_enroll(sequence=sequence, by=by, mailbox=mailbox, alias=alias)
    prospects = matching(by, filter_query)
    if prospects is None:
        raise ValidationError(FILTER_GONE)
    with transaction.atomic():
        job = EnrollJob.objects.create(
            organization_id=by.team_id,
            created_by=by,
            sequence=sequence,
            filter_query=filter_query,
            mailbox=mailbox,
            alias=alias,
            start_at=start_at,
            total=prospects.count(),
            last_prospect_id=prospects.order_by().aggregate(last=Max("pk"))["last"] or 0,
        )
        signals.enrollment_queued.send(sender=EnrollJob, job=job)
    return job


def summary_of(job: EnrollJob) -> services.EnrollmentSummary:
    """What the job did so far, as the in-request enrolment reports it."""
    return services.EnrollmentSummary(
        enrolled=job.enrolled,
        reasons={saved["why"]: services.RefusedFor(**saved) for saved in job.refused},
    )


def _enroll_batch(job: EnrollJob) -> None:
    prospects = matching(job.created_by, job.filter_query)
    if prospects is None:
        _stop(job, f"{FILTER_GONE} (A tag of it was deleted since.)")
        return
    batch = list(
        prospects.filter(pk__gt=job.checked_up_to, pk__lte=job.last_prospect_id).order_by("pk")[
            :BATCH
        ]
    )
    summary = summary_of(job)
    try:
        summary.add(
            services.enroll(
                sequence=job.sequence,
                prospects=batch,
                by=job.created_by,
                mailbox=job.mailbox,
                alias=job.alias,
                start_at=job.start_at,
            )
        )
    except PermissionDenied:
        _stop(job, STOPPED)
        return
    except ValidationError as exc:
        # The sender may not be used any more (a delegation revoked since it was queued).
        _stop(job, " ".join(exc.messages))
        return
    job.checked += len(batch)
    job.enrolled = summary.enrolled
    job.refused = [asdict(refused) for refused in summary.refused]
    if batch:
        job.checked_up_to = batch[-1].pk
    done = len(batch) < BATCH or job.checked_up_to >= job.last_prospect_id
    job.status = EnrollJob.Status.DONE if done else EnrollJob.Status.RUNNING
    job.updated_at = clock.now()
    job.save()


def _stop(job: EnrollJob, why: str) -> None:
    job.status = EnrollJob.Status.FAILED
    job.failure = why[:500]
    job.updated_at = clock.now()
    job.save(update_fields=["status", "failure", "updated_at"])


def run_enrollment(job_id: int, *, seconds: float | None = None) -> jobs.Run[EnrollJob]:
    """Enrolls the job's next batches until it is done or the run's time is up."""
    return jobs.run_batches(lambda: locks.enroll_job(job_id), _enroll_batch, seconds=seconds)
