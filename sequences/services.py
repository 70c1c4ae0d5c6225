"""Writes for sequences, stages, prospects, enrollments and tasks."""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Max, Q

from outreach import clock, permissions
from outreach.compiled import CompiledInsert
from outreach.models import User
from outreach.permissions import Access
from outreach.validators import email_list
from senders import services as senders
from senders.models import Mailbox, SendAsAlias

from . import donotcontact, schedule, selectors, templating
from .models import (
    Enrollment,
    EnrollmentEvent,
    Message,
    Prospect,
    Sentiment,
    Sequence,
    SequenceShare,
    Stage,
    Task,
)

# Sequences ---------------------------------------------------------------------------------------


def _require_editor(user: User, sequence: Sequence) -> None:
    permissions.require(user, Access.RECRUITER)
    if not selectors.can_edit(user, sequence):
        raise PermissionDenied("Only the owner, editors and admins change this sequence.")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(f"{name} is not a timezone.") from exc
    return name


def check_sender(user: User, mailbox: Mailbox | None, alias: SendAsAlias | None) -> None:
    if mailbox is None:
        return
    if not senders.can_send_as(user, mailbox):
        raise ValidationError(f"You may not send as {mailbox.email}.")
    if alias is not None and (alias.mailbox_id != mailbox.pk or not alias.verified):
        raise ValidationError(f"{alias.email} is not a verified address of {mailbox.email}.")


def _check_name(name: str) -> None:
    longest = Sequence._meta.get_field("name").max_length
    if len(name) > longest:
        raise ValidationError(f"A sequence name is at most {longest} characters.")
    if "\x00" in name:
        raise ValidationError("A sequence name cannot contain a null character.")


@transaction.atomic
def create_sequence(*, by: User, name: str) -> Sequence:
    permissions.require(by, Access.RECRUITER)
    _check_name(name)
    sequence = Sequence.objects.create(
        organization_id=by.organization_id,
        owner=by,
        name=name,
        # The team's default (e.g. an ATS maildrop), copied once: a later change of the default
        # leaves existing sequences as they are.
        bcc=by.organization.default_bcc,
        sender_mailbox=by.mailboxes.filter(status=Mailbox.Status.CONNECTED).first(),
    )
    Stage.objects.create(sequence=sequence, position=0, kind=Stage.Kind.EMAIL)
    return sequence


SEQUENCE_FIELDS = (
    "name",
    "visibility",
    "sender_mailbox",
    "sender_alias",
    "bcc",
    "timezone",
    "use_prospect_timezone",
    "send_days",
    "send_start",
    "send_end",
    "track_opens",
    "track_clicks",
    "unsubscribe_footer",
)


def bcc_list(raw: str) -> str:
    """The BCC addresses as stored ("a, b"), refused when they outgrow the column."""
    addresses = email_list(raw)
    # Written out as "a, b", the list can outgrow what was typed.
    longest = Sequence._meta.get_field("bcc").max_length
    if len(addresses) > longest:
        raise ValidationError(f"The BCC addresses come to more than {longest} characters.")
    return addresses


@transaction.atomic
def update_sequence(*, sequence: Sequence, by: User, **changes) -> Sequence:
    _require_editor(by, sequence)
    unknown = set(changes) - set(SEQUENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not sequence settings: {sorted(unknown)}")
    if "name" in changes:
        _check_name(changes["name"])
    if "bcc" in changes:
        changes["bcc"] = bcc_list(changes["bcc"])
    if "timezone" in changes:
        check_timezone(changes["timezone"])
    mailbox = changes.get("sender_mailbox", sequence.sender_mailbox)
    alias = changes.get("sender_alias", sequence.sender_alias)
    if "sender_mailbox" in changes or "sender_alias" in changes:
        check_sender(by, mailbox, alias)
    for name, value in changes.items():
        setattr(sequence, name, value)
    window_of(sequence)  # validates days and hours
    sequence.save()
    return sequence


@transaction.atomic
def set_shares(*, sequence: Sequence, by: User, shares: dict[int, bool]) -> None:
    """Replaces the direct shares: user id -> may edit."""
    _require_editor(by, sequence)
    members = set(
        User.objects.filter(organization_id=sequence.organization_id, pk__in=shares, is_active=True)
        .exclude(pk=sequence.owner_id)
        .values_list("pk", flat=True)
    )
    sequence.shares.exclude(user_id__in=members).delete()
    for user_id in members:
        SequenceShare.objects.update_or_create(
            sequence=sequence, user_id=user_id, defaults={"can_edit": shares[user_id]}
        )


def set_archived(*, sequence: Sequence, by: User, archived: bool) -> None:
    _require_editor(by, sequence)
    sequence.archived_at = clock.now() if archived else None
    sequence.save(update_fields=["archived_at"])


@transaction.atomic
def clone_sequence(*, sequence: Sequence, by: User) -> Sequence:
    permissions.require(by, Access.RECRUITER)
    if not selectors.visible_sequences(by).filter(pk=sequence.pk).exists():
        raise PermissionDenied
    stages = list(sequence.stages.order_by("position"))
    sequence.pk = None
    sequence.owner = by
    sequence.name = f"Copy of {sequence.name}"[:200]
    sequence.archived_at = None
    sequence.created_at = clock.now()
    if sequence.sender_mailbox and not senders.can_send_as(by, sequence.sender_mailbox):
        sequence.sender_mailbox, sequence.sender_alias = None, None
    sequence.save()
    for stage in stages:
        stage.pk, stage.sequence = None, sequence
    Stage.objects.bulk_create(stages)
    return sequence


# Stages ------------------------------------------------------------------------------------------


def check_stage(stage: Stage) -> None:
    """Raises ValidationError naming every problem of the stage as written."""
    problems = []
    if stage.kind == Stage.Kind.EMAIL:
        if stage.starts_thread and not stage.subject.strip():
            problems.append("A stage that starts a thread needs a subject.")
        if not templating.html_to_text(stage.body_html).strip():
            problems.append("An email stage needs a body.")
        problems.extend(templating.validate_stage(stage.subject, stage.body_html))
    elif not stage.manual_kind:
        problems.append("Choose what kind of manual task this is.")
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def save_stage(*, stage: Stage, by: User) -> Stage:
    _require_editor(by, stage.sequence)
    if stage.kind == Stage.Kind.EMAIL:
        if templating.too_long(stage.body_html):
            raise ValidationError(str(templating.EmailTooLong(len(stage.body_html.encode()))))
        stage.body_html = templating.sanitize_html(stage.body_html)
        stage.body_text = templating.html_to_text(stage.body_html)
        stage.manual_kind, stage.instructions = "", ""
    else:
        stage.subject, stage.body_html, stage.body_text = "", "", ""
    if stage.pk is None:
        last = stage.sequence.stages.aggregate(last=Max("position"))["last"]
        stage.position = 0 if last is None else last + 1
    check_stage(stage)
    stage.save()
    return stage


@transaction.atomic
def delete_stage(*, stage: Stage, by: User) -> None:
    sequence = stage.sequence
    _require_editor(by, sequence)
    if sequence.stages.count() == 1:
        raise ValidationError("A sequence keeps at least one stage.")
    following = sequence.stages.filter(position__gt=stage.position).order_by("position").first()
    waiting = Enrollment.objects.filter(current_stage=stage, status__in=Enrollment.OPEN)
    if following is not None:
        waiting.update(current_stage=following)
    else:
        waiting.update(
            status=Enrollment.Status.FINISHED,
            current_stage=None,
            next_action_at=None,
            status_reason="Its last stage was deleted.",
        )
    stage.delete()
    _renumber(sequence, [s.pk for s in sequence.stages.order_by("position")])


@transaction.atomic
def reorder_stages(*, sequence: Sequence, by: User, stage_ids: list[int]) -> None:
    _require_editor(by, sequence)
    if sorted(stage_ids) != sorted(sequence.stages.values_list("pk", flat=True)):
        raise ValidationError("The new order must list every stage once.")
    _renumber(sequence, stage_ids)
    first = sequence.stages.get(position=0)
    if first.kind == Stage.Kind.EMAIL:
        check_stage(first)


def _renumber(sequence: Sequence, stage_ids: list[int]) -> None:
    stages = {s.pk: s for s in sequence.stages.all()}
    for position, pk in enumerate(stage_ids):
        stages[pk].position = position
    # The unique (sequence, position) constraint is deferred to commit, so swaps are fine.
    Stage.objects.bulk_update(stages.values(), ["position"])


# Rendering ---------------------------------------------------------------------------------------


def token_values(prospect: Prospect, mailbox: Mailbox, alias: SendAsAlias | None) -> dict:
    sender_name = (
        (alias.display_name if alias else "") or mailbox.display_name or mailbox.owner.full_name
    )
    return templating.values_for(
        templating.ProspectValues(
            first_name=prospect.first_name,
            last_name=prospect.last_name,
            company=prospect.company,
            title=prospect.title,
            custom=prospect.custom_fields,
        ),
        templating.SenderValues(
            full_name=sender_name, email=alias.email if alias else mailbox.email
        ),
    )


def render_stage(stage: Stage, prospect: Prospect, mailbox: Mailbox, alias=None):
    """The email of `stage` for `prospect`; raises templating.MissingValue naming the token."""
    return templating.render_stage(
        stage.subject, stage.body_html, token_values(prospect, mailbox, alias)
    )


def missing_tokens(sequence_stages, prospect: Prospect, mailbox: Mailbox, alias=None) -> list[str]:
    values = token_values(prospect, mailbox, alias)
    texts = [
        t for s in sequence_stages if s.kind == Stage.Kind.EMAIL for t in (s.subject, s.body_html)
    ]
    return templating.missing_tokens(texts, values)


# Schedule ----------------------------------------------------------------------------------------


def window_of(sequence: Sequence) -> schedule.SendWindow:
    try:
        return schedule.SendWindow(
            days=frozenset(int(d) for d in sequence.send_days),
            start=_as_time(sequence.send_start),
            end=_as_time(sequence.send_end),
        )
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"The send window is not valid: {exc}") from exc


def _as_time(value) -> time:
    return value if isinstance(value, time) else time.fromisoformat(str(value))


def timezone_for(enrollment_or_sequence, prospect: Prospect | None = None) -> ZoneInfo:
    sequence = getattr(enrollment_or_sequence, "sequence", enrollment_or_sequence)
    prospect = prospect or getattr(enrollment_or_sequence, "prospect", None)
    if sequence.use_prospect_timezone and prospect is not None and prospect.timezone:
        try:
            return ZoneInfo(prospect.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(sequence.timezone)


# Prospects ---------------------------------------------------------------------------------------

PROSPECT_FIELDS = ("first_name", "last_name", "company", "title", "timezone")


def upsert_prospect(*, by: User, email: str, **fields) -> tuple[Prospect, bool]:
    """Creates the prospect, or fills in the given fields of the one with that email (any case):
    one person, one row per organization."""
    permissions.require(by, Access.RECRUITER)
    email = email.strip().lower()
    validate_email(email)
    custom = fields.pop("custom_fields", None) or {}
    unknown = set(fields) - set(PROSPECT_FIELDS)
    if unknown:
        raise ValueError(f"Not prospect fields: {sorted(unknown)}")
    if fields.get("timezone"):
        check_timezone(fields["timezone"])
    prospect = Prospect.objects.filter(
        organization_id=by.organization_id, email__iexact=email
    ).first()
    created = prospect is None
    if created:
        prospect = Prospect(organization_id=by.organization_id, email=email, created_by=by)
    for name, value in fields.items():
        if value:
            setattr(prospect, name, value.strip())
    prospect.custom_fields = {**prospect.custom_fields, **{k: v for k, v in custom.items() if v}}
    # Lengths against the columns (validate_email allows 320 characters, the column 254): a
    # ValidationError names the field, where the database would only fail.
    prospect.clean_fields(exclude=["organization", "created_by"])
    prospect.save()
    return prospect, created


# Enrollment --------------------------------------------------------------------------------------


@dataclass
class EnrollmentOutcome:
    prospect: Prospect
    refused: str = ""
    warnings: list[str] = field(default_factory=list)
    enrollment: Enrollment | None = None


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
    may_send = senders.can_send_as(by, mailbox)
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
    recent: dict[int, set[str]] = {}
    for prospect_id, sender, hidden in (
        Message.objects.filter(
            prospect_id__in=ids,
            direction=Message.Direction.OUTBOUND,
            status=Message.Status.SENT,
            sent_at__gte=clock.now() - timedelta(days=days),
        )
        .annotate(hidden=selectors.hidden_from(by, "enrollment__sequence"))
        .values_list("prospect_id", "sent_by__full_name", "hidden")
    ):
        recent.setdefault(prospect_id, set()).add("a teammate" if hidden or not sender else sender)

    outcomes = []
    for prospect in prospects:
        outcome = EnrollmentOutcome(prospect=prospect)
        missing = missing_tokens(stages, prospect, mailbox, alias)
        if not may_send:
            outcome.refused = f"You may not send as {mailbox.email}."
        elif prospect.do_not_contact:
            outcome.refused = f"{prospect.email} is marked do not contact."
        elif prospect.email.lower() in listed:
            entry = listed[prospect.email.lower()]
            outcome.refused = f"{prospect.email} is on the team's do-not-contact list ({entry})."
        elif prospect.pk in open_here:
            outcome.refused = "Already in this sequence."
        elif missing:
            outcome.refused = "No value for " + ", ".join(f"{{{{{m}}}}}" for m in missing) + "."
        if prospect.pk in elsewhere:
            # Once for several sequences the recruiter cannot see.
            places = dict.fromkeys(elsewhere[prospect.pk])
            outcome.warnings.append("Also active in " + "; ".join(places) + ".")
        if prospect.pk in recent:
            outcome.warnings.append(
                f"Emailed in the last {days} days by "
                + ", ".join(sorted(recent[prospect.pk]))
                + "."
            )
        outcomes.append(outcome)
    return EnrollmentReport(outcomes)


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
    permissions.require(by, Access.RECRUITER)
    if not selectors.visible_sequences(by).filter(pk=sequence.pk).exists():
        raise PermissionDenied
    check_sender(by, mailbox, alias)
    report = check_enrollment(
        sequence=sequence, prospects=prospects, by=by, mailbox=mailbox, alias=alias
    )
    _create_enrollments(
        sequence, report.enrolled, by=by, mailbox=mailbox, alias=alias, start_at=start_at
    )
    return report


def _create_enrollments(
    sequence: Sequence,
    outcomes: list[EnrollmentOutcome],
    *,
    by: User,
    mailbox: Mailbox,
    alias: SendAsAlias | None,
    start_at: datetime | None,
    event: str = "Enrolled",
) -> None:
    first = sequence.stages.order_by("position").first()
    window = window_of(sequence)
    start = max(start_at or clock.now(), clock.now())
    new = []
    for outcome in outcomes:
        tz = timezone_for(sequence, outcome.prospect)
        refused = bool(outcome.refused)
        outcome.enrollment = Enrollment(
            organization_id=sequence.organization_id,
            sequence=sequence,
            prospect=outcome.prospect,
            mailbox=mailbox,
            alias=alias,
            enrolled_by=by,
            current_stage=first,
            next_action_at=None if refused else schedule.first_send_time(start, window, tz),
            status=Enrollment.Status.FAILED if refused else Enrollment.Status.ACTIVE,
            status_reason=outcome.refused[:500],
            bcc=sequence.bcc,
            last_event=f"Not sent: {outcome.refused}"[:200] if refused else event,
            last_event_at=clock.now(),
        )
        new.append(outcome.enrollment)
    Enrollment.objects.bulk_create(new)
    queued = f"{event} by {by.full_name}, sending as {mailbox.email}"
    EnrollmentEvent.objects.bulk_create(
        EnrollmentEvent(
            enrollment=e, text=e.last_event if e.status == Enrollment.Status.FAILED else queued
        )
        for e in new
    )


def _lock_enrollment(enrollment: Enrollment) -> Enrollment:
    return (
        Enrollment.objects.select_for_update(of=("self",))
        .select_related("sequence")
        .get(pk=enrollment.pk)
    )


# Every send that finishes a sequence writes one (see outreach.compiled).
_NEW_EVENT = CompiledInsert(EnrollmentEvent)


def record(enrollment: Enrollment, event: str, message: Message | None = None) -> None:
    """Adds `event` to the enrollment's timeline (the enrollment is saved by the caller)."""
    enrollment.last_event, enrollment.last_event_at = event[:200], clock.now()
    _NEW_EVENT.create(enrollment=enrollment, text=event[:500], message=message)


@transaction.atomic
def pause_enrollment(
    *, enrollment: Enrollment, cause: str, reason: str, by: User | None = None
) -> bool:
    enrollment = _lock_enrollment(enrollment)
    if by is not None:
        _require_editor_or_sender(by, enrollment)
    if enrollment.status != Enrollment.Status.ACTIVE:
        return False
    enrollment.status, enrollment.pause_cause, enrollment.status_reason = (
        Enrollment.Status.PAUSED,
        cause,
        reason[:500],
    )
    record(enrollment, f"Paused: {reason}")
    enrollment.save()
    return True


@transaction.atomic
def resume_enrollment(*, enrollment: Enrollment, by: User | None = None) -> bool:
    """Back to active; a stage whose time passed while paused goes out at the next window."""
    enrollment = _lock_enrollment(enrollment)
    if by is not None:
        _require_editor_or_sender(by, enrollment)
    if enrollment.status != Enrollment.Status.PAUSED:
        return False
    if not senders.can_send_as(enrollment.enrolled_by, enrollment.mailbox):
        raise ValidationError(
            f"{enrollment.enrolled_by.full_name} may no longer send as {enrollment.mailbox.email}: "
            "reassign the enrollment to another sender first."
        )
    now = clock.now()
    enrollment.status, enrollment.pause_cause, enrollment.status_reason = (
        Enrollment.Status.ACTIVE,
        "",
        "",
    )
    if enrollment.next_action_at is None or enrollment.next_action_at < now:
        enrollment.next_action_at = schedule.first_send_time(
            now, window_of(enrollment.sequence), timezone_for(enrollment)
        )
    record(enrollment, "Resumed")
    enrollment.save()
    return True


@transaction.atomic
def stop_enrollment(
    *,
    enrollment: Enrollment,
    status: str,
    reason: str,
    by: User | None = None,
    unless_on_its_way: bool = False,
) -> bool:
    """Ends an open enrollment. `unless_on_its_way`: not if its email is being handed to Gmail
    right now (a cancel must not claim to have stopped what goes out anyway); the send path
    writes that email under the same row lock, so this answer holds."""
    enrollment = _lock_enrollment(enrollment)
    if by is not None:
        _require_editor_or_sender(by, enrollment)
    if enrollment.status not in Enrollment.OPEN:
        return False
    if (
        unless_on_its_way
        and enrollment.messages.filter(
            stage_id=enrollment.current_stage_id,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
        ).exists()
    ):
        return False
    enrollment.status, enrollment.status_reason = status, reason[:500]
    enrollment.next_action_at, enrollment.pause_cause = None, ""
    record(enrollment, reason)
    enrollment.save()
    return True


def mark_responded(*, enrollment: Enrollment, by: User) -> bool:
    return stop_enrollment(
        enrollment=enrollment,
        status=Enrollment.Status.REPLIED,
        reason=f"Marked as responded by {by.full_name}.",
        by=by,
    )


@transaction.atomic
def set_do_not_contact(*, prospect: Prospect, by: User, on: bool) -> int:
    """Marks (or clears) do-not-contact; marking stops every open enrollment of the prospect at
    once, rather than at its next send. Returns how many stopped."""
    permissions.require(by, Access.RECRUITER)
    Prospect.objects.filter(pk=prospect.pk).update(do_not_contact=on)
    prospect.do_not_contact = on
    if not on:
        return 0
    return sum(
        stop_enrollment(
            enrollment=enrollment,
            status=Enrollment.Status.STOPPED,
            reason=f"Marked do not contact by {by.full_name}.",
        )
        for enrollment in Enrollment.objects.filter(prospect=prospect, status__in=Enrollment.OPEN)
    )


def set_ats_sync_paused(*, prospect_id: int, paused: bool) -> bool:
    """Stops (or restarts) writing this prospect's conversations to the ATS; True if it
    changed."""
    return bool(
        Prospect.objects.filter(pk=prospect_id)
        .exclude(ats_sync_paused=paused)
        .update(ats_sync_paused=paused)
    )


def remember_ats_candidate(*, prospect_id: int, candidate_id: str) -> None:
    """The ATS's id for this prospect, found by email once and kept."""
    Prospect.objects.filter(pk=prospect_id).update(ats_candidate_id=candidate_id)


def mark_sentiment(*, enrollment: Enrollment, by: User, sentiment: str) -> None:
    """How a replied prospect answered, for the stats."""
    _require_editor_or_sender(by, enrollment)
    if enrollment.status != Enrollment.Status.REPLIED:
        raise ValidationError("Only a replied enrollment has a sentiment.")
    Enrollment.objects.filter(pk=enrollment.pk).update(sentiment=Sentiment(sentiment))


def remove_enrollment(*, enrollment: Enrollment, by: User) -> bool:
    return stop_enrollment(
        enrollment=enrollment,
        status=Enrollment.Status.STOPPED,
        reason=f"Removed by {by.full_name}.",
        by=by,
    )


def _require_editor_or_sender(user: User, enrollment: Enrollment) -> None:
    permissions.require(user, Access.RECRUITER)
    if enrollment.enrolled_by_id != user.pk and not selectors.can_edit(user, enrollment.sequence):
        raise PermissionDenied("Only the sender, the sequence's editors and admins change this.")


def pause_sequence(*, sequence: Sequence, by: User) -> int:
    _require_editor(by, sequence)
    count = 0
    for enrollment in sequence.enrollments.filter(status=Enrollment.Status.ACTIVE):
        count += pause_enrollment(
            enrollment=enrollment,
            cause=Enrollment.PauseCause.SEQUENCE_PAUSED,
            reason=f"Sequence paused by {by.full_name}.",
        )
    return count


def resume_sequence(*, sequence: Sequence, by: User) -> int:
    _require_editor(by, sequence)
    return _resume_where(
        sequence.enrollments.filter(pause_cause=Enrollment.PauseCause.SEQUENCE_PAUSED)
    )


def _resume_where(enrollments) -> int:
    count = 0
    for enrollment in enrollments.filter(status=Enrollment.Status.PAUSED):
        try:
            count += resume_enrollment(enrollment=enrollment)
        except ValidationError as exc:
            Enrollment.objects.filter(pk=enrollment.pk).update(
                status_reason=" ".join(exc.messages)[:500]
            )
    return count


_UNKNOWN = object()


def advance(enrollment: Enrollment, *, after: datetime, following=_UNKNOWN) -> None:
    """Moves a (locked) enrollment past its current stage: the next stage is scheduled inside
    the send window, or the sequence is finished. `following`: the next stage, if known."""
    current = enrollment.current_stage
    if following is _UNKNOWN:
        following = (
            enrollment.sequence.stages.filter(position__gt=current.position)
            .order_by("position")
            .first()
            if current
            else None
        )
    if following is None:
        enrollment.status, enrollment.current_stage, enrollment.next_action_at = (
            Enrollment.Status.FINISHED,
            None,
            None,
        )
        record(enrollment, "Finished the sequence")
    else:
        enrollment.current_stage = following
        enrollment.next_action_at = schedule.next_send_time(
            after, following.delay_days, window_of(enrollment.sequence), timezone_for(enrollment)
        )


# Manual stages -----------------------------------------------------------------------------------


def open_due_tasks() -> int:
    """Each active enrollment whose current stage is a manual one that came due gets its Task,
    in the queue of the person who enrolled the prospect."""
    due = Enrollment.objects.filter(
        status=Enrollment.Status.ACTIVE,
        current_stage__kind=Stage.Kind.MANUAL,
        next_action_at__lte=clock.now(),
    ).exclude(tasks__stage=F("current_stage"))
    created = 0
    for enrollment in due.select_related("current_stage"):
        _, made = Task.objects.get_or_create(
            enrollment=enrollment,
            stage=enrollment.current_stage,
            defaults={
                "organization_id": enrollment.organization_id,
                "assignee_id": enrollment.enrolled_by_id,
                "due_at": enrollment.next_action_at,
            },
        )
        created += made
    return created


@transaction.atomic
def complete_task(*, task: Task, by: User, skipped: bool = False) -> Task:
    permissions.require(by, Access.RECRUITER)
    task = Task.objects.select_for_update(of=("self",)).select_related("enrollment").get(pk=task.pk)
    if task.assignee_id != by.pk and not selectors.can_edit(by, task.enrollment.sequence):
        raise PermissionDenied
    if task.status != Task.Status.OPEN:
        return task
    task.status = Task.Status.SKIPPED if skipped else Task.Status.DONE
    task.completed_at, task.completed_by = clock.now(), by
    task.save()
    enrollment = _lock_enrollment(task.enrollment)
    if enrollment.status in Enrollment.OPEN and enrollment.current_stage_id == task.stage_id:
        record(enrollment, f"{task.stage.label} {'skipped' if skipped else 'done'}")
        advance(enrollment, after=clock.now())
        enrollment.save()
    return task


# Reacting to other apps ------------------------------------------------------------------------


def pause_for_mailbox(
    mailbox: Mailbox, cause: str, reason: str, *, sender: User | None = None
) -> int:
    enrollments = Enrollment.objects.filter(mailbox=mailbox, status=Enrollment.Status.ACTIVE)
    if sender is not None:
        enrollments = enrollments.filter(enrolled_by=sender)
    return sum(pause_enrollment(enrollment=e, cause=cause, reason=reason) for e in enrollments)


def resume_for_mailbox(mailbox: Mailbox) -> int:
    return _resume_where(
        Enrollment.objects.filter(
            mailbox=mailbox, pause_cause=Enrollment.PauseCause.MAILBOX_RECONNECT
        )
    )


def pause_for_departure(user: User) -> int:
    """A deactivated user's enrollments (as sender, or from their mailbox) wait for an admin to
    hand them over."""
    enrollments = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE).filter(
        Q(enrolled_by=user) | Q(mailbox__owner=user)
    )
    reason = f"{user.full_name} left the team: reassign to another sender."
    return sum(
        pause_enrollment(enrollment=e, cause=Enrollment.PauseCause.OWNER_DEACTIVATED, reason=reason)
        for e in enrollments
    )


HANDED_OVER_CAUSES = (
    Enrollment.PauseCause.OWNER_DEACTIVATED,
    Enrollment.PauseCause.DELEGATION_REVOKED,
    Enrollment.PauseCause.MAILBOX_DISCONNECTED,
    Enrollment.PauseCause.MAILBOX_RECONNECT,
)


@transaction.atomic
def hand_over(*, departed: User, to: User, mailbox: Mailbox, by: User) -> dict:
    """Offboarding: the departed user's sequences go to `to`, and their enrollments are sent by
    `to` from `mailbox`, then resume."""
    permissions.require(by, Access.ADMIN)
    if not by.is_org_admin or departed.organization_id != by.organization_id:
        raise PermissionDenied("Only the team's admins hand over a departed teammate's work.")
    if to.organization_id != by.organization_id or not to.is_active:
        raise ValidationError("Hand over to an active teammate.")
    if not senders.can_send_as(to, mailbox):
        raise ValidationError(f"{to.full_name} may not send as {mailbox.email}.")
    sequences = Sequence.objects.filter(owner=departed).update(owner=to)
    ids = list(
        Enrollment.objects.filter(status__in=Enrollment.OPEN)
        .filter(Q(enrolled_by=departed) | Q(mailbox__owner=departed))
        .values_list("pk", flat=True)
    )
    reassigned = Enrollment.objects.filter(pk__in=ids).update(
        enrolled_by=to, mailbox=mailbox, alias=None
    )
    # Whatever paused them came from the departed sender or their mailbox: moot now.
    resumed = _resume_where(
        Enrollment.objects.filter(pk__in=ids, pause_cause__in=HANDED_OVER_CAUSES)
    )
    Task.objects.filter(assignee=departed, status=Task.Status.OPEN).update(assignee=to)
    return {"sequences": sequences, "enrollments": reassigned, "resumed": resumed}


# One-off emails ----------------------------------------------------------------------------------
# Written for one prospect or a selection and sent once, as yourself or as a teammate who
# authorized you: stored as a one-stage sequence of kind "one_off" with an enrollment per
# prospect, so that the engine sends it by the one send path sequences use.

# A one-off email goes out when asked, any day and hour; only the mailbox's cap and spacing
# hold it back.
ANY_TIME = {"send_days": [0, 1, 2, 3, 4, 5, 6], "send_start": time.min, "send_end": time.max}


@dataclass(frozen=True)
class EmailDraft:
    mailbox: Mailbox
    alias: SendAsAlias | None
    subject: str
    body_html: str
    bcc: str = ""


def one_off_stage(*, by: User, draft: EmailDraft) -> Stage:
    """The draft as an unsaved one-off email (the stage, its sequence), cleaned as a stage is."""
    sequence = Sequence(
        organization_id=by.organization_id,
        owner=by,
        kind=Sequence.Kind.ONE_OFF,
        name=draft.subject.strip()[:200] or "(no subject)",
        sender_mailbox=draft.mailbox,
        sender_alias=draft.alias,
        bcc=draft.bcc,
        timezone="UTC",
        **ANY_TIME,
    )
    if templating.too_long(draft.body_html):
        # Left as written: the draft's check says it is too long, without cleaning it first.
        body, text = draft.body_html, ""
    else:
        body = templating.sanitize_html(draft.body_html)
        text = templating.html_to_text(body)
    return Stage(
        sequence=sequence,
        position=0,
        kind=Stage.Kind.EMAIL,
        subject=draft.subject.strip(),
        body_html=body,
        body_text=text,
    )


@dataclass
class OneOffCheck:
    stage: Stage
    # What is wrong with the email as written (sender, BCC, subject, body, tokens).
    problems: list[str]
    # Who would get it and who would not, with the guard rails' warnings.
    report: EnrollmentReport


def check_one_off(*, by: User, draft: EmailDraft, prospects: list[Prospect]) -> OneOffCheck:
    """Everything the compose page shows before sending; nothing is written."""
    stage = one_off_stage(by=by, draft=draft)
    problems = []
    for check in (
        lambda: check_sender(by, draft.mailbox, draft.alias),
        lambda: setattr(stage.sequence, "bcc", bcc_list(draft.bcc)),
        lambda: _check_email(stage),
    ):
        try:
            check()
        except ValidationError as exc:
            problems.extend(exc.messages)
    report = check_enrollment(
        sequence=stage.sequence,
        # Written wrong, the email cannot tell which prospect lacks a value yet.
        stages=[] if problems else [stage],
        prospects=prospects,
        by=by,
        mailbox=draft.mailbox,
        alias=draft.alias,
    )
    return OneOffCheck(stage, problems, report)


def _check_email(stage: Stage) -> None:
    problems = []
    if not stage.subject:
        problems.append("Write a subject.")
    if not stage.body_text.strip():
        problems.append("Write the body of the email.")
    problems.extend(templating.validate_stage(stage.subject, stage.body_html))
    if problems:
        raise ValidationError(problems)


@transaction.atomic
def send_one_off(
    *, by: User, draft: EmailDraft, prospects: list[Prospect], send_at: datetime | None = None
) -> Sequence:
    """Queues one personalized email per prospect, now or at `send_at`; the engine sends them
    under the mailbox's cap. A prospect who may not be written to is kept with the reason and
    gets nothing; when that is everyone, nothing is queued and ValidationError says why."""
    permissions.require(by, Access.RECRUITER)
    if not prospects:
        raise ValidationError("Choose at least one prospect.")
    check = check_one_off(by=by, draft=draft, prospects=prospects)
    if check.problems:
        raise ValidationError(check.problems)
    report, stage = check.report, check.stage
    if not report.enrolled:
        raise ValidationError([f"{o.prospect.email}: {o.refused}" for o in report.refused][:10])
    sequence = stage.sequence
    sequence.save()
    stage.sequence = sequence
    stage.save()
    _create_enrollments(
        sequence,
        report.outcomes,
        by=by,
        mailbox=draft.mailbox,
        alias=draft.alias,
        start_at=send_at,
        event="Queued",
    )
    if send_at is None or send_at <= clock.now():
        from .tasks import dispatch_due

        # Out within seconds rather than at the next tick.
        transaction.on_commit(dispatch_due.delay)
    return sequence


def cancel_one_off(*, enrollment: Enrollment, by: User) -> bool:
    """Cancels the one-off email to this prospect if it has not gone out (or started to)."""
    if enrollment.sequence.kind != Sequence.Kind.ONE_OFF:
        raise PermissionDenied("Only a one-off email is cancelled; a sequence is paused.")
    return stop_enrollment(
        enrollment=enrollment,
        status=Enrollment.Status.STOPPED,
        reason=f"Cancelled by {by.full_name}.",
        by=by,
        unless_on_its_way=True,
    )
