"""Reads for sequences. Who sees what:
- private: the owner and direct shares;
- shared: the whole organization;
- confidential: the owner, direct shares and admins, and its enrollments and messages show
  nowhere else (prospect page, search, stats, notifications) to anyone else.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    ExpressionWrapper,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.functions import Coalesce

from outreach import clock, permissions
from outreach.models import User
from outreach.tenancy import scope_to_user
from senders import mail
from senders import services as senders
from senders.models import Mailbox

from . import classifier
from .models import (
    Enrollment,
    ImportJob,
    ImportRowError,
    Message,
    Prospect,
    Sequence,
    SequenceShare,
    Stage,
    Task,
    Visibility,
)


def _sees_all(user: User) -> bool:
    return user.is_org_admin


def visible_sequences(user: User) -> QuerySet[Sequence]:
    """Sequences proper: one-off emails have their own pages (`one_off_emails`)."""
    sequences = scope_to_user(Sequence, user).filter(kind=Sequence.Kind.SEQUENCE)
    if not permissions.allows(user, permissions.Access.RECRUITER):
        return sequences.none()  # a sender-only teammate lends an inbox, sees no sequence
    if _sees_all(user):
        return sequences
    shared_with_user = SequenceShare.objects.filter(user=user).values("sequence_id")
    return sequences.filter(
        Q(owner=user) | Q(pk__in=shared_with_user) | Q(visibility=Visibility.SHARED)
    )


class SequencePk(TypedDict):
    """A row of `.values("pk")` of sequences."""

    pk: int


def hidden_sequence_ids(user: User) -> QuerySet[Sequence, SequencePk]:
    """Confidential sequences `user` may not see: a subquery for excluding their traces. A
    sender-only teammate, who lends an inbox and nothing more, sees none of the team's."""
    if _sees_all(user):
        return Sequence.objects.none().values("pk")
    if not permissions.allows(user, permissions.Access.RECRUITER):
        return scope_to_user(Sequence, user).values("pk")
    shared_with_user = SequenceShare.objects.filter(user=user).values("sequence_id")
    return (
        scope_to_user(Sequence, user)
        .filter(visibility=Visibility.CONFIDENTIAL)
        .exclude(owner=user)
        .exclude(pk__in=shared_with_user)
        .values("pk")
    )


def hidden_from(user: User, sequence_field: str = "sequence") -> ExpressionWrapper:
    """An annotation, True on a row whose sequence (reached through `sequence_field`) is a
    confidential one `user` may not see: for a warning that must mention such a row without
    naming what it belongs to."""
    return ExpressionWrapper(
        Q(**{f"{sequence_field}__in": hidden_sequence_ids(user)}), output_field=BooleanField()
    )


def sees_traces_of(user: User, sequence: Sequence) -> bool:
    """May `user` be told of what `sequence` did under its name (its enrollments, emails and
    replies)? The rule of `hidden_sequence_ids`, for one sequence."""
    return not hidden_sequence_ids(user).filter(pk=sequence.pk).exists()


def can_edit(user: User, sequence: Sequence) -> bool:
    if sequence.organization_id != user.organization_id:
        return False
    if not permissions.allows(user, permissions.Access.RECRUITER):
        return False
    return (
        _sees_all(user)
        or sequence.owner_id == user.pk
        or sequence.shares.filter(user=user, can_edit=True).exists()
    )


def _count(model: type[Stage | Enrollment], **filters: object) -> Coalesce:
    rows = model.objects.filter(sequence=OuterRef("pk"), **filters).order_by()
    counted = rows.values("sequence").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def sequence_rows(
    queryset: QuerySet[Sequence], *, archived: bool = False, search: str = ""
) -> QuerySet[Sequence]:
    """Rows of a sequence list with what each shows; one query whatever their number."""
    queryset = queryset.filter(archived_at__isnull=not archived)
    if search:
        queryset = queryset.filter(name__icontains=search)
    return (
        queryset.select_related("owner", "sender_mailbox", "sender_alias")
        .annotate(
            stage_count=_count(Stage),
            active_count=_count(Enrollment, status=Enrollment.Status.ACTIVE),
            replied_count=_count(Enrollment, status=Enrollment.Status.REPLIED),
            finished_count=_count(Enrollment, status=Enrollment.Status.FINISHED),
        )
        .order_by("name", "pk")
    )


class SequenceLists(TypedDict):
    """The sequence list page's lists: the user's own, those shared with them, and for an admin
    all the team's."""

    yours: QuerySet[Sequence]
    shared: QuerySet[Sequence]
    all: NotRequired[QuerySet[Sequence]]


def sequence_lists(user: User, *, archived: bool = False, search: str = "") -> SequenceLists:
    visible = visible_sequences(user)
    lists: SequenceLists = {
        "yours": sequence_rows(visible.filter(owner=user), archived=archived, search=search),
        "shared": sequence_rows(visible.exclude(owner=user), archived=archived, search=search),
    }
    if _sees_all(user):
        lists["all"] = sequence_rows(visible, archived=archived, search=search)
    return lists


def enrollment_rows(sequence: Sequence, *, status: str = "") -> QuerySet[Enrollment]:
    enrollments = sequence.enrollments.select_related(
        "prospect", "mailbox", "alias", "current_stage", "enrolled_by"
    ).order_by("-created_at", "-pk")
    if status:
        enrollments = enrollments.filter(status=status)
    return enrollments


def visible_enrollments(user: User) -> QuerySet[Enrollment]:
    return scope_to_user(Enrollment, user).exclude(sequence_id__in=hidden_sequence_ids(user))


def visible_messages(user: User) -> QuerySet[Message]:
    hidden = hidden_sequence_ids(user)
    return scope_to_user(Message, user).exclude(enrollment__sequence_id__in=hidden)


def prospect_rows(user: User, *, search: str = "") -> QuerySet[Prospect]:
    prospects = scope_to_user(Prospect, user)
    if search:
        # Search never surfaces what a confidential sequence wrote: it looks at the prospect's
        # own fields only.
        prospects = prospects.filter(
            Q(email__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(company__icontains=search)
        )
    return prospects.order_by("email")


class ProspectHistory(TypedDict):
    enrollments: QuerySet[Enrollment]
    scheduled_emails: QuerySet[Enrollment]
    emails: QuerySet[Message]


# The first rows not imported that an import's page lists; all of them download as a CSV.
IMPORT_ERRORS_SHOWN = 100


def import_errors_shown(job: ImportJob) -> list[ImportRowError]:
    return list(job.row_errors.order_by("row")[:IMPORT_ERRORS_SHOWN])


def imports_under_way(user: User) -> list[ImportJob]:
    """The user's imports a worker has yet to finish, for the prospects page to link to."""
    return list(
        ImportJob.objects.filter(
            created_by=user, status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING]
        ).defer("content")[:10]
    )


def prospect_history(user: User, prospect: Prospect) -> ProspectHistory:
    """The prospect's sequences, the one-off emails waiting to go, and every message to and
    from them, newest first."""
    enrollments = (
        visible_enrollments(user)
        .filter(prospect=prospect)
        .select_related("sequence", "mailbox", "current_stage", "enrolled_by")
        .order_by("-created_at")
    )
    return {
        "enrollments": enrollments.filter(sequence__kind=Sequence.Kind.SEQUENCE),
        "scheduled_emails": enrollments.filter(
            sequence__kind=Sequence.Kind.ONE_OFF, status__in=Enrollment.OPEN
        ),
        "emails": visible_messages(user)
        .filter(prospect=prospect)
        .select_related("mailbox__owner", "sent_by", "stage", "enrollment__sequence")
        .order_by("-created_at"),
    }


# One-off emails ----------------------------------------------------------------------------------


def one_off_emails(user: User) -> QuerySet[Sequence]:
    """The one-off emails `user` wrote; an admin sees the whole team's."""
    emails = scope_to_user(Sequence, user).filter(kind=Sequence.Kind.ONE_OFF)
    return emails if _sees_all(user) else emails.filter(owner=user)


@dataclass(frozen=True)
class Recipient:
    """Where the email to one prospect stands: queued, sending, sent, failed or cancelled."""

    enrollment: Enrollment
    state: str
    label: str
    at: datetime | None
    reason: str = ""

    @property
    def cancellable(self) -> bool:
        return self.state == "queued"

    @property
    def due(self) -> bool:
        """Queued and not on hold: `at` is when it goes out (on hold, when it was held)."""
        return (
            self.state == "queued"
            and self.enrollment.status == Enrollment.Status.ACTIVE
            and self.at is not None
        )


_STATES: dict[str, tuple[str, str]] = {
    Enrollment.Status.FINISHED: ("sent", "Sent"),
    Enrollment.Status.REPLIED: ("sent", "Replied"),
    Enrollment.Status.BOUNCED: ("failed", "Bounced"),
    Enrollment.Status.FAILED: ("failed", "Not sent"),
    Enrollment.Status.UNSUBSCRIBED: ("failed", "Not sent"),
    Enrollment.Status.STOPPED: ("cancelled", "Not sent"),
    Enrollment.Status.PAUSED: ("queued", "On hold"),
}


def one_off_recipients(email: Sequence) -> list[Recipient]:
    """Each prospect of a one-off email and where their email stands, in one query."""
    outbound = Message.objects.filter(
        enrollment=OuterRef("pk"), direction=Message.Direction.OUTBOUND
    )
    rows = (
        email.enrollments.select_related("prospect")
        .annotate(
            sent_at=Subquery(outbound.filter(status=Message.Status.SENT).values("sent_at")[:1]),
            handed_to_gmail=Exists(outbound.filter(status=Message.Status.SENDING)),
        )
        .order_by("prospect__email")
    )
    recipients = []
    for row in rows:
        if row.status == Enrollment.Status.ACTIVE:
            state, label = ("sending", "Sending") if row.handed_to_gmail else ("queued", "Queued")
            at = row.next_action_at
            # Why it waits, once it waited: the cap, a retry after a Gmail error.
            reason = "" if row.last_event in ("", "Queued") else row.last_event
        else:
            state, label = _STATES[row.status]
            at = row.sent_at or row.last_event_at
            reason = "" if state == "sent" else row.status_reason
        recipients.append(Recipient(row, state, label, at, reason))
    return recipients


def one_off_on_its_way(recipients: list[Recipient]) -> bool:
    """Is something going out about now (worth refreshing the page for)?"""
    soon = clock.now() + timedelta(minutes=1)
    return any(
        # A due one has its `at`; one on hold waits for a person.
        r.state == "sending" or (r.due and r.at is not None and r.at <= soon)
        for r in recipients
    )


def one_off_email_rows(user: User) -> QuerySet[Sequence]:
    """The one-off emails `user` sees, newest first, with where their prospects stand."""
    statuses = {
        "waiting": Enrollment.OPEN,
        "sent": (Enrollment.Status.FINISHED, Enrollment.Status.REPLIED),
        "failed": (
            Enrollment.Status.FAILED,
            Enrollment.Status.BOUNCED,
            Enrollment.Status.UNSUBSCRIBED,
        ),
        "cancelled": (Enrollment.Status.STOPPED,),
    }
    return (
        one_off_emails(user)
        .select_related("owner", "sender_mailbox")
        .annotate(
            recipients=Count("enrollments"),
            first_send=Min("enrollments__next_action_at"),
            **{
                name: Count("enrollments", filter=Q(enrollments__status__in=values))
                for name, values in statuses.items()
            },
        )
        .order_by("-created_at", "-pk")
    )


def one_off_progress(recipients: list[Recipient]) -> dict[str, int]:
    counts = dict.fromkeys(("queued", "sending", "sent", "failed", "cancelled"), 0)
    for recipient in recipients:
        counts[recipient.state] += 1
    return counts


def open_tasks(user: User) -> QuerySet[Task]:
    return (
        Task.objects.filter(assignee=user, status=Task.Status.OPEN)
        .select_related(
            "stage",
            "enrollment__prospect",
            "enrollment__sequence",
            "enrollment__mailbox__owner",
            "enrollment__alias",
        )
        .order_by("due_at")
    )


def sequence_tasks(sequence: Sequence) -> QuerySet[Task]:
    return (
        Task.objects.filter(enrollment__sequence=sequence, status=Task.Status.OPEN)
        .select_related("stage", "assignee", "enrollment__prospect")
        .order_by("due_at")
    )


def open_task_count(user: User) -> int:
    return Task.objects.filter(assignee=user, status=Task.Status.OPEN).count()


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str
    message: Message | None = None


def messages_for_ats(ids: Iterable[int]) -> dict[int, Message]:
    """The messages to write to the ATS, with what is written about them: the prospect, the
    inbox and its owner, who sent it, and the sequence's visibility."""
    return Message.objects.select_related(
        "prospect", "mailbox__owner", "sent_by", "enrollment__sequence"
    ).in_bulk(ids)


def conversation_text(message: Message) -> str:
    """The text of a message as the conversation shows it: ours as rendered; an answer as its
    writer wrote it (read from Gmail: we keep only its snippet), or the snippet if Gmail cannot
    be read now."""
    if message.direction == Message.Direction.OUTBOUND or not message.gmail_message_id:
        return message.body_text
    try:
        raw = senders.client_for(message.mailbox).raw(message.gmail_message_id)
    except mail.MailError:
        return message.body_text
    return classifier.own_text(raw) or message.body_text


def messages_stored_since(organization_id: int, since: datetime) -> list[Message]:
    """The team's messages stored since then, with their prospects."""
    return list(
        Message.objects.filter(organization_id=organization_id, created_at__gte=since)
        .exclude(direction=Message.Direction.OUTBOUND, status=Message.Status.SENDING)
        .select_related("prospect")
    )


def thread_messages(mailbox_id: int, gmail_thread_id: str) -> list[Message]:
    """What we hold of one Gmail thread of a mailbox, oldest first."""
    return list(
        Message.objects.filter(mailbox_id=mailbox_id, gmail_thread_id=gmail_thread_id).order_by(
            "created_at"
        )
    )


def timeline(enrollment: Enrollment) -> list[TimelineEntry]:
    """Events (queued, retried, paused, failed, why) and the emails themselves, in order."""
    entries = [
        TimelineEntry(e.at, e.text, e.message)
        for e in enrollment.events.select_related("message__mailbox")
    ]
    for message in enrollment.messages.select_related("mailbox", "stage"):
        if message.direction == Message.Direction.OUTBOUND:
            stage = f"Stage {message.stage.position + 1}" if message.stage else "Email"
            text = f"{stage} {message.get_status_display().lower()}: {message.subject}"
            if message.error:
                text += f" ({message.error})"
        else:
            kind = message.get_inbound_kind_display()
            text = f"{kind} from {message.from_address}: {message.subject}"
        entries.append(TimelineEntry(message.sent_at or message.created_at, text, message))
    return sorted(entries, key=lambda entry: entry.at)


class OutboxBox(TypedDict):
    """One inbox of the outbox: its cap, what the last 24 hours used of it, what is due."""

    mailbox: Mailbox
    used: int
    cap: int
    scheduled: list[Enrollment]


def outbox(user: User, *, hours: int = 24) -> list[OutboxBox]:
    """For each inbox `user` may send from: what is scheduled in the next `hours`, and how much
    of its daily cap the last 24 hours used. A fixed number of queries."""
    from senders.selectors import sendable_mailboxes

    now = clock.now()
    mailboxes = list(sendable_mailboxes(user).select_related("owner"))
    used = dict(
        Message.objects.filter(
            mailbox__in=mailboxes,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
            created_at__gte=now - timedelta(hours=24),
        )
        .values_list("mailbox")
        .annotate(n=Count("pk"))
        .values_list("mailbox", "n")
    )
    scheduled: dict[int, list[Enrollment]] = {m.pk: [] for m in mailboxes}
    hidden = hidden_sequence_ids(user)
    for enrollment in (
        Enrollment.objects.filter(
            mailbox__in=mailboxes,
            status=Enrollment.Status.ACTIVE,
            current_stage__kind=Stage.Kind.EMAIL,
            next_action_at__lte=now + timedelta(hours=hours),
        )
        .exclude(sequence_id__in=hidden)
        .select_related("prospect", "sequence", "current_stage")
        .order_by("next_action_at")
    ):
        scheduled[enrollment.mailbox_id].append(enrollment)
    return [
        {
            "mailbox": m,
            "used": used.get(m.pk, 0),
            "cap": m.daily_send_cap,
            "scheduled": scheduled[m.pk],
        }
        for m in mailboxes
    ]


if TYPE_CHECKING:

    class ReplyRow(Message):
        """A reply as replies_for loads it."""

        hidden: bool

else:
    ReplyRow = Message


def replies_for(user: User) -> "QuerySet[ReplyRow]":
    """Replies to what `user` sent (or was sent on their behalf: they enrolled it) and, for an
    inbox's owner, every reply that came into their inbox from the team's sequences, newest
    first; `hidden` is True where the sequence is one they may not see (shown, never named)."""
    rows = (
        Message.objects.filter(
            organization_id=user.team_id,
            direction=Message.Direction.INBOUND,
            inbound_kind=Message.InboundKind.REPLY,
        )
        .filter(Q(enrollment__enrolled_by=user) | Q(mailbox__owner=user))
        .annotate(hidden=hidden_from(user, "enrollment__sequence"))
        .select_related("prospect", "mailbox", "enrollment__sequence", "enrollment__enrolled_by")
        .order_by("-sent_at", "-pk")
    )
    return cast("QuerySet[ReplyRow]", rows)


def waiting_for_a_sender(user: User) -> QuerySet[Enrollment]:
    """Paused enrollments that wait for a sender (a revoked delegation, an inbox to reconnect
    or gone, a teammate who left): the user's own, and for an admin the team's."""
    rows = visible_enrollments(user).filter(
        status=Enrollment.Status.PAUSED, pause_cause__in=Enrollment.SENDER_CAUSES
    )
    if not user.is_org_admin:
        rows = rows.filter(enrolled_by=user)
    return rows.select_related("prospect", "sequence", "mailbox", "enrolled_by").order_by(
        "sequence__name", "prospect__email"
    )
