"""One-off emails: written for one prospect or a selection and sent once."""

from dataclasses import dataclass
from datetime import datetime, time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from outreach import clock, permissions
from outreach.models import User
from outreach.permissions import Access
from senders.models import Mailbox, SendAsAlias

from .. import signals, templating
from ..models import (
    EmailTemplate,
    Enrollment,
    Prospect,
    Sequence,
    Stage,
)
from .checks import bcc_list, check_sender, check_template
from .enrolling import EnrollmentReport, check_enrollment, create_enrollments
from .enrollments import stop_enrollment

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
    include_signature: bool = True
    # The library template the writer loaded, for its usage count and reply rate.
    template: EmailTemplate | None = None


def one_off_stage(*, by: User, draft: EmailDraft) -> Stage:
    """The draft as an unsaved one-off email (the stage, its sequence), cleaned as a stage is."""
    sequence = Sequence(
        organization_id=by.team_id,
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
        template=draft.template,
        include_signature=draft.include_signature,
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
        lambda: check_template(by, stage),
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
    create_enrollments(
        sequence,
        report.outcomes,
        by=by,
        mailbox=draft.mailbox,
        alias=draft.alias,
        start_at=send_at,
        event="Queued",
    )
    if send_at is None or send_at <= clock.now():
        signals.emails_queued.send(sender=Sequence, sequence=sequence)
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
