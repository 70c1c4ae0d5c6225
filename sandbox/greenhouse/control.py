"""The Python API of the sandbox's Greenhouse, re-exported by `sandbox.control`: what a test, the
demo loader or the UI sets up (users, candidates, credentials, rate limits) and reads back (a
candidate's activity feed). Users and candidates are named by email address."""

import secrets

from django.db import transaction

from . import api, records
from . import endpoints as ids
from .models import (
    DEFAULT_RATE_LIMIT,
    ActivityEntry,
    GreenhouseCandidate,
    GreenhouseUser,
    HarvestApiKey,
    HarvestOAuthClient,
    Visibility,
)

# Every endpoint for a v1 key, every scope for a v3 client, unless a test asks for fewer.
V1_PERMISSIONS = ids.V1
V3_SCOPES = tuple(sorted({spec.scope for spec in api.ENDPOINTS.values() if spec.scope}))


def _split(name: str) -> tuple[str, str]:
    first, _, last = name.strip().partition(" ")
    return first, last


def greenhouse_user(email: str) -> GreenhouseUser:
    return GreenhouseUser.objects.get(primary_email__iexact=email.strip())


def create_greenhouse_user(
    email: str,
    name: str = "",
    *,
    site_admin: bool = False,
    other_emails: list[str] = (),
    employee_id: str = "",
    disabled: bool = False,
) -> GreenhouseUser:
    """Creates the Greenhouse user, or updates the one with that primary email (idempotent)."""
    first, last = _split(name or email.partition("@")[0])
    found, _ = GreenhouseUser.objects.update_or_create(
        primary_email=email.strip().lower(),
        defaults={
            "first_name": first,
            "last_name": last,
            "site_admin": site_admin,
            "other_emails": [e.strip().lower() for e in other_emails],
            "employee_id": employee_id,
            "disabled": disabled,
        },
    )
    return found


def _first_with_email(email: str) -> GreenhouseCandidate | None:
    return records.candidates_with_email(email).order_by("pk").select_related("recruiter").first()


def candidate(email: str) -> GreenhouseCandidate:
    """The (first) candidate with that email address."""
    found = _first_with_email(email)
    if found is None:
        raise GreenhouseCandidate.DoesNotExist(f"No Greenhouse candidate has {email}")
    return found


def create_candidate(
    email: str, name: str, *, is_prospect: bool = False, company: str = "", title: str = ""
) -> GreenhouseCandidate:
    """Creates a candidate (or prospect) with that personal email, or updates the one that has it
    (idempotent; the API, like Greenhouse, does make duplicates)."""
    first, last = _split(name)
    email = email.strip().lower()
    with transaction.atomic():
        found = _first_with_email(email)
        if found is None:
            return records.create_candidate(
                first_name=first,
                last_name=last,
                emails=[{"value": email, "type": "personal"}],
                is_prospect=is_prospect,
                company=company,
                title=title,
            )
        found.first_name, found.last_name, found.is_prospect = first, last, is_prospect
        found.company, found.title = company, title
        found.save(update_fields=["first_name", "last_name", "is_prospect", "company", "title"])
    return found


def candidate_activity(email: str) -> list[ActivityEntry]:
    """The activity feed of the candidate with that email, newest first."""
    return list(records.feed(candidate(email)))


def add_note(
    email: str, author_email: str, body: str, visibility: str = Visibility.PUBLIC
) -> ActivityEntry:
    """A note written in Greenhouse's UI by that user on that candidate."""
    return records.add_note(candidate(email), greenhouse_user(author_email), body, visibility)


def create_harvest_key(
    key: str | None = None,
    *,
    name: str = "outreach",
    permissions: list[str] = V1_PERMISSIONS,
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> HarvestApiKey:
    """A Harvest v1 API key (32 hex characters when none is given), allowed `permissions` (the
    v1 endpoint ids of `sandbox.greenhouse.endpoints`). Idempotent on the key."""
    unknown = set(permissions) - set(ids.V1)
    if unknown:
        raise ValueError(f"Unknown v1 endpoints {sorted(unknown)}; one of {', '.join(ids.V1)}")
    found, _ = HarvestApiKey.objects.update_or_create(
        key=key or secrets.token_hex(16),
        defaults={"name": name, "permissions": list(permissions), "rate_limit": rate_limit},
    )
    return found


def create_harvest_client(
    client_id: str | None = None,
    client_secret: str | None = None,
    *,
    name: str = "outreach",
    scopes: list[str] = V3_SCOPES,
    rate_limit: int = DEFAULT_RATE_LIMIT,
) -> HarvestOAuthClient:
    """A Harvest v3 OAuth credential with its service account (the user of a token minted
    without `sub`). Idempotent on the client id."""
    with transaction.atomic():
        found = HarvestOAuthClient.objects.select_for_update().filter(client_id=client_id).first()
        if found is None:
            found = HarvestOAuthClient(
                client_id=client_id or secrets.token_urlsafe(24),
                service_account=GreenhouseUser.objects.create(
                    first_name=name, last_name="(API)", service_account=True, site_admin=True
                ),
            )
        found.client_secret = client_secret or found.client_secret or secrets.token_urlsafe(32)
        found.name, found.scopes, found.rate_limit = name, list(scopes), rate_limit
        found.save()
    return found


def set_harvest_rate_limit(credential: str, requests: int) -> None:
    """Requests per 10 seconds allowed to a v1 key (by its value) or a v3 client (by its id)."""
    updated = HarvestApiKey.objects.filter(key=credential).update(rate_limit=requests)
    updated += HarvestOAuthClient.objects.filter(client_id=credential).update(rate_limit=requests)
    if not updated:
        raise ValueError(f"No Harvest API key or client {credential!r}")
