"""What Greenhouse does with its records, whoever asks (the API, `sandbox.control`, the UI): find
candidates and users by email, write notes, logged emails and prospects. Each write locks the
candidate's row, so concurrent writers to one candidate are serialized."""

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .models import (
    ActivityEntry,
    ActivityKind,
    GreenhouseCandidate,
    GreenhouseUser,
    Visibility,
)


def candidates_with_email(email: str) -> QuerySet[GreenhouseCandidate]:
    """Candidates having that address among theirs, whatever its case."""
    return GreenhouseCandidate.objects.filter(email_index__contains=[email.strip().lower()])


def users_with_email(email: str) -> QuerySet[GreenhouseUser]:
    """Users whose primary or secondary address this is, whatever its case."""
    wanted = email.strip().lower()
    return GreenhouseUser.objects.filter(
        Q(primary_email__iexact=wanted) | Q(other_emails__contains=[wanted])
    )


def _touch(candidate: GreenhouseCandidate) -> GreenhouseCandidate:
    """Locks the candidate for this transaction and records activity on it."""
    locked = GreenhouseCandidate.objects.select_for_update().get(pk=candidate.pk)
    locked.last_activity = locked.updated_at = timezone.now()
    locked.save(update_fields=["last_activity", "updated_at"])
    return locked


@transaction.atomic
def add_note(
    candidate: GreenhouseCandidate,
    user: GreenhouseUser,
    body: str,
    visibility: str = Visibility.PUBLIC,
    *,
    kind: str = ActivityKind.NOTE,
    subject: str = "",
    application_id: int | None = None,
) -> ActivityEntry:
    """A note (or, with `kind`, a system activity) on the candidate's activity feed."""
    return ActivityEntry.objects.create(
        candidate=_touch(candidate),
        kind=kind,
        user=user,
        subject=subject,
        body=body,
        visibility=visibility,
        application_id=application_id,
    )


@transaction.atomic
def add_email(
    candidate: GreenhouseCandidate,
    user: GreenhouseUser,
    *,
    to: str,
    from_: str,
    subject: str,
    body: str,
    cc: list[str] = (),
    visibility: str = "",
    application_id: int | None = None,
) -> ActivityEntry:
    """An email logged on the feed (Harvest records it; it never sends anything)."""
    return ActivityEntry.objects.create(
        candidate=_touch(candidate),
        kind=ActivityKind.EMAIL,
        user=user,
        to_address=to,
        from_address=from_,
        cc=list(cc),
        subject=subject,
        body=body,
        visibility=visibility,
        application_id=application_id,
    )


def create_candidate(
    *,
    first_name: str,
    last_name: str,
    emails: list[dict],
    is_prospect: bool,
    company: str = "",
    title: str = "",
    tags: list[str] = (),
    recruiter: GreenhouseUser | None = None,
) -> GreenhouseCandidate:
    return GreenhouseCandidate.objects.create(
        first_name=first_name,
        last_name=last_name,
        email_addresses=emails,
        is_prospect=is_prospect,
        company=company,
        title=title,
        tags=list(tags),
        recruiter=recruiter,
    )


def feed(candidate: GreenhouseCandidate) -> QuerySet[ActivityEntry]:
    """The candidate's activity feed, newest first."""
    return candidate.activity.select_related("user").order_by("-created_at", "-id")
