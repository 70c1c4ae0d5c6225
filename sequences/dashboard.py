"""The dashboard's reads: what needs the recruiter now, what went out and what is coming, how
this week went, and, for someone new, the four steps to a first sequence. A bounded number of
queries whatever the team's size; lists are cut to a few rows, each with its full count.

"Mine" is what the recruiter sends (they enrolled it) or what came into their own inbox; a
confidential sequence they may not see is never named (see selectors.hidden_from)."""

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from django.db.models import Count, Model, Q, QuerySet

from outreach import clock
from outreach.models import User
from senders.models import Mailbox

from . import selectors
from .models import Enrollment, Message, Prospect, Sequence, Stage, Task

_Row = TypeVar("_Row", bound=Model)

SHOWN = 5  # rows per list; the count says how many there are in all
REPLIES_SINCE = timedelta(days=7)


@dataclass(frozen=True)
class Reply:
    message: Message
    # The sequence's name, or "" where the recruiter may not see which sequence it was.
    sequence_name: str


@dataclass(frozen=True)
class PausedGroup:
    """Paused enrollments of one cause, with the reason one of them gives."""

    cause: str
    label: str
    count: int
    example_reason: str

    @property
    def waits_for_a_sender(self) -> bool:
        return self.cause in Enrollment.SENDER_CAUSES


@dataclass(frozen=True)
class FirstSteps:
    connected: bool
    has_prospects: bool
    has_sequence: bool
    has_enrolled: bool

    @property
    def done(self) -> bool:
        return self.connected and self.has_prospects and self.has_sequence and self.has_enrolled


@dataclass(frozen=True)
class Dashboard:
    due_tasks: list[Task]
    due_task_count: int
    replies: list[Reply]
    reply_count: int
    paused: list[PausedGroup]
    mailboxes_to_reconnect: list[Mailbox]
    failed: list[Enrollment]
    failed_count: int
    sent_today: int
    scheduled_next_day: int
    emailed_this_week: int
    replied_this_week: int
    sequences: list[Sequence]
    first_steps: FirstSteps

    @property
    def reply_rate(self) -> int | None:
        """Replies per prospect emailed this week, in percent (None before any email)."""
        if not self.emailed_this_week:
            return None
        return round(100 * self.replied_this_week / self.emailed_this_week)

    @property
    def needs_you(self) -> bool:
        return bool(
            self.due_task_count
            or self.reply_count
            or self.paused
            or self.mailboxes_to_reconnect
            or self.failed_count
        )


def _mine(user: User) -> Q:
    """Enrollments the recruiter sends, or that send from their own inbox."""
    return Q(enrolled_by=user) | Q(mailbox__owner=user)


def _shown(rows: QuerySet[_Row]) -> tuple[list[_Row], int]:
    """The first rows a list shows, and how many there are in all (counted only when the
    first ones do not already tell)."""
    first = list(rows[:SHOWN])
    return first, len(first) if len(first) < SHOWN else rows.count()


def for_user(user: User) -> Dashboard:
    now = clock.now()
    week_ago = now - REPLIES_SINCE
    day_start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = Enrollment.objects.filter(organization_id=user.team_id).filter(_mine(user))

    tasks = (
        selectors.open_tasks(user)
        .filter(due_at__lte=now)
        .select_related("enrollment__prospect", "stage")
        .order_by("due_at")
    )
    due_tasks, due_task_count = _shown(tasks)

    replies = selectors.replies_for(user).filter(sent_at__gte=week_ago)
    recent, reply_count = _shown(replies)

    causes = dict(Enrollment.PauseCause.choices)
    paused = [
        PausedGroup(row["pause_cause"], causes.get(row["pause_cause"], "Paused"), row["n"], "")
        for row in mine.filter(status=Enrollment.Status.PAUSED)
        .values("pause_cause")
        .annotate(n=Count("pk"))
        .order_by("-n")
    ]
    if paused:
        # One reason per cause, as the enrollments themselves say it.
        reasons = dict(
            mine.filter(status=Enrollment.Status.PAUSED)
            .order_by("pause_cause", "-last_event_at")
            .distinct("pause_cause")
            .values_list("pause_cause", "status_reason")
        )
        paused = [PausedGroup(g.cause, g.label, g.count, reasons.get(g.cause, "")) for g in paused]

    failed_rows = (
        mine.filter(status=Enrollment.Status.FAILED, last_event_at__gte=week_ago)
        .exclude(sequence__in=selectors.hidden_sequence_ids(user))
        .select_related("prospect", "sequence")
        .order_by("-last_event_at")
    )
    failed, failed_count = _shown(failed_rows)

    sent = Message.objects.filter(
        organization_id=user.team_id,
        direction=Message.Direction.OUTBOUND,
        status=Message.Status.SENT,
        sent_by=user,
    )
    week = sent.filter(sent_at__gte=week_ago).aggregate(
        today=Count("pk", filter=Q(sent_at__gte=day_start)),
        prospects=Count("prospect", distinct=True),
    )
    scheduled = mine.filter(
        status=Enrollment.Status.ACTIVE,
        current_stage__kind=Stage.Kind.EMAIL,
        next_action_at__lte=now + timedelta(days=1),
    ).count()
    replied_this_week = (
        replies.filter(enrollment__enrolled_by=user)
        .order_by()
        .values("prospect")
        .distinct()
        .count()
    )

    running = Enrollment.objects.filter(status=Enrollment.Status.ACTIVE, sequence__owner=user)
    sequences = list(
        selectors.sequence_rows(
            selectors.visible_sequences(user).filter(
                owner=user, kind=Sequence.Kind.SEQUENCE, pk__in=running.values("sequence_id")
            )
        )[:SHOWN]
    )
    organization = Prospect.objects.filter(organization_id=user.team_id)
    first_steps = FirstSteps(
        connected=Mailbox.objects.filter(owner=user, status=Mailbox.Status.CONNECTED).exists(),
        has_prospects=organization.exists(),
        has_sequence=bool(sequences)
        or Sequence.objects.filter(owner=user, kind=Sequence.Kind.SEQUENCE).exists(),
        has_enrolled=bool(sequences) or Enrollment.objects.filter(enrolled_by=user).exists(),
    )
    return Dashboard(
        due_tasks=due_tasks,
        due_task_count=due_task_count,
        replies=[
            Reply(m, "" if m.hidden or m.enrollment is None else m.enrollment.sequence.name)
            for m in recent
        ],
        reply_count=reply_count,
        paused=paused,
        mailboxes_to_reconnect=list(
            Mailbox.objects.filter(owner=user).exclude(status=Mailbox.Status.CONNECTED)
        ),
        failed=failed,
        failed_count=failed_count,
        sent_today=week["today"],
        scheduled_next_day=scheduled,
        emailed_this_week=week["prospects"],
        replied_this_week=replied_this_week,
        sequences=sequences,
        first_steps=first_steps,
    )
