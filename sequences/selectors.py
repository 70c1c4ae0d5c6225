"""Reads for sequences. Who sees what:
- private: the owner and direct shares;
- shared: the whole organization;
- confidential: the owner, direct shares and admins, and its enrollments and messages show
  nowhere else (prospect page, search, stats, notifications) to anyone else.
"""

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from outreach.models import User
from outreach.tenancy import scope_to_user

from .models import Enrollment, Message, Prospect, Sequence, SequenceShare, Stage, Task, Visibility


def _sees_all(user: User) -> bool:
    return user.is_org_admin


def visible_sequences(user: User) -> QuerySet[Sequence]:
    sequences = scope_to_user(Sequence, user)
    if _sees_all(user):
        return sequences
    shared_with_user = SequenceShare.objects.filter(user=user).values("sequence_id")
    return sequences.filter(
        Q(owner=user) | Q(pk__in=shared_with_user) | Q(visibility=Visibility.SHARED)
    )


def hidden_sequence_ids(user: User):
    """Confidential sequences `user` may not see: a subquery for excluding their traces."""
    if _sees_all(user):
        return Sequence.objects.none().values("pk")
    shared_with_user = SequenceShare.objects.filter(user=user).values("sequence_id")
    return (
        scope_to_user(Sequence, user)
        .filter(visibility=Visibility.CONFIDENTIAL)
        .exclude(owner=user)
        .exclude(pk__in=shared_with_user)
        .values("pk")
    )


def can_edit(user: User, sequence: Sequence) -> bool:
    if sequence.organization_id != user.organization_id:
        return False
    return (
        _sees_all(user)
        or sequence.owner_id == user.pk
        or sequence.shares.filter(user=user, can_edit=True).exists()
    )


def _count(model, **filters):
    rows = model.objects.filter(sequence=OuterRef("pk"), **filters).order_by()
    counted = rows.values("sequence").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def sequence_rows(queryset: QuerySet[Sequence], *, archived: bool = False, search: str = ""):
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


def sequence_lists(user: User, *, archived: bool = False, search: str = "") -> dict:
    visible = visible_sequences(user)
    lists = {
        "yours": sequence_rows(visible.filter(owner=user), archived=archived, search=search),
        "shared": sequence_rows(visible.exclude(owner=user), archived=archived, search=search),
    }
    if _sees_all(user):
        lists["all"] = sequence_rows(visible, archived=archived, search=search)
    return lists


def enrollment_rows(sequence: Sequence, *, status: str = ""):
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


def prospect_rows(user: User, *, search: str = ""):
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


def prospect_history(user: User, prospect: Prospect) -> dict:
    return {
        "enrollments": visible_enrollments(user)
        .filter(prospect=prospect)
        .select_related("sequence", "mailbox", "current_stage", "enrolled_by")
        .order_by("-created_at"),
        "emails": visible_messages(user)
        .filter(prospect=prospect)
        .select_related("mailbox", "stage")
        .order_by("-created_at"),
    }


def open_tasks(user: User):
    return (
        Task.objects.filter(assignee=user, status=Task.Status.OPEN)
        .select_related("stage", "enrollment__prospect", "enrollment__sequence")
        .order_by("due_at")
    )


def sequence_tasks(sequence: Sequence):
    return (
        Task.objects.filter(enrollment__sequence=sequence, status=Task.Status.OPEN)
        .select_related("stage", "assignee", "enrollment__prospect")
        .order_by("due_at")
    )


def open_task_count(user: User) -> int:
    return Task.objects.filter(assignee=user, status=Task.Status.OPEN).count()
