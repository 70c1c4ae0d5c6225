"""The team's Greenhouse connection as its admins set it up on the ATS settings page: the
credentials (secrets are written, never read back to a page), the test against Greenhouse, the
team-wide sync settings, and which Greenhouse user each teammate is (found by email, or set by an
admin; an admin's choice is never overwritten by a lookup)."""

from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from outreach import clock
from outreach import services as outreach_services
from outreach.models import Organization, User

from . import greenhouse, services
from .models import AtsConnection, UserMapping

CREDENTIAL_FIELDS = ("api", "client_id", "client_secret", "api_key")
SETTING_FIELDS = ("auto_sync", "visibility", "when_candidate_missing")
EDITABLE_FIELDS = CREDENTIAL_FIELDS + SETTING_FIELDS
# Write-only: an empty value means "keep the stored one".
SECRET_FIELDS = ("client_secret", "api_key")

# Greenhouse users' names, as the last lookups found them (UserMapping keeps the id only).
NAMES_KEEP_SECONDS = 30 * 24 * 3600


def connection_for(organization_id: int) -> AtsConnection | None:
    return AtsConnection.objects.filter(organization_id=organization_id).first()


def save_connection(*, organization: Organization, by: User, **fields) -> AtsConnection:
    """Creates or updates the team's connection with the fields given (the others are kept).
    A blank secret keeps the stored one. New credentials forget the last test's outcome, which
    was about the old ones. Automatic sync needs credentials."""
    outreach_services.require_admin(by, organization)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not a connection setting: {', '.join(sorted(unknown))}")
    for name in SECRET_FIELDS:
        if not fields.get(name, ""):
            fields.pop(name, None)
    with transaction.atomic():
        connection, _ = AtsConnection.objects.select_for_update().get_or_create(
            organization=organization
        )
        credentials_before = [getattr(connection, name) for name in CREDENTIAL_FIELDS]
        for name, value in fields.items():
            setattr(connection, name, value.strip() if isinstance(value, str) else value)
        if [getattr(connection, name) for name in CREDENTIAL_FIELDS] != credentials_before:
            connection.last_tested_at, connection.last_test_error = None, ""
        if connection.auto_sync and not connection.has_credentials:
            raise ValidationError(
                "Enter and save Greenhouse credentials before switching automatic sync on."
                if "auto_sync" in fields
                else "Automatic sync is on: it needs complete credentials for the chosen API "
                "(or switch sync off first).",
                code="no_credentials",
            )
        if (
            connection.api == AtsConnection.Api.V3
            and connection.when_candidate_missing
            == AtsConnection.WhenCandidateMissing.CREATE_PROSPECT
        ):
            # Greenhouse's v3 route for it is not confirmed: no guessed record in a customer's ATS.
            raise ValidationError(
                "Creating prospects in Greenhouse needs a Harvest v1 API key for now; with v3, "
                "messages to people Greenhouse does not know are skipped (and listed in the log).",
                code="v3_prospects",
            )
        connection.full_clean(exclude=["organization"], validate_unique=False)
        connection.updated_at = clock.now()
        connection.save()
        # The pusher caches the switch: forgotten again once the new value is visible to all
        # (a read between the save and the commit would otherwise cache the old one).
        transaction.on_commit(lambda: services.forget_auto_sync(organization.pk))
    return connection


def test_connection(connection: AtsConnection) -> str:
    """Asks Greenhouse whether the stored credentials work: '' when they do, else what went
    wrong, in words an admin can act on. The outcome is kept on the connection."""
    if not connection.has_credentials:
        error = (
            "Enter the client ID and secret of a Harvest v3 credential first."
            if connection.api == AtsConnection.Api.V3
            else "Enter a Harvest v1 API key first."
        )
    else:
        try:
            greenhouse.Harvest(services.credentials_for(connection)).check()
        except greenhouse.GreenhouseError as exc:
            error = str(exc) or "Greenhouse refused the request."
        else:
            error = ""
    now = clock.now()
    AtsConnection.objects.filter(pk=connection.pk).update(last_tested_at=now, last_test_error=error)
    connection.last_tested_at, connection.last_test_error = now, error
    return error


# Who each teammate is in Greenhouse -------------------------------------------------------------


def _names_key(organization_id: int) -> str:
    return f"ats_sync:greenhouse_names:{organization_id}"


def greenhouse_user_names(organization_id: int) -> dict[int, str]:
    """{Greenhouse user id: name} as lookups found them (one cache read, no query)."""
    return cache.get(_names_key(organization_id)) or {}


def _remember_names(organization_id: int, found: dict[int, str]) -> None:
    if found:
        names = {**greenhouse_user_names(organization_id), **found}
        cache.set(_names_key(organization_id), names, timeout=NAMES_KEEP_SECONDS)


def _record_lookup(user: User, greenhouse_user_id: int | None) -> None:
    """Stores what a lookup found, unless an admin has set this user meanwhile."""
    values = {"greenhouse_user_id": greenhouse_user_id, "checked_at": clock.now()}
    updated = (
        UserMapping.objects.filter(user=user)
        .exclude(source=UserMapping.Source.MANUAL)
        .update(source=UserMapping.Source.EMAIL, **values)
    )
    if updated or UserMapping.objects.filter(user=user).exists():
        return
    try:
        with transaction.atomic():
            UserMapping.objects.create(
                organization_id=user.team_id,
                user=user,
                source=UserMapping.Source.EMAIL,
                **values,
            )
    except IntegrityError:
        pass  # an admin (or the pusher) mapped them in the meantime: theirs stands


def find_users_by_email(*, organization: Organization) -> int:
    """Looks up in Greenhouse, by email, every active teammate an admin has not mapped by hand,
    and records what is found (and what is not); returns how many were found. A Greenhouse
    error (its rate limit, say) stops the lookups; those done by then are kept."""
    connection = connection_for(organization.pk)
    if connection is None or not connection.has_credentials:
        raise ValidationError("Enter and save Greenhouse credentials first.", code="no_credentials")
    harvest = greenhouse.Harvest(services.credentials_for(connection))
    # Never looked up first, then the longest ago: a team larger than Greenhouse's rate limit
    # allows at once gets through in a few clicks rather than redoing its first users.
    teammates = (
        User.objects.filter(organization=organization, is_active=True)
        .exclude(greenhouse_mapping__source=UserMapping.Source.MANUAL)
        .order_by(F("greenhouse_mapping__checked_at").asc(nulls_first=True), "pk")
    )
    names: dict[int, str] = {}
    try:
        for user in teammates:
            found = harvest.find_user(user.email)
            _record_lookup(user, found.id if found else None)
            if found is not None:
                names[found.id] = found.name
    finally:
        _remember_names(organization.pk, names)
    return len(names)


def set_user_mapping(
    *, organization: Organization, user: User, greenhouse_user_id: int | None
) -> UserMapping:
    """An admin's choice of Greenhouse user for a teammate (None: they have none). Lookups by
    email leave it alone from then on."""
    if user.organization_id != organization.pk:
        raise PermissionDenied("This user is not on your team.")
    if greenhouse_user_id is not None and greenhouse_user_id <= 0:
        raise ValidationError("A Greenhouse user id is a positive number.", code="invalid")
    mapping, _ = UserMapping.objects.update_or_create(
        user=user,
        defaults={
            "organization": organization,
            "greenhouse_user_id": greenhouse_user_id,
            "source": UserMapping.Source.MANUAL,
            "checked_at": clock.now(),
        },
    )
    return mapping


def forget_user_mapping(*, organization: Organization, user: User) -> None:
    """Drops an admin's choice: the next lookup by email decides again."""
    if user.organization_id != organization.pk:
        raise PermissionDenied("This user is not on your team.")
    UserMapping.objects.filter(user=user, organization=organization).delete()
