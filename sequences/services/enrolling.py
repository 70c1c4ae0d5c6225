"""Enrolling prospects: what would happen to each (checked first, nothing written), then the
enrollments."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet

from outreach import clock, permissions
from outreach.models import User
from outreach.permissions import Access
from senders.models import Mailbox, SendAsAlias

from .. import donotcontact, eligibility, lifecycle, schedule, selectors
from ..models import (
    Enrollment,
    Message,
    Prospect,
    Sequence,
    Stage,
)
from ..rendering import missing_tokens
from .checks import check_sender


@dataclass
class EnrollmentOutcome:
    prospect: Prospect
    # What blocks the email to this prospect, and what it is warned of (eligibility's types).
    problems: list[eligibility.Problem] = field(default_factory=list)
    enrollment: Enrollment | None = None

    @property
    def refused(self) -> str:
        """Why the prospect gets nothing ("" if they will get it): the first blocking problem."""
        return next((p.message for p in self.problems if p.blocks), "")

    @property
    def warnings(self) -> list[str]:
        return [p.message for p in self.problems if not p.blocks]


@dataclass
class EnrollmentReport:
    outcomes: list[EnrollmentOutcome]

    @property
    def enrolled(self) -> list[EnrollmentOutcome]:
        return [o for o in self.outcomes if not o.refused]

    @property
    def refused(self) -> list[EnrollmentOutcome]:
        return [o for o in self.outcomes if o.refused]


def check_enrollment(
    *,
    sequence: Sequence,
    prospects: list[Prospect],
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None = None,
    stages: list[Stage] | None = None,
) -> EnrollmentReport:
    """What would happen to each prospect, checked before anything is created. A bounded
    number of queries whatever the number of prospects. `stages`: those of a sequence not saved
    yet (a one-off email being written)."""
    if stages is None:
        stages = list(sequence.stages.order_by("position"))
    ids = [p.pk for p in prospects]
    # A draft (a one-off email being written) has no enrollments yet.
    open_here = (
        set(
            sequence.enrollments.filter(
                prospect_id__in=ids, status__in=Enrollment.OPEN
            ).values_list("prospect_id", flat=True)
        )
        if sequence.pk
        else set()
    )
    # A confidential sequence `by` may not see is only said to exist: neither its name nor who
    # enrolled the prospect in it, nor who emailed from it, which would point to it as well.
    elsewhere: dict[int, list[str]] = {}
    for prospect_id, kind, name, owner, hidden in (
        Enrollment.objects.filter(prospect_id__in=ids, status__in=Enrollment.OPEN)
        .exclude(sequence_id=sequence.pk)
        .annotate(hidden=selectors.hidden_from(by))
        .values_list(
            "prospect_id", "sequence__kind", "sequence__name", "enrolled_by__full_name", "hidden"
        )
    ):
        if hidden:
            what = "a sequence you cannot see"
        elif kind == Sequence.Kind.ONE_OFF:
            what = f"a scheduled email “{name}” ({owner})"
        else:
            what = f"{name} ({owner})"
        elsewhere.setdefault(prospect_id, []).append(what)
    listed = donotcontact.listed(sequence.organization_id, [p.email for p in prospects])
    days = sequence.organization.recent_contact_days
    since = clock.now() - timedelta(days=days)
    # What `by` sent themselves is not a warning: the guard rail is about teammates' emails.
    recent: dict[int, set[str]] = {}
    for prospect_id, sender, hidden in (
        Message.objects.filter(
            prospect_id__in=ids,
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            sent_at__gte=since,
        )
        .exclude(sent_by=by)
        .annotate(hidden=selectors.hidden_from(by, "enrollment__sequence"))
        .values_list("prospect_id", "sent_by__full_name", "hidden")
    ):
        recent.setdefault(prospect_id, set()).add("a teammate" if hidden or not sender else sender)
    # A reply is worth knowing of whoever it went to, `by` included.
    replied: dict[int, set[str]] = {}
    for prospect_id, owner_id, owner, hidden in (
        Message.objects.filter(
            prospect_id__in=ids,
            direction=Message.Direction.INBOUND,
            inbound_kind=Message.InboundKind.REPLY,
            sent_at__gte=since,
        )
        .annotate(hidden=selectors.hidden_from(by, "enrollment__sequence"))
        .values_list("prospect_id", "mailbox__owner_id", "mailbox__owner__full_name", "hidden")
    ):
        to = "you" if owner_id == by.pk else "a teammate" if hidden or not owner else owner
        replied.setdefault(prospect_id, set()).add(to)

    not_yours = eligibility.sender_problems(by, mailbox, you=True)
    outcomes = []
    for prospect in prospects:
        problems = not_yours + eligibility.contact_problems(
            prospect, listed.get(prospect.email.lower())
        )
        if prospect.pk in open_here:
            problems.append(eligibility.AlreadyInSequence())
        missing = missing_tokens(stages, prospect, mailbox, alias)
        if missing:
            problems.append(eligibility.MissingValues(tuple(missing)))
        if prospect.pk in elsewhere:
            problems.append(eligibility.ActiveElsewhere(tuple(elsewhere[prospect.pk])))
        if prospect.pk in recent:
            problems.append(eligibility.RecentlyEmailed(days, tuple(recent[prospect.pk])))
        if prospect.pk in replied:
            problems.append(eligibility.RecentlyReplied(days, tuple(replied[prospect.pk])))
        if prospect.bounced_at is not None:
            problems.append(eligibility.Bounced())
        outcomes.append(EnrollmentOutcome(prospect=prospect, problems=problems))
    return EnrollmentReport(outcomes)


def check_may_enroll(
    *, sequence: Sequence, by: User, mailbox: Mailbox, alias: SendAsAlias | None
) -> None:
    """Refuses (PermissionDenied, ValidationError) an enrolment `by` may not make whoever the
    prospects: in a sequence they may not see, or from a sender they may not use."""
    permissions.require(by, Access.RECRUITER)
    if not selectors.visible_sequences(by).filter(pk=sequence.pk).exists():
        raise PermissionDenied
    check_sender(by, mailbox, alias)


@transaction.atomic
def enroll(
    *,
    sequence: Sequence,
    prospects: list[Prospect],
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None = None,
    start_at: datetime | None = None,
) -> EnrollmentReport:
    check_may_enroll(sequence=sequence, by=by, mailbox=mailbox, alias=alias)
    report = check_enrollment(
        sequence=sequence, prospects=prospects, by=by, mailbox=mailbox, alias=alias
    )
    create_enrollments(
        sequence, report.enrolled, by=by, mailbox=mailbox, alias=alias, start_at=start_at
    )
    return report


def create_enrollments(
    sequence: Sequence,
    outcomes: list[EnrollmentOutcome],
    *,
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None,
    start_at: datetime | None,
    event: str = "Enrolled",
) -> None:
    """An enrollment per outcome: active from its first send time, or failed with why when the
    prospect may not get the email (kept, so that the reason shows)."""
    first = sequence.stages.order_by("position").first()
    window = schedule.window_of(sequence)
    start = max(start_at or clock.now(), clock.now())
    new = []
    for outcome in outcomes:
        outcome.enrollment = Enrollment(
            organization_id=sequence.organization_id,
            sequence=sequence,
            prospect=outcome.prospect,
            mailbox=mailbox,
            alias=alias,
            enrolled_by=by,
            current_stage=first,
            bcc=sequence.bcc,
        )
        first_send = schedule.first_send_time(
            start, window, schedule.timezone_for(sequence, outcome.prospect)
        )
        lifecycle.begin(
            outcome.enrollment, first_send=first_send, refused=outcome.refused, event=event
        )
        new.append(outcome.enrollment)
    Enrollment.objects.bulk_create(new)
    lifecycle.record_begun(new, f"{event} by {by.full_name}, sending as {mailbox.email}")


# How many prospects one transaction of a large enrolment checks and enrolls.
ENROLL_BATCH = 1000


@dataclass
class RefusedFor:
    """Prospects not enrolled for one reason: how many, and the first few."""

    why: str
    count: int = 0
    examples: list[str] = field(default_factory=list)


@dataclass
class EnrollmentSummary:
    """What enrolling many (all the prospects a filter matches) did: how many were enrolled,
    and how many were refused for each reason."""

    enrolled: int = 0
    reasons: dict[str, RefusedFor] = field(default_factory=dict)

    EXAMPLES = 5

    @property
    def refused(self) -> list[RefusedFor]:
        return sorted(self.reasons.values(), key=lambda r: -r.count)

    @property
    def refused_count(self) -> int:
        return sum(r.count for r in self.reasons.values())

    def add(self, report: EnrollmentReport) -> None:
        self.enrolled += len(report.enrolled)
        for outcome in report.refused:
            group = self.reasons.setdefault(outcome.refused, RefusedFor(outcome.refused))
            group.count += 1
            if len(group.examples) < self.EXAMPLES:
                group.examples.append(outcome.prospect.email)


def enroll_matching(
    *,
    sequence: Sequence,
    prospects: QuerySet[Prospect],
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None = None,
    start_at: datetime | None = None,
) -> EnrollmentSummary:
    """Enrolls every prospect of `prospects` (a filter's matches, possibly 100,000) with the
    checks of `enroll`, a batch per transaction: a batch's memory and locks stay small, and
    what was enrolled stays enrolled if a later batch fails."""
    summary = EnrollmentSummary()
    ids = list(prospects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), ENROLL_BATCH):
        batch = list(
            Prospect.objects.filter(pk__in=ids[start : start + ENROLL_BATCH]).order_by("email")
        )
        summary.add(
            enroll(
                sequence=sequence,
                prospects=batch,
                by=by,
                mailbox=mailbox,
                alias=alias,
                start_at=start_at,
            )
        )
    return summary
