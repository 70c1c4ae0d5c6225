"""Harvest's JSON for the sandbox's records: the v1 shapes of developers.greenhouse.io/harvest.html
and the v3 ones of harvestdocs.greenhouse.io. Fields the sandbox does not model (jobs, offices,
custom fields, attachments...) are there, empty, so that clients parse the documented shape."""

from .auth import timestamp
from .models import ActivityEntry, ActivityKind, GreenhouseCandidate, GreenhouseUser

V3_NOTE_TYPES = {
    ActivityKind.NOTE: "NOTE",
    ActivityKind.EMAIL: "EMAIL",
    ActivityKind.ACTIVITY: "ACTIVITY",
}
V3_VISIBILITIES = {
    "admin_only": "admin_only_visible",
    "private": "privately_visible",
    "public": "publicly_visible",
}


# v1 -----------------------------------------------------------------------------------------


def v1_user_ref(user: GreenhouseUser | None) -> dict | None:
    if user is None:
        return None
    return {
        "id": user.pk,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": user.name,
        "employee_id": user.employee_id or None,
    }


def v1_user(user: GreenhouseUser) -> dict:
    return {
        "id": user.pk,
        "name": user.name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "primary_email_address": user.primary_email,
        "updated_at": timestamp(user.updated_at),
        "created_at": timestamp(user.created_at),
        "disabled": user.disabled,
        "site_admin": user.site_admin,
        "emails": user.emails,
        "employee_id": user.employee_id or None,
        "linked_candidate_ids": [],
        "offices": [],
        "departments": [],
    }


def _v1_application(candidate: GreenhouseCandidate) -> dict:
    return {
        "id": candidate.application_id,
        "candidate_id": candidate.pk,
        "prospect": candidate.is_prospect,
        "applied_at": timestamp(candidate.created_at),
        "rejected_at": None,
        "last_activity_at": timestamp(candidate.last_activity),
        "location": None,
        "source": None,
        "credited_to": None,
        "rejection_reason": None,
        "rejection_details": None,
        "jobs": [],
        "job_post_id": None,
        "status": "active",
        "current_stage": None,
        "answers": [],
        "prospective_office": None,
        "prospective_department": None,
        "prospect_detail": {"prospect_pool": None, "prospect_stage": None, "prospect_owner": None},
        "custom_fields": {},
        "keyed_custom_fields": {},
        "attachments": [],
    }


def v1_candidate(candidate: GreenhouseCandidate) -> dict:
    return {
        "id": candidate.pk,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "company": candidate.company or None,
        "title": candidate.title or None,
        "created_at": timestamp(candidate.created_at),
        "updated_at": timestamp(candidate.updated_at),
        "last_activity": timestamp(candidate.last_activity),
        "is_private": candidate.is_private,
        "photo_url": None,
        "attachments": [],
        "application_ids": [candidate.application_id],
        "phone_numbers": [],
        "addresses": [],
        "email_addresses": candidate.email_addresses,
        "website_addresses": [],
        "social_media_addresses": [],
        "recruiter": v1_user_ref(candidate.recruiter),
        "coordinator": None,
        "can_email": candidate.can_email,
        "tags": candidate.tags,
        "applications": [_v1_application(candidate)],
        "educations": [],
        "employments": [],
        "linked_user_ids": [],
        "custom_fields": {},
        "keyed_custom_fields": {},
    }


def v1_note(entry: ActivityEntry) -> dict:
    return {
        "id": entry.pk,
        "created_at": timestamp(entry.created_at),
        "body": entry.body,
        "user": v1_user_ref(entry.user),
        "private": entry.visibility == "private",
        # Harvest keeps this legacy misspelling next to the right one.
        "visiblity": entry.visibility,
        "visibility": entry.visibility,
    }


def v1_email(entry: ActivityEntry, *, in_feed: bool = False) -> dict:
    """An email note. The create answer gives `cc` as the list it was sent; the activity feed
    documents it as one string."""
    cc = (", ".join(entry.cc) or None) if in_feed else entry.cc
    return {
        "id": entry.pk,
        "created_at": timestamp(entry.created_at),
        "subject": entry.subject,
        "body": entry.body,
        "to": entry.to_address,
        "from": entry.from_address,
        "cc": cc,
        "user": v1_user_ref(entry.user),
    }


def v1_activity(entry: ActivityEntry) -> dict:
    return {
        "id": entry.pk,
        "created_at": timestamp(entry.created_at),
        "subject": entry.subject,
        "body": entry.body,
        "user": v1_user_ref(entry.user),
    }


def v1_activity_feed(entries) -> dict:
    feed = {"notes": [], "emails": [], "activities": []}
    for entry in entries:
        if entry.kind == ActivityKind.NOTE:
            feed["notes"].append(v1_note(entry))
        elif entry.kind == ActivityKind.EMAIL:
            feed["emails"].append(v1_email(entry, in_feed=True))
        else:
            feed["activities"].append(v1_activity(entry))
    return feed


# v3 -----------------------------------------------------------------------------------------


def v3_candidate(candidate: GreenhouseCandidate) -> dict:
    return {
        "id": candidate.pk,
        "first_name": candidate.first_name,
        "last_name": candidate.last_name,
        "preferred_name": None,
        "company": candidate.company or None,
        "title": candidate.title or None,
        "created_at": timestamp(candidate.created_at),
        "updated_at": timestamp(candidate.updated_at),
        "last_activity_at": timestamp(candidate.last_activity),
        "private": candidate.is_private,
        "can_email": candidate.can_email,
        "tags": candidate.tags,
        "linked_user_ids": [],
        "phone_numbers": [],
        "addresses": [],
        "email_addresses": candidate.email_addresses,
        "website_addresses": [],
        "social_media_addresses": [],
        "custom_fields": {},
    }


def v3_user(user: GreenhouseUser) -> dict:
    return {
        "id": user.pk,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "name": user.name,
        "job_title": None,
        "primary_email": user.primary_email or None,
        "emails": user.emails,
        "deactivated": user.disabled,
        "site_admin": user.site_admin,
        "agency_id": None,
        "employee_id": user.employee_id or None,
        "linked_candidate_ids": [],
        "office_ids": [],
        "department_ids": [],
        "interviewer_tags": [],
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
    }


def v3_note(entry: ActivityEntry) -> dict:
    is_email = entry.kind == ActivityKind.EMAIL
    return {
        "id": entry.pk,
        "candidate_id": entry.candidate_id,
        "application_id": entry.application_id,
        "user_id": entry.user_id,
        "type": V3_NOTE_TYPES[entry.kind],
        "visibility": V3_VISIBILITIES.get(entry.visibility),
        "subject": entry.subject or None,
        "body": entry.body,
        "email_from": entry.from_address if is_email else None,
        "email_to": entry.to_address if is_email else None,
        "email_cc": entry.cc if is_email else None,
        "import_hash": None,
        "created_at": timestamp(entry.created_at),
        "updated_at": timestamp(entry.created_at),
    }
