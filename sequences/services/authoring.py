"""Writes for sequences and their stages: creating, settings, sharing, cloning, archiving."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from outreach import clock, permissions
from outreach.models import User
from outreach.permissions import Access
from senders import services as senders
from senders.models import Mailbox

from .. import lifecycle, schedule, selectors, templating
from ..models import (
    Enrollment,
    Sequence,
    SequenceShare,
    Stage,
)
from .checks import (
    bcc_list,
    check_name,
    check_sender,
    check_template,
    check_timezone,
    require_editor,
)


@transaction.atomic
def create_sequence(*, by: User, name: str) -> Sequence:
    permissions.require(by, Access.RECRUITER)
    check_name(name)
    sequence = Sequence.objects.create(
        organization_id=by.team_id,
        owner=by,
        name=name,
        # The team's default (e.g. an ATS maildrop), copied once: a later change of the default
        # leaves existing sequences as they are.
        bcc=by.team.default_bcc,
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


@transaction.atomic
def update_sequence(*, sequence: Sequence, by: User, **changes) -> Sequence:
    require_editor(by, sequence)
    unknown = set(changes) - set(SEQUENCE_FIELDS)
    if unknown:
        raise ValueError(f"Not sequence settings: {sorted(unknown)}")
    if "name" in changes:
        check_name(changes["name"])
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
    schedule.window_of(sequence)  # validates days and hours
    sequence.save()
    return sequence


@transaction.atomic
def set_shares(*, sequence: Sequence, by: User, shares: dict[int, bool]) -> None:
    """Replaces the direct shares: user id -> may edit."""
    require_editor(by, sequence)
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
    require_editor(by, sequence)
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
    require_editor(by, stage.sequence)
    check_template(by, stage)
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
    require_editor(by, sequence)
    if sequence.stages.count() == 1:
        raise ValidationError("A sequence keeps at least one stage.")
    following = sequence.stages.filter(position__gt=stage.position).order_by("position").first()
    waiting = Enrollment.objects.filter(current_stage=stage, status__in=Enrollment.OPEN)
    if following is not None:
        waiting.update(current_stage=following)
    else:
        lifecycle.finish_where(waiting, "Its last stage was deleted.")
    stage.delete()
    _renumber(sequence, [s.pk for s in sequence.stages.order_by("position")])


@transaction.atomic
def reorder_stages(*, sequence: Sequence, by: User, stage_ids: list[int]) -> None:
    require_editor(by, sequence)
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
