from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet

from . import clock
from .models import SEAT_ROLES, EmailDomain, Invitation, Organization, User
from .tenancy import scope_to_user


def seats_used(organization: Organization) -> int:
    return organization.members.filter(is_active=True, role__in=SEAT_ROLES).count()


def open_invitations(organization: Organization) -> QuerySet[Invitation]:
    """Invitations still waiting for an answer whose link has not expired."""
    oldest = clock.now() - timedelta(seconds=settings.INVITATION_MAX_AGE)
    return organization.invitations.filter(
        accepted_at__isnull=True, revoked_at__isnull=True, created_at__gte=oldest
    )


def seats_reserved(organization: Organization) -> int:
    """Seats taken by members plus those promised to open invitations."""
    return seats_used(organization) + open_invitations(organization).count()


def team_members(user: User) -> QuerySet[User]:
    return scope_to_user(User, user).order_by("-is_active", "full_name", "email")


def team_invitations(user: User) -> QuerySet[Invitation]:
    return (
        scope_to_user(Invitation, user)
        .filter(accepted_at__isnull=True, revoked_at__isnull=True)
        .select_related("invited_by")
        .order_by("-created_at")
    )


def domain_holder(domain: str) -> Organization | None:
    held = EmailDomain.objects.select_related("organization").filter(domain=domain).first()
    return held.organization if held else None


def organization_domains(organization: Organization) -> list[str]:
    return list(organization.domains.values_list("domain", flat=True))


def email_domain(email: str) -> str:
    return email.rsplit("@", 1)[-1].strip().lower()
