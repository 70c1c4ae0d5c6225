"""Writes for prospects: created or filled in once per address, do not contact, ATS flags."""

from django.core.validators import validate_email
from django.db import transaction

from outreach import permissions
from outreach.models import User
from outreach.permissions import Access

from ..models import (
    Enrollment,
    Prospect,
)
from .checks import check_timezone
from .enrollments import stop_enrollment

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
    found = Prospect.objects.filter(organization_id=by.team_id, email__iexact=email).first()
    created = found is None
    prospect = (
        Prospect(organization_id=by.team_id, email=email, created_by=by) if found is None else found
    )
    for name, value in fields.items():
        if value:
            setattr(prospect, name, value.strip())
    prospect.custom_fields = {**prospect.custom_fields, **{k: v for k, v in custom.items() if v}}
    # Lengths against the columns (validate_email allows 320 characters, the column 254): a
    # ValidationError names the field, where the database would only fail.
    prospect.clean_fields(exclude=["organization", "created_by"])
    prospect.save()
    return prospect, created


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
