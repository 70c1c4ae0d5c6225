"""Reads for sequences. Who sees what:
- private: the owner and direct shares;
- shared: the whole organization;
- confidential: the owner, direct shares and admins, and its enrollments and messages show
  nowhere else (prospect page, search, stats, notifications) to anyone else.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, NotRequired, TypedDict, TypeVar, cast

from django.db.models import (
    BooleanField,
    CharField,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce
from django.utils import timezone as dj_timezone

from outreach import clock, permissions
from outreach.models import User
from outreach.tenancy import scope_to_user
from senders import mail
from senders import services as senders
from senders.models import Mailbox

from . import classifier
from .dnc_match import listed_expression
from .models import (
    EmailTemplate,
    EnrollJob,
    Enrollment,
    EnrollmentCount,
    ImportJob,
    ImportRowError,
    LibraryVisibility,
    Message,
    Prospect,
    Sequence,
    SequenceShare,
    Snippet,
    Stage,
    Tag,
    Task,
    Visibility,
)
from .prospect_filter import ProspectFilter


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


def _stage_count() -> Coalesce:
    rows = Stage.objects.filter(sequence=OuterRef("pk")).order_by()
    counted = rows.values("sequence").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _enrollment_count(*statuses: str) -> Coalesce:
    """A sequence's enrollments in those statuses (any, without), summed from its maintained
    counts: a few rows whatever its size."""
    rows = EnrollmentCount.objects.filter(sequence=OuterRef("pk")).order_by()
    if statuses:
        rows = rows.filter(status__in=statuses)
    summed = rows.values("sequence").annotate(n=Sum("n")).values("n")
    return Coalesce(Subquery(summed, output_field=IntegerField()), 0)


# A list longer than this is searched, not read: the page stays the same size for any team.
SEQUENCE_LIST_LIMIT = 100


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
            stage_count=_stage_count(),
            active_count=_enrollment_count(Enrollment.Status.ACTIVE),
            replied_count=_enrollment_count(Enrollment.Status.REPLIED),
            finished_count=_enrollment_count(Enrollment.Status.FINISHED),
        )
        .order_by("name", "pk")
    )


class SequenceLists(TypedDict):
    """The sequence list page's lists: the user's own, those shared with them, and for an admin
    all the team's; each its first SEQUENCE_LIST_LIMIT by name, and one more to tell there are
    others."""

    yours: list[Sequence]
    shared: list[Sequence]
    all: NotRequired[list[Sequence]]


def sequence_lists(user: User, *, archived: bool = False, search: str = "") -> SequenceLists:
    visible = visible_sequences(user)

    def first(rows: QuerySet[Sequence]) -> list[Sequence]:
        return list(
            sequence_rows(rows, archived=archived, search=search)[: SEQUENCE_LIST_LIMIT + 1]
        )

    lists: SequenceLists = {
        "yours": first(visible.filter(owner=user)),
        "shared": first(visible.exclude(owner=user)),
    }
    if _sees_all(user):
        lists["all"] = first(visible)
    return lists


@dataclass(frozen=True)
class EnrollmentCounts:
    """A sequence's enrollments counted by status and by stage (None: at no stage), from its
    maintained counts: a few rows whatever the sequence's size."""

    cells: dict[tuple[int | None, str], int]

    @property
    def total(self) -> int:
        return sum(self.cells.values())

    def by_status(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for (_, status), n in self.cells.items():
            counts[status] = counts.get(status, 0) + n
        return counts

    def by_stage(self) -> dict[int | None, int]:
        counts: dict[int | None, int] = {}
        for (stage, _), n in self.cells.items():
            counts[stage] = counts.get(stage, 0) + n
        return counts

    def matching(self, *, status: str = "", stage: int | None = None) -> int:
        return sum(
            n
            for (at, of), n in self.cells.items()
            if (not status or of == status) and (stage is None or at == stage)
        )


def enrollment_counts(sequence: Sequence) -> EnrollmentCounts:
    rows = EnrollmentCount.objects.filter(
        organization_id=sequence.organization_id, sequence=sequence
    ).values_list("stage_id", "status", "n")
    return EnrollmentCounts({(stage, status): n for stage, status, n in rows})


def enrollment_rows(
    sequence: Sequence, *, status: str = "", stage: int | None = None
) -> QuerySet[Enrollment]:
    """A sequence's enrollments, by status and by stage if asked, unordered: keyset_page orders
    them newest first, off the indexes enrollment_sequence_newest, _status_newest and
    _stage_newest."""
    enrollments = with_flags(
        sequence.enrollments.select_related(
            "prospect", "mailbox", "alias", "current_stage", "enrolled_by"
        ),
        "prospect_id",
    )
    if status:
        enrollments = enrollments.filter(status=status)
    if stage is not None:
        enrollments = enrollments.filter(current_stage_id=stage)
    return enrollments


def visible_enrollments(user: User) -> QuerySet[Enrollment]:
    return scope_to_user(Enrollment, user).exclude(sequence_id__in=hidden_sequence_ids(user))


def visible_messages(user: User) -> QuerySet[Message]:
    hidden = hidden_sequence_ids(user)
    return scope_to_user(Message, user).exclude(enrollment__sequence_id__in=hidden)


class SearchText(Func):
    """A prospect's email, names and company in capitals, as one text: the expression the
    trigram index of migration 0007 holds, so that a search reads one index (four indexes
    OR-ed together lost to a scan of the table at 100,000 prospects)."""

    template = "UPPER(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = CharField()

    def __init__(self) -> None:
        super().__init__(F("email"), F("first_name"), F("last_name"), F("company"))


def _search(prospects: QuerySet[Prospect], search: str) -> QuerySet[Prospect]:
    """Name, email or company containing `search` in any case. Search never surfaces what a
    confidential sequence wrote: it looks at the prospect's own fields only."""
    if not search:
        return prospects
    return prospects.alias(search_text=SearchText()).filter(search_text__contains=search.upper())


def prospect_rows(user: User, *, search: str = "") -> QuerySet[Prospect]:
    return _search(scope_to_user(Prospect, user), search).order_by("email")


def _start_of(day: date) -> datetime:
    # A day the recruiter typed starts at midnight where the team works, not at midnight UTC.
    return datetime.combine(day, time.min, tzinfo=dj_timezone.get_current_timezone())


def _contacted(since: datetime | None = None) -> Exists:
    """An outbound email sent to the outer prospect (since then, if given)."""
    sent = Message.objects.filter(
        prospect=OuterRef("pk"), direction=Message.Direction.OUTBOUND, status=Message.Status.SENT
    )
    return Exists(sent.filter(sent_at__gte=since) if since is not None else sent)


def matching_prospects(user: User, f: ProspectFilter) -> QuerySet[Prospect]:
    """The prospects of `user`'s team that the filter matches, in the list's order: the one
    query behind the list, its count, "all N matching" and the export. Statuses and replies of
    confidential sequences `user` may not see do not count."""
    prospects = _search(scope_to_user(Prospect, user), f.search)
    enrollments = Enrollment.objects.filter(
        prospect=OuterRef("pk"), sequence__kind=Sequence.Kind.SEQUENCE
    ).exclude(sequence_id__in=hidden_sequence_ids(user))
    if f.status == "none":
        prospects = prospects.exclude(Exists(enrollments))
    elif f.status:
        prospects = prospects.filter(Exists(enrollments.filter(status=f.status)))
    if f.owner_id:
        prospects = prospects.filter(created_by_id=f.owner_id)
    if f.tag_ids:
        tagged = Prospect.tags.through.objects.filter(
            prospect_id=OuterRef("pk"), tag_id__in=f.tag_ids
        )
        prospects = prospects.filter(Exists(tagged))
    if f.company:
        prospects = prospects.filter(company__icontains=f.company)
    if f.title:
        prospects = prospects.filter(title__icontains=f.title)
    after = _start_of(f.contacted_after) if f.contacted_after else None
    if f.contacted_within_days:
        within = _start_of((clock.now() - timedelta(days=f.contacted_within_days)).date())
        after = max(after, within) if after else within
    if after:
        prospects = prospects.filter(_contacted(after))
    if f.contacted_before:
        # Last contacted before that day: contacted, and not since.
        prospects = prospects.filter(_contacted()).exclude(
            _contacted(_start_of(f.contacted_before))
        )
    if f.replied is not None:
        replies = Message.objects.filter(
            prospect=OuterRef("pk"),
            direction=Message.Direction.INBOUND,
            inbound_kind=Message.InboundKind.REPLY,
        ).exclude(enrollment__sequence_id__in=hidden_sequence_ids(user))
        prospects = prospects.filter(Exists(replies) if f.replied else ~Exists(replies))
    if f.bounced is not None:
        prospects = prospects.filter(bounced_at__isnull=not f.bounced)
    if f.do_not_contact is not None:
        blocked = Q(do_not_contact=True) | Q(
            listed_expression(organization="organization_id", email="email")
        )
        prospects = prospects.filter(blocked if f.do_not_contact else ~blocked)
    return prospects.order_by("email")


def with_flags(rows: QuerySet, prospect_id: str = "") -> QuerySet:
    """Rows (prospects, or rows whose `prospect_id` field names one, such as enrollments and
    messages) with what `_prospect_flags.html` shows: unsubscribed, and on the team's
    do-not-contact list. Subqueries of the same query that join nothing to it, so that the
    count of a paginated list stays a count of its own table; bounced and marked do not contact
    are the prospect's own columns."""
    listed = listed_expression(organization="organization_id", email="email")
    if prospect_id:
        listed = Subquery(
            Prospect.objects.filter(pk=OuterRef(prospect_id)).annotate(l=listed).values("l")[:1],
            output_field=BooleanField(),
        )
    return rows.annotate(
        prospect_unsubscribed=Exists(
            Enrollment.objects.filter(
                prospect_id=OuterRef(prospect_id or "pk"), status=Enrollment.Status.UNSUBSCRIBED
            )
        ),
        prospect_listed=listed,
    )


if TYPE_CHECKING:

    class FlaggedProspect(Prospect):
        """A prospect as prospect_list_rows loads it."""

        prospect_unsubscribed: bool
        prospect_listed: bool

else:
    FlaggedProspect = Prospect


def prospect_list_rows(prospects: QuerySet[Prospect]) -> "QuerySet[FlaggedProspect]":
    """A page of the prospect list: each row's owner, tags and flags, in two queries."""
    rows = with_flags(prospects.select_related("created_by").prefetch_related("tags"))
    return cast("QuerySet[FlaggedProspect]", rows)


def picker_rows(user: User, search: str) -> QuerySet[Prospect]:
    """The enrol picker's prospects: the search of the prospect list, with their flags."""
    return with_flags(_search(scope_to_user(Prospect, user), search).order_by("email"))


def team_tags(user: User) -> QuerySet[Tag]:
    return scope_to_user(Tag, user).order_by("name")


def team_members(user: User) -> QuerySet[User]:
    return scope_to_user(User, user).filter(is_active=True).order_by("full_name", "email")


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
    return list(_under_way(ImportJob.objects.defer("content"), user))


def enrollments_under_way(user: User) -> list[EnrollJob]:
    """The user's enrolments of all matching a worker has yet to finish, likewise."""
    return list(_under_way(EnrollJob.objects.select_related("sequence"), user))


_Job = TypeVar("_Job", ImportJob, EnrollJob)


def _under_way(jobs: QuerySet[_Job], user: User) -> QuerySet[_Job]:
    return jobs.filter(created_by=user, status__in=["queued", "running"])[:10]


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
    """The one-off emails `user` sees, with where their prospects stand (from the maintained
    counts), unordered: keyset_page orders them newest first, off sequence_newest."""
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
    first_send = (
        Enrollment.objects.filter(sequence=OuterRef("pk"), status__in=Enrollment.OPEN)
        .order_by("next_action_at")
        .values("next_action_at")[:1]
    )
    return (
        one_off_emails(user)
        .select_related("owner", "sender_mailbox")
        .annotate(
            recipients=_enrollment_count(),
            first_send=Subquery(first_send),
            **{name: _enrollment_count(*values) for name, values in statuses.items()},
        )
    )


def one_off_progress(recipients: list[Recipient]) -> dict[str, int]:
    counts = dict.fromkeys(("queued", "sending", "sent", "failed", "cancelled"), 0)
    for recipient in recipients:
        counts[recipient.state] += 1
    return counts


def open_tasks(user: User) -> QuerySet[Task]:
    """The user's open tasks, soonest due first (off the index task_open_due)."""
    return (
        Task.objects.filter(organization_id=user.team_id, assignee=user, status=Task.Status.OPEN)
        .select_related(
            "stage",
            "enrollment__prospect",
            "enrollment__sequence",
            "enrollment__mailbox__owner",
            "enrollment__alias",
        )
        .order_by("due_at", "pk")
    )


def sequence_tasks(sequence: Sequence) -> QuerySet[Task]:
    """A sequence's open tasks, soonest due first: by its stages, off task_open_stage."""
    return (
        Task.objects.filter(stage__sequence=sequence, status=Task.Status.OPEN)
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
    """One inbox of the outbox: its cap, and what the last 24 hours used of it."""

    mailbox: Mailbox
    used: int
    cap: int


def outbox_boxes(user: User) -> list[OutboxBox]:
    """Each inbox `user` may send from, with how much of its daily cap the last 24 hours used
    (at most a cap's worth of emails counted per inbox): two queries."""
    from senders.selectors import sendable_mailboxes

    mailboxes = list(sendable_mailboxes(user).select_related("owner"))
    used = dict(
        Message.objects.filter(
            mailbox__in=mailboxes,
            direction=Message.Direction.OUTBOUND,
            status__in=[Message.Status.SENDING, Message.Status.SENT],
            created_at__gte=clock.now() - timedelta(hours=24),
        )
        .values_list("mailbox")
        .annotate(n=Count("pk"))
        .values_list("mailbox", "n")
    )
    return [{"mailbox": m, "used": used.get(m.pk, 0), "cap": m.daily_send_cap} for m in mailboxes]


def outbox_scheduled(
    user: User, mailboxes: Iterable[Mailbox], *, hours: int = 24
) -> QuerySet[Enrollment]:
    """The emails those inboxes send in the next `hours` (or are late with), unordered:
    keyset_page orders them soonest first, off the index enrollment_inbox_due."""
    return (
        Enrollment.objects.filter(
            organization_id=user.team_id,
            mailbox__in=list(mailboxes),
            status=Enrollment.Status.ACTIVE,
            current_stage__kind=Stage.Kind.EMAIL,
            next_action_at__lte=clock.now() + timedelta(hours=hours),
        )
        .exclude(sequence_id__in=hidden_sequence_ids(user))
        .select_related("prospect", "sequence", "current_stage", "mailbox")
    )


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
    return cast("QuerySet[ReplyRow]", with_flags(rows, "prospect_id"))


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


# The library: email templates and snippets --------------------------------------------------
# Private: its owner's (and, as every sequence, the team admins'); shared: the whole team's.
# Only its owner and the team's admins change one.


def _library(model: type[EmailTemplate | Snippet], user: User) -> QuerySet:
    rows = scope_to_user(model, user)
    if not permissions.allows(user, permissions.Access.RECRUITER):
        return rows.none()
    if _sees_all(user):
        return rows
    return rows.filter(Q(owner=user) | Q(visibility=LibraryVisibility.SHARED))


def visible_templates(user: User) -> QuerySet[EmailTemplate]:
    return _library(EmailTemplate, user)


def visible_snippets(user: User) -> QuerySet[Snippet]:
    return _library(Snippet, user)


def can_change_library_item(user: User, item: EmailTemplate | Snippet) -> bool:
    return (
        item.organization_id == user.organization_id
        and permissions.allows(user, permissions.Access.RECRUITER)
        and (_sees_all(user) or item.owner_id == user.pk)
    )


def _library_search(rows: QuerySet, search: str) -> QuerySet:
    return rows.filter(name__icontains=search) if search else rows


def template_rows(user: User, *, search: str = "") -> QuerySet[EmailTemplate]:
    """The templates `user` sees, by name, each with `used`: how many stages and one-off emails
    it was loaded into (confidential sequences `user` may not see left out); one query."""
    stages = (
        Stage.objects.filter(template=OuterRef("pk"))
        .exclude(sequence_id__in=hidden_sequence_ids(user))
        .order_by()
        .values("template")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        _library_search(visible_templates(user), search)
        .select_related("owner")
        .annotate(used=Coalesce(Subquery(stages, output_field=IntegerField()), 0))
        .order_by("name", "pk")
    )


def snippet_rows(user: User, *, search: str = "") -> QuerySet[Snippet]:
    return (
        _library_search(visible_snippets(user), search)
        .select_related("owner")
        .order_by("name", "pk")
    )


@dataclass(frozen=True)
class LibraryPicker:
    """What the stage editor and the compose page offer from the library."""

    templates: list[EmailTemplate]
    snippets: list[Snippet]


# A library is a few dozen entries; a menu longer than this is not read anyway.
PICKER_LIMIT = 300


def library_picker(user: User) -> LibraryPicker:
    return LibraryPicker(
        templates=list(template_rows(user)[:PICKER_LIMIT]),
        snippets=list(snippet_rows(user)[:PICKER_LIMIT]),
    )
