"""Tags on prospects: added to or removed from a selection or every prospect a filter matches,
in a few queries whatever their number."""

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet

from outreach import permissions
from outreach.models import User
from outreach.permissions import Access

from ..models import Prospect, Tag

Tagging = Prospect.tags.through
BATCH = 5000


@dataclass(frozen=True)
class TagChange:
    tag: Tag
    changed: int


def _tag_named(by: User, name: str, *, create: bool) -> Tag | None:
    name = " ".join(name.split())
    longest = Tag._meta.get_field("name").max_length
    assert longest is not None
    if not name:
        raise ValidationError("Name the tag.")
    if len(name) > longest or "\x00" in name:
        raise ValidationError(f"A tag is at most {longest} characters, without null characters.")
    found = Tag.objects.filter(organization_id=by.team_id, name__iexact=name).first()
    if found is None and create:
        found = Tag.objects.create(organization_id=by.team_id, name=name)
    return found


@transaction.atomic
def add_tag(*, by: User, prospects: QuerySet[Prospect], name: str) -> TagChange:
    """Tags `prospects` (of `by`'s team) with `name`, creating the tag on first use; returns
    how many were not tagged with it yet."""
    permissions.require(by, Access.RECRUITER)
    tag = _tag_named(by, name, create=True)
    assert tag is not None
    ids = list(
        prospects.filter(organization_id=by.team_id)
        .exclude(tags=tag)
        .order_by()
        .values_list("pk", flat=True)
    )
    Tagging.objects.bulk_create(
        [Tagging(prospect_id=pk, tag_id=tag.pk) for pk in ids],
        batch_size=BATCH,
        ignore_conflicts=True,
    )
    return TagChange(tag, len(ids))


@transaction.atomic
def remove_tag(*, by: User, prospects: QuerySet[Prospect], name: str) -> TagChange | None:
    """Takes the tag `name` off `prospects`; None if the team has no such tag."""
    permissions.require(by, Access.RECRUITER)
    tag = _tag_named(by, name, create=False)
    if tag is None:
        return None
    removed, _ = Tagging.objects.filter(
        tag=tag, prospect__in=prospects.filter(organization_id=by.team_id).order_by()
    ).delete()
    return TagChange(tag, removed)
